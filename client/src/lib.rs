//! # Provena client
//!
//! The library behind the `provena` command: what devices, gateways, owners and auditors do
//! with a Provena chain. It shares bytes with the runtime only through `provena-primitives`, so
//! what it signs and hashes is exactly what the chain checks, and it knows the chain's calls,
//! storage and runtime APIs through the metadata checked in at `client/metadata/provena.scale`.
//!
//! - [`readings`]: consecutive readings into Merkle batches and device-signed anchors.
//! - [`keys`]: key files (0600) for devices and accounts, and accounts' encryption keys.
//! - [`crypto`]: device data keys sealed to grantees, and encrypted payloads.
//! - [`input`]: readings from JSON Lines, CSV and the command line.
//! - [`store`]: the gateway's SQLite store of readings, proofs and anchors.
//! - [`chain`]: the typed chain API (subxt), confirmation at finality, errors by name.
//! - [`display`]: chain values as readable JSON.
//! - [`gateway`]: importing, batching, signing and delivering readings, resumable at any point.

pub mod chain;
pub mod crypto;
pub mod display;
pub mod gateway;
pub mod input;
pub mod keys;
pub mod readings;
pub mod store;

use provena_primitives::DeviceId;

/// What can go wrong, said so that the reader knows what to do next.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	/// The node does not answer.
	#[error(
		"cannot reach the node at {url}: {reason}. Is it running? (`scripts/start.sh` starts \
		 one; `--url` picks another)"
	)]
	Unreachable {
		/// The node's URL.
		url: String,
		/// What the transport said.
		reason: String,
	},
	/// The chain ran the call and refused it.
	#[error("the chain refused it: {pallet}.{error}{}", if docs.is_empty() { String::new() } else { format!(" ({docs})") })]
	Dispatch {
		/// The pallet that refused.
		pallet: String,
		/// Its error's name.
		error: String,
		/// Its error's docs.
		docs: String,
	},
	/// The node's pool did not take the transaction.
	#[error("the node did not accept the transaction: {0}")]
	Rejected(String),
	/// The device is not registered on this chain.
	#[error("device 0x{} is not registered on this chain (`provena device list` shows yours)", hex::encode(.0))]
	UnknownDevice(DeviceId),
	/// The account may not do this.
	#[error("{0}")]
	NotAuthorized(String),
	/// A key file or secret is unusable.
	#[error("{0}")]
	Key(String),
	/// Input that is not what it should be.
	#[error("{0}")]
	Input(String),
	/// The local store failed.
	#[error("store: {0}")]
	Store(String),
	/// Encryption or decryption failed.
	#[error("{0}")]
	Crypto(String),
	/// The chain and the client's metadata do not fit.
	#[error("unexpected chain data: {0}")]
	Metadata(String),
}

/// Parses a device id: 32 bytes as `0x`-hex.
pub fn parse_device(text: &str) -> Result<DeviceId, Error> {
	let bytes = hex::decode(text.trim_start_matches("0x")).map_err(|e| {
		Error::Input(format!("`{text}` is not a device id (0x + 64 hex digits): {e}"))
	})?;
	bytes
		.try_into()
		.map_err(|_| Error::Input(format!("`{text}` is not a device id: it needs 32 bytes")))
}

/// A device id as `0x`-hex.
pub fn show_device(device: &DeviceId) -> String {
	format!("0x{}", hex::encode(device))
}
