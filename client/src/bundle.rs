//! Proof bundles: everything needed to check readings against the chain **offline**, trusting
//! nothing but the GRANDPA authority set written in the chain's (raw) chain spec.
//!
//! A [`Bundle`] holds, for readings of one device: the readings and their Merkle paths in their
//! anchors, the anchors' records with their inclusion proofs in the device's log, a storage
//! proof (trie nodes) of the device's telemetry record at a block, that block's header, the
//! headers from it to a block finalized by a GRANDPA justification, and the authority set
//! changes since genesis, each proven by a justification of the set before. [`verify`] checks
//! all of it against a [`Trust`] read from a chain spec; `docs/proof-bundle.md` specifies the
//! format and every step, so a verifier can be written in another language.
//!
//! The bundle is built from a node's answers ([`crate::chain::Chain::proof_bundle`]), but once
//! built no node is believed: a node that lies produces a bundle that does not verify.

use crate::{chain::DeviceTelemetry, readings::Record, show_device};
use codec::{Decode, DecodeAll, Encode};
use provena_primitives::{
	device_log::verify_inclusion,
	telemetry::{verify_batch_proof, Measurement, MetricName, Reading, Seq},
	DeviceId,
};
use serde::{Deserialize, Serialize};
use sp_consensus_grandpa::{
	AuthorityId, AuthorityList, AuthoritySignature, ConsensusLog, GrandpaJustification,
	ScheduledChange, SetId, GRANDPA_ENGINE_ID,
};
use sp_core::{crypto::ByteArray, ed25519, H256};
use sp_runtime::{
	generic::DigestItem,
	traits::{BlakeTwo256, Header as _},
};
use sp_trie::{
	accessed_nodes_tracker::AccessedNodesTracker, LayoutV1, StorageProof, TrieConfiguration,
};
use std::collections::{BTreeMap, BTreeSet};

/// A block header of the Provena chain.
pub type Header = sp_runtime::generic::Header<u32, BlakeTwo256>;

/// What the `format` field of a bundle says.
pub const BUNDLE_FORMAT: &str = "provena-proof-bundle";

/// The version of the bundle format this client writes and reads.
pub const BUNDLE_VERSION: u32 = 1;

/// The raw-storage key of GRANDPA's authority set (`Grandpa::Authorities`).
pub fn authorities_key() -> Vec<u8> {
	storage_value_key(b"Grandpa", b"Authorities")
}

/// The raw-storage key of `device`'s telemetry record (`Telemetry::DeviceStates`, a
/// `Blake2_128Concat` map).
pub fn device_state_key(device: &DeviceId) -> Vec<u8> {
	let mut key = storage_value_key(b"Telemetry", b"DeviceStates");
	key.extend(sp_crypto_hashing::blake2_128(device));
	key.extend(device);
	key
}

fn storage_value_key(pallet: &[u8], item: &[u8]) -> Vec<u8> {
	[sp_crypto_hashing::twox_128(pallet), sp_crypto_hashing::twox_128(item)].concat()
}

/// A proof bundle, as JSON. Every byte string is `0x`-hex; unknown fields are refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
	/// Always [`BUNDLE_FORMAT`].
	pub format: String,
	/// [`BUNDLE_VERSION`].
	pub version: u32,
	/// The hash of the chain's genesis block.
	pub genesis_hash: String,
	/// The device whose readings these are (32 bytes).
	pub device: String,
	/// The readings, each with its path in its anchor.
	pub readings: Vec<BundleReading>,
	/// The anchor records the readings are in, each with its inclusion proof in the device's
	/// log as of the state block.
	pub records: Vec<BundleRecord>,
	/// The device's telemetry record in the state of a block.
	pub state: StateProof,
	/// The proof that the state block is final.
	pub finality: Finality,
	/// The authority set changes since genesis, oldest first, up to the set that finalized
	/// the state block.
	pub set_changes: Vec<SetChange>,
}

/// A reading in a bundle: exactly the fields its leaf hashes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleReading {
	/// Its sequence number.
	pub seq: u64,
	/// The device's clock, in milliseconds since the Unix epoch.
	pub timestamp_ms: u64,
	/// Its values, in the order the device measured them.
	pub values: Vec<BundleValue>,
	/// blake2-256 of its (encrypted) payload, if one travelled with it.
	pub payload_hash: Option<String>,
	/// The position in `records` of the anchor it is in.
	pub record: u32,
	/// Its Merkle path in that anchor (empty for a one-reading anchor).
	pub path: Vec<String>,
}

/// One value of a reading, in thousandths (`4250` is 4.25).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleValue {
	/// The metric's name.
	pub metric: String,
	/// The value in thousandths.
	pub milli: i64,
}

/// An anchor record and its inclusion proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleRecord {
	/// The record's SCALE bytes.
	pub encoded: String,
	/// Its inclusion proof in the device's log.
	pub log_proof: Vec<String>,
}

/// A block's header and the trie nodes that prove a device's record in its state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateProof {
	/// The block's SCALE-encoded header.
	pub header: String,
	/// The trie nodes, each SCALE-free (as `state_getReadProof` serves them).
	pub proof: Vec<String>,
}

/// A GRANDPA justification, and the headers leading to the block it finalizes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finality {
	/// The headers after the state block, up to and including the justified block (empty when
	/// the justification finalizes the state block itself).
	pub headers: Vec<String>,
	/// The SCALE-encoded justification.
	pub justification: String,
}

/// An authority set change: the last block of a set, which schedules the next set, and the
/// justification by which the old set finalized it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetChange {
	/// The SCALE-encoded header.
	pub header: String,
	/// The SCALE-encoded justification of that header.
	pub justification: String,
}

