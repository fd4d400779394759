//! The runtime API auditors, clients and Polkadot.js call to check readings against the chain.

// The macro adds the block and call context to `verify_reading`'s six parameters.
#![allow(clippy::too_many_arguments)]

use crate::{AnchorRecord, DeviceId, DeviceTelemetry, Seq, VerifyError};
use alloc::vec::Vec;
use codec::Codec;
use sp_core::H256;

sp_api::decl_runtime_apis! {
	/// Verifies readings against their devices' logs and tells a device's telemetry state.
	pub trait TelemetryApi<AccountId, BlockNumber>
	where
		AccountId: Codec,
		BlockNumber: Codec,
	{
		/// Whether `leaf` is reading `seq` of `device` as anchored, answering for exactly that
		/// sequence number: the anchor `record` must be in the device's log as of this block
		/// (`log_proof`, its inclusion proof, from the node's `provena_proof` RPC at the same
		/// block) and cover `seq`; `path` is the leaf's Merkle path in the record's batch
		/// (empty for a one-reading anchor) and must have exactly the length its position
		/// gives. Answers the record, or why not.
		fn verify_reading(
			device: DeviceId,
			seq: Seq,
			leaf: H256,
			path: Vec<H256>,
			record: AnchorRecord<AccountId, BlockNumber>,
			log_proof: Vec<H256>,
		) -> Result<AnchorRecord<AccountId, BlockNumber>, VerifyError>;

		/// The device's telemetry so far (next expected sequence number, counters, hash chain
		/// head, its log's leaf count and peaks), or `None` if it never anchored.
		fn device_state(device: DeviceId) -> Option<DeviceTelemetry<BlockNumber>>;
	}
}
