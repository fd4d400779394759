//! `provena group`: groups of devices, so that one grant covers many.

use crate::{
	args::{bounded, Account, Device},
	context::Context,
};
use anyhow::{anyhow, Result};
use clap::Subcommand;
use provena_client::{chain::api, show_device};
use serde_json::json;

/// Groups of devices, for grants that cover many.
#[derive(Subcommand, Debug)]
pub enum Command {
	/// Create a group; prints its id.
	Create {
		/// Its name.
		name: String,
		#[command(flatten)]
		account: Account,
	},
	/// Put one of your devices in a group; the group's readers are given the device's data
	/// key.
	Add {
		/// The group id.
		#[arg(long)]
		group: u32,
		#[command(flatten)]
		device: Device,
		#[command(flatten)]
		account: Account,
	},
	/// Take a device out of a group. If the group has grants, the device's data key moves to
	/// a new epoch, which its remaining readers are given.
	Remove {
		/// The group id.
		#[arg(long)]
		group: u32,
		#[command(flatten)]
		device: Device,
		#[command(flatten)]
		account: Account,
	},
	/// Dissolve a group without grants.
	Dissolve {
		/// The group id.
		#[arg(long)]
		group: u32,
		#[command(flatten)]
		account: Account,
	},
}

/// Runs a `provena group` command.
pub async fn run(ctx: &Context, command: Command) -> Result<()> {
	let chain = ctx.connect().await?;
	let access = api::transactions().access_control();
	match command {
		Command::Create { name, account } => {
			let call = access.create_group(bounded(name.into_bytes()));
			let f = chain.submit(&call, &account.load()?).await?;
			let created = f
				.events
				.find_first::<api::access_control::events::GroupCreated>()
				.ok_or_else(|| anyhow!("the chain emitted no GroupCreated event"))??;
			let what = format!("Created group {}", created.group);
			ctx.out.finalized(&what, &f, json!({ "group": created.group }));
		},
		Command::Add { group, device, account } => {
			let signer = account.load()?;
			let f = chain.submit(&access.add_to_group(group, device.device), &signer).await?;
			let done = super::grant::reseal_noting(ctx, &chain, device.device, &signer).await?;
			let what = format!(
				"Device {} joined group {group}; {} readers were given its data key",
				show_device(&device.device),
				done.sealed.len()
			);
			ctx.out.finalized(&what, &f, json!({ "keys": done }));
		},
		Command::Remove { group, device, account } => {
			let signer = account.load()?;
			let call = access.remove_from_group(group, device.device);
			let f = chain.submit(&call, &signer).await?;
			let moved = f
				.events
				.find_first::<api::access_control::events::KeyEpochStarted>()
				.map(|event| event.is_ok())
				.unwrap_or(false);
			let done = match moved {
				true => {
					Some(super::grant::reseal_noting(ctx, &chain, device.device, &signer).await?)
				},
				false => None,
			};
			let what = format!(
				"Device {} left group {group}{}",
				show_device(&device.device),
				match &done {
					Some(done) => format!(
						"; its data key moved to epoch {}, given to its {} remaining readers",
						done.epoch,
						done.sealed.len() + done.had_it.len()
					),
					None => String::new(),
				}
			);
			ctx.out.finalized(&what, &f, json!({ "keys": done }));
		},
		Command::Dissolve { group, account } => {
			let f = chain.submit(&access.dissolve_group(group), &account.load()?).await?;
			ctx.out.finalized(&format!("Dissolved group {group}"), &f, json!({}));
		},
	}
	Ok(())
}
