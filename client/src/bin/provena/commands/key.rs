//! `provena key`: key files for devices and accounts. Works offline (`prove` asks the node for
//! the chain's genesis hash unless it is given).

use crate::{
	args::{account_id, device_id, hash, password_file, read_key_file, Secret},
	context::Context,
};
use anyhow::Result;
use clap::Subcommand;
use codec::Encode;
use provena_client::{
	keys::{encryption_public, ss58, KeyFile, Scheme},
	show_device,
};
use provena_primitives::DeviceId;
use serde_json::json;
use std::path::PathBuf;
use subxt::utils::{AccountId32, H256};

/// Generate or inspect keys.
#[derive(Subcommand, Debug)]
pub enum Command {
	/// Create a key file (mode 0600) with a fresh key, or for a given secret URI.
	Generate {
		/// Where to write it; an existing file is never overwritten.
		#[arg(long)]
		out: PathBuf,
		/// sr25519 or ed25519.
		#[arg(long, value_enum, default_value = "sr25519")]
		scheme: Scheme,
		/// Use this secret URI instead of a fresh phrase.
		#[arg(long)]
		uri: Option<Secret>,
		/// Encrypt the secret under a password: from --password-file, else asked twice on the
		/// terminal. Commands then need the password to use the key.
		#[arg(long)]
		encrypt: bool,
	},
	/// Show a key file's public key, address and encryption key.
	Inspect {
		/// The key file.
		file: PathBuf,
		/// Print only the device id the key gives (for scripts).
		#[arg(long)]
		device_id: bool,
	},
	/// Print a device key's proof of possession: its signature letting OWNER register it (or
	/// rotate a device to it), what `device register` and `device rotate-key` make themselves.
	/// For registering from elsewhere (Polkadot.js Apps, a factory line), on one chain only.
	Prove {
		/// The device's key file.
		file: PathBuf,
		/// The account that will own the device (SS58 or 0x-hex).
		#[arg(long, value_parser = account_id)]
		owner: AccountId32,
		/// The device id (default: the key's public key, as `device register` uses).
		#[arg(long, value_parser = device_id)]
		device: Option<DeviceId>,
		/// The chain's genesis hash; without it, the node at --url is asked.
		#[arg(long, value_parser = hash)]
		genesis: Option<H256>,
	},
}

/// Runs a `provena key` command.
pub async fn run(ctx: &Context, command: Command) -> Result<()> {
	match command {
		Command::Generate { out, scheme, uri, encrypt } => {
			let (mut file, _) = match uri {
				Some(uri) => KeyFile::from_uri(scheme, uri.expose())?,
				None => KeyFile::generate(scheme),
			};
			if encrypt {
				file.encrypt(&new_password(&out)?)?;
			}
			file.write(&out)?;
			ctx.out.print(
				json!({ "file": out, "scheme": file.scheme, "public": file.public, "address": file.address, "encrypted": encrypt }),
				format!(
					"Wrote {} (mode 0600{})\n  scheme:  {:?}\n  public:  {}\n  address: {}",
					out.display(),
					if encrypt { ", encrypted" } else { "" },
					file.scheme,
					file.public,
					file.address
				),
			);
		},
		Command::Inspect { file, device_id } => {
			let (data, pair) = read_key_file(&file)?;
			if device_id {
				println!("{}", data.public);
				return Ok(());
			}
			let encryption = format!("0x{}", hex::encode(encryption_public(&pair)));
			ctx.out.print(
				json!({ "scheme": data.scheme, "public": data.public, "address": data.address, "device_id": data.public, "encryption_key": encryption }),
				format!(
					"scheme:         {:?}\npublic key:     {}\naddress:        {}\ndevice id:      {} (when registered as a device)\nencryption key: {}",
					data.scheme, data.public, data.address, data.public, encryption
				),
			);
		},
		Command::Prove { file, owner, device, genesis } => {
			let (_, pair) = read_key_file(&file)?;
			let device = device.unwrap_or_else(|| pair.public());
			let genesis = match genesis {
				Some(hash) => hash,
				None => ctx.connect().await?.genesis_hash(),
			};
			let proof = pair.possession_proof(&genesis, &device, &owner.0);
			let scheme = match pair.scheme() {
				Scheme::Sr25519 => "Sr25519",
				Scheme::Ed25519 => "Ed25519",
			};
			// The signature's 64 bytes: its SCALE encoding without the variant byte.
			let signature =
				format!("0x{}", hex::encode(proof.encode().get(1..).unwrap_or_default()));
			let (device, owner) = (show_device(&device), ss58(owner.0));
			ctx.out.print(
				json!({ "device": device, "owner": owner, "genesis": format!("{genesis:?}"), "proof": { scheme: signature } }),
				format!("proof ({scheme}): {signature}\n  for device {device} owned by {owner} on chain {genesis:?}"),
			);
		},
	}
	Ok(())
}

/// The password a new key file at `out` is encrypted under: `--password-file`, else typed twice
/// on the terminal.
fn new_password(out: &std::path::Path) -> Result<zeroize::Zeroizing<String>> {
	if let Some(path) = password_file() {
		return Ok(provena_client::keys::read_password_file(&path)?);
	}
	anyhow::ensure!(
		std::io::IsTerminal::is_terminal(&std::io::stdin()),
		"--encrypt needs a password: give it with --password-file FILE (or \
		 PROVENA_PASSWORD_FILE), or run on a terminal to type it"
	);
	let shown = out.display();
	let first =
		zeroize::Zeroizing::new(rpassword::prompt_password(format!("New password for {shown}: "))?);
	let again = zeroize::Zeroizing::new(rpassword::prompt_password("The same again: ")?);
	anyhow::ensure!(*first == *again, "the two passwords differ; nothing was written");
	Ok(first)
}
