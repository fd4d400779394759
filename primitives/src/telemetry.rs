//! The bytes of telemetry: readings, their leaves, Merkle batches, anchors and what a device
//! signs. This is format version [`FORMAT_VERSION`]; another implementation can follow it from
//! this page alone. A tag is 16 ASCII bytes hashed in front of what it names, so no hash of one
//! kind can be taken for a hash of another.
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
//! Its **leaf** is `blake2_256(LEAF_TAG ‖ SCALE(reading))`, fields in the order above, with
//! [`LEAF_TAG`] = `b"provena:leaf:v2:"` ([`Reading::leaf`]). Values are fixed-point: `4.25 °C`
//! is the integer `4250`.
//!
//! # Batches
//!
//! An anchor commits `count` consecutive readings starting at `first_seq` by one `root`:
//!
//! - `count == 1`: the root is the reading's leaf;
//! - else the leaves, in sequence order, are level 0 of a binary tree. Each level pairs its nodes
//!   left to right, and each pair `(l, r)` gives the node `blake2_256(NODE_TAG ‖ l ‖ r)` of the
//!   next level, with [`NODE_TAG`] = `b"provena:node:v2:"`. When a level has an odd number of
//!   nodes its last node moves up unchanged. The root is the only node of the last level
//!   ([`batch_root`]; polkadot-sdk's `binary-merkle-tree` builds it, with [`NodeHasher`]).
//!
//! A reading's **Merkle path** lists, from level 0 up, the sibling of its node at each level
//! where the node has one (levels where it moves up unchanged add nothing). Its length is
//! therefore fixed by `count` and the reading's position `seq - first_seq`
//! ([`batch_path_len`]), and [`verify_batch_proof`] refuses a path of any other length: a
//! shorter or longer path, or a path taken at another position, never verifies.
//!
//! # Anchors and what a device signs
//!
//! The device signs the blake2-256 hash of
//!
//! ```text
//! ANCHOR_SIGNING_TAG ‖ genesis_hash ‖ SCALE(device: [u8; 32], first_seq: u64, count: u32,
//!     root: [u8; 32], time: (first_ms: u64, last_ms: u64), payload_hash: Option<[u8; 32]>,
//!     values: Vec<PublicValue>)
//! ```
//!
//! with [`ANCHOR_SIGNING_TAG`] = `b"provena:anchor:2"` ([`AnchorStatement::signing_hash`]). So a
//! signature is valid on one chain only, and a gateway relaying it can change none of the
//! readings, their times, the values it makes public, nor the encrypted payload that travels
//! with it: `payload_hash` is `blake2_256(payload)`, or `None` when none travels, and the chain
//! refuses an anchor whose payload does not match it.
//!
//! # The hash chain
//!
//! The chain keeps, per device, a running hash over all its anchors: it starts at zero and each
//! anchor replaces it with [`chain_link`]`(previous, device, first_seq, count, root)`, the
//! blake2-256 of `SCALE(CHAIN_TAG, previous, device, first_seq, count, root)`.
//!
//! The anchors themselves form the device's append-only log: see [`crate::device_log`].

use crate::DeviceId;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{ConstU32, Get, H256};
use sp_runtime::{BoundedVec, MultiSignature};

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

/// The version of the formats on this page: readings' leaves, batch trees, signed statements.
pub const FORMAT_VERSION: u8 = 2;

/// What a device signs in front of an anchor, so the signature cannot mean anything else.
pub const ANCHOR_SIGNING_TAG: [u8; 16] = *b"provena:anchor:2";

/// What a reading's leaf hashes in front of the reading.
pub const LEAF_TAG: [u8; 16] = *b"provena:leaf:v2:";

/// What an inner node of a batch tree hashes in front of its two children.
pub const NODE_TAG: [u8; 16] = *b"provena:node:v2:";

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
	/// The reading's leaf: blake2-256 of [`LEAF_TAG`] and its SCALE encoding.
	pub fn leaf(&self) -> H256 {
		tagged_hash(&LEAF_TAG, &self.encode())
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
	/// blake2-256 of the encrypted payload that travels with the anchor, `None` when none does.
	pub payload_hash: Option<H256>,
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
			payload_hash: self.payload_hash,
			values: self.values.clone(),
		}
	}
}

