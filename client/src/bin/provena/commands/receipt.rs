//! `provena proof` and `provena verify`: a reading with its Merkle proof as a receipt anyone
//! can keep, and the check of a reading (from the store or a receipt) against the chain.

use crate::{
	args::{device_id, ReadingRef},
	context::Context,
	output::reading_json,
};
use anyhow::{anyhow, bail, Context as _, Result};
use clap::Args;
use provena_client::{
	chain::VerifyError, input::thousandths, keys::ss58, parse_device, show_device,
};
use provena_primitives::{
	telemetry::{Measurement, MetricName, Reading},
	DeviceId,
};
use serde_json::{json, Value};
use sp_core::H256;
use std::{
	path::{Path, PathBuf},
	process::ExitCode,
};

/// Print a reading with its Merkle proof, as a receipt anyone can verify.
#[derive(Args, Debug)]
pub struct Proof {
	#[command(flatten)]
	reading: ReadingRef,
}

/// Check a reading against the chain: where and when it was anchored, or why not.
#[derive(Args, Debug)]
pub struct Verify {
	/// The device id (with `--seq`: the reading is taken from the store).
	#[arg(long, value_parser = device_id, requires = "seq", conflicts_with = "receipt")]
	device: Option<DeviceId>,
	/// The reading's sequence number.
	#[arg(long)]
	seq: Option<u64>,
	/// A receipt from `provena proof` (`-` for stdin).
	#[arg(long)]
	receipt: Option<PathBuf>,
}

/// Runs `provena proof`.
pub async fn proof(ctx: &Context, args: Proof) -> Result<()> {
	let ReadingRef { device, seq } = args.reading;
	let chain = ctx.connect().await?;
	let store = ctx.store(&chain)?;
	let stored = store.reading(&device, seq)?.ok_or_else(|| {
		anyhow!("reading {seq} of device {} is not in this store", show_device(&device))
	})?;
	let proof = stored.proof.ok_or_else(|| {
		anyhow!("reading {seq} is not batched yet: run `provena submit --resume`")
	})?;
	println!("{}", receipt(&stored.reading, &proof));
	Ok(())
}

/// Runs `provena verify`. Exit code 2 when the reading does not verify.
pub async fn verify(ctx: &Context, args: Verify) -> Result<ExitCode> {
	let chain = ctx.connect().await?;
	let (reading, proof) = match (&args.receipt, args.device, args.seq) {
		(Some(path), _, _) => from_receipt(&read_receipt(path)?)?,
		(None, Some(device), Some(seq)) => {
			let store = ctx.store(&chain)?;
			let stored = store.reading(&device, seq)?.ok_or_else(|| {
				anyhow!(
					"reading {seq} of device {} is not in this store; verify a receipt with --receipt",
					show_device(&device)
				)
			})?;
			let proof = stored.proof.ok_or_else(|| anyhow!("reading {seq} is not anchored yet"))?;
			(stored.reading, proof)
		},
		_ => bail!("give --device and --seq, or --receipt FILE"),
	};
	let (device, seq) = (show_device(&reading.device), reading.seq);
	match chain.verify_reading(reading.device, seq, reading.leaf(), proof).await? {
		Ok(found) => {
			let a = &found.anchor;
			let last = a.first_seq + u64::from(a.count) - 1;
			ctx.out.print(
				json!({
					"verified": true, "device": device, "seq": seq,
					"anchor_index": found.index, "first_seq": a.first_seq, "count": a.count,
					"block": a.block, "chain_time_ms": a.chain_time_ms, "submitter": ss58(a.submitter.0),
				}),
				format!(
					"VERIFIED: reading {seq} of device {device} is anchor #{} (readings {}..{last}), block #{}, chain time {} ms, submitted by {}",
					found.index, a.first_seq, a.block, a.chain_time_ms, ss58(a.submitter.0)
				),
			);
			Ok(ExitCode::SUCCESS)
		},
		Err(why) => {
			let (name, text) = match why {
				VerifyError::UnknownDevice => ("UnknownDevice", "the chain knows no anchors of this device"),
				VerifyError::NotAnchored => ("NotAnchored", "no anchor covers this sequence number: never anchored (or not final yet)"),
				VerifyError::ProofMismatch => ("ProofMismatch", "an anchor covers this sequence number, but this reading and proof do not give its root: the reading was altered"),
			};
			ctx.out.print(
				json!({ "verified": false, "device": device, "seq": seq, "reason": name }),
				format!("NOT VERIFIED: reading {seq} of device {device}: {text} ({name})"),
			);
			Ok(ExitCode::from(2))
		},
	}
}

/// A receipt file (or stdin for `-`) as JSON.
fn read_receipt(path: &Path) -> Result<Value> {
	let text = if path == Path::new("-") {
		std::io::read_to_string(std::io::stdin()).context("cannot read the receipt from stdin")?
	} else {
		std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?
	};
	serde_json::from_str(&text).with_context(|| format!("{} is not a receipt", path.display()))
}

/// A reading and its proof as self-contained JSON.
fn receipt(reading: &Reading, proof: &[H256]) -> Value {
	let mut value = reading_json(reading);
	value["proof"] = json!(proof.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>());
	value
}

/// 32 bytes from `0x`-hex.
fn bytes32(text: &str, what: &str) -> Result<[u8; 32]> {
	let bytes = hex::decode(text.trim_start_matches("0x"))
		.with_context(|| format!("`{what}` is not hex"))?;
	<[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| anyhow!("`{what}` needs 32 bytes"))
}

/// A reading and proof back from a receipt.
fn from_receipt(value: &Value) -> Result<(Reading, Vec<H256>)> {
	let field = |name: &str| value.get(name).ok_or_else(|| anyhow!("the receipt has no `{name}`"));
	let device = parse_device(field("device")?.as_str().unwrap_or_default())?;
	let seq = field("seq")?.as_u64().ok_or_else(|| anyhow!("`seq` is not a number"))?;
	let timestamp_ms =
		field("timestamp_ms")?.as_u64().ok_or_else(|| anyhow!("`timestamp_ms` is not a number"))?;
	let values =
		field("values")?.as_object().ok_or_else(|| anyhow!("`values` is not an object"))?;
	let values = values
		.iter()
		.map(|(name, v)| {
			let v = v.as_f64().ok_or_else(|| anyhow!("value of {name} is not a number"))?;
			Ok(Measurement {
				metric: MetricName::truncate_from(name.as_bytes().to_vec()),
				value: thousandths(v).map_err(|e| anyhow!(e))?,
			})
		})
		.collect::<Result<Vec<_>>>()?;
	let payload_hash = match value.get("payload_hash").and_then(|h| h.as_str()) {
		Some(h) => Some(bytes32(h, "payload_hash")?),
		None => None,
	};
	let proof = field("proof")?
		.as_array()
		.ok_or_else(|| anyhow!("`proof` is not a list"))?
		.iter()
		.map(|h| bytes32(h.as_str().unwrap_or_default(), "proof").map(H256))
		.collect::<Result<Vec<_>>>()?;
	Ok((Reading { device, seq, timestamp_ms, values, payload_hash }, proof))
}
