//! The runtime API auditors, clients and Polkadot.js call to check readings against the chain.

use crate::{DeviceId, DeviceTelemetry, IndexedAnchor, Seq, VerifyError};
use alloc::vec::Vec;
use codec::Codec;
use sp_core::H256;

sp_api::decl_runtime_apis! {
	/// Verifies readings against their anchors and lists what devices anchored.
	pub trait TelemetryApi<AccountId, BlockNumber>
	where
		AccountId: Codec,
		BlockNumber: Codec,
	{
		/// Whether `leaf` is reading `seq` of `device` as anchored: the anchor covering `seq`,
		/// with the block and chain time it was accepted at, or why not. `proof` is the
		/// reading's Merkle proof within its anchor (empty for a single-reading anchor).
		fn verify_reading(
			device: DeviceId,
			seq: Seq,
			leaf: H256,
			proof: Vec<H256>,
		) -> Result<IndexedAnchor<AccountId, BlockNumber>, VerifyError>;

		/// The device's anchors covering any of `from_seq ..= to_seq`, in sequence order, at
		/// most `limit` (capped at 1,000).
		fn anchors(
			device: DeviceId,
			from_seq: Seq,
			to_seq: Seq,
			limit: u32,
		) -> Vec<IndexedAnchor<AccountId, BlockNumber>>;

		/// The device's telemetry so far (next expected sequence number, counters, hash chain
		/// head), or `None` if it never anchored.
		fn device_state(device: DeviceId) -> Option<DeviceTelemetry<BlockNumber>>;
	}
}
