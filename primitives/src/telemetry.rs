//! The bytes of telemetry: readings, their leaves, Merkle batches, anchors and what a device
//! signs.
//!
//! # Readings and leaves
//!
//! A [`Reading`] never goes on-chain. It is what a device measured:
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `device` | `[u8; 32]` | the [`DeviceId`] |
//! | `seq` | `u64` | the device's sequence number; consecutive readings have consecutive numbers |
//! | `timestamp_ms` | `u64` | the device's clock, milliseconds since the Unix epoch |
//! | `values` | `Vec<Measurement>` | metric name (≤ [`MAX_METRIC_NAME_LEN`] bytes) → value in thousandths |
//! | `payload_hash` | `Option<[u8; 32]>` | blake2-256 of an optional (encrypted) payload |
//!
//! Its **leaf** is the blake2-256 hash of its SCALE encoding, fields in the order above
//! ([`Reading::leaf`]). Values are fixed-point: `4.25 °C` is the integer `4250`.
//!
//! # Anchors
//!
//! An anchor commits `count` consecutive readings starting at `first_seq`. Its `root` is the
//! reading's leaf when `count == 1`, else the binary Merkle root (polkadot-sdk's
//! `binary-merkle-tree`, blake2-256, leaves taken as they are) of the leaves in sequence order
//! ([`batch_root`]). The device signs the blake2-256 hash of the SCALE encoding of
//!
//! ```text
//! (ANCHOR_SIGNING_TAG: [u8; 16], genesis_hash: [u8; 32], device, first_seq: u64, count: u32,
//!  root: [u8; 32], time: TimeRange, values: Vec<PublicValue>)
//! ```
//!
//! ([`AnchorStatement::signing_hash`]), so a signature is valid on one chain only, and a gateway
//! relaying it can change none of the readings, their times or the values it makes public.
//!
//! # The hash chain
//!
//! The chain keeps, per device, a running hash over all its anchors: it starts at zero and each
//! anchor replaces it with [`chain_link`]`(previous, device, first_seq, count, root)`. Anyone
//! holding a device's anchors can recompute it, and it stays a checkpoint if old anchors are ever
//! pruned from state.

use crate::DeviceId;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{ConstU32, Get, H256};
use sp_runtime::{traits::BlakeTwo256, BoundedVec, MultiSignature};

/// A reading's (or a device's) sequence number.
pub type Seq = u64;

/// The most bytes a metric name may have.
pub const MAX_METRIC_NAME_LEN: u32 = 32;

/// A metric's name, e.g. `temp_c` or `heart_rate_bpm`: at most [`MAX_METRIC_NAME_LEN`] bytes,
/// UTF-8 by convention.
pub type MetricName = BoundedVec<u8, ConstU32<MAX_METRIC_NAME_LEN>>;

/// The most public values one anchor carries: the runtime's `MaxPublicValues`, and what the
/// client makes public at most.
pub const MAX_PUBLIC_VALUES: u32 = 16;

/// [`MAX_PUBLIC_VALUES`] as the bound type of an anchor's values.
pub type MaxPublicValues = ConstU32<MAX_PUBLIC_VALUES>;

/// The factor between a value and its fixed-point integer: values carry three decimals.
pub const VALUE_SCALE: i64 = 1_000;

/// What a device signs in front of an anchor, so the signature cannot mean anything else.
pub const ANCHOR_SIGNING_TAG: [u8; 16] = *b"provena:anchor:1";

/// What the running hash chain hashes in front of each link.
pub const CHAIN_TAG: [u8; 16] = *b"provena:chain:v1";

/// One measured value: a metric and its value in thousandths ([`VALUE_SCALE`]).
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Measurement {
	/// The metric's name.
	pub metric: MetricName,
	/// The value in thousandths: `4250` is 4.25.
	pub value: i64,
}

/// A reading as the device produced it; only its leaf ever reaches the chain.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Reading {
	/// The device that measured it.
	pub device: DeviceId,
	/// Its sequence number.
	pub seq: Seq,
	/// The device's clock when it was taken, in milliseconds since the Unix epoch.
	pub timestamp_ms: u64,
	/// What was measured.
	pub values: Vec<Measurement>,
	/// The blake2-256 hash of a payload that travels with it, if any.
	pub payload_hash: Option<[u8; 32]>,
}

impl Reading {
	/// The reading's leaf: blake2-256 of its SCALE encoding.
	pub fn leaf(&self) -> H256 {
		H256(sp_crypto_hashing::blake2_256(&self.encode()))
	}
}

/// The device times an anchor's readings claim: the first and the last reading's timestamp.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TimeRange {
	/// The earliest reading's device time, in milliseconds since the Unix epoch.
	pub first_ms: u64,
	/// The latest reading's device time, in milliseconds since the Unix epoch.
	pub last_ms: u64,
}

