//! `provena`: the Provena device client for owners, devices, gateways and auditors.
//!
//! This file parses the command line and hands it to [`commands::run`]; each command family
//! lives in its own module under `commands/`, with its options and what it does.

mod args;
mod commands;
mod context;
mod output;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
	let cli = commands::Cli::parse();
	provena_client::process::run_main(commands::run(cli))
}
