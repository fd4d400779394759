//! `provena decrypt`: open the encrypted payload of the anchor holding a reading, and check
//! that what it holds is exactly what the device signed.

use crate::{
	args::{Account, ReadingRef},
	context::Context,
	output::reading_json,
};
use anyhow::{anyhow, bail, Result};
use clap::Args;
use provena_client::{access, crypto::PayloadHeader, show_device};
use provena_primitives::telemetry::{batch_root, Reading};
use serde_json::{json, Value};
use sp_core::H256;

/// Open the encrypted payload of the anchor holding a reading.
#[derive(Args, Debug)]
pub struct Decrypt {
	#[command(flatten)]
	reading: ReadingRef,
	/// The reader's account: the device's owner (it derives the key), or a reader (the key
	/// sealed to it opens its epoch and every earlier one).
	#[command(flatten)]
	account: Account,
}

/// Runs `provena decrypt`.
pub async fn run(ctx: &Context, args: Decrypt) -> Result<()> {
	let ReadingRef { device, seq } = args.reading;
	let account = args.account.load()?;
	let chain = ctx.connect().await?;
	let found = chain.log_proof(device, seq).await?.ok_or_else(|| {
		anyhow!("no anchor of device {} covers reading {seq}", show_device(&device))
	})?;
	let record = &found.record;
	// The device signed the payload's hash, and the chain's log keeps it: only a payload with
	// that hash is the anchor's, whatever else the block holds.
	let Some(payload_hash) = record.payload_hash else {
		bail!(
			"the anchor of reading {seq} (block #{}) carries no payload: it was sent without --encrypt",
			record.block
		);
	};
	let payload = chain
		.anchor_payload(device, record.first_seq, record.block, H256(payload_hash.0))
		.await?
		.ok_or_else(|| {
			anyhow!(
				"block #{} holds no payload with the hash the device signed for reading {seq}'s anchor",
				record.block
			)
		})?;
	let header = PayloadHeader::read(&payload)?;
	let mut store = ctx.store(&chain)?;
	let key = access::payload_key(&chain, &mut store, device, &account, header).await?;
	let plain = key.decrypt(&device, record.first_seq, record.count, &payload)?;
	let readings: Vec<Reading> = codec::Decode::decode(&mut &plain[..])
		.map_err(|e| anyhow!("the payload holds no readings: {e}"))?;
	// The payload must be exactly what the device signed.
	let leaves: Vec<H256> = readings.iter().map(Reading::leaf).collect();
	if batch_root(&leaves).0 != record.root.0 || readings.len() as u32 != record.count {
		bail!("the payload decrypts, but its readings do not give the anchor's root: it was altered before encryption");
	}
	let out: Vec<Value> = readings.iter().map(reading_json).collect();
	ctx.out.print(
		json!({ "device": show_device(&device), "first_seq": record.first_seq, "count": record.count, "block": record.block, "readings": out }),
		format!(
			"Anchor #{} of device {} (block #{}): {} readings, root checked\n{}",
			record.index,
			show_device(&device),
			record.block,
			record.count,
			out.iter().map(Value::to_string).collect::<Vec<_>>().join("\n")
		),
	);
	Ok(())
}