/// A value a device makes public with an anchor, so the chain can check it against alert rules.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PublicValue {
	/// The sequence number of the reading it comes from; inside the anchor's range.
	pub seq: Seq,
	/// The metric.
	pub metric: MetricName,
	/// The value in thousandths.
	pub value: i64,
}

/// What a device signs: everything an anchor says, except the signature.
///
/// `Clone`, `PartialEq`, `Eq` and `Debug` are implemented by hand below: derived, they would
/// demand them of the `MaxValues` bound as well.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo)]
#[scale_info(skip_type_params(MaxValues))]
pub struct AnchorStatement<MaxValues: Get<u32>> {
	/// The device whose readings these are.
	pub device: DeviceId,
	/// The first reading's sequence number.
	pub first_seq: Seq,
	/// How many consecutive readings the root commits; at least one.
	pub count: u32,
	/// The leaf of the only reading, or the Merkle root of all their leaves.
	pub root: H256,
	/// The device times of the first and the last reading.
	pub time: TimeRange,
	/// Values made public for alert rules.
	pub values: BoundedVec<PublicValue, MaxValues>,
}

impl<MaxValues: Get<u32>> AnchorStatement<MaxValues> {
	/// The 32 bytes the device signs for this statement on the chain with `genesis_hash`.
	pub fn signing_hash(&self, genesis_hash: &H256) -> [u8; 32] {
		let mut bytes = Vec::with_capacity(self.encoded_size().saturating_add(16 + 32));
		bytes.extend_from_slice(&ANCHOR_SIGNING_TAG);
		bytes.extend_from_slice(genesis_hash.as_bytes());
		self.encode_to(&mut bytes);
		sp_crypto_hashing::blake2_256(&bytes)
	}

	/// The sequence number of the last reading, or `None` when `count` is zero or the range
	/// would pass `u64::MAX`.
	pub fn last_seq(&self) -> Option<Seq> {
		self.count.checked_sub(1).and_then(|extra| self.first_seq.checked_add(extra.into()))
	}

	/// Whether `seq` falls inside this anchor's range.
	pub fn covers(&self, seq: Seq) -> bool {
		self.last_seq().is_some_and(|last| (self.first_seq..=last).contains(&seq))
	}
}

/// A device-signed anchor, as a gateway or device submits it.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo)]
#[scale_info(skip_type_params(MaxValues))]
pub struct Anchor<MaxValues: Get<u32>> {
	/// What the device states.
	pub statement: AnchorStatement<MaxValues>,
	/// The device key's signature of [`AnchorStatement::signing_hash`].
	pub signature: MultiSignature,
}

impl<M: Get<u32>> Clone for AnchorStatement<M> {
	fn clone(&self) -> Self {
		Self {
			device: self.device,
			first_seq: self.first_seq,
			count: self.count,
			root: self.root,
			time: self.time,
			values: self.values.clone(),
		}
	}
}

impl<M: Get<u32>> PartialEq for AnchorStatement<M> {
	fn eq(&self, other: &Self) -> bool {
		(self.device, self.first_seq, self.count, self.root, self.time)
			== (other.device, other.first_seq, other.count, other.root, other.time)
			&& self.values == other.values
	}
}

impl<M: Get<u32>> Eq for AnchorStatement<M> {}

impl<M: Get<u32>> core::fmt::Debug for AnchorStatement<M> {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		f.debug_struct("AnchorStatement")
			.field("device", &self.device)
			.field("first_seq", &self.first_seq)
			.field("count", &self.count)
			.field("root", &self.root)
			.field("time", &self.time)
			.field("values", &self.values)
			.finish()
	}
}

impl<M: Get<u32>> Clone for Anchor<M> {
	fn clone(&self) -> Self {
		Self { statement: self.statement.clone(), signature: self.signature.clone() }
	}
}

impl<M: Get<u32>> PartialEq for Anchor<M> {
	fn eq(&self, other: &Self) -> bool {
		self.statement == other.statement && self.signature == other.signature
	}
}

impl<M: Get<u32>> Eq for Anchor<M> {}

impl<M: Get<u32>> core::fmt::Debug for Anchor<M> {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		f.debug_struct("Anchor")
			.field("statement", &self.statement)
			.field("signature", &self.signature)
			.finish()
	}
}

/// The root committing `leaves`, in sequence order: the only leaf itself, or their binary
/// Merkle root. Zero for no leaves.
pub fn batch_root(leaves: &[H256]) -> H256 {
	binary_merkle_tree::merkle_root_raw::<BlakeTwo256, _>(leaves.iter().copied())
}

/// The Merkle proof of the leaf at `index` among `leaves`: the sibling hashes from the leaf up.
/// Empty for a single leaf. `None` if `index` is out of range.
pub fn batch_proof(leaves: &[H256], index: u32) -> Option<Vec<H256>> {
	if index as usize >= leaves.len() {
		return None;
	}
	Some(
		binary_merkle_tree::merkle_proof_raw::<BlakeTwo256, _>(leaves.iter().copied(), index).proof,
	)
}

