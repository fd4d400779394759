//! A device's append-only log: its anchor records, committed on-chain by a Merkle Mountain Range
//! (MMR) of at most [`MAX_PEAKS`] hashes, stored off-chain and served by nodes.
//!
//! Certificate Transparency and Sigstore's Rekor keep a small commitment per log and serve the
//! entries and their proofs from outside it. Provena does the same per device: the chain's state
//! holds only the device's MMR peaks, whatever its number of anchors. Each accepted anchor
//! becomes an [`AnchorRecord`], emitted in the `Telemetry::Anchored` event and appended to the
//! MMR as leaf number `record.index`. The runtime writes the record and the MMR nodes it creates
//! to the node's offchain-indexed storage (a node started with `--enable-offchain-indexing
//! true`), from where the node serves history and inclusion proofs.
//!
//! # Bytes
//!
//! - **Log leaf** of a record: `blake2_256(LOG_LEAF_TAG ‖ SCALE(record))`, with
//!   [`LOG_LEAF_TAG`] = `b"provena:logleaf:"` ([`AnchorRecord::leaf`]). A record encodes its
//!   fields in the order of [`AnchorRecord`]: device `[u8; 32]`, index `u64`, first_seq `u64`,
//!   count `u32`, root `[u8; 32]`, device time `(u64, u64)`, payload hash
//!   `Option<[u8; 32]>`, block `u32`, chain time `u64`, submitter `[u8; 32]`.
//! - **MMR node** over a left and a right child: `blake2_256(LOG_NODE_TAG ‖ left ‖ right)`, with
//!   [`LOG_NODE_TAG`] = `b"provena:lognode:"`.
//! - **Positions and peaks** are those of the `polkadot-ckb-merkle-mountain-range` crate (as in
//!   `pallet-mmr`): nodes are numbered from zero in post-order, leaf `i` is at
//!   `leaf_index_to_pos(i)`, and a log of `n` leaves has `leaf_index_to_mmr_size(n - 1)` nodes.
//!   Its peaks, left to right, are the roots of its perfect subtrees, largest first.
//! - **Root**: the only peak, or the peaks bagged from the right: `acc = last peak`, then for
//!   each peak `p` from right to left, `acc = node(acc, p)` ([`log_root`]).
//! - **Inclusion proof** of leaf `i` ([`verify_inclusion`]): the proof items of that crate's
//!   `MerkleProof` for the leaf's position: the peaks left of the leaf's mountain, left to
//!   right; the siblings from the leaf up to its peak; then one hash for the peaks right of it,
//!   bagged as the root bags them (none when its mountain is the last). Its length is fixed by the leaf
//!   count and `i` ([`inclusion_proof_len`]); a proof of any other length is refused.
//!
//! # Off-chain entries and forks
//!
//! Entries are content-addressed: the key is [`OFFCHAIN_PREFIX`] followed by the node's hash,
//! the value is [`LogEntry`] (a leaf's record bytes, or an inner node's two children). A node
//! reads a device's log by walking down from the peaks in the state of a finalized block
//! ([`find_leaf`]). So an entry written by a block on a fork that is later abandoned is never
//! reached: no finalized peak leads to it. Entries can never collide either, as equal keys mean
//! equal contents. (`pallet-mmr` keys its entries by the parent block's hash instead and
//! canonicalizes them with a node-side gadget, because it knows which block added which leaf;
//! here any block may add any number of leaves to any device's log.)

use crate::{
	telemetry::{tagged_hash, Seq, TimeRange},
	DeviceId,
};
use alloc::{collections::BTreeMap, vec::Vec};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use mmr_lib::{helper, MMRStoreReadOps, Merge, MerkleProof, MMR};
use polkadot_ckb_merkle_mountain_range as mmr_lib;
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use sp_runtime::BoundedVec;

/// What a log leaf hashes in front of its record.
pub const LOG_LEAF_TAG: [u8; 16] = *b"provena:logleaf:";

/// What an MMR node hashes in front of its two children.
pub const LOG_NODE_TAG: [u8; 16] = *b"provena:lognode:";

/// The key prefix of a device log's entries in offchain-indexed storage.
pub const OFFCHAIN_PREFIX: &[u8] = b"provena:log:";

/// The most peaks an MMR can have: one per bit of its leaf count.
pub const MAX_PEAKS: u32 = 64;

