//! `provena credits`: prepaid anchors, so a device anchors with no account or fee of its own.

use crate::{
	args::{Account, Device},
	context::Context,
};
use anyhow::{anyhow, Result};
use clap::Subcommand;
use provena_client::{chain::api, show_device};
use serde_json::json;

/// Anchor credits: each pays for one device-authorized anchor.
#[derive(Subcommand, Debug)]
pub enum Command {
	/// Buy credits for a device, burning the chain's price per credit from the signer. Anyone
	/// may buy for any active or suspended device (its owner, or a sponsor); credits stay with
	/// the device when it changes hands and are lost when it is decommissioned.
	Buy {
		#[command(flatten)]
		device: Device,
		/// How many credits.
		#[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
		count: u32,
		#[command(flatten)]
		account: Account,
	},
	/// A device's credits, and the chain's price of one.
	Show {
		#[command(flatten)]
		device: Device,
	},
}

/// Runs a `provena credits` command.
pub async fn run(ctx: &Context, command: Command) -> Result<()> {
	let chain = ctx.connect().await?;
	match command {
		Command::Buy { device, count, account } => {
			chain.known_device(device.device).await?;
			let call = api::transactions().telemetry().buy_credits(device.device, count);
			let f = chain.submit(&call, &account.load()?).await?;
			let bought = f
				.events
				.find_first::<api::telemetry::events::CreditsBought>()
				.ok_or_else(|| anyhow!("the chain reported no Telemetry.CreditsBought"))?
				.map_err(|e| anyhow!("decoding Telemetry.CreditsBought: {e}"))?;
			let what = format!(
				"Bought {count} anchor credits for device {} for {} planck; it has {}",
				show_device(&device.device),
				bought.price,
				bought.credits
			);
			let extra = json!({
				"device": show_device(&device.device),
				"count": count,
				"price": bought.price.to_string(),
				"credits": bought.credits,
			});
			ctx.out.finalized(&what, &f, extra);
		},
		Command::Show { device } => {
			chain.known_device(device.device).await?;
			let credits = chain.credits(device.device).await?;
			let price = chain.credit_price().await?;
			let human = format!(
				"device {}: {credits} anchor credits (one costs {price} planck)",
				show_device(&device.device)
			);
			let value = json!({
				"device": show_device(&device.device),
				"credits": credits,
				"price": price.to_string(),
			});
			ctx.out.print(value, human);
		},
	}
	Ok(())
}
