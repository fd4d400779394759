//! The Provena node: produces blocks with Aura, finalizes them with GRANDPA, stores state in
//! ParityDB, and serves the Provena runtime over RPC (default `ws://127.0.0.1:9944`).

#![warn(missing_docs)]
// The node returns sc-cli's and sc-service's errors, which are large by design; boxing them at
// every call would only hide the types the SDK's own commands expect.
#![allow(clippy::result_large_err)]

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod chain_spec;
mod cli;
mod command;
mod finality_rpc;
mod log_rpc;
mod production;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
