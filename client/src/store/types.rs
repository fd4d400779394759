//! What the store hands out: anchors and readings with where they stand, and counts.

use crate::readings::{Record, SignedAnchor};
use provena_primitives::{
	telemetry::{Reading, Seq},
	DeviceId,
};
use sp_core::H256;

/// Where an anchor stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
	/// Signed and stored; not sent (or to be sent again).
	Signed,
	/// Sent to the node's pool.
	Submitted,
	/// In a block that is not final yet.
	InBlock,
	/// In a finalized block.
	Finalized,
	/// Refused by the chain; `error` says why.
	Failed,
}

impl Status {
	/// Its name in the store (and in the gateway's API).
	pub fn as_str(self) -> &'static str {
		match self {
			Status::Signed => "signed",
			Status::Submitted => "submitted",
			Status::InBlock => "in_block",
			Status::Finalized => "finalized",
			Status::Failed => "failed",
		}
	}

	pub(super) fn parse(text: &str) -> Status {
		match text {
			"submitted" => Status::Submitted,
			"in_block" => Status::InBlock,
			"finalized" => Status::Finalized,
			"failed" => Status::Failed,
			_ => Status::Signed,
		}
	}
}

/// An anchor as the store keeps it.
#[derive(Clone, Debug)]
pub struct StoredAnchor {
	/// The store's id for it.
	pub id: i64,
	/// The device.
	pub device: DeviceId,
	/// Its first sequence number.
	pub first_seq: Seq,
	/// How many readings it commits.
	pub count: u32,
	/// Their root.
	pub root: H256,
	/// The signed anchor.
	pub anchor: SignedAnchor,
	/// Its encrypted payload, if any.
	pub payload: Option<Vec<u8>>,
	/// Where it stands.
	pub status: Status,
	/// The block it is in, once known.
	pub block_number: Option<u64>,
	/// Why the chain refused it.
	pub error: Option<String>,
	/// The record the chain's device log keeps of it, once final.
	pub record: Option<Record>,
}

/// A stored reading with what proves it.
#[derive(Clone, Debug)]
pub struct StoredReading {
	/// The reading.
	pub reading: Reading,
	/// Its leaf.
	pub leaf: H256,
	/// Its Merkle proof within its anchor, once anchored.
	pub proof: Option<Vec<H256>>,
	/// The anchor it belongs to, once batched.
	pub anchor_id: Option<i64>,
}

/// Counts of anchors by status, for reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
	/// Not yet final.
	pub pending: u64,
	/// Final on chain.
	pub finalized: u64,
	/// Refused.
	pub failed: u64,
	/// Readings in finalized anchors.
	pub readings_finalized: u64,
}

/// What [`super::Store::add_signed`] did with a device-signed batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Added {
	/// Stored as the anchor with this id.
	Stored(i64),
	/// Already stored, identical, as the anchor with this id: nothing changed.
	AlreadyStored(i64),
	/// Refused: its readings or its anchor differ from stored ones (the reason).
	Conflict(String),
}
