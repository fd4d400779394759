//! # Provena primitives
//!
//! The types and traits the Provena runtime, its pallets and the `provena` client share. They are
//! `no_std` and SCALE-encoded, so whatever the client signs or hashes is byte for byte what the
//! runtime checks.
//!
//! - [`DeviceId`]: the stable 32-byte identity an owner gives a device (a hash of its serial,
//!   for example).
//! - [`DeviceKey`]: the public key a device signs its readings with, and [`possession_hash`]:
//!   what it signs to prove that the one registering it holds it.
//! - [`DeviceStatus`]: where a device is in its life: active, suspended or decommissioned.
//! - [`InspectDevice`]: how one pallet asks the device registry about a device without
//!   depending on it.
//! - [`DevicePermissions`]: how a pallet asks access control what an account may do with a
//!   device.
//! - [`permission`]: the bits of an access-control grant.
//! - [`telemetry`]: readings, leaves, Merkle batches, anchors and the bytes a device signs.
//! - [`device_log`]: each device's append-only log of anchor records, its MMR commitment and
//!   inclusion proofs.

#![cfg_attr(not(feature = "std"), no_std)]
// Code that runs in a block must never panic (STYLE.md 12): outside tests, clippy refuses
// unwrap, unchecked indexing and overflowing arithmetic; scripts/check-panics.py refuses expect.
#![cfg_attr(
	not(test),
	deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

extern crate alloc;

pub mod device_log;
pub mod telemetry;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{ed25519, sr25519};
use sp_runtime::{traits::Verify, AccountId32, MultiSignature, MultiSigner, Weight};

/// A device's stable identity, chosen by its owner when registering it.
pub type DeviceId = [u8; 32];

/// The public key a device signs its readings with.
///
/// sr25519 is what Substrate tooling uses by default; ed25519 is what most embedded crypto
/// libraries and secure elements offer.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DeviceKey {
	/// A Schnorrkel/Ristretto (sr25519) public key.
	Sr25519(sr25519::Public),
	/// An Edwards (ed25519) public key.
	Ed25519(ed25519::Public),
}

impl DeviceKey {
	/// Whether `signature` is this key's signature of `message`. A signature of another scheme
	/// than the key's never verifies.
	pub fn verify(&self, message: &[u8], signature: &MultiSignature) -> bool {
		match (self, signature) {
			(DeviceKey::Sr25519(key), MultiSignature::Sr25519(sig)) => sig.verify(message, key),
			(DeviceKey::Ed25519(key), MultiSignature::Ed25519(sig)) => sig.verify(message, key),
			_ => false,
		}
	}

	/// The account that belongs to this key: a device may sign transactions with the same key
	/// it signs readings with.
	pub fn account(&self) -> AccountId32 {
		match self {
			DeviceKey::Sr25519(key) => AccountId32::new(key.0),
			DeviceKey::Ed25519(key) => AccountId32::new(key.0),
		}
	}
}

/// The domain tag of a proof of possession: what a device key signs so that an owner may
/// register it (or rotate a device to it). See [`possession_hash`].
pub const POSSESSION_TAG: [u8; 17] = *b"provena:possess:1";

/// The 32 bytes a device key signs to let `owner` register it as `device` on the chain with
/// `genesis_hash`, or rotate `device` of `owner` to it:
///
/// `blake2_256(POSSESSION_TAG ‖ genesis_hash ‖ device ‖ SCALE(owner))`
///
/// (for the runtime's accounts, `SCALE(owner)` is the account's 32 bytes). Without this, anyone
/// could register a key they do not hold and take its holder's device id. The tag keeps the
/// signature from being taken for an anchor statement's, and the genesis hash for another
/// chain's.
pub fn possession_hash<A: Encode>(
	genesis_hash: &sp_core::H256,
	device: &DeviceId,
	owner: &A,
) -> [u8; 32] {
	let mut bytes = alloc::vec::Vec::with_capacity(17 + 32 + 32 + 32);
	bytes.extend_from_slice(&POSSESSION_TAG);
	bytes.extend_from_slice(genesis_hash.as_bytes());
	bytes.extend_from_slice(device);
	owner.encode_to(&mut bytes);
	sp_crypto_hashing::blake2_256(&bytes)
}