/// A device log's peaks, left to right.
pub type Peaks = BoundedVec<H256, ConstU32<MAX_PEAKS>>;

/// One anchor as the device's log records it: the readings it commits, and where and when the
/// chain accepted it.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct AnchorRecord<AccountId, BlockNumber> {
	/// The device whose readings these are.
	pub device: DeviceId,
	/// The anchor's number among the device's anchors, from zero: its leaf index in the log.
	pub index: u64,
	/// The first reading's sequence number.
	pub first_seq: Seq,
	/// How many consecutive readings it commits.
	pub count: u32,
	/// The reading's leaf (one reading) or the root of their batch tree.
	pub root: H256,
	/// The device times of the first and last reading.
	pub device_time: TimeRange,
	/// blake2-256 of the encrypted payload that travelled with it, if one did.
	pub payload_hash: Option<H256>,
	/// The block it was anchored in.
	pub block: BlockNumber,
	/// The chain's time at that block, in milliseconds since the Unix epoch.
	pub chain_time_ms: u64,
	/// The account that submitted it (the device, its owner or a gateway).
	pub submitter: AccountId,
}

impl<AccountId: Encode, BlockNumber: Encode> AnchorRecord<AccountId, BlockNumber> {
	/// The record's leaf in the device's log.
	pub fn leaf(&self) -> H256 {
		tagged_hash(&LOG_LEAF_TAG, &self.encode())
	}
}

impl<AccountId, BlockNumber> AnchorRecord<AccountId, BlockNumber> {
	/// The last reading's sequence number.
	pub fn last_seq(&self) -> Seq {
		self.first_seq.saturating_add(self.count.saturating_sub(1).into())
	}

	/// Whether reading `seq` is one of the record's.
	pub fn covers(&self, seq: Seq) -> bool {
		self.count > 0 && (self.first_seq..=self.last_seq()).contains(&seq)
	}
}

/// The MMR node over `left` and `right`.
pub fn node(left: &H256, right: &H256) -> H256 {
	tagged_hash(&LOG_NODE_TAG, &[left.as_bytes(), right.as_bytes()].concat())
}

/// How `mmr_lib` merges nodes of a device log.
pub struct LogMerge;

impl Merge for LogMerge {
	type Item = H256;

	fn merge(left: &H256, right: &H256) -> mmr_lib::Result<H256> {
		Ok(node(left, right))
	}
}

/// An entry of a device log in offchain-indexed storage, under [`offchain_key`] of its hash.
#[derive(Clone, PartialEq, Eq, Encode, Decode, Debug)]
pub enum LogEntry {
	/// A leaf: the SCALE bytes of its [`AnchorRecord`].
	Leaf(Vec<u8>),
	/// An inner node: its left and right children.
	Node(H256, H256),
}

impl LogEntry {
	/// The hash the entry is stored under.
	pub fn hash(&self) -> H256 {
		match self {
			LogEntry::Leaf(record) => tagged_hash(&LOG_LEAF_TAG, record),
			LogEntry::Node(left, right) => node(left, right),
		}
	}
}

/// The offchain-indexed key of the log entry with `hash`.
pub fn offchain_key(hash: &H256) -> Vec<u8> {
	[OFFCHAIN_PREFIX, hash.as_bytes()].concat()
}

/// The number of MMR nodes of a log with `leaves` leaves.
pub fn mmr_size(leaves: u64) -> u64 {
	leaves.checked_sub(1).map(helper::leaf_index_to_mmr_size).unwrap_or(0)
}

/// The MMR nodes `mmr_lib` may read: the peaks, and whatever else a caller knows.
struct Known(BTreeMap<u64, H256>);

impl Known {
	/// The peaks of a log of `leaves` leaves, by position; `None` if there are not as many as
	/// the leaf count needs.
	fn peaks(leaves: u64, peaks: &[H256]) -> Option<Known> {
		let positions = helper::get_peaks(mmr_size(leaves));
		(positions.len() == peaks.len())
			.then(|| Known(positions.into_iter().zip(peaks.iter().copied()).collect()))
	}
}

impl MMRStoreReadOps<H256> for &Known {
	fn get_elem(&self, pos: u64) -> mmr_lib::Result<Option<H256>> {
		Ok(self.0.get(&pos).copied())
	}
}

