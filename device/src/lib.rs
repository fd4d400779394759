//! What a device's firmware links to take part in Provena: the leaves of its readings, Merkle
//! batches of them, and the anchor statements it signs, byte for byte as the chain checks them
//! (format version 2, documented in `provena_primitives::telemetry`).
//!
//! The crate is `no_std` and needs no allocator: every hash is taken while the bytes are
//! produced, and batch trees are built in a buffer the caller owns. It builds for bare-metal
//! targets such as `thumbv7em-none-eabihf` (Cortex-M4F and M7), and a device that signs with it
//! needs to hand nothing secret to the gateway that relays its anchors: the gateway can change
//! none of the readings, their times, the values made public, or the payload.
//!
//! A device, for each batch of consecutive readings:
//!
//! 1. takes each reading's [`Reading::leaf`];
//! 2. takes the batch's [`batch_root`] (a single reading's root is its leaf);
//! 3. fills a [`Statement`] and signs its [`Statement::signing_hash`] for the chain's genesis
//!    hash with its key ([`Ed25519Key`] or, with the `sr25519` feature, [`Sr25519Key`]);
//! 4. sends the readings, the statement and the [`Signature`] to its gateway.
//!
//! ```
//! use provena_device::{batch_root, Ed25519Key, Measurement, Reading, Statement};
//!
//! let key = Ed25519Key::from_seed(&[7; 32]);
//! let device = [1; 32];
//! let values = [Measurement { metric: b"temp_c", value: 4_250 }];
//! let readings = [0u64, 1, 2].map(|i| Reading {
//!     device,
//!     seq: 10 + i,
//!     timestamp_ms: 1_795_219_200_000 + 60_000 * i,
//!     values: &values,
//!     payload_hash: None,
//! });
//! let mut leaves = [[0u8; 32]; 3];
//! for (leaf, reading) in leaves.iter_mut().zip(&readings) {
//!     *leaf = reading.leaf().unwrap();
//! }
//! let root = batch_root(&mut leaves).unwrap(); // the buffer now holds the tree's top levels
//! let statement = Statement {
//!     device,
//!     first_seq: 10,
//!     count: 3,
//!     root,
//!     first_ms: readings[0].timestamp_ms,
//!     last_ms: readings[2].timestamp_ms,
//!     payload_hash: None,
//!     values: &[],
//! };
//! let genesis = [0x45; 32];
//! let signature = key.sign(&statement.signing_hash(&genesis).unwrap());
//! assert_eq!(signature.scale_bytes()[0], 0); // MultiSignature::Ed25519
//! ```

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(clippy::indexing_slicing, clippy::unwrap_used)]

/// A 32-byte blake2-256 hash: a leaf, an inner node, a root or a signing hash.
pub type Hash = [u8; 32];

/// A device's identity, chosen by its owner when registering it.
pub type DeviceId = [u8; 32];

/// The most bytes a metric name may have.
pub const MAX_METRIC_NAME_LEN: usize = 32;

/// The most values one anchor may make public.
pub const MAX_PUBLIC_VALUES: usize = 16;

/// The most levels above the leaves a batch tree of at most `u32::MAX` readings has, and so the
/// longest Merkle path.
pub const MAX_PATH_LEN: usize = 32;

/// What a reading's leaf hashes in front of the reading.
pub const LEAF_TAG: [u8; 16] = *b"provena:leaf:v2:";

/// What an inner node of a batch tree hashes in front of its two children.
pub const NODE_TAG: [u8; 16] = *b"provena:node:v2:";

/// What a device signs in front of an anchor statement.
pub const ANCHOR_SIGNING_TAG: [u8; 16] = *b"provena:anchor:2";

/// Why something could not be hashed or built. The chain refuses the same things; the device
/// learns it before it signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
	/// A metric name is longer than [`MAX_METRIC_NAME_LEN`] bytes.
	MetricNameTooLong,
	/// A statement makes more than [`MAX_PUBLIC_VALUES`] values public.
	TooManyPublicValues,
	/// A public value's sequence number is outside the statement's readings.
	PublicValueOutsideBatch,
	/// A batch, or a statement, of no readings.
	EmptyBatch,
	/// More readings than a statement's `count` (a `u32`) can say, or a range of sequence
	/// numbers that would pass `u64::MAX`.
	BatchTooLarge,
	/// A leaf index at or past the number of leaves.
	IndexOutOfRange,
	/// A scratch buffer shorter than the leaves.
	BufferTooSmall,
}

