//! `provena proof` and `provena verify`: proof bundles, which anyone can check offline against
//! the chain spec's GRANDPA authorities, and their verification.
//!
//! `proof` asks the node for every proof a bundle needs (see `provena_client::bundle`) and
//! writes it. `verify --bundle FILE --chain-spec SPEC` checks a bundle without any network;
//! `verify --device D --seq N --chain-spec SPEC` makes a bundle for a reading of the store from
//! the node's answers and checks it the same way, so a node that lies cannot make it say
//! VERIFIED.

use crate::{
	args::{device_id, ReadingRef},
	context::Context,
	output::reading_json,
};
use anyhow::{anyhow, bail, Context as _, Result};
use clap::Args;
use provena_client::{
	bundle::{verify as verify_bundle, Bundle, BundleError, Trust, Verified},
	chain::Chain,
	keys::ss58,
	show_device,
	store::Store,
};
use provena_primitives::{telemetry::Reading, DeviceId};
use serde_json::json;
use sp_core::H256;
use std::{
	path::{Path, PathBuf},
	process::ExitCode,
};

/// The most readings one bundle carries.
const MAX_BUNDLE_READINGS: u64 = 10_000;

/// Write a proof bundle for a reading (or a range): everything needed to verify it offline.
#[derive(Args, Debug)]
pub struct Proof {
	#[command(flatten)]
	reading: ReadingRef,
	/// Include the readings up to this sequence number too (at most 10,000 in all).
	#[arg(long)]
	to: Option<u64>,
	/// Write the bundle to this file instead of standard output.
	#[arg(long, short)]
	out: Option<PathBuf>,
}

/// Check readings against the chain's finality, trusting only the chain spec: a bundle offline,
/// or a reading of the store through the proofs a node serves.
#[derive(Args, Debug)]
pub struct Verify {
	/// The device id (with `--seq`: the reading is taken from the store, its proofs from the
	/// node).
	#[arg(long, value_parser = device_id, requires = "seq", conflicts_with = "bundle")]
	device: Option<DeviceId>,
	/// The reading's sequence number.
	#[arg(long)]
	seq: Option<u64>,
	/// A proof bundle from `provena proof` (`-` for standard input), checked with no network.
	#[arg(long)]
	bundle: Option<PathBuf>,
	/// The chain's raw chain spec (JSON): its genesis and GRANDPA authorities are what is
	/// trusted. `provena-node build-spec --chain dev --raw` prints the dev chain's.
	#[arg(long, env = "PROVENA_CHAIN_SPEC", value_name = "SPEC")]
	chain_spec: Option<PathBuf>,
}

/// A reading of the store and its Merkle path, or why there is none.
fn stored_reading(store: &Store, device: &DeviceId, seq: u64) -> Result<(Reading, Vec<H256>)> {
	let stored = store.reading(device, seq)?.ok_or_else(|| {
		anyhow!("reading {seq} of device {} is not in this store", show_device(device))
	})?;
	let path = stored.proof.ok_or_else(|| {
		anyhow!("reading {seq} is not batched yet: run `provena submit --resume`")
	})?;
	Ok((stored.reading, path))
}

/// A bundle for readings `from ..= to` of `device` in the store, from the node's proofs.
async fn make_bundle(
	chain: &Chain,
	store: &Store,
	device: DeviceId,
	from: u64,
	to: u64,
) -> Result<Bundle> {
	if to < from {
		bail!("--to {to} is before --seq {from}");
	}
	if to - from >= MAX_BUNDLE_READINGS {
		bail!("a bundle carries at most {MAX_BUNDLE_READINGS} readings; make several");
	}
	let readings =
		(from..=to).map(|seq| stored_reading(store, &device, seq)).collect::<Result<Vec<_>>>()?;
	Ok(chain.proof_bundle(device, &readings).await?)
}

/// Runs `provena proof`.
pub async fn proof(ctx: &Context, args: Proof) -> Result<()> {
	let ReadingRef { device, seq } = args.reading;
	let chain = ctx.connect().await?;
	let store = ctx.store(&chain)?;
	let bundle = make_bundle(&chain, &store, device, seq, args.to.unwrap_or(seq)).await?;
	let text = serde_json::to_string_pretty(&bundle)?;
	match args.out {
		Some(path) => {
			write_new(&path, &text)?;
			ctx.out.note(format!(
				"wrote the proof bundle of {} reading(s) to {}; verify it anywhere with \
				 `provena verify --bundle {} --chain-spec SPEC`",
				bundle.readings.len(),
				path.display(),
				path.display()
			));
		},
		None => println!("{text}"),
	}
	Ok(())
}

