//! `provena_*` RPC methods: a device's log (its anchor records) and inclusion proofs, served from
//! the node's offchain-indexed storage without any state beyond the device's MMR peaks.
//!
//! Every answer is read at a **finalized** block (the head, unless asked) and names it (`at`,
//! `at_number`): the peaks come from that block's state, and the records are found by walking
//! down from them, so a record written by a block on an abandoned fork is never served (see
//! `provena_primitives::device_log`). An inclusion proof holds against the device's log as of
//! `at`; check it with the `TelemetryApi_verify_reading` runtime API at that block.
//!
//! - `provena_history(device, from_seq, to_seq, limit?)`: the records covering any reading of
//!   `from_seq ..= to_seq`, in order, at most `limit` (default and cap 1,000).
//! - `provena_historyByTime(device, from_ms, to_ms, limit?)`: the records the chain accepted
//!   at a chain time in `from_ms ..= to_ms` (milliseconds since the Unix epoch).
//! - `provena_proof(device, seq, at?)`: the record covering reading `seq` and its inclusion
//!   proof, at the finalized head or at `at`, the `0x`-hex hash of an earlier finalized block
//!   whose state the node still has (so that several proofs, and a storage proof of the
//!   device's peaks, can be taken at one block, as a proof bundle does).
//!
//! `device` is the device id as `0x`-hex (32 bytes). A record is JSON with its fields and
//! `encoded`, its SCALE bytes (what the runtime API takes).

use codec::{Decode, Encode};
use jsonrpsee::{core::RegisterMethodError, types::ErrorObjectOwned, RpcModule};
use pallet_telemetry::runtime_api::TelemetryApi;
use provena_primitives::device_log::{find_leaf, ReadError};
use provena_runtime::{opaque::Block, AccountId, BlockNumber, SS58_PREFIX};
use serde_json::{json, Value};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::{crypto::Ss58Codec, offchain::OffchainStorage, H256};
use std::sync::Arc;

/// A record of a device's log as the runtime keeps it.
type Record = provena_primitives::device_log::AnchorRecord<AccountId, BlockNumber>;

/// The most records one call returns.
pub const MAX_RECORDS: u32 = 1_000;

/// JSON-RPC error codes of these methods.
mod code {
	/// The parameters are malformed.
	pub const INVALID_PARAMS: i32 = -32602;
	/// The node cannot serve logs: it runs without offchain indexing.
	pub const NOT_INDEXING: i32 = 7001;
	/// The device has never anchored (at the finalized head).
	pub const UNKNOWN_DEVICE: i32 = 7002;
	/// No record of the device covers the sequence number.
	pub const NOT_ANCHORED: i32 = 7003;
	/// The node's storage lacks or garbles a log entry the finalized peaks lead to.
	pub const STORE: i32 = 7004;
	/// The runtime could not be asked.
	pub const RUNTIME: i32 = 7005;
	/// The block asked for is not a finalized block of this node's chain.
	pub const NOT_FINALIZED: i32 = 7006;
}