impl core::fmt::Display for Error {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		f.write_str(match self {
			Error::MetricNameTooLong => "a metric name is longer than 32 bytes",
			Error::TooManyPublicValues => "more than 16 public values",
			Error::PublicValueOutsideBatch => "a public value's reading is not in the batch",
			Error::EmptyBatch => "a batch of no readings",
			Error::BatchTooLarge => "more readings than one anchor can commit",
			Error::IndexOutOfRange => "no leaf at that index",
			Error::BufferTooSmall => "the scratch buffer is shorter than the leaves",
		})
	}
}

/// One measured value: a metric and its value in thousandths (`4.25 °C` is `4250`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measurement<'a> {
	/// The metric's name, at most [`MAX_METRIC_NAME_LEN`] bytes (UTF-8 by convention).
	pub metric: &'a [u8],
	/// The value in thousandths.
	pub value: i64,
}

/// A reading as the device took it. Only its leaf reaches the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading<'a> {
	/// The device that took it.
	pub device: DeviceId,
	/// Its sequence number: the device's readings are numbered consecutively.
	pub seq: u64,
	/// The device's clock when it was taken, milliseconds since the Unix epoch.
	pub timestamp_ms: u64,
	/// What was measured.
	pub values: &'a [Measurement<'a>],
	/// blake2-256 of a payload that travels with the reading, if any.
	pub payload_hash: Option<Hash>,
}

impl Reading<'_> {
	/// The reading's leaf: blake2-256 of [`LEAF_TAG`] and the reading's SCALE encoding (device,
	/// seq, timestamp, the values as a vector of (name, value), the optional payload hash).
	pub fn leaf(&self) -> Result<Hash, Error> {
		let mut hash = Scale::new(&LEAF_TAG);
		hash.bytes(&self.device);
		hash.u64(self.seq);
		hash.u64(self.timestamp_ms);
		hash.len(self.values.len())?;
		for measurement in self.values {
			hash.name(measurement.metric)?;
			hash.i64(measurement.value);
		}
		hash.option(self.payload_hash.as_ref());
		Ok(hash.finish())
	}
}

/// A value a statement makes public so the chain can check it against the owner's alert rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicValue<'a> {
	/// The sequence number of the reading it is taken from.
	pub seq: u64,
	/// The metric, at most [`MAX_METRIC_NAME_LEN`] bytes.
	pub metric: &'a [u8],
	/// The value in thousandths.
	pub value: i64,
}

/// What a device signs for an anchor: `count` consecutive readings from `first_seq`, committed
/// by `root`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Statement<'a> {
	/// The device.
	pub device: DeviceId,
	/// The first reading's sequence number.
	pub first_seq: u64,
	/// How many readings; at least one.
	pub count: u32,
	/// The only reading's leaf, or the [`batch_root`] of all their leaves.
	pub root: Hash,
	/// The first reading's device time, milliseconds since the Unix epoch.
	pub first_ms: u64,
	/// The last reading's device time.
	pub last_ms: u64,
	/// blake2-256 of the (encrypted) payload that travels with the anchor, if any.
	pub payload_hash: Option<Hash>,
	/// The values made public, each from a reading of this statement.
	pub values: &'a [PublicValue<'a>],
}

impl Statement<'_> {
	/// The 32 bytes the device signs for this statement on the chain whose genesis hash is
	/// `genesis`: blake2-256 of [`ANCHOR_SIGNING_TAG`], the genesis hash and the statement's
	/// SCALE encoding. Refuses what the chain would refuse for its shape.
	pub fn signing_hash(&self, genesis: &Hash) -> Result<Hash, Error> {
		if self.count == 0 {
			return Err(Error::EmptyBatch);
		}
		let last = self
			.first_seq
			.checked_add(u64::from(self.count).saturating_sub(1))
			.ok_or(Error::BatchTooLarge)?;
		if self.values.len() > MAX_PUBLIC_VALUES {
			return Err(Error::TooManyPublicValues);
		}
		if self.values.iter().any(|value| !(self.first_seq..=last).contains(&value.seq)) {
			return Err(Error::PublicValueOutsideBatch);
		}
		let mut hash = Scale::new(&ANCHOR_SIGNING_TAG);
		hash.bytes(genesis);
		hash.bytes(&self.device);
		hash.u64(self.first_seq);
		hash.bytes(&self.count.to_le_bytes());
		hash.bytes(&self.root);
		hash.u64(self.first_ms);
		hash.u64(self.last_ms);
		hash.option(self.payload_hash.as_ref());
		hash.len(self.values.len())?;
		for value in self.values {
			hash.u64(value.seq);
			hash.name(value.metric)?;
			hash.i64(value.value);
		}
		Ok(hash.finish())
	}
}