/// Writes `text` to `path` through a temporary file, so a reader never sees half a bundle.
fn write_new(path: &Path, text: &str) -> Result<()> {
	let mut partial = path.as_os_str().to_owned();
	partial.push(".partial");
	let partial = PathBuf::from(partial);
	std::fs::write(&partial, text)
		.with_context(|| format!("cannot write {}", partial.display()))?;
	std::fs::rename(&partial, path).with_context(|| format!("cannot write {}", path.display()))
}

/// The trust root: the chain spec given, read and checked.
fn trust(args: &Verify) -> Result<Trust> {
	let Some(path) = &args.chain_spec else {
		bail!(
			"verify needs the chain's raw chain spec (--chain-spec SPEC or PROVENA_CHAIN_SPEC): \
			 its genesis and GRANDPA authorities are what a proof is checked against. \
			 `provena-node build-spec --chain dev --raw > dev.json` writes the dev chain's"
		)
	};
	let text = std::fs::read_to_string(path)
		.with_context(|| format!("cannot read the chain spec {}", path.display()))?;
	Trust::from_chain_spec(&text)
		.map_err(|e| anyhow!("{} cannot be used as a trust root: {e}", path.display()))
}

/// Runs `provena verify`. Exit code 2 when the readings do not verify.
pub async fn verify(ctx: &Context, args: Verify) -> Result<ExitCode> {
	let trust = trust(&args)?;
	let bundle = match (&args.bundle, args.device, args.seq) {
		(Some(path), _, _) => match parse_bundle(&read_text(path)?) {
			Ok(bundle) => bundle,
			Err(why) => return Ok(not_verified(ctx, &why)),
		},
		(None, Some(device), Some(seq)) => {
			let chain = ctx.connect().await?;
			let store = ctx.store(&chain)?;
			make_bundle(&chain, &store, device, seq, seq).await?
		},
		_ => bail!("give --bundle FILE, or --device and --seq"),
	};
	match verify_bundle(&bundle, &trust) {
		Ok(verified) => {
			print_verified(ctx, &verified);
			Ok(ExitCode::SUCCESS)
		},
		Err(why) => Ok(not_verified(ctx, &why)),
	}
}

fn print_verified(ctx: &Context, verified: &Verified) {
	let chain = format!("{} ({:?})", verified.chain, verified.genesis_hash);
	let trusted = format!(
		"finality proven by {} of {} authorities of set {} of chain {chain}, at block #{} {:?}",
		verified.signers,
		verified.authorities,
		verified.set_id,
		verified.finalized_block.0,
		verified.finalized_block.1
	);
	let mut lines = Vec::new();
	let mut readings = Vec::new();
	for (reading, record) in &verified.readings {
		let device = show_device(&reading.device);
		lines.push(format!(
			"VERIFIED: reading {} of device {device} is in anchor #{} (readings {}..{}), block \
			 #{}, chain time {} ms, submitted by {}",
			reading.seq,
			record.index,
			record.first_seq,
			record.last_seq(),
			record.block,
			record.chain_time_ms,
			ss58(record.submitter.0)
		));
		let mut value = reading_json(reading);
		value["anchor_index"] = json!(record.index);
		value["first_seq"] = json!(record.first_seq);
		value["count"] = json!(record.count);
		value["block"] = json!(record.block);
		value["chain_time_ms"] = json!(record.chain_time_ms);
		value["submitter"] = json!(ss58(record.submitter.0));
		readings.push(value);
	}
	lines.push(format!(
		"checked here, trusting only the chain spec: the device's log at block #{} {:?}; {trusted}",
		verified.state_block.0, verified.state_block.1
	));
	ctx.out.print(
		json!({
			"verified": true,
			"chain": verified.chain,
			"genesis_hash": format!("{:?}", verified.genesis_hash),
			"set_id": verified.set_id,
			"signers": verified.signers,
			"authorities": verified.authorities,
			"state_block": { "number": verified.state_block.0, "hash": format!("{:?}", verified.state_block.1) },
			"finalized_block": { "number": verified.finalized_block.0, "hash": format!("{:?}", verified.finalized_block.1) },
			"readings": readings,
		}),
		lines.join("\n"),
	);
}

fn not_verified(ctx: &Context, why: &BundleError) -> ExitCode {
	ctx.out.print(
		json!({ "verified": false, "reason": why.name(), "detail": why.to_string() }),
		format!("NOT VERIFIED: {why} ({})", why.name()),
	);
	ExitCode::from(2)
}

/// A bundle file's text (or standard input's, for `-`).
fn read_text(path: &Path) -> Result<String> {
	if path == Path::new("-") {
		std::io::read_to_string(std::io::stdin()).context("cannot read the bundle from stdin")
	} else {
		std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
	}
}

/// A bundle from its JSON, or why it is none.
fn parse_bundle(text: &str) -> Result<Bundle, BundleError> {
	serde_json::from_str(text)
		.map_err(|e| BundleError::Malformed(format!("this is not a proof bundle: {e}")))
}
