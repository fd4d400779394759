//! `provena-bench`: how many readings a Provena node takes in, against the generic baseline.
//!
//! One run sets up its own accounts and devices on a funded development chain, then loads the
//! node with each scenario in turn, for a warm-up and then a measured time:
//!
//! 1. `remark`: `System::remark_with_event` with 32 bytes, each account signing its own: the
//!    generic way to anchor 32 bytes on any Substrate chain;
//! 2. `single`: one reading per extrinsic, device-authorized: its anchor signed by the device
//!    key is the whole transaction (`device_anchor`, a general transaction), paid by one of the
//!    device's anchor credits, which the run buys during set-up;
//! 3. `gateway`: gateways relaying `anchor_batch`es of many devices' single-reading anchors;
//! 4. `merkle`: one device-authorized anchor per extrinsic committing a Merkle batch of
//!    readings.
//!
//! `scripts/bench.sh` runs it against a fresh dev node and the testnet; BENCHMARKS.md explains
//! the method and the figures.

mod args;
mod blocks;
mod cast;
mod generator;
mod load;
mod prebuilt;
mod report;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
	let args = args::BenchArgs::parse();
	provena_client::process::run_main(async { report::run(args).await.map(|()| ExitCode::SUCCESS) })
}
