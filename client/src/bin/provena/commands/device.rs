//! `provena device`: register devices and manage them through their life.

use crate::{
	args::{account_id, device_id, Account, Device, DeviceKey, Metadata},
	context::Context,
};
use anyhow::{Context as _, Result};
use clap::Subcommand;
use provena_client::{
	chain::api::{self, runtime_types::provena_primitives::DeviceStatus},
	keys::ss58,
	show_device,
};
use provena_primitives::{DeviceId, DeviceKey as Key};
use serde_json::json;
use subxt::utils::{AccountId32, MultiAddress, Static};

/// Register and manage devices.
#[derive(Subcommand, Debug)]
pub enum Command {
	/// Register a device under the signing account; its id defaults to its public key.
	Register {
		#[command(flatten)]
		account: Account,
		#[command(flatten)]
		key: DeviceKey,
		/// The device id (0x + 64 hex digits); default: the device's public key.
		#[arg(long, value_parser = device_id)]
		device: Option<DeviceId>,
		#[command(flatten)]
		metadata: Metadata,
	},
	/// Show a device's record and its telemetry counters.
	Show {
		#[command(flatten)]
		device: Device,
	},
	/// List the devices an account owns (default: the signing account).
	List {
		/// The owner (SS58 or 0x-hex).
		#[arg(long, value_parser = account_id)]
		owner: Option<AccountId32>,
		#[command(flatten)]
		account: Account,
	},
	/// Replace a device's description.
	Update {
		#[command(flatten)]
		device: Device,
		#[command(flatten)]
		account: Account,
		#[command(flatten)]
		metadata: Metadata,
	},
	/// Give a device a new key (the old one stops signing at once).
	RotateKey {
		#[command(flatten)]
		device: Device,
		#[command(flatten)]
		account: Account,
		#[command(flatten)]
		new_key: DeviceKey,
	},
	/// Stop a device anchoring until resumed.
	Suspend {
		#[command(flatten)]
		device: Device,
		#[command(flatten)]
		account: Account,
	},
	/// Let a suspended device anchor again.
	Resume {
		#[command(flatten)]
		device: Device,
		#[command(flatten)]
		account: Account,
	},
	/// Retire a device for good (its deposit comes back; its history stays).
	Decommission {
		#[command(flatten)]
		device: Device,
		#[command(flatten)]
		account: Account,
	},
	/// Offer a device to another account, which may accept it until the offer expires (a week
	/// on Provena's chains).
	Transfer {
		#[command(flatten)]
		device: Device,
		/// The new owner (SS58 or 0x-hex).
		#[arg(long, value_parser = account_id)]
		to: AccountId32,
		#[command(flatten)]
		account: Account,
	},
	/// Accept a device offered to the signing account. The device signs with the key given
	/// here from now on: a new key, or the one the device came with (its file or its holder's
	/// proof is needed either way); the seller's grants and groups stop counting.
	Accept {
		#[command(flatten)]
		device: Device,
		#[command(flatten)]
		account: Account,
		#[command(flatten)]
		key: DeviceKey,
		/// The most deposit (in planck) you agree to have held; default: the device's deposit
		/// as shown now, so a deposit raised after you looked makes the call fail.
		#[arg(long)]
		max_deposit: Option<u128>,
	},
}

