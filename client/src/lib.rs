//! # Provena client
//!
//! The library behind the `provena` command and the `provena-bench` load generator: what
//! devices, gateways, owners and auditors do with a Provena chain. It shares bytes with the
//! runtime only through `provena-primitives`, so what it signs and hashes is exactly what the
//! chain checks, and it knows the chain's calls, storage and runtime APIs through the metadata
//! checked in at `client/metadata/provena.scale`.
//!
//! - [`readings`]: consecutive readings into Merkle batches and device-signed anchors.
//! - [`keys`]: key files (0600) for devices and accounts, and accounts' encryption keys.
//! - [`crypto`]: device data keys in epochs, derived from the owner's secret, sealed to
//!   readers, and encrypted payloads.
//! - [`access`]: READ against the chain: which key encrypts now, which opens a payload, and
//!   giving the epoch in force to every reader.
//! - [`input`]: readings from JSON Lines, CSV and the command line.
//! - [`store`]: the gateway's SQLite store of readings, proofs and anchors.
//! - [`chain`]: the typed chain API (subxt), the one transaction pipeline, typed events.
//! - [`bundle`]: proof bundles, verified offline against the chain spec's GRANDPA authorities.
//! - [`display`]: chain values as readable JSON.
//! - [`gateway`]: importing, batching, signing and delivering readings, resumable at any point.
//! - [`report`]: the clock and percentiles the reports share.
//! - [`process`]: logging, the async runtime and exit codes for the binaries.
//! - [`Error`]: what can go wrong, with its causes kept.

pub mod access;
pub mod bundle;
pub mod chain;
pub mod crypto;
pub mod display;
pub mod error;
pub mod gateway;
pub mod input;
pub mod keys;
pub mod process;
pub mod readings;
pub mod report;
pub mod store;

pub use error::Error;

use provena_primitives::DeviceId;
use sp_core::hexdisplay::HexDisplay;

/// Parses a device id: 32 bytes as `0x`-hex.
pub fn parse_device(text: &str) -> Result<DeviceId, Error> {
	let bytes = hex::decode(text.trim_start_matches("0x")).map_err(|e| {
		Error::input_from(format!("`{text}` is not a device id (0x + 64 hex digits)"), e)
	})?;
	bytes
		.try_into()
		.map_err(|_| Error::input(format!("`{text}` is not a device id: it needs 32 bytes")))
}

/// A device id as `0x`-hex.
pub fn show_device(device: &DeviceId) -> String {
	format!("0x{}", HexDisplay::from(device))
}
