//! `provena`: the Provena device client for owners, devices, gateways and auditors.

mod bench;
mod commands;
mod simulate;

use clap::{Args, Parser, Subcommand};
use provena_client::keys::Scheme;
use std::path::PathBuf;

/// Provena: tamper-evident, traceable and privately shared IoT data.
///
/// Keys are given as key files (`--key`, made by `provena key generate`) or secret URIs
/// (`--suri`, e.g. `//Alice` on a development chain). Human output by default; `--json` for
/// scripts. Confirmation means finalized.
#[derive(Parser, Debug)]
#[command(name = "provena", version, propagate_version = true)]
pub struct Cli {
	/// The node's WebSocket RPC URL.
	#[arg(long, global = true, env = "PROVENA_URL", default_value = "ws://127.0.0.1:9944")]
	pub url: String,
	/// Print JSON instead of text.
	#[arg(long, global = true)]
	pub json: bool,
	/// The gateway store (SQLite). Default: `$PROVENA_HOME/<genesis>.db`, one per chain, with
	/// `PROVENA_HOME` defaulting to `~/.provena`.
	#[arg(long, global = true, env = "PROVENA_STORE")]
	pub store: Option<PathBuf>,
	#[command(subcommand)]
	pub command: Command,
}

/// The account that signs transactions.
#[derive(Args, Debug, Clone)]
pub struct Account {
	/// The account's key file.
	#[arg(long, env = "PROVENA_KEY", conflicts_with = "suri")]
	pub key: Option<PathBuf>,
	/// The account's secret URI instead of a key file (development chains: `//Alice`).
	#[arg(long, env = "PROVENA_SURI")]
	pub suri: Option<String>,
	/// The scheme of `--suri`.
	#[arg(long, value_enum, default_value = "sr25519")]
	pub scheme: Scheme,
}

/// A device's key: a key file or a secret URI.
#[derive(Args, Debug, Clone)]
pub struct DeviceKeyArgs {
	/// The device's key file.
	#[arg(long = "device-key", conflicts_with = "device_suri")]
	pub device_key: Option<PathBuf>,
	/// The device's secret URI instead of a key file.
	#[arg(long = "device-suri")]
	pub device_suri: Option<String>,
	/// The scheme of `--device-suri`.
	#[arg(long = "device-scheme", value_enum, default_value = "sr25519")]
	pub device_scheme: Scheme,
}

#[derive(Subcommand, Debug)]
pub enum Command {
	/// Generate or inspect keys.
	#[command(subcommand)]
	Key(KeyCommand),
	/// Register and manage devices.
	#[command(subcommand)]
	Device(DeviceCommand),
	/// Groups of devices, for grants that cover many.
	#[command(subcommand)]
	Group(GroupCommand),
	/// Give, list and revoke access.
	#[command(subcommand)]
	Grant(GrantCommand),
	/// Take a grant back (and rotate the device's data key when it could read).
	Revoke(RevokeArgs),
	/// Publish this account's encryption key, so owners can seal data keys to it.
	#[command(subcommand, name = "encryption-key")]
	EncryptionKey(EncryptionKeyCommand),
	/// Alert bounds for a device's metrics.
	#[command(subcommand)]
	Rule(RuleCommand),
	/// Anchor readings: one from the command line, or a file as Merkle batches.
	Submit(SubmitArgs),
	/// What the store holds and where its anchors stand.
	Status,
	/// Print a reading with its Merkle proof, as a receipt anyone can verify.
	Proof(ReadingRef),
	/// Check a reading against the chain: where and when it was anchored, or why not.
	Verify(VerifyArgs),
	/// A device's anchors over a sequence or time range.
	History(HistoryArgs),
	/// Follow finalized blocks and print Provena events (alerts highlighted).
	Watch(WatchArgs),
	/// Open the encrypted payload of the anchor holding a reading.
	Decrypt(DecryptArgs),
	/// Simulated devices sending readings through one gateway; also the load generator.
	Simulate(simulate::SimulateArgs),
	/// Throughput benchmark on a development chain: remarks vs. single, gateway and Merkle
	/// anchors (`scripts/bench.sh` runs it against a fresh node).
	Bench(bench::BenchArgs),
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
	/// Create a key file (mode 0600) with a fresh key, or for a given secret URI.
	Generate {
		/// Where to write it; an existing file is never overwritten.
		#[arg(long)]
		out: PathBuf,
		/// sr25519 or ed25519.
		#[arg(long, value_enum, default_value = "sr25519")]
		scheme: Scheme,
		/// Use this secret URI instead of a fresh phrase.
		#[arg(long)]
		uri: Option<String>,
	},
	/// Show a key file's public key, address and encryption key.
	Inspect {
		/// The key file.
		file: PathBuf,
		/// Print only the device id the key gives (for scripts).
		#[arg(long)]
		device_id: bool,
	},
}