/// Runs a `provena device` command.
pub async fn run(ctx: &Context, command: Command) -> Result<()> {
	let chain = ctx.connect().await?;
	let registry = api::transactions().device_registry();
	let (what, call_result) = match command {
		Command::Register { account, key, device, metadata } => {
			let signer = account.load()?;
			let key = key.load()?;
			let id = device.unwrap_or_else(|| key.public());
			let proof = key.possession_proof(&chain.genesis_hash(), &id, &signer.public());
			let call = registry.register(id, Static(key.key()), metadata.input(), Static(proof));
			let f = chain.submit(&call, &signer).await?;
			let what = format!("Registered device {}", show_device(&id));
			ctx.out.finalized(&what, &f, json!({ "device": show_device(&id) }));
			return Ok(());
		},
		Command::Show { device } => return show(ctx, &chain, device.device).await,
		Command::List { owner, account } => {
			let owner = match owner {
				Some(owner) => owner,
				None => {
					let key =
						account.load().context("--owner, or the account whose devices to list")?;
					AccountId32(key.public())
				},
			};
			let devices: Vec<String> =
				chain.devices_of(owner).await?.iter().map(show_device).collect();
			let human = if devices.is_empty() {
				format!("{} owns no devices", ss58(owner.0))
			} else {
				devices.join("\n")
			};
			ctx.out.print(json!({ "owner": ss58(owner.0), "devices": devices }), human);
			return Ok(());
		},
		Command::Update { device, account, metadata } => {
			let call = registry.update_metadata(device.device, metadata.input());
			let f = chain.submit(&call, &account.load()?).await;
			(format!("Updated device {}", show_device(&device.device)), f)
		},
		Command::RotateKey { device, account, new_key } => {
			let key = new_key.load()?;
			let signer = account.load()?;
			let proof =
				key.possession_proof(&chain.genesis_hash(), &device.device, &signer.public());
			let call = registry.rotate_key(device.device, Static(key.key()), Static(proof));
			let f = chain.submit(&call, &signer).await;
			let what = format!(
				"Device {} now signs with 0x{}",
				show_device(&device.device),
				hex::encode(key.public())
			);
			(what, f)
		},
		Command::Suspend { device, account } => {
			let f = chain.submit(&registry.suspend(device.device), &account.load()?).await;
			(format!("Suspended device {}", show_device(&device.device)), f)
		},
		Command::Resume { device, account } => {
			let f = chain.submit(&registry.resume(device.device), &account.load()?).await;
			(format!("Resumed device {}", show_device(&device.device)), f)
		},
		Command::Decommission { device, account } => {
			let f = chain.submit(&registry.decommission(device.device), &account.load()?).await;
			(format!("Decommissioned device {}", show_device(&device.device)), f)
		},
		Command::Transfer { device, to, account } => {
			let call = registry.offer_transfer(device.device, MultiAddress::Id(to));
			let f = chain.submit(&call, &account.load()?).await;
			let what = format!(
				"Offered device {}; the new owner accepts it with `provena device accept` before the \
				 offer expires",
				show_device(&device.device)
			);
			(what, f)
		},
		Command::Accept { device, account, key, max_deposit } => {
			let signer = account.load()?;
			let key = key.load()?;
			let max_deposit = match max_deposit {
				Some(max) => max,
				None => chain.known_device(device.device).await?.deposit,
			};
			let proof =
				key.possession_proof(&chain.genesis_hash(), &device.device, &signer.public());
			let call = registry.accept_transfer(
				device.device,
				Static(key.key()),
				Static(proof),
				max_deposit,
			);
			let f = chain.submit(&call, &signer).await;
			let what = format!(
				"You now own device {}; it signs with 0x{} (deposit held: at most {max_deposit} planck)",
				show_device(&device.device),
				hex::encode(key.public())
			);
			(what, f)
		},
	};
	ctx.out.finalized(&what, &call_result?, json!({}));
	Ok(())
}

/// Prints a device's record and its telemetry counters.
async fn show(ctx: &Context, chain: &provena_client::chain::Chain, id: DeviceId) -> Result<()> {
	let info = chain.known_device(id).await?;
	let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
	let key = match info.key.0 {
		Key::Sr25519(k) => format!("sr25519 0x{}", hex::encode(k)),
		Key::Ed25519(k) => format!("ed25519 0x{}", hex::encode(k)),
	};
	let status = match info.status {
		DeviceStatus::Active => "Active",
		DeviceStatus::Suspended => "Suspended",
		DeviceStatus::Decommissioned => "Decommissioned",
	};
	let state = chain.device_state(id).await?;
	let count = |f: fn(&provena_client::chain::DeviceTelemetry<u32>) -> u64| {
		state.as_ref().map(f).unwrap_or(0)
	};
	let (next_seq, anchors, readings, missing) =
		(count(|s| s.next_seq), count(|s| s.anchors), count(|s| s.readings), count(|s| s.missing));
	let (kind, model, location) = (
		text(&info.metadata.kind.0),
		text(&info.metadata.model.0),
		text(&info.metadata.location.0),
	);
	let owner = ss58(info.owner.0);
	let human = format!(
		"device   {}\nowner    {owner}\nkey      {key}\nstatus   {status}\nkind     {kind}\nmodel    {model}\nlocation {location}\nanchors  {anchors} ({readings} readings, {missing} missing), next seq {next_seq}",
		show_device(&id),
	);
	ctx.out.print(
		json!({
			"device": show_device(&id), "owner": owner, "key": key, "status": status,
			"kind": kind, "model": model, "location": location,
			"deposit": info.deposit.to_string(),
			"next_seq": next_seq, "anchors": anchors, "readings": readings, "missing": missing,
		}),
		human,
	);
	Ok(())
}
