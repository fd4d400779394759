//! What access control stores: scopes, permission sets, grants and groups.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use provena_primitives::DeviceId;
use scale_info::TypeInfo;
use sp_core::Get;

/// A group's number, given in order of creation.
pub type GroupId = u32;

/// What a grant applies to: one device, or every device of a group.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum Scope {
	/// One device.
	Device(DeviceId),
	/// The devices of a group, as its members change.
	Group(GroupId),
}

/// A set of permissions, as bit flags.
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
pub struct Permissions(pub u8);

impl Permissions {
	/// Anchor readings for the device (a gateway's right).
	pub const SUBMIT: u8 = provena_primitives::permission::SUBMIT;
	/// Read the device's data: the grant carries the data key, sealed to the grantee.
	pub const READ: u8 = provena_primitives::permission::READ;
	/// Manage the scope on the owner's behalf: set alert rules, grant and revoke SUBMIT and
	/// READ.
	pub const MANAGE: u8 = provena_primitives::permission::MANAGE;
	/// With MANAGE in the same grant, also grant and revoke MANAGE. Only the owner can give it,
	/// and never without MANAGE.
	pub const DELEGATE: u8 = provena_primitives::permission::DELEGATE;
	/// Every defined flag.
	pub const ALL: u8 = Self::SUBMIT | Self::READ | Self::MANAGE | Self::DELEGATE;

	/// No permission at all.
	pub const fn none() -> Self {
		Permissions(0)
	}

	/// Whether every flag in `flags` is set.
	pub const fn has(self, flags: u8) -> bool {
		self.0 & flags == flags
	}

	/// The union with `other`.
	pub const fn union(self, other: Permissions) -> Self {
		Permissions(self.0 | other.0)
	}

	/// Whether only defined flags are set, at least one, and DELEGATE only beside MANAGE (it
	/// means nothing on its own).
	pub const fn is_valid(self) -> bool {
		self.0 != 0
			&& self.0 & !Self::ALL == 0
			&& (self.0 & Self::DELEGATE == 0 || self.0 & Self::MANAGE != 0)
	}
}

/// A grant: what a grantee may do within a scope, and until when. A READ grantee's data keys
/// are kept apart, per device, in [`SealedKey`]s.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct Grant<AccountId, BlockNumber, Balance> {
	/// What the grantee may do.
	pub permissions: Permissions,
	/// The first block at which the grant no longer counts; `None` for no end.
	pub expires: Option<BlockNumber>,
	/// The scope's owner when it was granted: it counts only while they still own the scope.
	pub owner: AccountId,
	/// For a device scope, the device's ownership epoch when it was granted: it counts only in
	/// that epoch, so a transfer ends it for good, even if the device comes back. Zero for a
	/// group scope (groups never change owner).
	pub epoch: u32,
	/// Who granted it, and holds its deposit.
	pub granted_by: AccountId,
	/// The deposit held from `granted_by`.
	pub deposit: Balance,
}

/// An owner-defined set of devices: a ward, a shipment, a building.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, MaxEncodedLen, TypeInfo, DebugNoBound,
)]
#[scale_info(skip_type_params(MaxNameLen, MaxGroupSize))]
pub struct Group<AccountId, Balance, MaxNameLen, MaxGroupSize>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxNameLen: Get<u32>,
	MaxGroupSize: Get<u32>,
{
	/// Its owner, who alone changes its members; a member counts only while they own it.
	pub owner: AccountId,
	/// Its name, e.g. `ward 3` or `shipment 2026-118`.
	pub name: BoundedVec<u8, MaxNameLen>,
	/// Its devices.
	pub members: BoundedVec<DeviceId, MaxGroupSize>,
	/// The deposit held from the owner.
	pub deposit: Balance,
}

/// A device's membership of a group, in the device's ownership epoch it was added in: it counts
/// only in that epoch, so the old owner's groups stop covering a transferred device.
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
pub struct Membership {
	/// The group.
	pub group: GroupId,
	/// The device's ownership epoch when it joined.
	pub epoch: u32,
}

/// An account's published x25519 key, with the deposit held for storing it.
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
pub struct PublishedKey<Balance> {
	/// The x25519 public key owners seal data keys to.
	pub key: [u8; 32],
	/// The deposit held from the account, released when it withdraws the key.
	pub deposit: Balance,
}

/// One page of the grants that apply to a device, as the `grants` runtime API answers.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct GrantsPage<AccountId, Grant> {
	/// The grants found on this page, with their scopes and grantees.
	pub grants: Vec<(Scope, AccountId, Grant)>,
	/// Where the next page starts (pass it as `after`), or `None` if this page is the last.
	pub next: Option<(Scope, AccountId)>,
}

/// A device's data key of one epoch, sealed (an x25519 sealed box) to a reader's published
/// encryption key: what a call carries to give a reader the key.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxLen))]
pub struct EpochKey<MaxLen: Get<u32>> {
	/// The device's data-key epoch the sealed key belongs to. Within one owner's keys, the key
	/// of an epoch derives the keys of every earlier epoch and of no later one.
	pub epoch: u32,
	/// The sealed key.
	pub sealed: BoundedVec<u8, MaxLen>,
}

/// A reader's sealed data key for a device, as stored, with the deposit held for it.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, MaxEncodedLen, TypeInfo, DebugNoBound,
)]
#[scale_info(skip_type_params(MaxLen))]
pub struct SealedKey<AccountId, Balance, MaxLen>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxLen: Get<u32>,
{
	/// The epoch and the sealed key.
	pub key: EpochKey<MaxLen>,
	/// Who sealed it (the owner, or a manager), and holds its deposit.
	pub sealed_by: AccountId,
	/// The deposit held from `sealed_by`: `DepositPerByte` per sealed byte.
	pub deposit: Balance,
}

/// Where a device's data key stands: its current epoch, as last written. The epoch in force
/// at a block is one later than `epoch` once the device has changed owner since
/// (`owner_epoch` differs from the device's ownership epoch) or `ends` has been reached:
/// see [`crate::Pallet::key_epoch`].
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
pub struct KeyEpoch<BlockNumber> {
	/// The epoch.
	pub epoch: u32,
	/// The device's ownership epoch when `epoch` began.
	pub owner_epoch: u32,
	/// The first block at which a reader holding this epoch's key loses READ (the earliest
	/// end of the READ grants of the readers it was sealed to); `None` while none will.
	pub ends: Option<BlockNumber>,
}