impl From<DeviceKey> for MultiSigner {
	fn from(key: DeviceKey) -> MultiSigner {
		match key {
			DeviceKey::Sr25519(key) => MultiSigner::Sr25519(key),
			DeviceKey::Ed25519(key) => MultiSigner::Ed25519(key),
		}
	}
}

/// Where a device is in its life.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DeviceStatus {
	/// In service: its readings may be anchored.
	Active,
	/// Taken out of service for now (lost, under maintenance, suspected compromised); its
	/// owner may resume it.
	Suspended,
	/// Retired for good. The record stays so its past readings remain attributable, and its id
	/// can never be registered again.
	Decommissioned,
}

/// What other pallets may know about a device.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DeviceInfo<AccountId> {
	/// The account that owns the device.
	pub owner: AccountId,
	/// The key the device signs readings with now.
	pub key: DeviceKey,
	/// Where the device is in its life.
	pub status: DeviceStatus,
	/// Its ownership epoch: how many times it has changed owner. A grant or group membership
	/// counts only in the epoch it was given in.
	pub epoch: u32,
}

impl<AccountId> DeviceInfo<AccountId> {
	/// Whether the device is in service.
	pub fn is_active(&self) -> bool {
		self.status == DeviceStatus::Active
	}
}

/// Looks a device up; implemented by the device registry, asked by telemetry and access control.
pub trait InspectDevice<AccountId> {
	/// The device's owner, key, status and ownership epoch, or `None` for an id never
	/// registered.
	fn device(id: &DeviceId) -> Option<DeviceInfo<AccountId>>;
}

/// What an account may do with a device through grants, beyond what its owner may; implemented
/// by access control, asked by telemetry and the registry. Ownership itself is not a grant: the
/// asking pallet checks the owner on its own.
pub trait DevicePermissions<AccountId> {
	/// How `who` holds a live SUBMIT grant for `device`, whose record the caller has read as
	/// `info`; `None` when it holds none.
	fn submit_path(
		who: &AccountId,
		device: &DeviceId,
		info: &DeviceInfo<AccountId>,
	) -> Option<GrantPath>;
	/// Whether `who` holds a live MANAGE grant for `device` (directly or through a group).
	fn may_manage(who: &AccountId, device: &DeviceId) -> bool;
	/// The weight of [`Self::submit_path`] when it finds the grant by `path`; for `None`, of
	/// the longest search there is (what a check that found nothing may have walked). The
	/// device's own record is not part of it: the asking call has read it already.
	fn submit_path_weight(path: Option<GrantPath>) -> Weight;
}

/// Where access control found a SUBMIT grant: how far its search went, which is what the
/// search cost.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum GrantPath {
	/// On the device itself: one grant read.
	Direct,
	/// On the `n`-th group the device joined in its current ownership epoch (from 1): the
	/// device's grant, its groups, and `n` group grants read.
	Group(u32),
}

/// How many data-key epochs a device has under one owner. An owner's data keys form a
/// backward hash chain: the key of epoch `e` is the device's seed hashed
/// `DATA_KEY_EPOCHS - 1 - e` times, so a key derives every earlier epoch's key and no later
/// one. An epoch at or past this bound has no key: the client refuses to encrypt under it.
pub const DATA_KEY_EPOCHS: u32 = 1 << 16;

/// A 32-byte little-endian value: `first`, thirty `fill` bytes, then `last`.
const fn bytes(first: u8, fill: u8, last: u8) -> [u8; 32] {
	let mut value = [fill; 32];
	value[0] = first;
	value[31] = last;
	value
}

/// Every 255-bit encoding of an x25519 point of small order (p = 2²⁵⁵ − 19): 0, 1, the two
/// u-coordinates of order 8, p − 1, p and p + 1, little-endian.
pub const SMALL_ORDER_X25519: [[u8; 32]; 7] = [
	bytes(0, 0, 0),
	bytes(1, 0, 0),
	[
		0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
		0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
		0xb8, 0x00,
	],
	[
		0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
		0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
		0x11, 0x57,
	],
	bytes(0xec, 0xff, 0x7f),
	bytes(0xed, 0xff, 0x7f),
	bytes(0xee, 0xff, 0x7f),
];