/// What appending a leaf does to a log.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Appended {
	/// The log's peaks afterwards.
	pub peaks: Vec<H256>,
	/// The inner nodes the leaf completed, with their children, bottom up.
	pub nodes: Vec<(H256, H256, H256)>,
}

/// Appends `leaf` to a log of `leaves` leaves with these `peaks`; `None` when the peaks do not
/// fit the leaf count (a corrupt commitment) or the log is full.
pub fn append(leaves: u64, peaks: &[H256], leaf: H256) -> Option<Appended> {
	let known = Known::peaks(leaves, peaks)?;
	let size = mmr_size(leaves);
	let mut mmr = MMR::<H256, LogMerge, &Known>::new(size, &known);
	let pos = mmr.push(leaf).ok()?;
	let new_size = mmr.mmr_size();
	let at = |p: u64| mmr.batch().get_elem(p).ok().flatten();
	// The leaf is at `pos`; the nodes it completed follow it, one level higher each.
	let mut nodes = Vec::new();
	let mut height = 0u32;
	for p in pos.checked_add(1)?..new_size {
		height = height.checked_add(1)?;
		// A node at height h has its right child just before it and its left child 2^h before.
		let left = at(p.checked_sub(1u64.checked_shl(height)?)?)?;
		nodes.push((at(p)?, left, at(p.checked_sub(1)?)?));
	}
	let peaks = helper::get_peaks(new_size).into_iter().map(at).collect::<Option<Vec<_>>>()?;
	Some(Appended { peaks, nodes })
}

/// The root of a log with these peaks: `None` for an empty log.
pub fn log_root(peaks: &[H256]) -> Option<H256> {
	let mut rest = peaks.iter().rev();
	let last = *rest.next()?;
	Some(rest.fold(last, |acc, peak| node(&acc, peak)))
}

/// The longest inclusion proof [`verify_inclusion`] can need: a log counts its leaves in a
/// `u64`, so a leaf has at most 63 siblings in its mountain and at most 63 other peaks. Longer
/// proofs are refused by the runtime API before any hashing.
pub const MAX_PROOF_LEN: usize = 128;

/// The length of the inclusion proof of leaf `index` in a log of `leaves` leaves: the leaf's
/// siblings up to its peak (the peak's height), the peaks left of it one by one, and one hash
/// for the peaks right of it, if any. `None` when `index` is not below `leaves`.
pub fn inclusion_proof_len(leaves: u64, index: u64) -> Option<usize> {
	if index >= leaves {
		return None;
	}
	let peaks = helper::get_peaks(mmr_size(leaves));
	let mut first_leaf = 0u64;
	for (k, pos) in peaks.iter().enumerate() {
		let height = u32::from(helper::pos_height_in_tree(*pos));
		let width = 1u64.checked_shl(height)?;
		if index < first_leaf.saturating_add(width) {
			let right = usize::from(k.saturating_add(1) < peaks.len());
			return Some((height as usize).saturating_add(k).saturating_add(right));
		}
		first_leaf = first_leaf.saturating_add(width);
	}
	None
}

/// Whether `leaf` is leaf number `index` of the log of `leaves` leaves with these `peaks`,
/// through the inclusion `proof`, which must have exactly [`inclusion_proof_len`] hashes (a
/// padded or truncated proof never verifies).
pub fn verify_inclusion(
	leaves: u64,
	peaks: &[H256],
	index: u64,
	leaf: H256,
	proof: &[H256],
) -> bool {
	if index >= leaves
		|| Known::peaks(leaves, peaks).is_none()
		|| inclusion_proof_len(leaves, index) != Some(proof.len())
	{
		return false;
	}
	let Some(root) = log_root(peaks) else { return false };
	let proof = MerkleProof::<H256, LogMerge>::new(mmr_size(leaves), proof.to_vec());
	proof.verify(root, alloc::vec![(helper::leaf_index_to_pos(index), leaf)]).unwrap_or(false)
}

/// Why a log entry could not be read.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ReadError {
	/// The entry with this hash is not in the node's storage (it was started without offchain
	/// indexing, or synced the blocks that wrote it from a node that served no bodies).
	Missing(H256),
	/// The entry under this hash does not hash to it, or does not decode.
	Corrupt(H256),
	/// The leaf index is not below the log's leaf count, or the peaks do not fit it.
	OutOfRange,
}

