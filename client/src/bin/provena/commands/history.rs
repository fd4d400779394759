//! `provena history`: a device's log (its anchor records) over a sequence, device-time or
//! chain-time range, as the node serves it from its offchain-indexed storage.

use crate::{args::Device, context::Context};
use anyhow::{bail, Result};
use clap::Args;
use provena_client::{keys::ss58, readings::Record, show_device};
use serde_json::{json, Value};

/// A device's anchors over a sequence or time range, from the node's copy of its log.
#[derive(Args, Debug)]
pub struct History {
	#[command(flatten)]
	device: Device,
	/// From this sequence number.
	#[arg(long, default_value_t = 0)]
	from_seq: u64,
	/// Up to this sequence number.
	#[arg(long, default_value_t = u64::MAX)]
	to_seq: u64,
	/// Only anchors with readings at or after this device time (ms since the epoch).
	#[arg(long)]
	since_ms: Option<u64>,
	/// Only anchors with readings at or before this device time.
	#[arg(long)]
	until_ms: Option<u64>,
	/// Only anchors the chain accepted at or after this chain time (ms since the epoch);
	/// replaces the sequence range.
	#[arg(long, conflicts_with_all = ["from_seq", "to_seq"])]
	anchored_from_ms: Option<u64>,
	/// Only anchors the chain accepted at or before this chain time; replaces the sequence
	/// range.
	#[arg(long, conflicts_with_all = ["from_seq", "to_seq"])]
	anchored_to_ms: Option<u64>,
	/// At most this many anchors (the node serves at most 1,000 at a time).
	#[arg(long, default_value_t = 100)]
	limit: u32,
}

/// Runs `provena history`.
pub async fn run(ctx: &Context, args: History) -> Result<()> {
	let device = args.device.device;
	let chain = ctx.connect().await?;
	chain.known_device(device).await?;
	let by_time = args.anchored_from_ms.is_some() || args.anchored_to_ms.is_some();
	let page = if by_time {
		let (from, to) =
			(args.anchored_from_ms.unwrap_or(0), args.anchored_to_ms.unwrap_or(u64::MAX));
		if from > to {
			bail!("--anchored-from-ms {from} is after --anchored-to-ms {to}");
		}
		chain.history_by_time(device, from, to, args.limit).await?
	} else {
		if args.from_seq > args.to_seq {
			bail!("--from-seq {} is after --to-seq {}", args.from_seq, args.to_seq);
		}
		chain.history(device, args.from_seq, args.to_seq, args.limit).await?
	};
	let (at, at_number, total) = page
		.as_ref()
		.map_or((None, None, 0), |p| (Some(format!("{:?}", p.at)), Some(p.at_number), p.anchors));
	let mut records = Vec::new();
	for raw in page.map(|p| p.records).unwrap_or_default() {
		let record = raw.decode()?;
		let time = record.device_time;
		if args.since_ms.is_none_or(|since| time.last_ms >= since)
			&& args.until_ms.is_none_or(|until| time.first_ms <= until)
		{
			records.push(record);
		}
	}
	let rows: Vec<Value> = records.iter().map(record_json).collect();
	let human = if records.is_empty() {
		"no anchors in that range".to_string()
	} else {
		let line = |r: &Record| {
			format!(
				"#{:<5} readings {:>6}..{:<6} block #{:<6} root {:?} by {}",
				r.index,
				r.first_seq,
				r.last_seq(),
				r.block,
				r.root,
				ss58(r.submitter.0)
			)
		};
		let mut lines: Vec<String> = records.iter().map(line).collect();
		if let (Some(at), Some(number)) = (&at, at_number) {
			lines.push(format!(
				"(the device's log has {total} anchors at finalized block #{number}, {at})"
			));
		}
		lines.join("\n")
	};
	ctx.out.print(
		json!({ "device": show_device(&device), "at": at, "at_number": at_number, "log_size": total, "anchors": rows }),
		human,
	);
	Ok(())
}

/// A record as `history`, `verify` and `proof` print it.
pub fn record_json(r: &Record) -> Value {
	json!({
		"index": r.index, "first_seq": r.first_seq, "count": r.count,
		"root": format!("{:?}", r.root), "device_time": [r.device_time.first_ms, r.device_time.last_ms],
		"payload_hash": r.payload_hash.map(|h| format!("{h:?}")),
		"block": r.block, "chain_time_ms": r.chain_time_ms, "submitter": ss58(r.submitter.0),
	})
}
