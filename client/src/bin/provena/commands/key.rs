//! `provena key`: key files for devices and accounts. Works offline.

use crate::context::Context;
use anyhow::Result;
use clap::Subcommand;
use provena_client::keys::{encryption_public, KeyFile, Scheme};
use serde_json::json;
use std::path::PathBuf;

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
		uri: Option<String>,
	},
	/// Show a key file's public key, address and encryption key.
	Inspect {
		/// The key file.
		file: PathBuf,
		/// Print only the device id the key gives (for scripts).
		#[arg(long)]
		device_id: bool,
	},
}

/// Runs a `provena key` command.
pub fn run(ctx: &Context, command: Command) -> Result<()> {
	match command {
		Command::Generate { out, scheme, uri } => {
			let (file, _) = match uri {
				Some(uri) => KeyFile::from_uri(scheme, &uri)?,
				None => KeyFile::generate(scheme),
			};
			file.write(&out)?;
			ctx.out.print(
				json!({ "file": out, "scheme": file.scheme, "public": file.public, "address": file.address }),
				format!(
					"Wrote {} (mode 0600)\n  scheme:  {:?}\n  public:  {}\n  address: {}",
					out.display(),
					file.scheme,
					file.public,
					file.address
				),
			);
		},
		Command::Inspect { file, device_id } => {
			let (data, pair) = KeyFile::read(&file)?;
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
	}
	Ok(())
}