/// The inner node over `left` and `right`: blake2-256 of [`NODE_TAG`] and the two.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
	let mut hash = Scale::new(&NODE_TAG);
	hash.bytes(left);
	hash.bytes(right);
	hash.finish()
}

/// The root of a batch whose leaves, in sequence order, are in `nodes`: the only leaf, or the
/// top of the batch tree. Each level pairs its nodes left to right; an odd last node moves up
/// unchanged.
///
/// The tree is built in place: afterwards `nodes` holds intermediate levels, not the leaves.
/// Copy the leaves first if you need them again (for [`batch_path`], say).
pub fn batch_root(nodes: &mut [Hash]) -> Result<Hash, Error> {
	if nodes.is_empty() {
		return Err(Error::EmptyBatch);
	}
	if u32::try_from(nodes.len()).is_err() {
		return Err(Error::BatchTooLarge);
	}
	let mut width = nodes.len();
	while width > 1 {
		next_level(nodes, width);
		width = width.div_ceil(2);
	}
	Ok(nodes.first().copied().unwrap_or_default())
}

/// The Merkle path of the leaf at `index` among `leaves`: its sibling at each level where it
/// has one, from the leaves up, written to the front of `path`; returns how many. `scratch`
/// must hold at least as many hashes as `leaves` (the tree is built there; `leaves` is left as
/// it was).
///
/// A gateway or verifier can compute paths from the readings; a device need not.
pub fn batch_path(
	leaves: &[Hash],
	index: usize,
	scratch: &mut [Hash],
	path: &mut [Hash; MAX_PATH_LEN],
) -> Result<usize, Error> {
	if index >= leaves.len() {
		return Err(Error::IndexOutOfRange);
	}
	if u32::try_from(leaves.len()).is_err() {
		return Err(Error::BatchTooLarge);
	}
	let nodes = scratch.get_mut(..leaves.len()).ok_or(Error::BufferTooSmall)?;
	nodes.copy_from_slice(leaves);
	let (mut index, mut width, mut len) = (index, leaves.len(), 0usize);
	while width > 1 {
		// An even index has its sibling on the right unless it is a level's odd last node; an
		// odd index always has one on the left.
		let sibling =
			if index % 2 == 1 { Some(index - 1) } else { Some(index + 1).filter(|s| *s < width) };
		if let Some(sibling) = sibling {
			let (Some(slot), Some(node)) = (path.get_mut(len), nodes.get(sibling)) else {
				return Err(Error::BatchTooLarge);
			};
			*slot = *node;
			len += 1;
		}
		next_level(nodes, width);
		index /= 2;
		width = width.div_ceil(2);
	}
	Ok(len)
}

/// Replaces the first `width.div_ceil(2)` hashes of `nodes` by the level above the first
/// `width`. Writing slot `i` only ever overwrites a node already read (`i <= 2i`).
fn next_level(nodes: &mut [Hash], width: usize) {
	let pairs = width / 2;
	for i in 0..pairs {
		let (Some(left), Some(right)) = (nodes.get(2 * i), nodes.get(2 * i + 1)) else { return };
		let parent = node_hash(left, right);
		if let Some(slot) = nodes.get_mut(i) {
			*slot = parent;
		}
	}
	if width % 2 == 1 {
		if let Some(last) = nodes.get(width - 1).copied() {
			if let Some(slot) = nodes.get_mut(pairs) {
				*slot = last;
			}
		}
	}
}

/// A device's signature of a signing hash, in the scheme of its registered key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signature {
	/// An sr25519 signature.
	Sr25519([u8; 64]),
	/// An ed25519 signature.
	Ed25519([u8; 64]),
}

impl Signature {
	/// The signature as the chain's `MultiSignature` encodes it: the scheme's index (ed25519 0,
	/// sr25519 1) and the 64 signature bytes.
	pub fn scale_bytes(&self) -> [u8; 65] {
		let (index, bytes) = match self {
			Signature::Ed25519(bytes) => (0, bytes),
			Signature::Sr25519(bytes) => (1, bytes),
		};
		let mut out = [0u8; 65];
		if let Some((first, rest)) = out.split_first_mut() {
			*first = index;
			rest.copy_from_slice(bytes);
		}
		out
	}
}

/// An ed25519 device key. Signatures are deterministic: no randomness is needed.
#[cfg(feature = "ed25519")]
pub struct Ed25519Key(ed25519_dalek::SigningKey);