/// Reads the entry with `hash` through `get` (offchain storage) and checks it hashes to `hash`.
fn read(get: &impl Fn(&[u8]) -> Option<Vec<u8>>, hash: H256) -> Result<LogEntry, ReadError> {
	let bytes = get(&offchain_key(&hash)).ok_or(ReadError::Missing(hash))?;
	let entry = LogEntry::decode(&mut &bytes[..]).map_err(|_| ReadError::Corrupt(hash))?;
	if entry.hash() != hash {
		return Err(ReadError::Corrupt(hash));
	}
	Ok(entry)
}

/// Leaf `index` of the log of `leaves` leaves with these `peaks`, read through `get` by walking
/// down from the peak above it: the record's bytes and its inclusion proof.
pub fn find_leaf(
	leaves: u64,
	peaks: &[H256],
	index: u64,
	get: impl Fn(&[u8]) -> Option<Vec<u8>>,
) -> Result<(Vec<u8>, Vec<H256>), ReadError> {
	let mut known = Known::peaks(leaves, peaks).ok_or(ReadError::OutOfRange)?;
	if index >= leaves {
		return Err(ReadError::OutOfRange);
	}
	// Find the mountain holding the leaf: mountains are perfect trees, largest first.
	let mut first_leaf = 0u64;
	let mut here = None;
	for pos in helper::get_peaks(mmr_size(leaves)) {
		let height = u32::from(helper::pos_height_in_tree(pos));
		let width = 1u64.checked_shl(height).ok_or(ReadError::OutOfRange)?;
		if index < first_leaf.saturating_add(width) {
			here = Some((pos, height, index.saturating_sub(first_leaf)));
			break;
		}
		first_leaf = first_leaf.saturating_add(width);
	}
	let (mut pos, mut height, mut offset) = here.ok_or(ReadError::OutOfRange)?;
	let mut hash = *known.0.get(&pos).ok_or(ReadError::OutOfRange)?;
	while height > 0 {
		let LogEntry::Node(left, right) = read(&get, hash)? else {
			return Err(ReadError::Corrupt(hash));
		};
		let half = 1u64.checked_shl(height.saturating_sub(1)).ok_or(ReadError::OutOfRange)?;
		let (left_pos, right_pos) =
			(pos.saturating_sub(half.saturating_mul(2)), pos.saturating_sub(1));
		known.0.insert(left_pos, left);
		known.0.insert(right_pos, right);
		if offset < half {
			(pos, hash) = (left_pos, left);
		} else {
			(pos, hash, offset) = (right_pos, right, offset.saturating_sub(half));
		}
		height = height.saturating_sub(1);
	}
	let LogEntry::Leaf(record) = read(&get, hash)? else { return Err(ReadError::Corrupt(hash)) };
	let mmr = MMR::<H256, LogMerge, &Known>::new(mmr_size(leaves), &known);
	let proof = mmr.gen_proof(alloc::vec![pos]).map_err(|_| ReadError::Corrupt(hash))?;
	Ok((record, proof.proof_items().to_vec()))
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::{cell::RefCell, collections::HashMap};

	/// A log grown leaf by leaf with [`append`], its entries kept as the runtime writes them.
	#[derive(Default)]
	struct Log {
		leaves: u64,
		peaks: Vec<H256>,
		store: RefCell<HashMap<Vec<u8>, Vec<u8>>>,
		records: Vec<Vec<u8>>,
	}

	impl Log {
		fn push(&mut self, record: Vec<u8>) {
			let entry = LogEntry::Leaf(record.clone());
			let appended = append(self.leaves, &self.peaks, entry.hash()).unwrap();
			let mut store = self.store.borrow_mut();
			store.insert(offchain_key(&entry.hash()), entry.encode());
			for (hash, left, right) in appended.nodes {
				assert_eq!(hash, node(&left, &right));
				store.insert(offchain_key(&hash), LogEntry::Node(left, right).encode());
			}
			self.peaks = appended.peaks;
			self.leaves += 1;
			self.records.push(record);
		}

		fn get(&self) -> impl Fn(&[u8]) -> Option<Vec<u8>> + '_ {
			|key| self.store.borrow().get(key).cloned()
		}
	}

	#[test]
	fn peaks_follow_the_bits_of_the_leaf_count_and_the_root_matches_the_crate() {
		let mut log = Log::default();
		for n in 1..=300u64 {
			log.push(n.encode());
			assert_eq!(log.peaks.len() as u32, n.count_ones(), "{n} leaves");
			let known = Known::peaks(n, &log.peaks).unwrap();
			let mmr = MMR::<H256, LogMerge, &Known>::new(mmr_size(n), &known);
			assert_eq!(mmr.get_root().ok(), log_root(&log.peaks));
		}
	}

	#[test]
	fn every_leaf_is_found_and_proves_at_its_index_only() {
		let mut log = Log::default();
		for n in 0..77u64 {
			log.push((n, "record").encode());
		}
		for index in 0..log.leaves {
			let (record, proof) = find_leaf(log.leaves, &log.peaks, index, log.get()).unwrap();
			assert_eq!(record, log.records[index as usize]);
			let leaf = tagged_hash(&LOG_LEAF_TAG, &record);
			assert!(verify_inclusion(log.leaves, &log.peaks, index, leaf, &proof));
			assert!(!verify_inclusion(
				log.leaves,
				&log.peaks,
				(index + 1) % log.leaves,
				leaf,
				&proof
			));
			let other = tagged_hash(&LOG_LEAF_TAG, b"another record");
			assert!(!verify_inclusion(log.leaves, &log.peaks, index, other, &proof));
		}
		assert_eq!(
			find_leaf(log.leaves, &log.peaks, log.leaves, log.get()),
			Err(ReadError::OutOfRange)
		);
	}

	#[test]
	fn a_padded_or_truncated_inclusion_proof_never_verifies() {
		let mut log = Log::default();
		for leaves in 1..=40u64 {
			log.push((leaves, "record").encode());
			for index in 0..leaves {
				let (record, proof) = find_leaf(leaves, &log.peaks, index, log.get()).unwrap();
				let leaf = tagged_hash(&LOG_LEAF_TAG, &record);
				assert!(verify_inclusion(leaves, &log.peaks, index, leaf, &proof));
				for extra in [H256::zero(), leaf, log.peaks[0]] {
					let mut padded = proof.clone();
					padded.push(extra);
					assert!(
						!verify_inclusion(leaves, &log.peaks, index, leaf, &padded),
						"leaf {index} of {leaves} with a padded proof"
					);
				}
				if let Some((_, shorter)) = proof.split_last() {
					assert!(
						!verify_inclusion(leaves, &log.peaks, index, leaf, shorter),
						"leaf {index} of {leaves} with a truncated proof"
					);
				}
			}
		}
	}

	#[test]
	fn a_proof_made_for_older_peaks_fails_on_newer_ones_and_a_missing_entry_is_named() {
		let mut log = Log::default();
		for n in 0..5u64 {
			log.push(n.encode());
		}
		let (record, proof) = find_leaf(log.leaves, &log.peaks, 4, log.get()).unwrap();
		let leaf = tagged_hash(&LOG_LEAF_TAG, &record);
		log.push(5u64.encode());
		assert!(!verify_inclusion(log.leaves, &log.peaks, 4, leaf, &proof));
		let peaks = log.peaks.clone();
		log.store.borrow_mut().clear();
		assert_eq!(find_leaf(6, &peaks, 0, log.get()), Err(ReadError::Missing(peaks[0])));
	}

	#[test]
	fn an_abandoned_fork_is_never_reached_from_the_canonical_peaks() {
		// Both branches share one offchain store, as a node's does.
		let mut canonical = Log::default();
		for n in 0..6u64 {
			canonical.push(n.encode());
		}
		let mut fork = Log {
			leaves: canonical.leaves,
			peaks: canonical.peaks.clone(),
			store: RefCell::new(canonical.store.borrow().clone()),
			records: canonical.records.clone(),
		};
		fork.push(b"on the fork".to_vec());
		canonical.store.borrow_mut().extend(fork.store.borrow().clone());
		canonical.push(b"on the chain".to_vec());
		let (record, _) =
			find_leaf(canonical.leaves, &canonical.peaks, 6, canonical.get()).unwrap();
		assert_eq!(record, b"on the chain".to_vec());
	}
}
