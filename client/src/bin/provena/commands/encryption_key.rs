//! `provena encryption-key`: the x25519 key owners seal data keys to.

use crate::{args::Account, context::Context};
use anyhow::Result;
use clap::Subcommand;
use provena_client::{chain::api, keys::encryption_public};
use serde_json::json;

/// Publish this account's encryption key, so owners can seal data keys to it.
#[derive(Subcommand, Debug)]
pub enum Command {
	/// Publish the signing account's x25519 key.
	Publish {
		#[command(flatten)]
		account: Account,
	},
}

/// Runs a `provena encryption-key` command.
pub async fn run(ctx: &Context, command: Command) -> Result<()> {
	let Command::Publish { account } = command;
	let chain = ctx.connect().await?;
	let signer = account.load()?;
	let key = encryption_public(&signer);
	let call = api::transactions().access_control().publish_encryption_key(key);
	let f = chain.submit(&call, &signer).await?;
	let shown = format!("0x{}", hex::encode(key));
	ctx.out.finalized(&format!("Published encryption key {shown}"), &f, json!({ "key": shown }));
	Ok(())
}
