//! `provena encryption-key`: the x25519 key owners seal data keys to.

use crate::{args::Account, context::Context};
use anyhow::Result;
use clap::Subcommand;
use provena_client::{chain::api, keys::encryption_public};
use serde_json::json;

/// Publish or withdraw this account's encryption key, which owners seal data keys to.
#[derive(Subcommand, Debug)]
pub enum Command {
	/// Publish the signing account's x25519 key (derived from its secret), holding the chain's
	/// key deposit; publishing again replaces it.
	Publish {
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
		Command::Publish { account } => {
			let signer = account.load()?;
			let key = encryption_public(&signer);
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
