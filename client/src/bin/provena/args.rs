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
	keys::{parse_account, read_password_file, KeyFile, KeyPair, Scheme},
	parse_device,
};
use provena_primitives::DeviceId;
use std::{
	io::IsTerminal,
	path::{Path, PathBuf},
	sync::OnceLock,
};
use subxt::utils::{AccountId32, H256};
use zeroize::Zeroizing;

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

/// A secret given on the command line (a secret URI): `Debug` shows `<hidden>`, and its bytes
/// are wiped when it is dropped. (A secret in the arguments is still visible to `ps` on the
/// same machine: key files are for anything but development chains.)
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
	/// The secret's text.
	pub fn expose(&self) -> &str {
		&self.0
	}
}

impl std::str::FromStr for Secret {
	type Err = std::convert::Infallible;
	fn from_str(text: &str) -> Result<Self, Self::Err> {
		Ok(Secret(Zeroizing::new(text.to_string())))
	}
}

impl std::fmt::Debug for Secret {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str("<hidden>")
	}
}

/// The `--password-file` every encrypted key file of this run is opened with; set once, when
/// the command line is parsed.
static PASSWORD_FILE: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Records `--password-file` (or `PROVENA_PASSWORD_FILE`) for [`read_key_file`].
pub fn set_password_file(path: Option<PathBuf>) {
	let _ = PASSWORD_FILE.set(path);
}

/// `--password-file` (or `PROVENA_PASSWORD_FILE`), if given.
pub fn password_file() -> Option<PathBuf> {
	PASSWORD_FILE.get().cloned().flatten()
}

/// The password for the encrypted key file `shown`: from `--password-file`, else asked for on
/// the terminal. Never prompts without a terminal (CI, services, pipes).
pub fn password_for(shown: &str) -> Result<Zeroizing<String>, provena_client::Error> {
	if let Some(path) = password_file() {
		return read_password_file(&path);
	}
	if !std::io::stdin().is_terminal() {
		return Err(provena_client::Error::key(format!(
			"{shown} is encrypted and there is no terminal to ask for its password: give it \
			 with --password-file FILE (or PROVENA_PASSWORD_FILE)"
		)));
	}
	rpassword::prompt_password(format!("Password for {shown}: "))
		.map(Zeroizing::new)
		.map_err(|e| provena_client::Error::key_from("cannot read the password", e))
}

/// Reads a key file, opening an encrypted one with [`password_for`].
pub fn read_key_file(path: &Path) -> Result<(KeyFile, KeyPair), provena_client::Error> {
	KeyFile::read_with(path, password_for)
}

/// The account that signs transactions.
#[derive(Args, Debug, Clone)]
pub struct Account {
	/// The account's key file.
	#[arg(long, env = "PROVENA_KEY", conflicts_with = "suri")]
	pub key: Option<PathBuf>,
	/// The account's secret URI instead of a key file (development chains: `//Alice`).
	#[arg(long, env = "PROVENA_SURI")]
	pub suri: Option<Secret>,
	/// The scheme of `--suri`.
	#[arg(long, value_enum, default_value = "sr25519")]
	pub scheme: Scheme,
}

impl Account {
	/// The signing account's key.
	pub fn load(&self) -> Result<KeyPair> {
		match (&self.key, &self.suri) {
			(Some(path), _) => Ok(read_key_file(path)?.1),
			(None, Some(uri)) => Ok(KeyFile::from_uri(self.scheme, uri.expose())?.1),
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
	pub device_suri: Option<Secret>,
	/// The scheme of `--device-suri`.
	#[arg(long = "device-scheme", value_enum, default_value = "sr25519")]
	pub device_scheme: Scheme,
}

impl DeviceKey {
	/// The device's key.
	pub fn load(&self) -> Result<KeyPair> {
		match (&self.device_key, &self.device_suri) {
			(Some(path), _) => Ok(read_key_file(path)?.1),
			(None, Some(uri)) => Ok(KeyFile::from_uri(self.device_scheme, uri.expose())?.1),
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

#[cfg(test)]
mod tests {
	use crate::commands::Cli;
	use clap::Parser;

	#[test]
	fn secrets_on_the_command_line_never_show_in_debug_output() {
		let cli = Cli::try_parse_from([
			"provena",
			"submit",
			"--suri",
			"bottom drive obey lake curtain smoke basket hold race lonely fit walk//Gw",
			"--device-suri",
			"//Secret//Device",
			"--device",
			&format!("0x{}", "ab".repeat(32)),
			"--value",
			"t=1",
		])
		.unwrap();
		let shown = format!("{cli:?}");
		assert!(!shown.contains("bottom drive") && !shown.contains("//Secret"), "{shown}");
		assert!(shown.contains("<hidden>"), "{shown}");
		let cli = Cli::try_parse_from([
			"provena",
			"key",
			"generate",
			"--out",
			"k.key",
			"--uri",
			"//Secret//Key",
		])
		.unwrap();
		assert!(!format!("{cli:?}").contains("//Secret"));
	}
}
