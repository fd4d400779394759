//! The node's command line: `provena-node [SUBCOMMAND] [OPTIONS]`.

/// Everything `provena-node` can do besides running a node.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect and insert keys (session keys into the keystore).
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Print a chain specification as JSON (`--chain dev|local|testnet|production:<network
	/// file>|<spec file>`, `--raw` for the storage form a network starts from).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export a chain specification as JSON, without needing a database.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate a block by importing it without writing it.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks to a file.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state at a given block into a chain specification.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks from a file.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain database.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Run the runtime's benchmarks (`benchmark pallet` generates weights). Only in a node built
	/// with `--features runtime-benchmarks`.
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Show information about the database: best and finalized blocks.
	ChainInfo(sc_cli::ChainInfoCmd),
}

/// `provena-node` options: a subcommand, or the options of a running node.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	/// What to do; with none, run the node.
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	/// Options of the running node (`--dev`, `--chain`, `--base-path`, `--rpc-port`, ...).
	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	/// Let this node validate a development or local chain (`local`, `testnet`, or a spec file
	/// of either type) without `--dev`. Their keys are public, so anyone can author and
	/// finalize on them: a validator refuses to start on one unless told it is a test network.
	#[arg(long)]
	pub test_network: bool,
}
