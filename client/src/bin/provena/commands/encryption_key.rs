//! `provena encryption-key`: the x25519 key owners seal data keys to.

use crate::{args::Account, context::Context};
use anyhow::{anyhow, bail, Result};
use clap::Subcommand;
use provena_client::{chain::api, keys::encryption_public};
use provena_primitives::is_weak_encryption_key;
use serde_json::json;

/// Publish or withdraw this account's encryption key, which owners seal data keys to.
#[derive(Subcommand, Debug)]
pub enum Command {
	/// Publish the signing account's x25519 key (derived from its secret), holding the chain's
	/// key deposit; publishing again replaces it.
	Publish {
		/// Publish this x25519 public key (`0x` + 64 hex digits) instead: one kept elsewhere,
		/// e.g. on a hardware token. Keys of small order (all zeros among them) are refused:
		/// anyone could open what is sealed to them.
		#[arg(long, value_name = "HEX")]
		key: Option<String>,
		#[command(flatten)]
		account: Account,
	},
	/// Withdraw the signing account's published key and get its deposit back. Data keys
	/// already sealed to it stay readable by this account; no new ones can be sealed to it.
	Withdraw {
		#[command(flatten)]
		account: Account,
	},
}

/// Runs a `provena encryption-key` command.
pub async fn run(ctx: &Context, command: Command) -> Result<()> {
	let chain = ctx.connect().await?;
	let calls = api::transactions().access_control();
	match command {
		Command::Publish { key, account } => {
			let key = match key {
				Some(text) => {
					let bytes = hex::decode(text.trim_start_matches("0x"))
						.ok()
						.and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
						.ok_or_else(|| {
							anyhow!("--key {text}: give 32 bytes as 0x + 64 hex digits")
						})?;
					if is_weak_encryption_key(&bytes) {
						bail!(
							"--key {text} is a point of small order: anything sealed to it could be \
							 opened by anyone, so it is not published"
						);
					}
					bytes
				},
				None => encryption_public(&account.load()?),
			};
			let signer = account.load()?;
			let f = chain.submit(&calls.publish_encryption_key(key), &signer).await?;
			let shown = format!("0x{}", hex::encode(key));
			let what = format!("Published encryption key {shown}");
			ctx.out.finalized(&what, &f, json!({ "key": shown }));
		},
		Command::Withdraw { account } => {
			let signer = account.load()?;
			let f = chain.submit(&calls.withdraw_encryption_key(), &signer).await?;
			ctx.out.finalized("Encryption key withdrawn; its deposit is free again", &f, json!({}));
		},
	}
	Ok(())
}
