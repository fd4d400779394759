//! Arguments many commands share, parsed by clap into typed values: a bad device id or account
//! is a clap error that names the flag, before anything else happens.
//!
//! One convention across commands: a device is always `--device ID`, a group `--group ID`, an
//! account to act on `--to ACCOUNT` (or `--owner`), the signing account `--key FILE` or
//! `--suri URI`, and a device's own key `--device-key FILE` or `--device-suri URI`.

use anyhow::{bail, Result};
use clap::Args;
use provena_client::{
	chain::{api::runtime_types::pallet_access_control::types::Scope, Bounded},
	keys::{parse_account, KeyFile, KeyPair, Scheme},
	parse_device,
};
use provena_primitives::DeviceId;
use std::path::PathBuf;
use subxt::utils::{AccountId32, H256};

/// Parses a device id (0x + 64 hex digits).
pub fn device_id(text: &str) -> Result<DeviceId, String> {
	parse_device(text).map_err(|e| e.to_string())
}

/// Parses an account: an SS58 address or 0x + 64 hex digits.
pub fn account_id(text: &str) -> Result<AccountId32, String> {
	parse_account(text).map(AccountId32).map_err(|e| e.to_string())
}

/// Parses a 32-byte hash (0x + 64 hex digits).
pub fn hash(text: &str) -> Result<H256, String> {
	let bytes = hex::decode(text.trim_start_matches("0x")).map_err(|e| format!("not hex: {e}"))?;
	<[u8; 32]>::try_from(bytes.as_slice()).map(H256).map_err(|_| "a hash has 32 bytes".into())
}

/// The account that signs transactions.
#[derive(Args, Debug, Clone)]
pub struct Account {
	/// The account's key file.
	#[arg(long, env = "PROVENA_KEY", conflicts_with = "suri")]
	pub key: Option<PathBuf>,
	/// The account's secret URI instead of a key file (development chains: `//Alice`).
	#[arg(long, env = "PROVENA_SURI")]
	pub suri: Option<String>,
	/// The scheme of `--suri`.
	#[arg(long, value_enum, default_value = "sr25519")]
	pub scheme: Scheme,
}

impl Account {
	/// The signing account's key.
	pub fn load(&self) -> Result<KeyPair> {
		match (&self.key, &self.suri) {
			(Some(path), _) => Ok(KeyFile::read(path)?.1),
			(None, Some(uri)) => Ok(KeyFile::from_uri(self.scheme, uri)?.1),
			(None, None) => bail!(
				"this command signs: give the account's key file with --key FILE (or PROVENA_KEY), \
				 or a secret URI with --suri"
			),
		}
	}
}

/// A device's key: a key file or a secret URI.
#[derive(Args, Debug, Clone)]
pub struct DeviceKey {
	/// The device's key file.
	#[arg(long = "device-key", conflicts_with = "device_suri")]
	pub device_key: Option<PathBuf>,
	/// The device's secret URI instead of a key file.
	#[arg(long = "device-suri")]
	pub device_suri: Option<String>,
	/// The scheme of `--device-suri`.
	#[arg(long = "device-scheme", value_enum, default_value = "sr25519")]
	pub device_scheme: Scheme,
}

impl DeviceKey {
	/// The device's key.
	pub fn load(&self) -> Result<KeyPair> {
		match (&self.device_key, &self.device_suri) {
			(Some(path), _) => Ok(KeyFile::read(path)?.1),
			(None, Some(uri)) => Ok(KeyFile::from_uri(self.device_scheme, uri)?.1),
			(None, None) => {
				bail!("give the device's key file with --device-key FILE (or --device-suri)")
			},
		}
	}
}

/// The device a command is about.
#[derive(Args, Debug, Clone)]
pub struct Device {
	/// The device id (0x + 64 hex digits).
	#[arg(long, value_parser = device_id)]
	pub device: DeviceId,
}

/// A reading: a device and a sequence number.
#[derive(Args, Debug, Clone)]
pub struct ReadingRef {
	/// The device id (0x + 64 hex digits).
	#[arg(long, value_parser = device_id)]
	pub device: DeviceId,
	/// The reading's sequence number.
	#[arg(long)]
	pub seq: u64,
}

/// What a grant covers: one device or a group.
#[derive(Args, Debug, Clone)]
#[group(required = true, multiple = false)]
pub struct ScopeArgs {
	/// A device id.
	#[arg(long, value_parser = device_id)]
	pub device: Option<DeviceId>,
	/// A group id.
	#[arg(long)]
	pub group: Option<u32>,
}

impl ScopeArgs {
	/// The scope as the chain names it.
	pub fn scope(&self) -> Result<Scope> {
		match (self.device, self.group) {
			(Some(device), _) => Ok(Scope::Device(device)),
			(None, Some(group)) => Ok(Scope::Group(group)),
			(None, None) => bail!("give --device or --group"),
		}
	}
}

/// A device's description, as `register` and `update` take it.
#[derive(Args, Debug, Clone)]
pub struct Metadata {
	/// What kind of device, e.g. `thermometer`.
	#[arg(long, default_value = "")]
	pub kind: String,
	/// Maker and model.
	#[arg(long, default_value = "")]
	pub model: String,
	/// Where it is.
	#[arg(long, default_value = "")]
	pub location: String,
	/// The firmware's hash (0x + 64 hex digits).
	#[arg(long, value_parser = hash)]
	pub firmware: Option<H256>,
}

impl Metadata {
	/// The description as the registry's calls take it.
	pub fn input(
		&self,
	) -> provena_client::chain::api::runtime_types::pallet_device_registry::types::MetadataInput {
		provena_client::chain::api::runtime_types::pallet_device_registry::types::MetadataInput {
			kind: self.kind.as_bytes().to_vec(),
			model: self.model.as_bytes().to_vec(),
			firmware: self.firmware,
			location: self.location.as_bytes().to_vec(),
		}
	}
}

/// Bytes as a bounded vector of the generated API (the chain checks the bound).
pub fn bounded<T>(items: Vec<T>) -> Bounded<T> {
	Bounded(items)
}
