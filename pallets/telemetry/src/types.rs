//! What telemetry stores and reports.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use provena_primitives::{
	device_log::{log_root, Peaks},
	telemetry::{MetricName, Seq},
};
use scale_info::TypeInfo;
use sp_core::{Get, H256};

/// A device's telemetry so far: the one record anchoring reads and writes. Its size is bounded
/// whatever the number of anchors: their records live in the device's log, committed here by
/// the log's MMR peaks.
#[derive(Clone, PartialEq, Eq, Default, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct DeviceTelemetry<BlockNumber> {
	/// The sequence number the next anchor should start at: one past the last anchored reading
	/// (zero before the first anchor).
	pub next_seq: Seq,
	/// How many anchors the device has: the leaf count of its log.
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
	/// How many anchors were appended in `last_anchor_block`: the per-block rate limit of
	/// device-authorized anchors counts them.
	pub block_anchors: u32,
	/// Prepaid anchor credits: each device-authorized anchor (`device_anchor`) spends one.
	pub credits: u64,
	/// The peaks of the device's log, left to right (one per set bit of `anchors`).
	pub peaks: Peaks,
}

impl<BlockNumber> DeviceTelemetry<BlockNumber> {
	/// The root of the device's log, `None` before its first anchor.
	pub fn log_root(&self) -> Option<H256> {
		log_root(&self.peaks)
	}
}

/// Why a reading does not verify.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub enum VerifyError {
	/// The device has never anchored anything.
	UnknownDevice,
	/// The record is not in the device's log with this inclusion proof: it is another device's,
	/// was altered, comes from an abandoned fork, or the proof was made for another block.
	NotInLog,
	/// The record does not cover this sequence number.
	NotCovered,
	/// The record covers the sequence number, but this leaf and Merkle path do not give its
	/// root at exactly that position: the reading was altered, or the path is wrong.
	ProofMismatch,
	/// The Merkle path is longer than [`MAX_PATH_LEN`](crate::MAX_PATH_LEN) or the log proof
	/// longer than [`MAX_PROOF_LEN`](provena_primitives::device_log::MAX_PROOF_LEN): no real
	/// proof is, so it is refused before any hashing.
	ProofTooLong,
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

/// An alert rule as stored: the rule, the device's ownership epoch it was set in (it counts
/// only in that epoch), and who paid its deposit.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct RuleRecord<AccountId, Balance> {
	/// The bounds.
	pub rule: AlertRule,
	/// The device's ownership epoch when the rule was set: after a transfer the rule raises
	/// no alerts, and anyone may clear it.
	pub epoch: u32,
	/// Who set it, and gets its deposit back when it is cleared or replaced.
	pub payer: AccountId,
	/// The deposit held from `payer`.
	pub deposit: Balance,
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