impl<M: Get<u32>> PartialEq for AnchorStatement<M> {
	fn eq(&self, other: &Self) -> bool {
		(self.device, self.first_seq, self.count, self.root, self.time, self.payload_hash)
			== (
				other.device,
				other.first_seq,
				other.count,
				other.root,
				other.time,
				other.payload_hash,
			) && self.values == other.values
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
			.field("payload_hash", &self.payload_hash)
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

/// blake2-256 of `tag ‖ bytes`.
pub fn tagged_hash(tag: &[u8; 16], bytes: &[u8]) -> H256 {
	let mut input = Vec::with_capacity(bytes.len().saturating_add(tag.len()));
	input.extend_from_slice(tag);
	input.extend_from_slice(bytes);
	H256(sp_crypto_hashing::blake2_256(&input))
}

/// The hasher of a batch tree's inner nodes, as `binary-merkle-tree` calls it: blake2-256 with
/// [`NODE_TAG`] in front of the two children.
pub struct NodeHasher;

impl sp_core::Hasher for NodeHasher {
	type Out = H256;
	type StdHasher = hash256_std_hasher::Hash256StdHasher;
	const LENGTH: usize = 32;

	fn hash(x: &[u8]) -> H256 {
		tagged_hash(&NODE_TAG, x)
	}
}

/// The root committing `leaves`, in sequence order: the only leaf itself, or the root of their
/// batch tree. Zero for no leaves.
pub fn batch_root(leaves: &[H256]) -> H256 {
	binary_merkle_tree::merkle_root_raw::<NodeHasher, _>(leaves.iter().copied())
}

/// The Merkle path of the leaf at `index` among `leaves`: its siblings from level 0 up. Empty for
/// a single leaf. `None` if `index` is out of range.
pub fn batch_proof(leaves: &[H256], index: u32) -> Option<Vec<H256>> {
	if index as usize >= leaves.len() {
		return None;
	}
	Some(binary_merkle_tree::merkle_proof_raw::<NodeHasher, _>(leaves.iter().copied(), index).proof)
}

/// How the node at `index` of a level of `width` nodes goes up one level: `None` when it is the
/// odd last node and moves up unchanged, else whether its sibling is on its left.
fn sibling_is_left(index: u32, width: u32) -> Option<bool> {
	let is_odd_last = width % 2 == 1 && index.saturating_add(1) == width;
	(!is_odd_last).then_some(index % 2 == 1)
}

/// How many hashes the Merkle path of the leaf at `index` among `count` has; `None` when `index`
/// is not below `count`.
pub fn batch_path_len(count: u32, index: u32) -> Option<usize> {
	if index >= count {
		return None;
	}
	let (mut index, mut width, mut len) = (index, count, 0usize);
	while width > 1 {
		if sibling_is_left(index, width).is_some() {
			len = len.saturating_add(1);
		}
		index /= 2;
		width = width.div_ceil(2);
	}
	Some(len)
}

/// Whether `leaf` is the leaf at `index` among `count` under `root`, through the Merkle `path`.
///
/// The path must have exactly [`batch_path_len`]`(count, index)` hashes, and each is placed on
/// the side the tree puts it at that level, so a leaf verifies at its own position only.
pub fn verify_batch_proof(root: &H256, count: u32, index: u32, leaf: H256, path: &[H256]) -> bool {
	if batch_path_len(count, index) != Some(path.len()) {
		return false;
	}
	let (mut index, mut width, mut node) = (index, count, leaf);
	let mut siblings = path.iter();
	while width > 1 {
		if let Some(left) = sibling_is_left(index, width) {
			// The length check above guarantees a sibling for every such level.
			let Some(sibling) = siblings.next() else { return false };
			let (l, r) = if left { (sibling, &node) } else { (&node, sibling) };
			node = tagged_hash(&NODE_TAG, &[l.as_bytes(), r.as_bytes()].concat());
		}
		index /= 2;
		width = width.div_ceil(2);
	}
	&node == root
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
		let tagged = [b"provena:leaf:v2:".as_slice(), &bytes].concat();
		assert_eq!(r.leaf(), H256(sp_crypto_hashing::blake2_256(&tagged)));
	}

	#[test]
	fn inner_nodes_hash_the_documented_bytes() {
		let all = leaves(3);
		let pair = [b"provena:node:v2:".as_slice(), all[0].as_bytes(), all[1].as_bytes()].concat();
		let first = H256(sp_crypto_hashing::blake2_256(&pair));
		// The odd third leaf moves up unchanged, then pairs with the first node.
		let top = [b"provena:node:v2:".as_slice(), first.as_bytes(), all[2].as_bytes()].concat();
		assert_eq!(batch_root(&all), H256(sp_crypto_hashing::blake2_256(&top)));
		assert_eq!(batch_proof(&all, 2), Some(alloc::vec![first]));
		assert_eq!(batch_path_len(3, 2), Some(1));
		assert_eq!(batch_path_len(3, 1), Some(2));
		assert_eq!(batch_path_len(3, 3), None);
	}

	#[test]
	fn the_old_wrong_position_defect_is_gone() {
		// Version 1 let reading first+2 of a 3-batch, with its one-hash path, verify as first+1.
		let all = leaves(3);
		let root = batch_root(&all);
		let path = batch_proof(&all, 2).unwrap();
		assert!(verify_batch_proof(&root, 3, 2, all[2], &path));
		assert!(!verify_batch_proof(&root, 3, 1, all[2], &path));
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
			payload_hash: None,
			values: BoundedVec::new(),
		};
		let genesis = H256::repeat_byte(1);
		let hash = statement.signing_hash(&genesis);
		assert_ne!(hash, statement.signing_hash(&H256::repeat_byte(2)));
		let mut moved = statement.clone();
		moved.first_seq = 1;
		assert_ne!(hash, moved.signing_hash(&genesis));
		let mut with_payload = statement.clone();
		with_payload.payload_hash = Some(H256::repeat_byte(9));
		assert_ne!(hash, with_payload.signing_hash(&genesis));
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
			payload_hash: None,
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

	mod property {
		use super::*;
		use proptest::prelude::*;

		/// Distinct leaves for a batch of `count`: cheap stand-ins for reading leaves.
		fn batch(count: u32) -> Vec<H256> {
			(0..count).map(|i| tagged_hash(&LEAF_TAG, &i.to_le_bytes())).collect()
		}

		/// Every hashed inner node of the tree over `leaves`, level by level. An odd last node
		/// moves up unchanged and is not listed again: for an odd count that would list the
		/// last leaf itself, which rightly verifies with its own path.
		fn inner_nodes(leaves: &[H256]) -> Vec<H256> {
			let (mut level, mut nodes) = (leaves.to_vec(), Vec::new());
			while level.len() > 1 {
				level = level
					.chunks(2)
					.map(|pair| match pair {
						[l, r] => {
							let node =
								tagged_hash(&NODE_TAG, &[l.as_bytes(), r.as_bytes()].concat());
							nodes.push(node);
							node
						},
						[odd] => *odd,
						_ => unreachable!(),
					})
					.collect();
			}
			nodes
		}

		/// Every small batch, exhaustively: no inner node verifies as a leaf at any position,
		/// with that position's path or any suffix of it. The property test below samples big
		/// batches, where odd counts of three or five leaves are rarely drawn.
		#[test]
		fn no_inner_node_of_a_small_batch_verifies_as_a_leaf() {
			for count in 1u32..=40 {
				let leaves = batch(count);
				let root = batch_root(&leaves);
				for node in inner_nodes(&leaves) {
					for at in 0..count {
						let path = batch_proof(&leaves, at).unwrap();
						for cut in 0..=path.len() {
							assert!(
								!verify_batch_proof(&root, count, at, node, &path[cut..]),
								"an inner node verified at {at} of {count} with {cut} hashes cut"
							);
						}
					}
				}
			}
		}

		proptest! {
			#![proptest_config(ProptestConfig::with_cases(256))]

			/// A leaf verifies at its own position and nowhere else; no inner node verifies as
			/// a leaf; a truncated or padded path fails.
			#[test]
			fn a_leaf_verifies_at_its_position_only(count in 1u32..=4096, pick in any::<u32>(), other in any::<u32>()) {
				let leaves = batch(count);
				let root = batch_root(&leaves);
				let index = pick % count;
				let leaf = leaves[index as usize];
				let path = batch_proof(&leaves, index).unwrap();
				prop_assert_eq!(Some(path.len()), batch_path_len(count, index));
				prop_assert!(verify_batch_proof(&root, count, index, leaf, &path));
				// At every other position (all of them for small batches, a sample otherwise).
				let others: Vec<u32> = if count <= 64 {
					(0..count).filter(|&i| i != index).collect()
				} else {
					(0..64u32).map(|k| other.wrapping_add(k.wrapping_mul(2_654_435_761)) % count)
						.filter(|&i| i != index).collect()
				};
				for at in others {
					prop_assert!(!verify_batch_proof(&root, count, at, leaf, &path));
					let their = batch_proof(&leaves, at).unwrap();
					prop_assert!(!verify_batch_proof(&root, count, at, leaf, &their));
				}
				// Truncated and padded paths.
				if let Some((_, shorter)) = path.split_last() {
					prop_assert!(!verify_batch_proof(&root, count, index, leaf, shorter));
				}
				let mut longer = path.clone();
				longer.push(root);
				prop_assert!(!verify_batch_proof(&root, count, index, leaf, &longer));
				// No inner node verifies as a leaf, at any position, with any path of the
				// tree's own nodes' shape.
				for (k, node) in inner_nodes(&leaves).into_iter().enumerate().take(64) {
					let at = (k as u32).wrapping_add(other) % count;
					let their = batch_proof(&leaves, at).unwrap();
					prop_assert!(!verify_batch_proof(&root, count, at, node, &their));
					for cut in 0..their.len() {
						prop_assert!(!verify_batch_proof(&root, count, at, node, &their[cut..]));
					}
				}
			}
		}
	}
}
