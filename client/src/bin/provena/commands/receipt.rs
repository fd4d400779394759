//! `provena proof` and `provena verify`: a reading with its Merkle path and its anchor's record
//! as a receipt anyone can keep, and the check of a reading (from the store or a receipt)
//! against the device's log on chain: the node serves the record's inclusion proof at a
//! finalized block, and the runtime of that block checks the whole chain of hashes.

use crate::{
	args::{device_id, ReadingRef},
	commands::history::record_json,
	context::Context,
	output::reading_json,
};
use anyhow::{anyhow, bail, Context as _, Result};
use clap::Args;
use codec::{Decode, Encode};
use provena_client::{
	chain::{LogProof, VerifyError},
	input::thousandths,
	keys::ss58,
	parse_device,
	readings::Record,
	show_device,
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
	let path = stored.proof.ok_or_else(|| {
		anyhow!("reading {seq} is not batched yet: run `provena submit --resume`")
	})?;
	// The log's record of the anchor, kept by the store when it became final; the node is
	// asked only for anchors this store did not see finalized.
	let kept = match stored.anchor_id {
		Some(id) => store.anchor(id)?.and_then(|anchor| anchor.record),
		None => None,
	};
	let record = match kept {
		Some(record) => Some(record),
		None => chain.log_proof(device, seq).await?.map(|found| found.record),
	};
	println!("{}", receipt(&stored.reading, &path, record.as_ref()));
	Ok(())
}

/// Runs `provena verify`. Exit code 2 when the reading does not verify.
pub async fn verify(ctx: &Context, args: Verify) -> Result<ExitCode> {
	let chain = ctx.connect().await?;
	let (reading, path, kept) = match (&args.receipt, args.device, args.seq) {
		(Some(path), _, _) => from_receipt(&read_receipt(path)?)?,
		(None, Some(device), Some(seq)) => {
			let store = ctx.store(&chain)?;
			let stored = store.reading(&device, seq)?.ok_or_else(|| {
				anyhow!(
					"reading {seq} of device {} is not in this store; verify a receipt with --receipt",
					show_device(&device)
				)
			})?;
			let path = stored.proof.ok_or_else(|| anyhow!("reading {seq} is not anchored yet"))?;
			let kept = match stored.anchor_id {
				Some(id) => store.anchor(id)?.and_then(|anchor| anchor.record),
				None => None,
			};
			(stored.reading, path, kept)
		},
		_ => bail!("give --device and --seq, or --receipt FILE"),
	};
	let (device, seq) = (show_device(&reading.device), reading.seq);
	let not_verified = |name: &str, text: &str| {
		ctx.out.print(
			json!({ "verified": false, "device": device, "seq": seq, "reason": name }),
			format!("NOT VERIFIED: reading {seq} of device {device}: {text} ({name})"),
		);
		ExitCode::from(2)
	};
	// The node's copy of the device's log gives the inclusion proof at a finalized block; the
	// runtime of that block checks the reading, its path, the record and the proof together.
	let Some(found) = chain.log_proof(reading.device, seq).await? else {
		return Ok(not_verified(
			"NotAnchored",
			"no anchor of the device covers this sequence number: never anchored (or not final yet)",
		));
	};
	// A receipt's own record is what is checked: a record the chain's log does not hold fails.
	let found = LogProof { record: kept.unwrap_or(found.record), ..found };
	let answer = chain.verify_reading(&found, reading.device, seq, reading.leaf(), path).await?;
	match answer {
		Ok(a) => {
			ctx.out.print(
				json!({
					"verified": true, "device": device, "seq": seq, "at": format!("{:?}", found.at),
					"anchor_index": a.index, "first_seq": a.first_seq, "count": a.count,
					"block": a.block, "chain_time_ms": a.chain_time_ms, "submitter": ss58(a.submitter.0),
				}),
				format!(
					"VERIFIED: reading {seq} of device {device} is in anchor #{} (readings {}..{}), block #{}, chain time {} ms, submitted by {}; checked against the device's log at finalized block {:?}",
					a.index, a.first_seq, a.last_seq(), a.block, a.chain_time_ms, ss58(a.submitter.0), found.at
				),
			);
			Ok(ExitCode::SUCCESS)
		},
		Err(why) => {
			let (name, text) = match why {
				VerifyError::UnknownDevice => ("UnknownDevice", "the chain knows no anchors of this device"),
				VerifyError::NotInLog => ("NotInLog", "the anchor record given is not in the device's log: it was altered, or belongs elsewhere"),
				VerifyError::NotCovered => ("NotCovered", "the anchor record given does not cover this sequence number"),
				VerifyError::ProofMismatch => ("ProofMismatch", "an anchor covers this sequence number, but this reading and path do not give its root at this position: the reading was altered"),
				VerifyError::ProofTooLong => ("ProofTooLong", "the receipt's Merkle path or log proof is longer than any real proof: it was tampered with"),
			};
			Ok(not_verified(name, text))
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

/// The receipt format `proof` writes (readings' leaves and paths of format version 2).
const RECEIPT_FORMAT: u64 = 2;

/// A reading, its Merkle path in its anchor and (once final) the anchor's record in the
/// device's log, as self-contained JSON.
fn receipt(reading: &Reading, path: &[H256], record: Option<&Record>) -> Value {
	let mut value = reading_json(reading);
	value["format"] = json!(RECEIPT_FORMAT);
	value["path"] = json!(path.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>());
	if let Some(record) = record {
		let mut shown = record_json(record);
		shown["encoded"] = json!(format!("0x{}", hex::encode(record.encode())));
		value["record"] = shown;
	}
	value
}

/// 32 bytes from `0x`-hex.
fn bytes32(text: &str, what: &str) -> Result<[u8; 32]> {
	let bytes = hex::decode(text.trim_start_matches("0x"))
		.with_context(|| format!("`{what}` is not hex"))?;
	<[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| anyhow!("`{what}` needs 32 bytes"))
}

/// A reading, its path and its anchor's record (if the receipt has one) back from a receipt.
fn from_receipt(value: &Value) -> Result<(Reading, Vec<H256>, Option<Record>)> {
	let field = |name: &str| value.get(name).ok_or_else(|| anyhow!("the receipt has no `{name}`"));
	match value.get("format").and_then(Value::as_u64) {
		Some(RECEIPT_FORMAT) => {},
		other => bail!(
			"the receipt is of format {}, this client reads format {RECEIPT_FORMAT}",
			other.map_or("1".to_string(), |f| f.to_string())
		),
	}
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
	let path = field("path")?
		.as_array()
		.ok_or_else(|| anyhow!("`path` is not a list"))?
		.iter()
		.map(|h| bytes32(h.as_str().unwrap_or_default(), "path").map(H256))
		.collect::<Result<Vec<_>>>()?;
	let record = match value.get("record").and_then(|r| r.get("encoded")).and_then(Value::as_str) {
		Some(encoded) => {
			let bytes = hex::decode(encoded.trim_start_matches("0x"))
				.context("the receipt's `record.encoded` is not hex")?;
			Some(Record::decode(&mut &bytes[..]).map_err(|e| {
				anyhow!("the receipt's `record.encoded` is not an anchor record: {e}")
			})?)
		},
		None => None,
	};
	Ok((Reading { device, seq, timestamp_ms, values, payload_hash }, path, record))
}