/// Why a bundle does not verify: the first check that failed. [`BundleError::name`] is a
/// stable name for scripts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
	/// A field is missing, is not the hex it should be, or does not decode.
	#[error("{0}")]
	Malformed(String),
	/// The chain spec cannot be used as a trust root.
	#[error("{0}")]
	ChainSpec(String),
	/// The bundle is for another chain than the chain spec's.
	#[error("the bundle is for chain {bundle:?}, the chain spec's genesis is {spec:?}")]
	GenesisMismatch {
		/// The bundle's genesis hash.
		bundle: H256,
		/// The genesis hash computed from the chain spec.
		spec: H256,
	},
	/// An authority set change is not proven.
	#[error("authority set change {index}: {why}")]
	SetChange {
		/// Its position in `set_changes`.
		index: usize,
		/// What is wrong with it.
		why: String,
	},
	/// The headers do not link the state block to the justified block.
	#[error("{0}")]
	HeaderChain(String),
	/// The justification finalizes another block than the one the headers lead to.
	#[error("the justification finalizes #{found_number} {found:?}, not #{expected_number} {expected:?}")]
	JustificationTarget {
		/// The block the headers lead to.
		expected: H256,
		/// Its number.
		expected_number: u32,
		/// The justification's target.
		found: H256,
		/// Its number.
		found_number: u32,
	},
	/// A precommit is signed by a key outside the authority set.
	#[error("a precommit is signed by {0}, which is not an authority of set {1}")]
	UnknownAuthority(String, SetId),
	/// A precommit's signature does not verify.
	#[error("the precommit of authority {0} has a bad signature")]
	BadSignature(String),
	/// The valid precommits do not weigh more than two thirds of the set.
	#[error("only {weight} of the set's {total} weight signed; finality needs {threshold}")]
	TooFewSignatures {
		/// The weight of the distinct authorities that signed.
		weight: u64,
		/// What finality needs: more than two thirds of the total.
		threshold: u64,
		/// The set's total weight.
		total: u64,
	},
	/// A precommit's target does not descend from the justified block through the
	/// justification's ancestry headers, or an ancestry header is not used.
	#[error("{0}")]
	BadAncestry(String),
	/// The trie nodes do not prove the device's record in the state block.
	#[error("{0}")]
	StateProof(String),
	/// The state block holds no telemetry record for the device.
	#[error("the device has no telemetry record in the state of the proven block")]
	NotInState,
	/// An anchor record is not in the device's log.
	#[error("record {0} is not in the device's log with its inclusion proof: it was altered or belongs elsewhere")]
	NotInLog(usize),
	/// A reading's record does not cover its sequence number.
	#[error("reading {0}: its anchor record does not cover this sequence number")]
	NotCovered(Seq),
	/// A reading and its path do not give its anchor's root at its position.
	#[error("reading {0}: the reading and its Merkle path do not give the anchor's root at its position: the reading or the path was altered")]
	ProofMismatch(Seq),
}

impl BundleError {
	/// The error's stable name, as `verify --json` reports it.
	pub fn name(&self) -> &'static str {
		match self {
			BundleError::Malformed(_) => "Malformed",
			BundleError::ChainSpec(_) => "ChainSpec",
			BundleError::GenesisMismatch { .. } => "GenesisMismatch",
			BundleError::SetChange { .. } => "SetChange",
			BundleError::HeaderChain(_) => "HeaderChain",
			BundleError::JustificationTarget { .. } => "JustificationTarget",
			BundleError::UnknownAuthority(..) => "UnknownAuthority",
			BundleError::BadSignature(_) => "BadSignature",
			BundleError::TooFewSignatures { .. } => "TooFewSignatures",
			BundleError::BadAncestry(_) => "BadAncestry",
			BundleError::StateProof(_) => "StateProof",
			BundleError::NotInState => "NotInState",
			BundleError::NotInLog(_) => "NotInLog",
			BundleError::NotCovered(_) => "NotCovered",
			BundleError::ProofMismatch(_) => "ProofMismatch",
		}
	}
}

/// What a verifier trusts: a chain's genesis hash and its first GRANDPA authority set, both
/// taken from the chain's raw chain spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trust {
	/// The chain's name in the spec.
	pub name: String,
	/// The genesis block's hash, computed from the spec's genesis storage.
	pub genesis_hash: H256,
	/// Authority set 0, with weights.
	pub authorities: AuthorityList,
}

