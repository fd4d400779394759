//! `provena history`: a device's anchors over a sequence or device-time range.

use crate::{args::Device, context::Context};
use anyhow::Result;
use clap::Args;
use provena_client::{chain::IndexedAnchor, keys::ss58, show_device};
use serde_json::{json, Value};
use subxt::utils::AccountId32;

/// A device's anchors over a sequence or time range.
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
	/// At most this many anchors.
	#[arg(long, default_value_t = 100)]
	limit: u32,
}

/// Runs `provena history`.
pub async fn run(ctx: &Context, args: History) -> Result<()> {
	let device = args.device.device;
	let chain = ctx.connect().await?;
	chain.known_device(device).await?;
	let anchors = chain.anchors(device, args.from_seq, args.to_seq, args.limit).await?;
	let anchors: Vec<_> = anchors
		.into_iter()
		.filter(|a| args.since_ms.is_none_or(|since| a.anchor.device_time.last_ms >= since))
		.filter(|a| args.until_ms.is_none_or(|until| a.anchor.device_time.first_ms <= until))
		.collect();
	let rows: Vec<Value> = anchors
		.iter()
		.map(|a: &IndexedAnchor<AccountId32, u32>| {
			let r = &a.anchor;
			json!({
				"index": a.index, "first_seq": r.first_seq, "count": r.count,
				"root": format!("{:?}", r.root), "device_time": [r.device_time.first_ms, r.device_time.last_ms],
				"block": r.block, "chain_time_ms": r.chain_time_ms, "submitter": ss58(r.submitter.0),
			})
		})
		.collect();
	let human = if anchors.is_empty() {
		"no anchors in that range".to_string()
	} else {
		let line = |a: &IndexedAnchor<AccountId32, u32>| {
			let r = &a.anchor;
			format!(
				"#{:<5} readings {:>6}..{:<6} block #{:<6} root {:?} by {}",
				a.index,
				r.first_seq,
				r.first_seq + u64::from(r.count) - 1,
				r.block,
				r.root,
				ss58(r.submitter.0)
			)
		};
		anchors.iter().map(line).collect::<Vec<_>>().join("\n")
	};
	ctx.out.print(json!({ "device": show_device(&device), "anchors": rows }), human);
	Ok(())
}
