//! The `benchmark` subcommand (only with the `runtime-benchmarks` feature).
//!
//! `benchmark pallet` runs the runtime's benchmarks and writes the weight files;
//! `benchmark overhead` measures the base weights of a block and of an extrinsic on a ParityDB
//! database; `benchmark storage` times reading and writing every key of a chain's state in its
//! database, the runtime's database weights (`scripts/benchmark-weights.sh` drives all three);
//! `benchmark block` executes a chain's recorded blocks again and compares each one's execution
//! time with the weight it declared (`scripts/check-block-weights.sh` runs it on the blocks of a
//! `scripts/bench.sh` run); `benchmark machine` measures this machine against the reference
//! hardware.

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
		// Builds blocks of signed `System::remark`s on the runtime of the given chain spec and
		// writes `block_weights.rs` and `extrinsic_weights.rs`.
		BenchmarkCmd::Overhead(cmd) => runner.sync_run(|config| {
			cmd.run_with_default_builder_and_spec::<Block, ()>(Some(config.chain_spec))
		}),
		// Reads and writes every key of the state at the database's best block: the cost of one
		// storage read and one write on this machine, written as `paritydb_weights.rs`.
		BenchmarkCmd::Storage(cmd) => runner.sync_run(|config| {
			let parts = crate::service::new_partial(&config)?;
			let db = parts.backend.expose_db();
			let storage = parts.backend.expose_storage();
			let trie_cache = parts.backend.expose_shared_trie_cache();
			cmd.run(config, parts.client, db, storage, trie_cache)
		}),
		// Executes blocks `--from`..=`--to` of the database again, `--repeat` times each, and
		// logs the time each took against the weight it consumed (`System::BlockWeight`).
		BenchmarkCmd::Block(cmd) => runner.sync_run(|config| {
			let parts = crate::service::new_partial(&config)?;
			cmd.run(parts.client)
		}),
		BenchmarkCmd::Machine(cmd) => {
			runner.sync_run(|config| cmd.run(&config, SUBSTRATE_REFERENCE_HARDWARE.clone()))
		},
		_ => Err("provena-node implements `benchmark pallet`, `overhead`, `storage`, `block` \
			and `machine`; the extrinsic benchmark is not wired up"
			.into()),
	}
}