impl Trust {
	/// Reads a raw chain spec (JSON): computes the genesis block's hash from its genesis
	/// storage (state version 1, as the Provena runtime uses) and takes GRANDPA's authority
	/// set from it.
	pub fn from_chain_spec(json: &str) -> Result<Trust, BundleError> {
		let bad = |why: String| BundleError::ChainSpec(why);
		let spec: serde_json::Value = serde_json::from_str(json)
			.map_err(|e| bad(format!("the chain spec is not JSON: {e}")))?;
		let name = spec.get("name").and_then(|n| n.as_str()).unwrap_or("unnamed").to_string();
		let raw = spec.pointer("/genesis/raw").ok_or_else(|| {
			bad("the chain spec is not raw (it has no genesis.raw): make one with \
				 `provena-node build-spec --chain CHAIN --raw`"
				.into())
		})?;
		let entries = |value: Option<&serde_json::Value>, what: &str| {
			let mut out = BTreeMap::new();
			let Some(map) = value else { return Ok(out) };
			let map =
				map.as_object().ok_or_else(|| bad(format!("genesis.raw.{what} is not a map")))?;
			for (key, value) in map {
				let value = value
					.as_str()
					.ok_or_else(|| bad(format!("genesis.raw.{what}.{key} is not a string")))?;
				let decode = |text: &str| {
					hex::decode(text.trim_start_matches("0x"))
						.map_err(|_| bad(format!("genesis.raw.{what}.{key} is not hex")))
				};
				out.insert(decode(key)?, decode(value)?);
			}
			Ok(out)
		};
		let mut top = entries(raw.get("top"), "top")?;
		let children = raw
			.get("childrenDefault")
			.and_then(|c| c.as_object())
			.map(|map| map.iter().collect::<Vec<_>>())
			.unwrap_or_default();
		for (child, storage) in children {
			let child_key = hex::decode(child.trim_start_matches("0x"))
				.map_err(|_| bad(format!("child trie {child} is not hex")))?;
			let child_top = entries(Some(storage), "childrenDefault")?;
			if child_top.is_empty() {
				continue;
			}
			let root = sp_trie::child_trie_root::<LayoutV1<BlakeTwo256>, _, _, _>(child_top);
			top.insert([b":child_storage:default:".as_slice(), &child_key].concat(), root.encode());
		}
		let authorities = top
			.get(&authorities_key())
			.ok_or_else(|| bad("the chain spec's genesis has no GRANDPA authorities".into()))?;
		let authorities = AuthorityList::decode_all(&mut &authorities[..])
			.map_err(|e| bad(format!("the genesis GRANDPA authorities do not decode: {e}")))?;
		if authorities.is_empty() {
			return Err(bad("the chain spec's genesis has an empty GRANDPA authority set".into()));
		}
		let state_root = LayoutV1::<BlakeTwo256>::trie_root(top);
		let extrinsics_root = sp_trie::empty_trie_root::<LayoutV1<BlakeTwo256>>();
		let genesis = Header::new(0, extrinsics_root, state_root, H256::zero(), Default::default());
		Ok(Trust { name, genesis_hash: genesis.hash(), authorities })
	}
}

/// What a bundle proved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
	/// The chain's name and genesis hash, from the chain spec.
	pub chain: String,
	/// The chain's genesis hash.
	pub genesis_hash: H256,
	/// The authority set that finalized the proven block.
	pub set_id: SetId,
	/// How many of its authorities signed the justification.
	pub signers: usize,
	/// How many authorities the set has.
	pub authorities: usize,
	/// The block whose state holds the device's log commitment: number and hash.
	pub state_block: (u32, H256),
	/// The block the justification finalizes (the state block or a descendant).
	pub finalized_block: (u32, H256),
	/// Each reading with the anchor record it is in.
	pub readings: Vec<(Reading, Record)>,
}

/// What a justification proved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Justified {
	/// How many distinct authorities signed.
	pub signers: usize,
	/// Their total weight.
	pub weight: u64,
}

/// Checks that the SCALE-encoded GRANDPA `justification` finalizes block `target` (hash and
/// number) by authority set `set_id` with these `authorities`: every precommit is signed by an
/// authority of the set, over `SCALE(Message::Precommit(precommit), round, set_id)` with its
/// ed25519 key; every precommit targets `target` or a descendant of it, as the
/// justification's ancestry headers show, and every ancestry header is needed; the distinct
/// signers weigh at least `total - (total - 1) / 3` (more than two thirds).
pub fn verify_justification(
	justification: &[u8],
	target: (H256, u32),
	set_id: SetId,
	authorities: &AuthorityList,
) -> Result<Justified, BundleError> {
	let justification = GrandpaJustification::<Header>::decode_all(&mut &justification[..])
		.map_err(|e| BundleError::Malformed(format!("a justification does not decode: {e}")))?;
	let commit = &justification.commit;
	if (commit.target_hash, commit.target_number) != target {
		return Err(BundleError::JustificationTarget {
			expected: target.0,
			expected_number: target.1,
			found: commit.target_hash,
			found_number: commit.target_number,
		});
	}
	let ancestry: BTreeMap<H256, &Header> =
		justification.votes_ancestries.iter().map(|h| (h.hash(), h)).collect();
	let mut used = BTreeSet::new();
	let weights: BTreeMap<&AuthorityId, u64> = authorities.iter().map(|(a, w)| (a, *w)).collect();
	let mut signed: BTreeMap<&AuthorityId, u64> = BTreeMap::new();
	for signed_precommit in &commit.precommits {
		let id = &signed_precommit.id;
		let weight = *weights
			.get(id)
			.ok_or_else(|| BundleError::UnknownAuthority(hex_of(id.as_slice()), set_id))?;
		let message =
			sp_consensus_grandpa::Message::<Header>::Precommit(signed_precommit.precommit.clone());
		let payload = (message, justification.round, set_id).encode();
		if !signature_ok(&signed_precommit.signature, &payload, id) {
			return Err(BundleError::BadSignature(hex_of(id.as_slice())));
		}
		// The precommit's target must be the justified block or descend from it.
		let (mut hash, number) =
			(signed_precommit.precommit.target_hash, signed_precommit.precommit.target_number);
		let mut expected_number = number;
		while hash != target.0 {
			let header = ancestry.get(&hash).ok_or_else(|| {
				BundleError::BadAncestry(format!(
					"precommit target {hash:?} is neither the justified block nor linked to it \
					 by the justification's ancestry headers"
				))
			})?;
			if header.number != expected_number || header.number <= target.1 {
				return Err(BundleError::BadAncestry(format!(
					"ancestry header {hash:?} has number {}, where {expected_number} (above \
					 #{}) was needed",
					header.number, target.1
				)));
			}
			used.insert(hash);
			hash = header.parent_hash;
			expected_number = expected_number.saturating_sub(1);
		}
		if expected_number != target.1 {
			return Err(BundleError::BadAncestry(format!(
				"a precommit names the justified block with number {number}, not {}",
				target.1
			)));
		}
		signed.insert(id, weight);
	}
	if used.len() != ancestry.len() || ancestry.len() != justification.votes_ancestries.len() {
		return Err(BundleError::BadAncestry(
			"the justification carries ancestry headers no precommit needs".into(),
		));
	}
	let total: u64 = authorities.iter().map(|(_, w)| *w).fold(0, u64::saturating_add);
	let threshold = total.saturating_sub(total.saturating_sub(1) / 3);
	let weight: u64 = signed.values().copied().fold(0, u64::saturating_add);
	if weight < threshold {
		return Err(BundleError::TooFewSignatures { weight, threshold, total });
	}
	Ok(Justified { signers: signed.len(), weight })
}

