//! The `benchmark` subcommand (only with the `runtime-benchmarks` feature).
//!
//! `benchmark pallet` runs the runtime's benchmarks and writes the weight files
//! (`scripts/benchmark-weights.sh` drives it); `benchmark machine` measures this machine against
//! the reference hardware.

use crate::cli::Cli;
use frame_benchmarking_cli::{BenchmarkCmd, SUBSTRATE_REFERENCE_HARDWARE};
use provena_runtime::opaque::Block;
use sc_cli::SubstrateCli;
use sp_runtime::traits::HashingFor;

/// Runs one `benchmark` subcommand.
pub fn run(cli: &Cli, cmd: &BenchmarkCmd) -> sc_cli::Result<()> {
	let runner = cli.create_runner(cmd)?;
	match cmd {
		BenchmarkCmd::Pallet(cmd) => runner
			.sync_run(|config| cmd.run_with_spec::<HashingFor<Block>, ()>(Some(config.chain_spec))),
		BenchmarkCmd::Machine(cmd) => {
			runner.sync_run(|config| cmd.run(&config, SUBSTRATE_REFERENCE_HARDWARE.clone()))
		},
		_ => Err("provena-node implements `benchmark pallet` and `benchmark machine`; the \
			storage, overhead, block and extrinsic benchmarks are not wired up yet"
			.into()),
	}
}
