//! What telemetry stores and reports.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use provena_primitives::telemetry::{MetricName, Seq, TimeRange};
use scale_info::TypeInfo;
use sp_core::{Get, H256};

/// A device's telemetry so far.
#[derive(Clone, PartialEq, Eq, Default, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct DeviceTelemetry<BlockNumber> {
	/// The sequence number the next anchor should start at: one past the last anchored reading
	/// (zero before the first anchor).
	pub next_seq: Seq,
	/// How many anchors the device has; anchors are numbered from zero in this order.
	pub anchors: u64,
	/// How many readings those anchors commit.
	pub readings: u64,
	/// How many readings were skipped by sequence gaps.
	pub missing: u64,
	/// The running hash over all the device's anchors (see `chain_link`).
	pub head: H256,
	/// The latest device time an anchor claimed, in milliseconds.
	pub last_device_time_ms: u64,
	/// The block of the latest anchor.
	pub last_anchor_block: BlockNumber,
}

/// One anchor, as stored: the readings it commits, and where and when it was accepted.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct AnchorRecord<AccountId, BlockNumber> {
	/// The first reading's sequence number.
	pub first_seq: Seq,
	/// How many consecutive readings it commits.
	pub count: u32,
	/// The reading's leaf (one reading) or the Merkle root of their leaves.
	pub root: H256,
	/// The device times of the first and last reading.
	pub device_time: TimeRange,
	/// The block it was anchored in.
	pub block: BlockNumber,
	/// The chain's time at that block, in milliseconds since the Unix epoch.
	pub chain_time_ms: u64,
	/// The account that submitted it (the device, its owner or a gateway).
	pub submitter: AccountId,
}

impl<AccountId, BlockNumber> AnchorRecord<AccountId, BlockNumber> {
	/// The last reading's sequence number.
	pub fn last_seq(&self) -> Seq {
		self.first_seq.saturating_add(self.count.saturating_sub(1).into())
	}
}

/// An anchor with its number among its device's anchors: what the runtime API answers.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct IndexedAnchor<AccountId, BlockNumber> {
	/// The anchor's number among the device's anchors, from zero.
	pub index: u64,
	/// The anchor itself.
	pub anchor: AnchorRecord<AccountId, BlockNumber>,
}

/// Why a reading does not verify.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub enum VerifyError {
	/// The device has never anchored anything.
	UnknownDevice,
	/// No anchor covers this sequence number: it was skipped by a gap, or not anchored yet.
	NotAnchored,
	/// The anchor covering the sequence number does not commit this leaf with this proof: the
	/// reading was altered, or the proof is wrong.
	ProofMismatch,
}

/// Bounds an owner sets for one metric of a device; a public value outside them raises an alert.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct AlertRule {
	/// The metric watched.
	pub metric: MetricName,
	/// Values below this (in thousandths) raise an alert; `None` for no lower bound.
	pub min: Option<i64>,
	/// Values above this (in thousandths) raise an alert; `None` for no upper bound.
	pub max: Option<i64>,
}

impl AlertRule {
	/// Whether `value` is outside the bounds.
	pub fn is_broken_by(&self, value: i64) -> bool {
		self.min.is_some_and(|min| value < min) || self.max.is_some_and(|max| value > max)
	}
}

/// One anchor in a gateway's batch, with its optional payload.
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
#[scale_info(skip_type_params(MaxValues, MaxPayload))]
pub struct BatchItem<MaxValues: Get<u32>, MaxPayload: Get<u32>> {
	/// The device-signed anchor.
	pub anchor: provena_primitives::telemetry::Anchor<MaxValues>,
	/// An encrypted payload for the anchor's readings; kept in the block, never in state.
	pub payload: Option<BoundedVec<u8, MaxPayload>>,
}

/// The most anchors `anchors` returns in one call.
pub const MAX_ANCHORS_PER_QUERY: u32 = 1_000;
