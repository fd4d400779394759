//! `provena decrypt`: open the encrypted payload of the anchor holding a reading, and check
//! that what it holds is exactly what the device signed.

use crate::{
	args::{Account, ReadingRef},
	context::Context,
	output::reading_json,
};
use anyhow::{anyhow, bail, Result};
use clap::Args;
use provena_client::{
	chain::{account_of, Chain},
	crypto::{payload_key_id, DataKey},
	keys::{encryption_secret, ss58, KeyPair},
	show_device,
};
use provena_primitives::{
	permission,
	telemetry::{batch_root, Reading},
	DeviceId,
};
use serde_json::{json, Value};
use sp_core::H256;

/// Open the encrypted payload of the anchor holding a reading.
#[derive(Args, Debug)]
pub struct Decrypt {
	#[command(flatten)]
	reading: ReadingRef,
	/// The reader's account (its grant holds the sealed data key).
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
	let payload = chain.anchor_payload(device, record.first_seq, record.block).await?;
	let payload = payload.ok_or_else(|| {
		anyhow!(
			"the anchor of reading {seq} (block #{}) carries no payload: it was sent without --encrypt",
			record.block
		)
	})?;
	// The device signed the payload's hash, and the chain's log keeps it.
	if record.payload_hash != Some(H256(sp_crypto_hashing::blake2_256(&payload))) {
		bail!("the payload in block #{} is not the one the device signed", record.block);
	}
	let key_id = payload_key_id(&payload)?;
	// The store's key (an owner's), else the one sealed in the reader's grant.
	let stored = ctx.store(&chain).ok().and_then(|s| s.data_key(&device, key_id).ok().flatten());
	let key = match stored {
		Some(key) => key,
		None => granted_key(&chain, device, &account).await?,
	};
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

/// The data key sealed in `account`'s READ grant on `device`.
async fn granted_key(chain: &Chain, device: DeviceId, account: &KeyPair) -> Result<DataKey> {
	let who = account_of(account);
	let sealed = chain
		.grants(device)
		.await?
		.into_iter()
		.filter(|(_, grantee, g)| *grantee == who && g.permissions.0 & permission::READ != 0)
		.find_map(|(_, _, g)| g.sealed_key)
		.ok_or_else(|| {
			anyhow!(
				"{} holds no READ grant with a sealed key for device {}",
				ss58(who.0),
				show_device(&device)
			)
		})?;
	Ok(DataKey::open(&sealed.0, &encryption_secret(account))?)
}