/// Whether an x25519 public key is a point of small order (all-zero among them). A data key
/// sealed to such a key is sealed to a shared secret anyone can compute, so neither the chain
/// nor the client accepts one. X25519 ignores the top bit, so it is ignored here too.
pub fn is_weak_encryption_key(key: &[u8; 32]) -> bool {
	let mut u = *key;
	u[31] &= 0x7f;
	SMALL_ORDER_X25519.contains(&u)
}

/// The permission bits of an access-control grant: the pallet's `Permissions` holds them, and
/// the client builds and names them from here.
pub mod permission {
	/// Anchor readings for the device (a gateway's right).
	pub const SUBMIT: u8 = 0b0001;
	/// Read the device's data: the reader is given the device's data key, sealed to it.
	pub const READ: u8 = 0b0010;
	/// Manage the scope on the owner's behalf: alert rules, SUBMIT and READ grants.
	pub const MANAGE: u8 = 0b0100;
	/// With MANAGE, also grant and revoke MANAGE. Only the owner can give it.
	pub const DELEGATE: u8 = 0b1000;
	/// Every defined bit with its name, lowest first.
	pub const NAMED: [(u8, &str); 4] =
		[(SUBMIT, "SUBMIT"), (READ, "READ"), (MANAGE, "MANAGE"), (DELEGATE, "DELEGATE")];
}

/// No grants at all: only owners (and devices themselves) act.
impl<AccountId> DevicePermissions<AccountId> for () {
	fn submit_path(_: &AccountId, _: &DeviceId, _: &DeviceInfo<AccountId>) -> Option<GrantPath> {
		None
	}
	fn may_manage(_: &AccountId, _: &DeviceId) -> bool {
		false
	}
	fn submit_path_weight(_: Option<GrantPath>) -> Weight {
		Weight::zero()
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::Pair;

	#[test]
	fn a_key_verifies_its_own_signatures_only() {
		let device = sr25519::Pair::from_string("//Alice//device/1", None).unwrap();
		let other = sr25519::Pair::from_string("//Bob//device/1", None).unwrap();
		let key = DeviceKey::Sr25519(device.public());
		let message = b"reading";

		assert!(key.verify(message, &MultiSignature::Sr25519(device.sign(message))));
		assert!(!key.verify(b"altered", &MultiSignature::Sr25519(device.sign(message))));
		assert!(!key.verify(message, &MultiSignature::Sr25519(other.sign(message))));
	}

	#[test]
	fn a_signature_of_another_scheme_never_verifies() {
		let ed = ed25519::Pair::from_string("//Alice//device//2", None).unwrap();
		let key = DeviceKey::Ed25519(ed.public());
		let message = b"reading";
		assert!(key.verify(message, &MultiSignature::Ed25519(ed.sign(message))));

		// The same 32 bytes read as an sr25519 key do not verify an ed25519 signature.
		let as_sr = DeviceKey::Sr25519(sr25519::Public::from_raw(ed.public().0));
		assert!(!as_sr.verify(message, &MultiSignature::Ed25519(ed.sign(message))));
	}

	#[test]
	fn a_possession_proof_binds_chain_device_and_owner() {
		let genesis = sp_core::H256::repeat_byte(1);
		let alice = AccountId32::new([1; 32]);
		let hash = possession_hash(&genesis, &[7; 32], &alice);
		// The layout written in the docs, byte for byte.
		let mut bytes = b"provena:possess:1".to_vec();
		bytes.extend_from_slice(&[1; 32]);
		bytes.extend_from_slice(&[7; 32]);
		bytes.extend_from_slice(&[1; 32]);
		assert_eq!(hash, sp_crypto_hashing::blake2_256(&bytes));
		// Each input changes it.
		assert_ne!(hash, possession_hash(&sp_core::H256::repeat_byte(2), &[7; 32], &alice));
		assert_ne!(hash, possession_hash(&genesis, &[8; 32], &alice));
		assert_ne!(hash, possession_hash(&genesis, &[7; 32], &AccountId32::new([2; 32])));
	}

	#[test]
	fn a_device_account_is_its_public_key() {
		let pair = ed25519::Pair::from_string("//device", None).unwrap();
		let key = DeviceKey::Ed25519(pair.public());
		assert_eq!(key.account(), AccountId32::new(pair.public().0));
		assert_eq!(MultiSigner::from(key), MultiSigner::Ed25519(pair.public()));
	}
}