/// A JSON-RPC error with `code` and `message` (the node's own methods share it).
pub(crate) fn error(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

/// One device's log at the finalized head.
struct Log<S> {
	at: H256,
	at_number: BlockNumber,
	leaves: u64,
	peaks: Vec<H256>,
	store: S,
}

impl<S: OffchainStorage> Log<S> {
	/// Record `index`, decoded, with its inclusion proof.
	fn record(&self, index: u64) -> Result<(Record, Vec<H256>), ErrorObjectOwned> {
		let get = |key: &[u8]| self.store.get(sp_core::offchain::STORAGE_PREFIX, key);
		let (bytes, proof) =
			find_leaf(self.leaves, &self.peaks, index, get).map_err(|e| match e {
				ReadError::Missing(hash) => error(
					code::STORE,
					format!(
					"this node's offchain storage lacks log entry {hash:?}: it did not import the \
					 block that wrote it with --enable-offchain-indexing true (a node must \
					 execute every block with indexing on, e.g. a full sync from genesis)"
				),
				),
				ReadError::Corrupt(hash) => error(
					code::STORE,
					format!("log entry {hash:?} in this node's storage is corrupt"),
				),
				ReadError::OutOfRange => {
					error(code::STORE, "the device's peaks do not fit its log")
				},
			})?;
		let record = Record::decode(&mut &bytes[..])
			.map_err(|e| error(code::STORE, format!("a log record does not decode: {e}")))?;
		Ok((record, proof))
	}

	/// The first index whose record satisfies `past` (a predicate false then true over the
	/// log's order), or the leaf count when none does.
	fn first_where(&self, past: impl Fn(&Record) -> bool) -> Result<u64, ErrorObjectOwned> {
		let (mut low, mut high) = (0u64, self.leaves);
		while low < high {
			let middle = low + (high - low) / 2;
			if past(&self.record(middle)?.0) {
				high = middle;
			} else {
				low = middle + 1;
			}
		}
		Ok(low)
	}

	/// Records from `index` on while `within` holds, at most `limit`.
	fn records_from(
		&self,
		mut index: u64,
		limit: u32,
		within: impl Fn(&Record) -> bool,
	) -> Result<Vec<Value>, ErrorObjectOwned> {
		let mut out = Vec::new();
		while index < self.leaves && out.len() < limit as usize {
			let (record, _) = self.record(index)?;
			if !within(&record) {
				break;
			}
			out.push(record_json(&record));
			index += 1;
		}
		Ok(out)
	}

	fn page(&self, device: &[u8; 32], records: Vec<Value>) -> Value {
		json!({
			"device": format!("0x{}", hex(device)),
			"at": format!("{:?}", self.at),
			"at_number": self.at_number,
			"anchors": self.leaves,
			"records": records,
		})
	}
}

/// Lower-case hex of `bytes`, without a prefix.
pub(crate) fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A record as JSON: its fields, and its SCALE bytes as `encoded`.
fn record_json(record: &Record) -> Value {
	json!({
		"index": record.index,
		"first_seq": record.first_seq,
		"count": record.count,
		"root": format!("{:?}", record.root),
		"device_time": { "first_ms": record.device_time.first_ms, "last_ms": record.device_time.last_ms },
		"payload_hash": record.payload_hash.map(|h| format!("{h:?}")),
		"block": record.block,
		"chain_time_ms": record.chain_time_ms,
		"submitter": record.submitter.to_ss58check_with_version(SS58_PREFIX.into()),
		"encoded": format!("0x{}", hex(&record.encode())),
	})
}

/// A device id from `0x`-hex.
fn device_id(text: &str) -> Result<[u8; 32], ErrorObjectOwned> {
	let digits = text.strip_prefix("0x").unwrap_or(text);
	let bytes: Vec<u8> = (0..digits.len())
		.step_by(2)
		.map(|i| digits.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
		.collect::<Option<_>>()
		.ok_or_else(|| error(code::INVALID_PARAMS, format!("device `{text}` is not hex")))?;
	<[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
		error(code::INVALID_PARAMS, format!("device `{text}` is not 32 bytes of 0x-hex"))
	})
}

/// What the methods share: the client (finalized head, runtime API) and the offchain storage.
pub struct LogRpc<C, S> {
	client: Arc<C>,
	store: Option<S>,
}

impl<C, S> LogRpc<C, S>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: pallet_telemetry::runtime_api::TelemetryApi<Block, AccountId, BlockNumber>,
	S: OffchainStorage + 'static,
{
	/// `store` is `None` when the node runs without offchain indexing: every method then says
	/// so.
	pub fn new(client: Arc<C>, store: Option<S>) -> Self {
		LogRpc { client, store }
	}

	/// `device`'s log at the finalized head.
	fn log(&self, device: [u8; 32]) -> Result<Log<S>, ErrorObjectOwned> {
		self.log_at(device, None)
	}

	/// `device`'s log at `at`, which must be a finalized block of the chain, or at the
	/// finalized head.
	fn log_at(&self, device: [u8; 32], at: Option<H256>) -> Result<Log<S>, ErrorObjectOwned> {
		let store = self.store.clone().ok_or_else(|| {
			error(
				code::NOT_INDEXING,
				"this node does not index device logs: start it with --enable-offchain-indexing true",
			)
		})?;
		let info = self.client.info();
		let (at, at_number) = match at {
			None => (info.finalized_hash, info.finalized_number),
			Some(hash) => {
				let not_final = || {
					error(
						code::NOT_FINALIZED,
						format!("block {hash:?} is not a finalized block of this node's chain"),
					)
				};
				let number = self
					.client
					.number(hash)
					.map_err(|e| error(code::RUNTIME, format!("cannot read headers: {e}")))?
					.ok_or_else(not_final)?;
				let canonical = self.client.hash(number).ok().flatten() == Some(hash);
				if number > info.finalized_number || !canonical {
					return Err(not_final());
				}
				(hash, number)
			},
		};
		let state = self
			.client
			.runtime_api()
			.device_state(at, device)
			.map_err(|e| error(code::RUNTIME, format!("the runtime API failed: {e}")))?
			.ok_or_else(|| {
				error(code::UNKNOWN_DEVICE, "the device has no anchors (at that finalized block)")
			})?;
		Ok(Log { at, at_number, leaves: state.anchors, peaks: state.peaks.into_inner(), store })
	}

	/// The RPC module with the three methods.
	pub fn into_rpc(self) -> Result<RpcModule<Self>, RegisterMethodError> {
		let mut module = RpcModule::new(self);
		module.register_blocking_method("provena_history", |params, rpc, _| {
			let (device, from, to, limit): (String, u64, u64, Option<u32>) = params.parse()?;
			let device = device_id(&device)?;
			let log = rpc.log(device)?;
			let start = log.first_where(|r| r.last_seq() >= from)?;
			let limit = limit.unwrap_or(MAX_RECORDS).min(MAX_RECORDS);
			let records = log.records_from(start, limit, |r| r.first_seq <= to)?;
			Ok::<_, ErrorObjectOwned>(log.page(&device, records))
		})?;
		module.register_blocking_method("provena_historyByTime", |params, rpc, _| {
			let (device, from, to, limit): (String, u64, u64, Option<u32>) = params.parse()?;
			let device = device_id(&device)?;
			let log = rpc.log(device)?;
			let start = log.first_where(|r| r.chain_time_ms >= from)?;
			let limit = limit.unwrap_or(MAX_RECORDS).min(MAX_RECORDS);
			let records = log.records_from(start, limit, |r| r.chain_time_ms <= to)?;
			Ok::<_, ErrorObjectOwned>(log.page(&device, records))
		})?;
		module.register_blocking_method("provena_proof", |params, rpc, _| {
			let mut params = params.sequence();
			let (device, seq): (String, u64) = (params.next()?, params.next()?);
			let at: Option<H256> = params.optional_next()?;
			let device = device_id(&device)?;
			let log = rpc.log_at(device, at)?;
			let not_anchored = || {
				error(code::NOT_ANCHORED, format!("no anchor of the device covers reading {seq}"))
			};
			let index = log.first_where(|r| r.last_seq() >= seq)?;
			if index >= log.leaves {
				return Err(not_anchored());
			}
			let (record, proof) = log.record(index)?;
			if !record.covers(seq) {
				return Err(not_anchored());
			}
			let mut page = log.page(&device, Vec::new());
			if let Some(fields) = page.as_object_mut() {
				fields.remove("records");
				fields.insert("record".into(), record_json(&record));
				fields.insert(
					"log_proof".into(),
					json!(proof.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>()),
				);
			}
			Ok::<_, ErrorObjectOwned>(page)
		})?;
		Ok(module)
	}
}