#[derive(Subcommand, Debug)]
pub enum DeviceCommand {
	/// Register a device under the signing account; its id defaults to its public key.
	Register {
		#[command(flatten)]
		account: Account,
		#[command(flatten)]
		device: DeviceKeyArgs,
		/// The device id (0x + 64 hex); default: the device's public key.
		#[arg(long)]
		id: Option<String>,
		#[command(flatten)]
		metadata: MetadataArgs,
	},
	/// Show a device's record.
	Show {
		/// The device id.
		device: String,
	},
	/// List the devices an account owns (default: the signing account).
	List {
		/// The owner (SS58 or 0x-hex).
		#[arg(long)]
		owner: Option<String>,
		#[command(flatten)]
		account: Account,
	},
	/// Replace a device's description.
	Update {
		/// The device id.
		device: String,
		#[command(flatten)]
		account: Account,
		#[command(flatten)]
		metadata: MetadataArgs,
	},
	/// Give a device a new key (the old one stops signing at once).
	RotateKey {
		/// The device id.
		device: String,
		#[command(flatten)]
		account: Account,
		#[command(flatten)]
		new_key: DeviceKeyArgs,
	},
	/// Stop a device anchoring until resumed.
	Suspend {
		/// The device id.
		device: String,
		#[command(flatten)]
		account: Account,
	},
	/// Let a suspended device anchor again.
	Resume {
		/// The device id.
		device: String,
		#[command(flatten)]
		account: Account,
	},
	/// Retire a device for good (its deposit comes back; its history stays).
	Decommission {
		/// The device id.
		device: String,
		#[command(flatten)]
		account: Account,
	},
	/// Offer a device to another account.
	Transfer {
		/// The device id.
		device: String,
		/// The new owner (SS58 or 0x-hex).
		#[arg(long)]
		to: String,
		#[command(flatten)]
		account: Account,
	},
	/// Accept a device offered to the signing account.
	Accept {
		/// The device id.
		device: String,
		#[command(flatten)]
		account: Account,
	},
}

