//! Dispatches the command line to the node or to a subcommand.

use crate::{
	chain_spec,
	cli::{Cli, Subcommand},
	service,
};
use sc_cli::SubstrateCli;
use sc_service::PartialComponents;

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"Provena Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").into()
	}

	fn support_url() -> String {
		"https://github.com/provena-network/provena/issues".into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	/// `dev`, `local`, `testnet` (an empty id means `local`), `production:FILE` (a network the
	/// operator describes: [`crate::production`]), or the path of a chain spec file.
	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		Ok(match id {
			"dev" => Box::new(chain_spec::development()?),
			"" | "local" => Box::new(chain_spec::local_testnet()?),
			"testnet" => Box::new(chain_spec::testnet()?),
			_ if id.starts_with("production:") => {
				// Only a spec being printed may draw its deployment value: a node started
				// from the file itself must get the same genesis every time.
				let building = matches!(
					self.subcommand,
					Some(Subcommand::BuildSpec(_)) | Some(Subcommand::ExportChainSpec(_))
				);
				let path = std::path::Path::new(&id["production:".len()..]);
				Box::new(crate::production::production(path, building)?)
			},
			path => {
				Box::new(chain_spec::ChainSpec::from_json_file(std::path::PathBuf::from(path))?)
			},
		})
	}
}

/// Parses the command line and runs what it asks for.
pub fn run() -> sc_cli::Result<()> {
	let cli = Cli::from_args();

	match &cli.subcommand {
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		#[allow(deprecated)]
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		},
		Some(Subcommand::ExportChainSpec(cmd)) => {
			let spec = cli.load_spec(&cmd.chain)?;
			cmd.run(spec)
		},
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		},
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		},
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		},
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, backend, .. } =
					service::new_partial(&config)?;
				let aux_revert = Box::new(|client, _, blocks| {
					sc_consensus_grandpa::revert(client, blocks)?;
					Ok(())
				});
				Ok((cmd.run(client, backend, Some(aux_revert)), task_manager))
			})
		},
		#[cfg(feature = "runtime-benchmarks")]
		Some(Subcommand::Benchmark(cmd)) => crate::benchmarking::run(&cli, cmd),
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<provena_runtime::opaque::Block>(&config))
		},
		None => {
			let mut runner = cli.create_runner(&cli.run)?;
			refuse_public_keys_validating(&cli, runner.config())?;
			// `auto`, the SDK's default, serves every method, unsafe ones included, when RPC
			// listens on loopback only. A Provena node serves the safe ones unless told
			// `--rpc-methods unsafe`: keys go into the keystore with `provena-node key insert`.
			use sc_service::config::RpcMethods;
			let rpc = &mut runner.config_mut().rpc;
			if matches!(rpc.methods, RpcMethods::Auto) {
				rpc.methods = RpcMethods::Safe;
			}
			// Each endpoint carries its own copy of the setting.
			for endpoint in rpc.addr.iter_mut().flatten() {
				if matches!(endpoint.rpc_methods, RpcMethods::Auto) {
					endpoint.rpc_methods = RpcMethods::Safe;
				}
			}
			runner.run_node_until_exit(|config| async move {
				service::new_full(config).map_err(sc_cli::Error::Service)
			})
		},
	}
}

/// Refuses to validate a development or local chain outside `--dev` without `--test-network`:
/// the keys of their validators and sudo are public, so such a network must never be mistaken
/// for one that holds anything.
fn refuse_public_keys_validating(
	cli: &Cli,
	config: &sc_service::Configuration,
) -> sc_cli::Result<()> {
	use sc_service::ChainType;
	let public_keys =
		matches!(config.chain_spec.chain_type(), ChainType::Development | ChainType::Local);
	if config.role.is_authority()
		&& public_keys
		&& !cli.run.shared_params.is_dev()
		&& !cli.test_network
	{
		return Err(sc_cli::Error::Input(format!(
			"refusing to validate `{}` ({:?} chain): its keys are public, so anyone can author \
			 and finalize on it. For a test network, add --test-network; for a real one, build \
			 a spec with `provena-node build-spec --chain production:FILE` (docs/deploy.md)",
			config.chain_spec.name(),
			config.chain_spec.chain_type()
		)));
	}
	Ok(())
}