#[cfg(feature = "ed25519")]
impl Ed25519Key {
	/// The key whose 32-byte secret seed is `seed` (RFC 8032; the same seed gives Substrate's
	/// ed25519 key).
	pub fn from_seed(seed: &[u8; 32]) -> Self {
		Ed25519Key(ed25519_dalek::SigningKey::from_bytes(seed))
	}

	/// The public key: what the device is registered with.
	pub fn public(&self) -> [u8; 32] {
		self.0.verifying_key().to_bytes()
	}

	/// Signs a signing hash ([`Statement::signing_hash`]).
	pub fn sign(&self, hash: &Hash) -> Signature {
		use ed25519_dalek::Signer;
		Signature::Ed25519(self.0.sign(hash).to_bytes())
	}
}

/// An sr25519 device key, as Substrate derives it from a 32-byte mini secret (the "Ed25519"
/// expansion mode), signing in Substrate's context `b"substrate"`.
#[cfg(feature = "sr25519")]
pub struct Sr25519Key(schnorrkel::Keypair);

#[cfg(feature = "sr25519")]
impl Sr25519Key {
	/// The key whose 32-byte mini secret is `seed`.
	pub fn from_seed(seed: &[u8; 32]) -> Self {
		let mini = match schnorrkel::MiniSecretKey::from_bytes(seed) {
			Ok(mini) => mini,
			// It refuses only a slice of another length than 32.
			Err(_) => unreachable!("any 32 bytes are a mini secret key"),
		};
		Sr25519Key(mini.expand_to_keypair(schnorrkel::ExpansionMode::Ed25519))
	}

	/// The public key: what the device is registered with.
	pub fn public(&self) -> [u8; 32] {
		self.0.public.to_bytes()
	}

	/// Signs a signing hash. `rng` is the device's random number generator: schnorrkel mixes
	/// its output into a nonce already derived from the key and the message, so a weak one
	/// does not leak the key, but give it the hardware's.
	pub fn sign(
		&self,
		hash: &Hash,
		rng: impl rand_core::RngCore + rand_core::CryptoRng,
	) -> Signature {
		let transcript = schnorrkel::signing_context(b"substrate").bytes(hash);
		let signature = self.0.sign(schnorrkel::context::attach_rng(transcript, rng));
		Signature::Sr25519(signature.to_bytes())
	}
}

/// A blake2-256 hash fed with SCALE encodings as they are produced.
struct Scale(blake2b_simd::State);

impl Scale {
	fn new(tag: &[u8; 16]) -> Self {
		let mut state = blake2b_simd::Params::new().hash_length(32).to_state();
		state.update(tag);
		Scale(state)
	}

	fn bytes(&mut self, bytes: &[u8]) {
		self.0.update(bytes);
	}

	fn u64(&mut self, value: u64) {
		self.0.update(&value.to_le_bytes());
	}

	fn i64(&mut self, value: i64) {
		self.0.update(&value.to_le_bytes());
	}

	/// A vector's length, SCALE's compact integer.
	fn len(&mut self, len: usize) -> Result<(), Error> {
		let len = u32::try_from(len).map_err(|_| Error::BatchTooLarge)?;
		match len {
			0..=0x3f => {
				self.0.update(&[(len as u8) << 2]);
			},
			0x40..=0x3fff => {
				self.0.update(&(((len as u16) << 2) | 0b01).to_le_bytes());
			},
			0x4000..=0x3fff_ffff => {
				self.0.update(&((len << 2) | 0b10).to_le_bytes());
			},
			// Big mode: the count of bytes that follow, less four, then the four bytes.
			_ => {
				self.0.update(&[0b11]);
				self.0.update(&len.to_le_bytes());
			},
		}
		Ok(())
	}

	/// A metric name: a vector of at most [`MAX_METRIC_NAME_LEN`] bytes.
	fn name(&mut self, name: &[u8]) -> Result<(), Error> {
		if name.len() > MAX_METRIC_NAME_LEN {
			return Err(Error::MetricNameTooLong);
		}
		self.len(name.len())?;
		self.0.update(name);
		Ok(())
	}

	fn option(&mut self, hash: Option<&Hash>) {
		match hash {
			None => {
				self.0.update(&[0]);
			},
			Some(hash) => {
				self.0.update(&[1]);
				self.0.update(hash);
			},
		}
	}

	fn finish(self) -> Hash {
		let mut out = [0u8; 32];
		out.copy_from_slice(self.0.finalize().as_bytes());
		out
	}
}