/// Whether `leaf`, at `index` among `count` leaves, is committed by `root` through `proof`.
pub fn verify_batch_proof(root: &H256, count: u32, index: u32, leaf: H256, proof: &[H256]) -> bool {
	binary_merkle_tree::verify_proof::<BlakeTwo256, _, _>(
		root,
		proof.iter().copied(),
		count,
		index,
		binary_merkle_tree::Leaf::Hash(leaf),
	)
}

/// The next head of a device's hash chain after an anchor.
pub fn chain_link(
	previous: &H256,
	device: &DeviceId,
	first_seq: Seq,
	count: u32,
	root: &H256,
) -> H256 {
	H256(sp_crypto_hashing::blake2_256(
		&(CHAIN_TAG, previous, device, first_seq, count, root).encode(),
	))
}

#[cfg(test)]
mod tests {
	use super::*;

	fn reading(seq: Seq) -> Reading {
		Reading {
			device: [7; 32],
			seq,
			timestamp_ms: 1_700_000_000_000 + seq * 1_000,
			values: alloc::vec![Measurement {
				metric: MetricName::truncate_from(b"temp_c".to_vec()),
				value: 4_250 + seq as i64,
			}],
			payload_hash: None,
		}
	}

	fn leaves(n: u64) -> Vec<H256> {
		(0..n).map(|seq| reading(seq).leaf()).collect()
	}

	#[test]
	fn the_leaf_is_the_hash_of_the_documented_encoding() {
		let r = reading(3);
		let mut bytes = r.device.to_vec();
		bytes.extend_from_slice(&3u64.to_le_bytes());
		bytes.extend_from_slice(&(1_700_000_003_000u64).to_le_bytes());
		bytes.push(1 << 2); // one measurement
		bytes.push(6 << 2); // a six-byte name
		bytes.extend_from_slice(b"temp_c");
		bytes.extend_from_slice(&4_253i64.to_le_bytes());
		bytes.push(0); // no payload
		assert_eq!(r.encode(), bytes);
		assert_eq!(r.leaf(), H256(sp_crypto_hashing::blake2_256(&bytes)));
	}

	#[test]
	fn a_single_leaf_is_its_own_root() {
		let one = leaves(1);
		assert_eq!(batch_root(&one), one[0]);
		assert_eq!(batch_proof(&one, 0), Some(alloc::vec![]));
		assert!(verify_batch_proof(&one[0], 1, 0, one[0], &[]));
	}

	#[test]
	fn every_leaf_of_a_batch_proves_and_no_other_does() {
		for n in [2u64, 3, 7, 8, 33] {
			let all = leaves(n);
			let root = batch_root(&all);
			for (i, leaf) in all.iter().enumerate() {
				let proof = batch_proof(&all, i as u32).unwrap();
				assert!(verify_batch_proof(&root, n as u32, i as u32, *leaf, &proof), "{n}/{i}");
				// The same proof at another index, or for another reading, fails.
				assert!(!verify_batch_proof(
					&root,
					n as u32,
					(i as u32 + 1) % n as u32,
					*leaf,
					&proof
				));
				assert!(!verify_batch_proof(&root, n as u32, i as u32, reading(99).leaf(), &proof));
			}
			assert_eq!(batch_proof(&all, n as u32), None);
		}
	}

	#[test]
	fn the_signing_hash_binds_chain_and_content() {
		let statement = AnchorStatement::<ConstU32<4>> {
			device: [7; 32],
			first_seq: 0,
			count: 2,
			root: batch_root(&leaves(2)),
			time: TimeRange { first_ms: 1, last_ms: 2 },
			values: BoundedVec::new(),
		};
		let genesis = H256::repeat_byte(1);
		let hash = statement.signing_hash(&genesis);
		assert_ne!(hash, statement.signing_hash(&H256::repeat_byte(2)));
		let mut moved = statement.clone();
		moved.first_seq = 1;
		assert_ne!(hash, moved.signing_hash(&genesis));
		assert_eq!(statement.last_seq(), Some(1));
		assert!(statement.covers(1) && !statement.covers(2));
	}

	#[test]
	fn last_seq_refuses_empty_and_overflowing_ranges() {
		let mut statement = AnchorStatement::<ConstU32<4>> {
			device: [7; 32],
			first_seq: u64::MAX,
			count: 1,
			root: H256::zero(),
			time: TimeRange::default(),
			values: BoundedVec::new(),
		};
		assert_eq!(statement.last_seq(), Some(u64::MAX));
		statement.count = 2;
		assert_eq!(statement.last_seq(), None);
		statement.count = 0;
		statement.first_seq = 0;
		assert_eq!(statement.last_seq(), None);
		assert!(!statement.covers(0));
	}
}
