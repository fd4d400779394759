//! The `provena` commands: the command line as a whole, and where each command goes.

mod credits;
mod decrypt;
mod device;
mod encryption_key;
mod gateway;
mod grant;
mod group;
mod history;
mod key;
mod receipt;
mod rule;
mod simulate;
mod simulate_mqtt;
mod submit;
mod watch;

use crate::{context::Context, output::Output};
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::{path::PathBuf, process::ExitCode};

/// Provena: tamper-evident, traceable and privately shared IoT data.
///
/// Keys are given as key files (`--key`, made by `provena key generate`, optionally encrypted
/// under a password) or secret URIs (`--suri`, e.g. `//Alice` on a development chain). Human
/// output by default; `--json` for scripts. Confirmation means finalized.
#[derive(Parser, Debug)]
#[command(name = "provena", version, propagate_version = true)]
pub struct Cli {
	/// The node's WebSocket RPC URL.
	#[arg(long, global = true, env = "PROVENA_URL", default_value = "ws://127.0.0.1:9944")]
	pub url: String,
	/// Allow plain `ws://` to a node on another machine (anyone on the path could read and
	/// alter what it says); `wss://` and `ws://` to this machine need no flag.
	#[arg(long, global = true)]
	pub insecure: bool,
	/// Print JSON instead of text.
	#[arg(long, global = true)]
	pub json: bool,
	/// The gateway store (SQLite). Default: `$PROVENA_HOME/<genesis>.db`, one per chain, with
	/// `PROVENA_HOME` defaulting to `~/.provena`.
	#[arg(long, global = true, env = "PROVENA_STORE")]
	pub store: Option<PathBuf>,
	/// The password of encrypted key files, in a file readable by its owner only (one
	/// trailing newline is not part of it). Without it, a terminal is asked; nothing is asked
	/// without a terminal.
	#[arg(long, global = true, env = "PROVENA_PASSWORD_FILE", value_name = "FILE")]
	pub password_file: Option<PathBuf>,
	/// How many blocks a transaction this command signs stays valid after the block it is
	/// born at: a power of two from 8 to 2048. A shorter one learns sooner that a transaction
	/// of an abandoned fork can never be included; a longer one rides out longer stalls.
	#[arg(long, global = true, env = "PROVENA_MORTALITY", value_name = "BLOCKS", default_value_t = provena_client::chain::tx::MORTALITY)]
	pub mortality: u64,
	#[command(subcommand)]
	pub command: Command,
}

/// What `provena` can do.
#[derive(Subcommand, Debug)]
pub enum Command {
	/// Generate or inspect keys.
	#[command(subcommand)]
	Key(key::Command),
	/// Register and manage devices.
	#[command(subcommand)]
	Device(device::Command),
	/// Groups of devices, for grants that cover many.
	#[command(subcommand)]
	Group(group::Command),
	/// Give, list and revoke access.
	#[command(subcommand)]
	Grant(grant::Command),
	/// Take a grant back: the same as `provena grant revoke`.
	Revoke(grant::Revoke),
	/// Move a device's data key to a new epoch and give it to every reader (`--resume`: only
	/// give the epoch in force to readers still missing it).
	Rotate(grant::Rotate),
	/// Publish this account's encryption key, so owners can seal data keys to it.
	#[command(subcommand, name = "encryption-key")]
	EncryptionKey(encryption_key::Command),
	/// Alert bounds for a device's metrics.
	#[command(subcommand)]
	Rule(rule::Command),
	/// Prepaid anchors: buy them for a device, see how many it has.
	#[command(subcommand)]
	Credits(credits::Command),
	/// Anchor readings: one from the command line, or a file as Merkle batches.
	Submit(submit::Submit),
	/// What the store holds and where its anchors stand.
	Status,
	/// Write a proof bundle for a reading (or a range): everything needed to verify it offline.
	Proof(receipt::Proof),
	/// Check readings against the chain, trusting only its chain spec: a bundle offline, or a
	/// reading of the store through the proofs the node serves.
	Verify(receipt::Verify),
	/// A device's anchors over a sequence or time range.
	History(history::History),
	/// Follow finalized blocks and print Provena events (alerts highlighted).
	Watch(watch::Watch),
	/// Open the encrypted payload of the anchor holding a reading.
	Decrypt(decrypt::Decrypt),
	/// Simulated devices sending readings through one gateway.
	Simulate(simulate::Simulate),
	/// The gateway service: devices publish signed anchors over MQTT or HTTP.
	#[command(subcommand)]
	Gateway(gateway::Command),
}

/// Runs the command the command line names.
pub async fn run(cli: Cli) -> Result<ExitCode> {
	crate::args::set_password_file(cli.password_file);
	provena_client::chain::tx::set_mortality(cli.mortality)?;
	let ctx = Context {
		url: cli.url,
		insecure: cli.insecure,
		store: cli.store,
		out: Output { json: cli.json },
	};
	let done = |()| ExitCode::SUCCESS;
	match cli.command {
		Command::Key(command) => key::run(&ctx, command).await.map(done),
		Command::Device(command) => device::run(&ctx, command).await.map(done),
		Command::Group(command) => group::run(&ctx, command).await.map(done),
		Command::Grant(command) => grant::run(&ctx, command).await.map(done),
		Command::Revoke(args) => grant::revoke(&ctx, args).await.map(done),
		Command::Rotate(args) => grant::rotate(&ctx, args).await.map(done),
		Command::EncryptionKey(command) => encryption_key::run(&ctx, command).await.map(done),
		Command::Rule(command) => rule::run(&ctx, command).await.map(done),
		Command::Credits(command) => credits::run(&ctx, command).await.map(done),
		Command::Submit(args) => submit::run(&ctx, args).await,
		Command::Status => submit::status(&ctx).await.map(done),
		Command::Proof(args) => receipt::proof(&ctx, args).await.map(done),
		Command::Verify(args) => receipt::verify(&ctx, args).await,
		Command::History(args) => history::run(&ctx, args).await.map(done),
		Command::Watch(args) => watch::run(&ctx, args).await.map(done),
		Command::Decrypt(args) => decrypt::run(&ctx, args).await.map(done),
		Command::Simulate(args) => simulate::run(&ctx, args).await,
		Command::Gateway(command) => gateway::run(&ctx, command).await.map(done),
	}
}
