//! The records the registry stores, and the metadata a call carries.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use provena_primitives::{DeviceKey, DeviceStatus};
use scale_info::TypeInfo;
use sp_core::H256;

/// What a device is, as its owner describes it. Each text field holds at most
/// `MaxFieldLength` bytes (UTF-8 by convention; the chain stores bytes).
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(MaxLen))]
#[codec(mel_bound())]
pub struct DeviceMetadata<MaxLen: Get<u32>> {
	/// What kind of device it is, e.g. `thermometer`, `ecg`, `smart-meter`.
	pub kind: BoundedVec<u8, MaxLen>,
	/// Maker and model, e.g. `Acme TX-200`.
	pub model: BoundedVec<u8, MaxLen>,
	/// Hash of the firmware it runs, if the owner records it.
	pub firmware: Option<H256>,
	/// Where it is, e.g. `Ward 3, bed 12` or `Reefer container MSKU 123456-7`.
	pub location: BoundedVec<u8, MaxLen>,
}

impl<MaxLen: Get<u32>> DeviceMetadata<MaxLen> {
	/// The bytes the deposit charges for: every text byte, plus 32 for a firmware hash.
	pub fn charged_bytes(&self) -> u32 {
		let firmware: u64 = if self.firmware.is_some() { 32 } else { 0 };
		// The sum saturates to u32 (the runtime's bounds are far below that).
		let bytes = [self.kind.len(), self.model.len(), self.location.len()]
			.into_iter()
			.fold(firmware, |sum, len| sum.saturating_add(len as u64));
		u32::try_from(bytes).unwrap_or(u32::MAX)
	}
}

/// Device metadata as a call carries it: unbounded here so that a field that is too long is
/// refused with the registry's own `FieldTooLong` error rather than as undecodable.
#[derive(
	Clone,
	PartialEq,
	Eq,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	Debug,
	serde::Serialize,
	serde::Deserialize,
)]
pub struct MetadataInput {
	/// What kind of device it is, e.g. `thermometer`.
	pub kind: Vec<u8>,
	/// Maker and model.
	pub model: Vec<u8>,
	/// Hash of the firmware it runs, if known.
	pub firmware: Option<H256>,
	/// Where it is.
	pub location: Vec<u8>,
}

/// A registered device.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(MaxLen))]
#[codec(mel_bound(AccountId: MaxEncodedLen, Balance: MaxEncodedLen, BlockNumber: MaxEncodedLen))]
pub struct Device<AccountId, Balance, BlockNumber, MaxLen: Get<u32>>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
{
	/// The account that owns the device and pays its deposit.
	pub owner: AccountId,
	/// The key the device signs its readings with.
	pub key: DeviceKey,
	/// Where the device is in its life.
	pub status: DeviceStatus,
	/// What the device is, as its owner describes it.
	pub metadata: DeviceMetadata<MaxLen>,
	/// The block it was registered in.
	pub registered_at: BlockNumber,
	/// The deposit held from the owner for this record (zero once decommissioned).
	pub deposit: Balance,
	/// Its ownership epoch: how many times it has changed owner. Grants and group memberships
	/// given in an earlier epoch count for nothing, even if the device comes back.
	pub epoch: u32,
}

/// An open offer of a device to a new owner.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct TransferOffer<AccountId, BlockNumber> {
	/// The account the device is offered to.
	pub to: AccountId,
	/// The first block at which the offer can no longer be accepted.
	pub expires: BlockNumber,
}