#[derive(Args, Debug, Clone)]
pub struct MetadataArgs {
	/// What kind of device, e.g. `thermometer`.
	#[arg(long, default_value = "")]
	pub kind: String,
	/// Maker and model.
	#[arg(long, default_value = "")]
	pub model: String,
	/// Where it is.
	#[arg(long, default_value = "")]
	pub location: String,
	/// The firmware's hash (0x + 64 hex).
	#[arg(long)]
	pub firmware: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum GroupCommand {
	/// Create a group; prints its id.
	Create {
		/// Its name.
		name: String,
		#[command(flatten)]
		account: Account,
	},
	/// Put one of your devices in a group.
	Add {
		/// The group id.
		group: u32,
		/// The device id.
		device: String,
		#[command(flatten)]
		account: Account,
	},
	/// Take a device out of a group.
	Remove {
		/// The group id.
		group: u32,
		/// The device id.
		device: String,
		#[command(flatten)]
		account: Account,
	},
	/// Dissolve a group without grants.
	Dissolve {
		/// The group id.
		group: u32,
		#[command(flatten)]
		account: Account,
	},
}

/// What a grant covers: one device or a group.
#[derive(Args, Debug, Clone)]
#[group(required = true, multiple = false)]
pub struct ScopeArgs {
	/// A device id.
	#[arg(long)]
	pub device: Option<String>,
	/// A group id.
	#[arg(long)]
	pub group: Option<u32>,
}

#[derive(Subcommand, Debug)]
pub enum GrantCommand {
	/// Grant permissions to an account; READ seals the device's data key to the grantee.
	Add {
		#[command(flatten)]
		scope: ScopeArgs,
		/// The grantee (SS58 or 0x-hex).
		#[arg(long)]
		to: String,
		/// May anchor readings.
		#[arg(long)]
		submit: bool,
		/// May read payloads (the data key is sealed to the grantee's published key).
		#[arg(long)]
		read: bool,
		/// May manage grants and alert rules.
		#[arg(long)]
		manage: bool,
		/// May pass MANAGE on.
		#[arg(long)]
		delegate: bool,
		/// The block from which the grant no longer counts.
		#[arg(long)]
		expires: Option<u32>,
		#[command(flatten)]
		account: Account,
	},
	/// List the grants on a device (direct and through its groups).
	List {
		/// The device id.
		#[arg(long)]
		device: String,
	},
}

#[derive(Args, Debug)]
pub struct RevokeArgs {
	#[command(flatten)]
	pub scope: ScopeArgs,
	/// The grantee (SS58 or 0x-hex).
	#[arg(long)]
	pub to: String,
	/// Keep the data key even if the grant could read (default: rotate it and re-seal it for
	/// the remaining readers).
	#[arg(long)]
	pub no_rotate: bool,
	#[command(flatten)]
	pub account: Account,
}

#[derive(Subcommand, Debug)]
pub enum EncryptionKeyCommand {
	/// Publish the signing account's x25519 key.
	Publish {
		#[command(flatten)]
		account: Account,
	},
}

#[derive(Subcommand, Debug)]
pub enum RuleCommand {
	/// Set bounds for a metric; a public value outside them raises an alert.
	Set {
		/// The device id.
		#[arg(long)]
		device: String,
		/// The metric.
		#[arg(long)]
		metric: String,
		/// The lowest allowed value.
		#[arg(long, allow_negative_numbers = true)]
		min: Option<f64>,
		/// The highest allowed value.
		#[arg(long, allow_negative_numbers = true)]
		max: Option<f64>,
		#[command(flatten)]
		account: Account,
	},
	/// Remove a metric's bounds.
	Clear {
		/// The device id.
		#[arg(long)]
		device: String,
		/// The metric.
		#[arg(long)]
		metric: String,
		#[command(flatten)]
		account: Account,
	},
	/// List a device's rules.
	List {
		/// The device id.
		#[arg(long)]
		device: String,
	},
}

#[derive(Args, Debug)]
pub struct SubmitArgs {
	/// The device the readings are from.
	#[arg(long)]
	pub device: String,
	#[command(flatten)]
	pub device_key: DeviceKeyArgs,
	/// The account that sends (the device's own, its owner's, or a gateway with SUBMIT).
	#[command(flatten)]
	pub account: Account,
	/// One reading's values: `metric=value` (repeatable).
	#[arg(long = "value", conflicts_with = "file")]
	pub values: Vec<String>,
	/// A file of readings: JSON Lines, CSV (`.csv`), or `-` for JSON Lines on stdin.
	#[arg(long)]
	pub file: Option<PathBuf>,
	/// Readings per Merkle anchor.
	#[arg(long, default_value_t = 16)]
	pub batch_size: usize,
	/// Anchors per transaction (more than 1 sends `anchor_batch`).
	#[arg(long, default_value_t = 16)]
	pub anchors_per_tx: usize,
	/// Transactions in flight at once.
	#[arg(long, default_value_t = 64)]
	pub max_in_flight: usize,
	/// Encrypt each anchor's readings into its payload for the device's READ grantees.
	#[arg(long)]
	pub encrypt: bool,
	/// Only send what the store still has pending; read no new readings.
	#[arg(long, conflicts_with_all = ["file", "values"])]
	pub resume: bool,
}

#[derive(Args, Debug)]
pub struct ReadingRef {
	/// The device id.
	#[arg(long)]
	pub device: String,
	/// The reading's sequence number.
	#[arg(long)]
	pub seq: u64,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
	/// The device id (with `--seq`: the reading is taken from the store).
	#[arg(long, requires = "seq", conflicts_with = "receipt")]
	pub device: Option<String>,
	/// The reading's sequence number.
	#[arg(long)]
	pub seq: Option<u64>,
	/// A receipt from `provena proof` (`-` for stdin).
	#[arg(long)]
	pub receipt: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
	/// The device id.
	#[arg(long)]
	pub device: String,
	/// From this sequence number.
	#[arg(long, default_value_t = 0)]
	pub from_seq: u64,
	/// Up to this sequence number.
	#[arg(long, default_value_t = u64::MAX)]
	pub to_seq: u64,
	/// Only anchors with readings at or after this device time (ms since the epoch).
	#[arg(long)]
	pub since_ms: Option<u64>,
	/// Only anchors with readings at or before this device time.
	#[arg(long)]
	pub until_ms: Option<u64>,
	/// At most this many anchors.
	#[arg(long, default_value_t = 100)]
	pub limit: u32,
}

#[derive(Args, Debug)]
pub struct WatchArgs {
	/// Stop after this many finalized blocks (default: run until Ctrl-C).
	#[arg(long)]
	pub blocks: Option<u64>,
}

#[derive(Args, Debug)]
pub struct DecryptArgs {
	#[command(flatten)]
	pub reading: ReadingRef,
	/// The reader's account (its grant holds the sealed data key).
	#[command(flatten)]
	pub account: Account,
}

fn main() -> std::process::ExitCode {
	let cli = Cli::parse();
	tracing_subscriber::fmt()
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_env("PROVENA_LOG")
				.unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
		)
		.with_writer(std::io::stderr)
		.init();
	let runtime = tokio::runtime::Builder::new_multi_thread()
		.enable_all()
		.build()
		.expect("a tokio runtime starts");
	match runtime.block_on(commands::run(cli)) {
		Ok(code) => code,
		Err(error) => {
			eprintln!("error: {error:#}");
			std::process::ExitCode::FAILURE
		},
	}
}