/// The standard GRANDPA authority set change `header` schedules, if any: a Consensus digest
/// item of engine `FRNK` holding `ConsensusLog::ScheduledChange`.
pub fn scheduled_change(header: &Header) -> Option<ScheduledChange<u32>> {
	header.digest.logs.iter().find_map(|item| match item {
		DigestItem::Consensus(engine, data) if *engine == GRANDPA_ENGINE_ID => {
			ConsensusLog::<u32>::decode_all(&mut &data[..]).ok()?.try_into_change()
		},
		_ => None,
	})
}

fn signature_ok(signature: &AuthoritySignature, payload: &[u8], id: &AuthorityId) -> bool {
	use sp_core::Pair as _;
	let (Ok(signature), Ok(public)) = (
		ed25519::Signature::try_from(signature.as_slice()),
		ed25519::Public::try_from(id.as_slice()),
	) else {
		return false;
	};
	ed25519::Pair::verify(&signature, payload, &public)
}

fn hex_of(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

fn bytes(text: &str, what: &str) -> Result<Vec<u8>, BundleError> {
	let digits = text
		.strip_prefix("0x")
		.ok_or_else(|| BundleError::Malformed(format!("{what} is not 0x-hex")))?;
	hex::decode(digits).map_err(|_| BundleError::Malformed(format!("{what} is not 0x-hex")))
}

fn hash32(text: &str, what: &str) -> Result<H256, BundleError> {
	let raw = bytes(text, what)?;
	<[u8; 32]>::try_from(raw.as_slice())
		.map(H256)
		.map_err(|_| BundleError::Malformed(format!("{what} is not 32 bytes")))
}

fn decoded<T: Decode>(text: &str, what: &str) -> Result<T, BundleError> {
	let raw = bytes(text, what)?;
	T::decode_all(&mut &raw[..])
		.map_err(|e| BundleError::Malformed(format!("{what} does not decode: {e}")))
}

/// Verifies `bundle` against `trust`, with no network: the chain, each authority set change,
/// the headers from the state block to the justified block, the justification, the trie proof
/// of the device's record against the state block's state root, each anchor record's inclusion
/// in the device's log, and each reading's Merkle path in its record's root at exactly its
/// sequence number. Answers what it proved, or the first check that failed.
pub fn verify(bundle: &Bundle, trust: &Trust) -> Result<Verified, BundleError> {
	if bundle.format != BUNDLE_FORMAT || bundle.version != BUNDLE_VERSION {
		return Err(BundleError::Malformed(format!(
			"this is a {} bundle of version {}; this client reads {BUNDLE_FORMAT} version \
			 {BUNDLE_VERSION}",
			bundle.format, bundle.version
		)));
	}
	let genesis = hash32(&bundle.genesis_hash, "genesis_hash")?;
	if genesis != trust.genesis_hash {
		return Err(BundleError::GenesisMismatch { bundle: genesis, spec: trust.genesis_hash });
	}

	// Authority sets: from genesis, each change finalized by the set before it.
	let (mut set_id, mut authorities) = (0u64, trust.authorities.clone());
	let mut last_change = 0u32;
	for (index, change) in bundle.set_changes.iter().enumerate() {
		let fail = |why: String| BundleError::SetChange { index, why };
		let header: Header = decoded(&change.header, &format!("set_changes[{index}].header"))?;
		if header.number <= last_change {
			return Err(fail("set changes are not in block order".into()));
		}
		let justification = bytes(&change.justification, "a set change's justification")?;
		verify_justification(&justification, (header.hash(), header.number), set_id, &authorities)
			.map_err(|e| fail(format!("{} ({})", e, e.name())))?;
		let next = scheduled_change(&header)
			.ok_or_else(|| fail("the header schedules no standard authority set change".into()))?;
		if next.delay != 0 {
			return Err(fail(format!(
				"the change is delayed by {} blocks; only changes enacted in the block that \
				 schedules them can be followed",
				next.delay
			)));
		}
		authorities = next.next_authorities;
		set_id = set_id.saturating_add(1);
		last_change = header.number;
	}

	// The state block, and the headers from it to the justified block.
	let state_header: Header = decoded(&bundle.state.header, "state.header")?;
	let state_block = (state_header.number, state_header.hash());
	let mut tip = state_block;
	for (index, text) in bundle.finality.headers.iter().enumerate() {
		let header: Header = decoded(text, &format!("finality.headers[{index}]"))?;
		if header.parent_hash != tip.1 || Some(header.number) != tip.0.checked_add(1) {
			return Err(BundleError::HeaderChain(format!(
				"finality.headers[{index}] (#{}) is not the child of #{} {:?}",
				header.number, tip.0, tip.1
			)));
		}
		tip = (header.number, header.hash());
	}
	if state_block.0 < last_change {
		return Err(BundleError::HeaderChain(
			"the state block is older than the last authority set change".into(),
		));
	}
	let justification = bytes(&bundle.finality.justification, "finality.justification")?;
	let justified = verify_justification(&justification, (tip.1, tip.0), set_id, &authorities)?;

	// The device's record in the state block.
	let device: DeviceId = hash32(&bundle.device, "device")?.0;
	let nodes = bundle
		.state
		.proof
		.iter()
		.enumerate()
		.map(|(i, node)| bytes(node, &format!("state.proof[{i}]")))
		.collect::<Result<Vec<_>, _>>()?;
	let count = nodes.len();
	let proof = StorageProof::new_with_duplicate_nodes_check(nodes)
		.map_err(|_| BundleError::StateProof("the trie proof repeats a node".into()))?;
	let db = proof.into_memory_db::<BlakeTwo256>();
	let mut tracker = AccessedNodesTracker::new(count);
	let value = sp_trie::read_trie_value::<LayoutV1<BlakeTwo256>, _>(
		&db,
		&state_header.state_root,
		&device_state_key(&device),
		Some(&mut tracker),
		None,
	)
	.map_err(|e| {
		BundleError::StateProof(format!(
			"the trie nodes do not lead from the state block's state root to the device's \
			 record: {e}"
		))
	})?;
	tracker.ensure_no_unused_nodes().map_err(|_| {
		BundleError::StateProof(
			"the trie proof holds nodes the device's record does not need".into(),
		)
	})?;
	let value = value.ok_or(BundleError::NotInState)?;
	let state = DeviceTelemetry::<u32>::decode_all(&mut &value[..]).map_err(|e| {
		BundleError::StateProof(format!("the device's record does not decode: {e}"))
	})?;
	let peaks = state.peaks.0;

	// Each record in the device's log.
	let mut records = Vec::new();
	for (index, entry) in bundle.records.iter().enumerate() {
		let record: Record = decoded(&entry.encoded, &format!("records[{index}].encoded"))?;
		let log_proof = entry
			.log_proof
			.iter()
			.map(|h| hash32(h, &format!("records[{index}].log_proof")))
			.collect::<Result<Vec<_>, _>>()?;
		if record.device != device
			|| !verify_inclusion(state.anchors, &peaks, record.index, record.leaf(), &log_proof)
		{
			return Err(BundleError::NotInLog(index));
		}
		records.push(record);
	}

	// Each reading at its exact position in its record's batch.
	let mut readings = Vec::new();
	for (index, entry) in bundle.readings.iter().enumerate() {
		let record = records.get(entry.record as usize).ok_or_else(|| {
			BundleError::Malformed(format!("readings[{index}].record names no record"))
		})?;
		let values = entry
			.values
			.iter()
			.map(|v| {
				let metric = MetricName::try_from(v.metric.as_bytes().to_vec()).map_err(|_| {
					BundleError::Malformed(format!("readings[{index}]: metric name too long"))
				})?;
				Ok(Measurement { metric, value: v.milli })
			})
			.collect::<Result<Vec<_>, BundleError>>()?;
		let payload_hash = entry
			.payload_hash
			.as_deref()
			.map(|h| hash32(h, &format!("readings[{index}].payload_hash")).map(|h| h.0))
			.transpose()?;
		let reading = Reading {
			device,
			seq: entry.seq,
			timestamp_ms: entry.timestamp_ms,
			values,
			payload_hash,
		};
		let path = entry
			.path
			.iter()
			.map(|h| hash32(h, &format!("readings[{index}].path")))
			.collect::<Result<Vec<_>, _>>()?;
		if !record.covers(reading.seq) {
			return Err(BundleError::NotCovered(reading.seq));
		}
		let position = u32::try_from(reading.seq.saturating_sub(record.first_seq))
			.map_err(|_| BundleError::NotCovered(reading.seq))?;
		if !verify_batch_proof(&record.root, record.count, position, reading.leaf(), &path) {
			return Err(BundleError::ProofMismatch(reading.seq));
		}
		readings.push((reading, record.clone()));
	}
	if readings.is_empty() {
		return Err(BundleError::Malformed("the bundle holds no reading".into()));
	}
	Ok(Verified {
		chain: trust.name.clone(),
		genesis_hash: trust.genesis_hash,
		set_id,
		signers: justified.signers,
		authorities: authorities.len(),
		state_block,
		finalized_block: tip,
		readings,
	})
}

impl Bundle {
	/// A bundle for `readings` (each with its path and the index of its record in `records`)
	/// of `device`.
	#[allow(clippy::too_many_arguments)]
	pub fn new(
		genesis_hash: H256,
		device: DeviceId,
		readings: &[(Reading, Vec<H256>, u32)],
		records: &[(Record, Vec<H256>)],
		state_header: &Header,
		state_proof: &[Vec<u8>],
		finality_headers: &[Header],
		justification: &[u8],
		set_changes: &[(Header, Vec<u8>)],
	) -> Bundle {
		let h = |hash: &H256| format!("{hash:?}");
		Bundle {
			format: BUNDLE_FORMAT.into(),
			version: BUNDLE_VERSION,
			genesis_hash: h(&genesis_hash),
			device: show_device(&device),
			readings: readings
				.iter()
				.map(|(reading, path, record)| BundleReading {
					seq: reading.seq,
					timestamp_ms: reading.timestamp_ms,
					values: reading
						.values
						.iter()
						.map(|m| BundleValue {
							metric: String::from_utf8_lossy(&m.metric).into_owned(),
							milli: m.value,
						})
						.collect(),
					payload_hash: reading.payload_hash.map(|p| hex_of(&p)),
					record: *record,
					path: path.iter().map(h).collect(),
				})
				.collect(),
			records: records
				.iter()
				.map(|(record, proof)| BundleRecord {
					encoded: hex_of(&record.encode()),
					log_proof: proof.iter().map(h).collect(),
				})
				.collect(),
			state: StateProof {
				header: hex_of(&state_header.encode()),
				proof: state_proof.iter().map(|n| hex_of(n)).collect(),
			},
			finality: Finality {
				headers: finality_headers.iter().map(|x| hex_of(&x.encode())).collect(),
				justification: hex_of(justification),
			},
			set_changes: set_changes
				.iter()
				.map(|(header, justification)| SetChange {
					header: hex_of(&header.encode()),
					justification: hex_of(justification),
				})
				.collect(),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::chain::{Bounded, DeviceTelemetry};
	use finality_grandpa::{Precommit, SignedPrecommit};
	use provena_primitives::{device_log::AnchorRecord, telemetry::TimeRange};
	use sp_core::{ed25519::Pair, Pair as _};
	use sp_runtime::Digest;
	use sp_trie::{MemoryDB, TrieDBMutBuilder, TrieMut};
	use subxt::utils::AccountId32;

	fn key(name: &str) -> Pair {
		Pair::from_string(&format!("//{name}"), None).unwrap()
	}

	fn set(names: &[&str]) -> AuthorityList {
		names.iter().map(|n| (AuthorityId::from(key(n).public()), 1)).collect()
	}

	fn header(number: u32, parent: H256, state_root: H256, digest: Digest) -> Header {
		Header::new(number, H256::repeat_byte(7), state_root, parent, digest)
	}

	/// A justification of `target` in `set_id`, signed by `signers`, each precommitting to
	/// `votes_for` (the target when `None`), with these ancestry headers.
	fn justification(
		target: &Header,
		set_id: SetId,
		signers: &[&str],
		votes_for: Option<&Header>,
		ancestry: Vec<Header>,
	) -> Vec<u8> {
		let round = 3u64;
		let voted = votes_for.unwrap_or(target);
		let precommit = Precommit { target_hash: voted.hash(), target_number: voted.number };
		let precommits = signers
			.iter()
			.map(|name| {
				let message = sp_consensus_grandpa::Message::<Header>::Precommit(precommit.clone());
				let payload = (message, round, set_id).encode();
				SignedPrecommit {
					precommit: precommit.clone(),
					signature: AuthoritySignature::from(key(name).sign(&payload)),
					id: AuthorityId::from(key(name).public()),
				}
			})
			.collect();
		let commit = sp_consensus_grandpa::Commit::<Header> {
			target_hash: target.hash(),
			target_number: target.number,
			precommits,
		};
		GrandpaJustification::<Header> { round, commit, votes_ancestries: ancestry }.encode()
	}

	fn target_of(header: &Header) -> (H256, u32) {
		(header.hash(), header.number)
	}

	#[test]
	fn more_than_two_thirds_of_the_set_finalize_and_fewer_do_not() {
		let four = set(&["Alice", "Bob", "Charlie", "Dave"]);
		let block = header(10, H256::zero(), H256::zero(), Digest::default());
		let three = justification(&block, 0, &["Alice", "Bob", "Charlie"], None, vec![]);
		let proved = verify_justification(&three, target_of(&block), 0, &four).unwrap();
		assert_eq!((proved.signers, proved.weight), (3, 3));
		let two = justification(&block, 0, &["Alice", "Bob"], None, vec![]);
		assert_eq!(
			verify_justification(&two, target_of(&block), 0, &four),
			Err(BundleError::TooFewSignatures { weight: 2, threshold: 3, total: 4 })
		);
		// The same authority twice counts once.
		let twice = justification(&block, 0, &["Alice", "Bob", "Bob"], None, vec![]);
		assert!(matches!(
			verify_justification(&twice, target_of(&block), 0, &four),
			Err(BundleError::TooFewSignatures { weight: 2, .. })
		));
	}

	#[test]
	fn keys_outside_the_set_another_set_id_or_another_target_fail() {
		let four = set(&["Alice", "Bob", "Charlie", "Dave"]);
		let block = header(10, H256::zero(), H256::zero(), Digest::default());
		let outsider = justification(&block, 0, &["Alice", "Bob", "Eve"], None, vec![]);
		assert!(matches!(
			verify_justification(&outsider, target_of(&block), 0, &four),
			Err(BundleError::UnknownAuthority(_, 0))
		));
		// Signed for set 1, checked as set 0: the signatures do not hold.
		let other_set = justification(&block, 1, &["Alice", "Bob", "Charlie"], None, vec![]);
		assert!(matches!(
			verify_justification(&other_set, target_of(&block), 0, &four),
			Err(BundleError::BadSignature(_))
		));
		let other = header(11, block.hash(), H256::zero(), Digest::default());
		let good = justification(&block, 0, &["Alice", "Bob", "Charlie"], None, vec![]);
		assert!(matches!(
			verify_justification(&good, target_of(&other), 0, &four),
			Err(BundleError::JustificationTarget { .. })
		));
		let mut garbled = good.clone();
		garbled.truncate(good.len() - 1);
		assert!(matches!(
			verify_justification(&garbled, target_of(&block), 0, &four),
			Err(BundleError::Malformed(_))
		));
	}

	#[test]
	fn votes_for_descendants_need_exactly_the_ancestry_that_links_them() {
		let three = set(&["Alice", "Bob", "Charlie"]);
		let block = header(10, H256::zero(), H256::zero(), Digest::default());
		let child = header(11, block.hash(), H256::zero(), Digest::default());
		let grandchild = header(12, child.hash(), H256::zero(), Digest::default());
		let all = ["Alice", "Bob", "Charlie"];
		let linked = justification(
			&block,
			0,
			&all,
			Some(&grandchild),
			vec![grandchild.clone(), child.clone()],
		);
		assert!(verify_justification(&linked, target_of(&block), 0, &three).is_ok());
		let gap = justification(&block, 0, &all, Some(&grandchild), vec![grandchild.clone()]);
		assert!(matches!(
			verify_justification(&gap, target_of(&block), 0, &three),
			Err(BundleError::BadAncestry(_))
		));
		let unused = justification(&block, 0, &all, None, vec![child.clone()]);
		assert!(matches!(
			verify_justification(&unused, target_of(&block), 0, &three),
			Err(BundleError::BadAncestry(_))
		));
		// A descendant of another block at the same height does not count.
		let stranger = header(10, H256::repeat_byte(1), H256::zero(), Digest::default());
		let strangers_child = header(11, stranger.hash(), H256::zero(), Digest::default());
		let forked =
			justification(&block, 0, &all, Some(&strangers_child), vec![strangers_child.clone()]);
		assert!(matches!(
			verify_justification(&forked, target_of(&block), 0, &three),
			Err(BundleError::BadAncestry(_))
		));
	}

	/// A whole bundle over a synthetic chain: one device with one anchor of one reading, its
	/// record in a state trie, a set change at block 5 from {Alice} to {Bob, Charlie, Dave},
	/// and the state block 7 finalized through its child 8 by the new set.
	struct Synthetic {
		trust: Trust,
		bundle: Bundle,
	}

	fn synthetic() -> Synthetic {
		let device = [9u8; 32];
		let reading = Reading {
			device,
			seq: 41,
			timestamp_ms: 1_700_000_000_000,
			values: vec![Measurement {
				metric: MetricName::truncate_from(b"temp".to_vec()),
				value: 4250,
			}],
			payload_hash: None,
		};
		let record: Record = AnchorRecord {
			device,
			index: 0,
			first_seq: 41,
			count: 1,
			root: reading.leaf(),
			device_time: TimeRange {
				first_ms: reading.timestamp_ms,
				last_ms: reading.timestamp_ms,
			},
			payload_hash: None,
			block: 7,
			chain_time_ms: 1_700_000_000_500,
			submitter: AccountId32([1; 32]),
		};
		let state = DeviceTelemetry::<u32> {
			next_seq: 42,
			anchors: 1,
			readings: 1,
			missing: 41,
			head: H256::repeat_byte(3),
			last_device_time_ms: reading.timestamp_ms,
			last_anchor_block: 7,
			block_anchors: 1,
			credits: 0,
			peaks: Bounded(vec![record.leaf()]),
		};
		let mut db = MemoryDB::<BlakeTwo256>::default();
		let mut root = H256::zero();
		{
			let mut trie =
				TrieDBMutBuilder::<LayoutV1<BlakeTwo256>>::new(&mut db, &mut root).build();
			trie.insert(&device_state_key(&device), &state.encode()).unwrap();
			trie.insert(b"another key", b"another value").unwrap();
		}
		// The proof: the nodes a read of the device's key touches.
		let recorder = sp_trie::recorder::Recorder::<BlakeTwo256>::default();
		{
			let mut recording = recorder.as_trie_recorder(root);
			sp_trie::read_trie_value::<LayoutV1<BlakeTwo256>, _>(
				&db,
				&root,
				&device_state_key(&device),
				Some(&mut recording),
				None,
			)
			.unwrap()
			.unwrap();
		}
		let nodes: Vec<Vec<u8>> = recorder.drain_storage_proof().into_iter_nodes().collect();

		let change =
			ScheduledChange { next_authorities: set(&["Bob", "Charlie", "Dave"]), delay: 0 };
		let log = ConsensusLog::<u32>::ScheduledChange(change).encode();
		let digest = Digest { logs: vec![DigestItem::Consensus(GRANDPA_ENGINE_ID, log)] };
		let last_of_set_0 = header(5, H256::repeat_byte(5), H256::zero(), digest);
		let change_justification = justification(&last_of_set_0, 0, &["Alice"], None, vec![]);
		let state_block = header(7, H256::repeat_byte(6), root, Digest::default());
		let child = header(8, state_block.hash(), H256::zero(), Digest::default());
		let finality = justification(&child, 1, &["Bob", "Charlie", "Dave"], None, vec![]);
		let trust = Trust {
			name: "synthetic".into(),
			genesis_hash: H256::repeat_byte(0x6e),
			authorities: set(&["Alice"]),
		};
		let bundle = Bundle::new(
			trust.genesis_hash,
			device,
			&[(reading, vec![], 0)],
			&[(record, vec![])],
			&state_block,
			&nodes,
			&[child],
			&finality,
			&[(last_of_set_0, change_justification)],
		);
		Synthetic { trust, bundle }
	}

	#[test]
	fn a_whole_bundle_verifies_through_a_set_change() {
		let Synthetic { trust, bundle } = synthetic();
		let verified = verify(&bundle, &trust).unwrap();
		assert_eq!(verified.set_id, 1);
		assert_eq!((verified.signers, verified.authorities), (3, 3));
		assert_eq!(verified.state_block.0, 7);
		assert_eq!(verified.finalized_block.0, 8);
		assert_eq!(verified.readings.len(), 1);
		assert_eq!(verified.readings[0].0.seq, 41);
	}

	/// Flips the last hex digit of `text` (a `0x`-hex string).
	fn flip(text: &mut String) {
		let last = text.pop().unwrap();
		text.push(if last == '0' { '1' } else { '0' });
	}

	/// Flips the hex digit of byte `byte` of `text` (a `0x`-hex string).
	fn flip_at(text: &mut String, byte: usize) {
		let at = 2 + 2 * byte;
		let digit = if text.as_bytes()[at] == b'0' { "1" } else { "0" };
		text.replace_range(at..at + 1, digit);
	}

	#[test]
	fn every_altered_field_fails_with_its_own_reason() {
		let Synthetic { trust, bundle } = synthetic();
		type Alter = fn(&mut Bundle);
		let cases: Vec<(&str, Alter, &str)> = vec![
			("a value", |b| b.readings[0].values[0].milli += 1, "ProofMismatch"),
			("the seq", |b| b.readings[0].seq += 1, "NotCovered"),
			("the time", |b| b.readings[0].timestamp_ms += 1, "ProofMismatch"),
			(
				"a Merkle hash",
				|b| b.readings[0].path.push(format!("{:?}", H256::zero())),
				"ProofMismatch",
			),
			("the record", |b| flip(&mut b.records[0].encoded), "NotInLog"),
			(
				"an MMR hash",
				|b| b.records[0].log_proof.push(format!("{:?}", H256::zero())),
				"NotInLog",
			),
			("a trie node", |b| flip(&mut b.state.proof[0]), "StateProof"),
			("an extra trie node", |b| b.state.proof.push("0x00".into()), "StateProof"),
			// Its parent hash: the block's hash changes, so its child no longer links to it.
			("the state header", |b| flip_at(&mut b.state.header, 0), "HeaderChain"),
			("the state header's end", |b| flip(&mut b.state.header), "Malformed"),
			// Its state root (after the parent hash and the one-byte compact number).
			(
				"a finality header",
				|b| flip_at(&mut b.finality.headers[0], 33),
				"JustificationTarget",
			),
			(
				"a finality header's parent",
				|b| flip_at(&mut b.finality.headers[0], 0),
				"HeaderChain",
			),
			// The first precommit's signature: after the round (8 bytes), the commit's target (36),
			// the precommits' compact count (1) and the precommit's target (36).
			("a signature", |b| flip_at(&mut b.finality.justification, 81), "BadSignature"),
			("the justification's end", |b| flip(&mut b.finality.justification), "Malformed"),
			("the set change", |b| flip(&mut b.set_changes[0].header), "SetChange"),
			(
				"the set change's signature",
				|b| flip(&mut b.set_changes[0].justification),
				"SetChange",
			),
			("no set change", |b| b.set_changes.clear(), "UnknownAuthority"),
			("the genesis", |b| flip(&mut b.genesis_hash), "GenesisMismatch"),
			("the device", |b| flip(&mut b.device), "StateProof"),
			("the version", |b| b.version += 1, "Malformed"),
		];
		for (what, alter, reason) in cases {
			let mut altered = bundle.clone();
			alter(&mut altered);
			let why = verify(&altered, &trust).expect_err(what);
			assert_eq!(why.name(), reason, "{what}: {why}");
		}
	}

	/// The JSON Schema of `docs/proof-bundle.schema.json`.
	pub(crate) fn schema() -> jsonschema::Validator {
		let path = provena_test_utils::in_checkout("../docs/proof-bundle.schema.json");
		let text = std::fs::read_to_string(&path)
			.unwrap_or_else(|e| panic!("read the bundle schema {}: {e}", path.display()));
		let schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
		jsonschema::validator_for(&schema).expect("the schema is a JSON Schema")
	}

	#[test]
	fn bundles_match_the_documented_schema_and_other_shapes_do_not() {
		let schema = schema();
		let Synthetic { bundle, .. } = synthetic();
		let value = serde_json::to_value(&bundle).unwrap();
		if let Err(error) = schema.validate(&value) {
			panic!("a bundle does not match the schema: {error}");
		}
		let mut extra = value.clone();
		extra["state"]["extra"] = serde_json::json!(1);
		assert!(!schema.is_valid(&extra));
		let mut short = value.clone();
		short["device"] = serde_json::json!("0x1234");
		assert!(!schema.is_valid(&short));
		let mut upper = value.clone();
		upper["genesis_hash"] = serde_json::json!(format!("0x{}", "AB".repeat(32)));
		assert!(!schema.is_valid(&upper));
		let mut missing = value;
		missing.as_object_mut().unwrap().remove("finality");
		assert!(!schema.is_valid(&missing));
	}

	#[test]
	fn a_changed_authority_set_in_the_trust_root_fails() {
		let Synthetic { mut trust, bundle } = synthetic();
		trust.authorities = set(&["Eve"]);
		let why = verify(&bundle, &trust).unwrap_err();
		assert_eq!(why.name(), "SetChange", "{why}");
	}

	#[test]
	fn a_chain_spec_must_be_raw_and_name_its_authorities() {
		let plain = r#"{"name":"x","genesis":{"runtimeGenesis":{"patch":{}}}}"#;
		assert!(Trust::from_chain_spec(plain).unwrap_err().to_string().contains("--raw"));
		let no_authorities = r#"{"name":"x","genesis":{"raw":{"top":{"0x3a636f6465":"0x00"}}}}"#;
		assert!(Trust::from_chain_spec(no_authorities)
			.unwrap_err()
			.to_string()
			.contains("no GRANDPA authorities"));
		assert!(Trust::from_chain_spec("not json").is_err());
	}
}
