//! What the client's binaries share around their work: logging (`PROVENA_LOG`, default `warn`,
//! to stderr), the async runtime, and a failure printed with every cause behind it.

use std::{future::Future, process::ExitCode};

/// Runs a binary's `work` to its end and turns the outcome into the process's exit code: the
/// code `work` chose, or 1 with `error: …` and the chain of causes on stderr.
pub fn run_main(work: impl Future<Output = anyhow::Result<ExitCode>>) -> ExitCode {
	let filter = tracing_subscriber::EnvFilter::try_from_env("PROVENA_LOG")
		.unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
	tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
	let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
		Ok(runtime) => runtime,
		Err(error) => {
			eprintln!("error: cannot start the async runtime: {error}");
			return ExitCode::FAILURE;
		},
	};
	match runtime.block_on(work) {
		Ok(code) => code,
		Err(error) => {
			eprintln!("error: {error:#}");
			ExitCode::FAILURE
		},
	}
}
