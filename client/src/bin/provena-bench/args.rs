//! The benchmark's command line and its scenarios.

use clap::{Parser, ValueEnum};
use std::path::PathBuf;

/// One load the benchmark applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
	/// `System::remark_with_event`, 32 bytes, each account signing its own.
	Remark,
	/// One single-reading anchor per extrinsic, device-authorized (`device_anchor`, a general
	/// transaction paid by one of the device's credits).
	Single,
	/// Gateways' `anchor_batch`es of single-reading anchors of many devices.
	Gateway,
	/// One device-authorized anchor of a Merkle batch of readings per extrinsic.
	Merkle,
}

impl Scenario {
	/// The scenario as the report's table names it.
	pub fn label(self) -> &'static str {
		match self {
			Scenario::Remark => "(1) remark_with_event, 32 B",
			Scenario::Single => "(2) single anchors, device-authorized",
			Scenario::Gateway => "(3) gateway batches",
			Scenario::Merkle => "(4) Merkle batches, device-authorized",
		}
	}

	/// The scenario's key in the JSON report.
	pub fn key(self) -> &'static str {
		match self {
			Scenario::Remark => "remark",
			Scenario::Single => "single",
			Scenario::Gateway => "gateway",
			Scenario::Merkle => "merkle",
		}
	}
}

/// Throughput benchmark on a development chain: remarks vs. single, gateway and Merkle anchors.
///
/// The funder and the gateways are funded accounts of the chain under test, given as secret
/// URIs (a development chain's `//Alice`, `//Bob`…; `scripts/bench.sh` passes them).
#[derive(Parser, Debug)]
#[command(name = "provena-bench", version)]
pub struct BenchArgs {
	/// The node's WebSocket RPC URL.
	#[arg(long, env = "PROVENA_URL", default_value = "ws://127.0.0.1:9944")]
	pub url: String,
	/// Print the report as JSON instead of a table.
	#[arg(long)]
	pub json: bool,
	/// The scenarios to run, in this order (comma-separated).
	#[arg(long, value_enum, value_delimiter = ',',
		default_values_t = [Scenario::Remark, Scenario::Single, Scenario::Gateway, Scenario::Merkle])]
	pub scenarios: Vec<Scenario>,
	/// Seconds of load before measuring, per scenario.
	#[arg(long, default_value_t = 30)]
	pub warmup: u64,
	/// Seconds measured, per scenario.
	#[arg(long, default_value_t = 60)]
	pub duration: u64,
	/// Accounts created for the run; each is also a device (its key signs its anchors).
	#[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
	pub accounts: u32,
	/// Anchors per gateway transaction.
	#[arg(long, default_value_t = 100)]
	pub gateway_batch: u32,
	/// Readings per Merkle anchor.
	#[arg(long, default_value_t = 1000)]
	pub merkle_readings: u32,
	/// Merkle anchors built before the Merkle scenario starts, on threads of their own; they
	/// keep building while it runs, at most this many ahead. 0 builds each anchor as it is
	/// sent, on the generator's own thread.
	#[arg(long, default_value_t = 60_000)]
	pub prebuild: usize,
	/// The most transactions submitted and not yet in a block. Keep it under the node's pool
	/// limit (`--pool-limit`, 8192 by default).
	#[arg(long, default_value_t = 7000)]
	pub max_in_flight: usize,
	/// The node's process id, to sample its resident memory from /proc (same machine only).
	#[arg(long)]
	pub node_pid: Option<u32>,
	/// The node's base path, to report its database's size after each scenario (same
	/// machine only).
	#[arg(long)]
	pub node_db: Option<PathBuf>,
	/// The node's log file, to report how long its proposer took to build each full block
	/// (same machine only; the node's own "Prepared block" lines).
	#[arg(long)]
	pub node_log: Option<PathBuf>,
	/// The secret URI of the funded account that pays the run's accounts.
	#[arg(long)]
	pub funder: String,
	/// The gateways' secret URIs (funded; each registers and relays for a share of the
	/// devices).
	#[arg(long, value_delimiter = ',', required = true)]
	pub gateways: Vec<String>,
	/// Also write the results as JSON to this file.
	#[arg(long)]
	pub out: Option<PathBuf>,
}
