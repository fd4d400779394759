//! Readings into signed anchors: the device side of telemetry.
//!
//! A [`Batch`] is a run of consecutive readings of one device. It knows their leaves, the root
//! that commits them, the proof of each, and which values to make public; a [`KeyPair`]
//! turns it into the signed [`Anchor`] the chain accepts. Every byte comes from
//! `provena_primitives::telemetry`, the format the runtime checks.

use provena_primitives::{
	telemetry::{
		batch_proof, batch_root, Anchor, AnchorStatement, MaxPublicValues, MetricName, NodeHasher,
		PublicValue, Reading, Seq, TimeRange, MAX_PUBLIC_VALUES,
	},
	DeviceId, DeviceKey,
};
use sp_core::{crypto::SecretStringError, ed25519, hexdisplay::HexDisplay, sr25519, Pair, H256};
use sp_runtime::{BoundedVec, MultiSignature};
use std::collections::{BTreeMap, BTreeSet};

/// An anchor as the Provena runtime accepts it.
pub type SignedAnchor = Anchor<MaxPublicValues>;

/// What a device states in an anchor, before signing it.
pub type Statement = AnchorStatement<MaxPublicValues>;

/// An entry of a device's log on the Provena chain: an anchor as the chain accepted it.
pub type Record = provena_primitives::device_log::AnchorRecord<subxt::utils::AccountId32, u32>;

/// Why readings cannot form a batch.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BatchError {
	/// A batch needs at least one reading.
	#[error("a batch needs at least one reading")]
	Empty,
	/// All readings of a batch must come from one device.
	#[error(
		"reading {seq} belongs to device 0x{}, not to the batch's device",
		HexDisplay::from(device)
	)]
	MixedDevices {
		/// The sequence number of the stray reading.
		seq: Seq,
		/// The device it names.
		device: DeviceId,
	},
	/// The readings must have consecutive sequence numbers, in order.
	#[error("reading {found} follows reading {previous}: sequence numbers must be consecutive")]
	NotConsecutive {
		/// The sequence number before.
		previous: Seq,
		/// The one that does not follow it.
		found: Seq,
	},
	/// More readings than one anchor can count.
	#[error("{0} readings are more than one anchor can commit ({max})", max = u32::MAX)]
	TooMany(usize),
}

/// Consecutive readings of one device, ready to anchor.
#[derive(Clone, Debug)]
pub struct Batch {
	readings: Vec<Reading>,
	leaves: Vec<H256>,
}

impl Batch {
	/// Checks that `readings` are one device's consecutive readings, and computes their leaves.
	pub fn new(readings: Vec<Reading>) -> Result<Self, BatchError> {
		let first = readings.first().ok_or(BatchError::Empty)?;
		let device = first.device;
		if u32::try_from(readings.len()).is_err() {
			return Err(BatchError::TooMany(readings.len()));
		}
		for pair in readings.windows(2) {
			if pair[1].device != device {
				return Err(BatchError::MixedDevices { seq: pair[1].seq, device: pair[1].device });
			}
			if pair[0].seq.checked_add(1) != Some(pair[1].seq) {
				return Err(BatchError::NotConsecutive {
					previous: pair[0].seq,
					found: pair[1].seq,
				});
			}
		}
		let leaves = readings.iter().map(Reading::leaf).collect();
		Ok(Batch { readings, leaves })
	}

	/// The readings.
	pub fn readings(&self) -> &[Reading] {
		&self.readings
	}

	/// Their leaves, in sequence order.
	pub fn leaves(&self) -> &[H256] {
		&self.leaves
	}

	/// The device.
	pub fn device(&self) -> DeviceId {
		self.readings[0].device
	}

	/// The first sequence number.
	pub fn first_seq(&self) -> Seq {
		self.readings[0].seq
	}

	/// The root committing all readings.
	pub fn root(&self) -> H256 {
		batch_root(&self.leaves)
	}

	/// The Merkle proof of reading `seq`, or `None` if the batch does not hold it.
	pub fn proof(&self, seq: Seq) -> Option<Vec<H256>> {
		let index = u32::try_from(seq.checked_sub(self.first_seq())?).ok()?;
		batch_proof(&self.leaves, index)
	}

	/// The Merkle proof of every reading, in order: what [`Batch::proof`] gives for each, from
	/// one pass over the tree (asking for each proof alone hashes the whole tree each time).
	pub fn proofs(&self) -> Vec<Vec<H256>> {
		// The tree's levels, leaves first: each node hashes its pair, and an odd last node
		// goes up unchanged (the tree `batch_root` builds).
		let mut levels: Vec<Vec<H256>> = vec![self.leaves.clone()];
		while levels.last().is_some_and(|level| level.len() > 1) {
			let below = levels.last().map(Vec::as_slice).unwrap_or_default();
			let above = below
				.chunks(2)
				.map(|pair| match pair {
					[left, right] => <NodeHasher as sp_core::Hasher>::hash(
						&[left.as_bytes(), right.as_bytes()].concat(),
					),
					[odd] => *odd,
					_ => unreachable!("chunks of two"),
				})
				.collect();
			levels.push(above);
		}
		(0..self.leaves.len())
			.map(|leaf| {
				let mut index = leaf;
				let mut path = Vec::new();
				for level in &levels[..levels.len() - 1] {
					let sibling = index ^ 1;
					if let Some(node) = level.get(sibling) {
						path.push(*node);
					}
					index /= 2;
				}
				path
			})
			.collect()
	}

	/// The values made public, for the metrics in `public` only (those with an alert rule,
	/// and those the user chose to publish; the chain sees nothing of the others): every such
	/// value of a single reading; for a batch, the lowest and highest value of each such metric
	/// with the reading it came from (what any bound would catch first). At most
	/// [`MAX_PUBLIC_VALUES`], metrics in name order.
	pub fn public_values(&self, public: &BTreeSet<MetricName>) -> Vec<PublicValue> {
		let mut extremes: BTreeMap<MetricName, (PublicValue, PublicValue)> = BTreeMap::new();
		for reading in &self.readings {
			for measurement in reading.values.iter().filter(|m| public.contains(&m.metric)) {
				let value = PublicValue {
					seq: reading.seq,
					metric: measurement.metric.clone(),
					value: measurement.value,
				};
				extremes
					.entry(measurement.metric.clone())
					.and_modify(|(low, high)| {
						if value.value < low.value {
							*low = value.clone();
						}
						if value.value > high.value {
							*high = value.clone();
						}
					})
					.or_insert_with(|| (value.clone(), value));
			}
		}
		let mut values = Vec::new();
		for (_, (low, high)) in extremes {
			let same = low == high;
			values.push(low);
			if !same {
				values.push(high);
			}
		}
		values.truncate(MAX_PUBLIC_VALUES as usize);
		values
	}

	/// What the device states about this batch, with the hash of the payload that travels with
	/// it (if one does) and the values of the `public` metrics.
	pub fn statement(
		&self,
		payload_hash: Option<H256>,
		public: &BTreeSet<MetricName>,
	) -> Statement {
		let times = self.readings.iter().map(|reading| reading.timestamp_ms);
		AnchorStatement {
			device: self.device(),
			first_seq: self.first_seq(),
			count: self.readings.len() as u32,
			root: self.root(),
			time: TimeRange {
				first_ms: times.clone().min().unwrap_or_default(),
				last_ms: times.max().unwrap_or_default(),
			},
			payload_hash,
			values: BoundedVec::truncate_from(self.public_values(public)),
		}
	}

	/// The batch's anchor, signed by `signer` for the chain with `genesis_hash`, committing the
	/// `payload` that will travel with it (the chain refuses any other) and publishing the
	/// values of the `public` metrics.
	pub fn sign(
		&self,
		signer: &KeyPair,
		genesis_hash: &H256,
		payload: Option<&[u8]>,
		public: &BTreeSet<MetricName>,
	) -> SignedAnchor {
		let payload_hash = payload.map(|p| H256(sp_crypto_hashing::blake2_256(p)));
		let statement = self.statement(payload_hash, public);
		let signature = signer.sign(&statement.signing_hash(genesis_hash));
		Anchor { statement, signature }
	}
}

/// A secret key: a device's (it signs anchors) or an account's (it signs transactions).
// An sr25519 pair is larger than an ed25519 one; a process holds a handful of keys, so the
// difference is not worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum KeyPair {
	/// An sr25519 key.
	Sr25519(sr25519::Pair),
	/// An ed25519 key.
	Ed25519(ed25519::Pair),
}

impl core::fmt::Debug for KeyPair {
	/// Shows the scheme and public key, never the secret.
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		write!(f, "{:?}(0x{})", self.scheme(), HexDisplay::from(&self.public()))
	}
}

/// The signature schemes a key may use.
#[derive(
	Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
	/// Schnorrkel/Ristretto.
	Sr25519,
	/// Edwards.
	Ed25519,
}

impl KeyPair {
	/// The key of `scheme` from a secret URI: a mnemonic, a hex seed, or a derivation like
	/// `//Alice//device/1` (ed25519 allows hard `//` junctions only).
	pub fn from_uri(scheme: Scheme, uri: &str) -> Result<Self, SecretStringError> {
		Ok(match scheme {
			Scheme::Sr25519 => KeyPair::Sr25519(sr25519::Pair::from_string(uri, None)?),
			Scheme::Ed25519 => KeyPair::Ed25519(ed25519::Pair::from_string(uri, None)?),
		})
	}

	/// The public key the registry knows the device by.
	pub fn key(&self) -> DeviceKey {
		match self {
			KeyPair::Sr25519(pair) => DeviceKey::Sr25519(pair.public()),
			KeyPair::Ed25519(pair) => DeviceKey::Ed25519(pair.public()),
		}
	}

	/// Signs a 32-byte signing hash.
	pub fn sign(&self, hash: &[u8; 32]) -> MultiSignature {
		self.sign_bytes(hash)
	}

	/// This key's proof of possession: its signature letting `owner` register it as `device`
	/// (or rotate `device` to it) on the chain with `genesis_hash`.
	pub fn possession_proof(
		&self,
		genesis_hash: &H256,
		device: &DeviceId,
		owner: &[u8; 32],
	) -> MultiSignature {
		self.sign(&provena_primitives::possession_hash(genesis_hash, device, owner))
	}

	/// Signs any message (a transaction's signer payload, for instance).
	pub fn sign_bytes(&self, message: &[u8]) -> MultiSignature {
		match self {
			KeyPair::Sr25519(pair) => MultiSignature::Sr25519(pair.sign(message)),
			KeyPair::Ed25519(pair) => MultiSignature::Ed25519(pair.sign(message)),
		}
	}

	/// The 32 public key bytes, which are also the account id.
	pub fn public(&self) -> [u8; 32] {
		match self {
			KeyPair::Sr25519(pair) => pair.public().0,
			KeyPair::Ed25519(pair) => pair.public().0,
		}
	}

	/// The scheme of this key.
	pub fn scheme(&self) -> Scheme {
		match self {
			KeyPair::Sr25519(_) => Scheme::Sr25519,
			KeyPair::Ed25519(_) => Scheme::Ed25519,
		}
	}

	/// The secret key bytes (the seed for ed25519, the expanded key for sr25519): what the
	/// account's x25519 encryption key is derived from.
	pub fn raw_secret(&self) -> Vec<u8> {
		match self {
			KeyPair::Sr25519(pair) => pair.to_raw_vec(),
			KeyPair::Ed25519(pair) => pair.to_raw_vec(),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use provena_primitives::telemetry::{verify_batch_proof, Measurement};

	fn reading(device: u8, seq: Seq, temp: i64) -> Reading {
		Reading {
			device: [device; 32],
			seq,
			timestamp_ms: 1_000 + seq,
			values: vec![Measurement {
				metric: MetricName::truncate_from(b"t".to_vec()),
				value: temp,
			}],
			payload_hash: None,
		}
	}

	#[test]
	fn a_batch_refuses_empty_mixed_and_non_consecutive_readings() {
		assert_eq!(Batch::new(vec![]).unwrap_err(), BatchError::Empty);
		assert_eq!(
			Batch::new(vec![reading(1, 0, 0), reading(2, 1, 0)]).unwrap_err(),
			BatchError::MixedDevices { seq: 1, device: [2; 32] }
		);
		assert_eq!(
			Batch::new(vec![reading(1, 0, 0), reading(1, 2, 0)]).unwrap_err(),
			BatchError::NotConsecutive { previous: 0, found: 2 }
		);
		assert_eq!(
			Batch::new(vec![reading(1, 3, 0), reading(1, 2, 0)]).unwrap_err(),
			BatchError::NotConsecutive { previous: 3, found: 2 }
		);
	}

	#[test]
	fn each_reading_of_a_batch_has_a_proof_against_its_root() {
		let batch = Batch::new((5..12).map(|seq| reading(1, seq, 0)).collect()).unwrap();
		for (i, seq) in (5..12).enumerate() {
			let proof = batch.proof(seq).unwrap();
			assert!(verify_batch_proof(&batch.root(), 7, i as u32, batch.leaves()[i], &proof));
		}
		assert_eq!(batch.proof(4), None);
		// All proofs at once are each reading's proof, for every batch size up to 70 (odd
		// levels at many heights).
		for size in 1..=70u64 {
			let readings = (100..100 + size).map(|seq| reading(7, seq, seq as i64)).collect();
			let batch = Batch::new(readings).unwrap();
			let one_by_one: Vec<Vec<H256>> =
				(100..100 + size).map(|seq| batch.proof(seq).unwrap()).collect();
			assert_eq!(batch.proofs(), one_by_one, "{size} readings");
		}
		assert_eq!(batch.proof(12), None);
	}

	#[test]
	fn a_batch_publishes_each_public_metrics_extremes_and_nothing_else() {
		let temps = [4_000, 9_000, 3_000, 5_000];
		let batch = Batch::new(
			temps.iter().enumerate().map(|(seq, t)| reading(1, seq as u64, *t)).collect(),
		)
		.unwrap();
		let t: BTreeSet<MetricName> = [MetricName::truncate_from(b"t".to_vec())].into();
		let values: Vec<(Seq, i64)> =
			batch.public_values(&t).iter().map(|v| (v.seq, v.value)).collect();
		assert_eq!(values, vec![(2, 3_000), (1, 9_000)]);
		assert!(batch.public_values(&BTreeSet::new()).is_empty());
		let other: BTreeSet<MetricName> = [MetricName::truncate_from(b"rh".to_vec())].into();
		assert!(batch.public_values(&other).is_empty());

		let single = Batch::new(vec![reading(1, 0, 4_000)]).unwrap();
		assert_eq!(single.public_values(&t).len(), 1);
		assert_eq!(single.root(), single.leaves()[0]);
	}

	#[test]
	fn a_signed_anchor_verifies_with_the_device_key_only() {
		let batch = Batch::new((0..3).map(|seq| reading(1, seq, 0)).collect()).unwrap();
		let signer = KeyPair::from_uri(Scheme::Sr25519, "//device").unwrap();
		let other = KeyPair::from_uri(Scheme::Sr25519, "//other").unwrap();
		let genesis = H256::repeat_byte(1);
		let anchor = batch.sign(&signer, &genesis, None, &BTreeSet::new());
		let hash = anchor.statement.signing_hash(&genesis);
		assert!(signer.key().verify(&hash, &anchor.signature));
		assert!(!other.key().verify(&hash, &anchor.signature));
		assert!(KeyPair::from_uri(Scheme::Ed25519, "//device/soft").is_err());
	}
}
