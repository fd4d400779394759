//! `provena grant` and `provena rotate`: give, list and revoke access. READ is enforced by
//! encryption: a reader is given the device's data key of the epoch in force, sealed to its
//! published encryption key; when anyone loses READ the chain moves the epoch on, and the
//! remaining readers are given the new key (see `provena_client::access`).

use crate::{
	args::{account_id, Account, Device, ScopeArgs},
	context::Context,
	output::permission_names,
};
use anyhow::{anyhow, bail, Context as _, Result};
use clap::{Args, Subcommand};
use provena_client::{
	access::{self, ResealStep, Resealed},
	chain::{
		api::{self, runtime_types::pallet_access_control::types::Permissions},
		Bounded, Chain, ChainEpochKey, Scope,
	},
	crypto::EpochKey,
	keys::{ss58, KeyPair},
	show_device,
};
use provena_primitives::{permission, DeviceId};
use serde_json::{json, Value};
use subxt::utils::AccountId32;

/// Give, list and revoke access.
#[derive(Subcommand, Debug)]
pub enum Command {
	/// Grant permissions to an account; READ seals the device's data key to the grantee.
	Add(Add),
	/// List the grants on a device (direct and through its groups).
	List {
		#[command(flatten)]
		device: Device,
	},
	/// Take a grant back. Taking READ away moves the device's data key to a new epoch; the
	/// remaining readers are then given the new key.
	Revoke(Revoke),
}

/// `provena grant add`.
#[derive(Args, Debug)]
pub struct Add {
	#[command(flatten)]
	scope: ScopeArgs,
	/// The grantee (SS58 or 0x-hex).
	#[arg(long, value_parser = account_id)]
	to: AccountId32,
	/// May anchor readings.
	#[arg(long)]
	submit: bool,
	/// May read payloads: the data key of the epoch in force is sealed to the grantee's
	/// published encryption key (on a group, for each of its devices).
	#[arg(long)]
	read: bool,
	/// May manage grants and alert rules.
	#[arg(long)]
	manage: bool,
	/// May pass MANAGE on; only together with --manage, in the same grant.
	#[arg(long, requires = "manage")]
	delegate: bool,
	/// The block from which the grant no longer counts.
	#[arg(long)]
	expires: Option<u32>,
	#[command(flatten)]
	account: Account,
}

/// `provena grant revoke` (also `provena revoke`).
#[derive(Args, Debug)]
pub struct Revoke {
	#[command(flatten)]
	scope: ScopeArgs,
	/// The grantee (SS58 or 0x-hex).
	#[arg(long, value_parser = account_id)]
	to: AccountId32,
	#[command(flatten)]
	account: Account,
}

/// `provena rotate`.
#[derive(Args, Debug)]
pub struct Rotate {
	#[command(flatten)]
	device: Device,
	/// Only finish giving the key of the epoch in force to the readers still missing it
	/// (after a revoke, an expiry, a group change, or an interrupted run); start no new epoch.
	#[arg(long)]
	resume: bool,
	#[command(flatten)]
	account: Account,
}

/// Runs a `provena grant` command.
pub async fn run(ctx: &Context, command: Command) -> Result<()> {
	match command {
		Command::Add(args) => add(ctx, args).await,
		Command::List { device } => list(ctx, device.device).await,
		Command::Revoke(args) => revoke(ctx, args).await,
	}
}

async fn add(ctx: &Context, args: Add) -> Result<()> {
	let flags = [
		(args.submit, permission::SUBMIT),
		(args.read, permission::READ),
		(args.manage, permission::MANAGE),
		(args.delegate, permission::DELEGATE),
	];
	let bits = flags.iter().filter(|(on, _)| *on).fold(0, |bits, (_, bit)| bits | bit);
	if bits == 0 {
		bail!("say what the grant allows: --submit, --read, --manage and/or --delegate");
	}
	let chain = ctx.connect().await?;
	let signer = args.account.load()?;
	let scope = args.scope.scope()?;
	let reader_key = if args.read {
		let Some(key) = chain.encryption_key(args.to).await? else {
			bail!(
				"{} has not published an encryption key; it runs `provena encryption-key publish` first",
				ss58(args.to.0)
			);
		};
		Some(key)
	} else {
		None
	};
	let call = |sealed| {
		api::transactions().access_control().grant(
			scope.clone(),
			args.to,
			Permissions(bits),
			args.expires,
			sealed,
		)
	};
	// On one device, the key (of the epoch in force when it lands) travels with the grant.
	let f = match (&scope, reader_key) {
		(Scope::Device(device), Some(public)) => {
			let make = |key: &EpochKey| {
				let sealed = Bounded(key.seal_to(&public)?);
				Ok(call(Some(ChainEpochKey { epoch: key.epoch, sealed })))
			};
			let sent = access::seal_in_force(&chain, *device, &signer, make).await;
			sent.context(
				"READ is given with the device's data key: by its owner, or by a manager who can \
				 read the device",
			)?
			.1
		},
		_ => chain.submit(&call(None), &signer).await?,
	};
	let what = format!("Granted {} to {}", permission_names(bits), ss58(args.to.0));
	// On a group, each device's key is sealed to the reader in turn.
	let mut keyed = Vec::new();
	if let (Scope::Group(group), true) = (&scope, args.read) {
		let (_, members) =
			chain.group(*group).await?.ok_or_else(|| anyhow!("no group {group} on chain"))?;
		for device in members {
			// A device that left the signer's hands (sold, its place in the group stale) is
			// not the signer's to key: say so and go on with the others.
			match reseal_noting(ctx, &chain, device, &signer).await {
				Ok(done) => {
					keyed.push(json!({ "device": show_device(&device), "epoch": done.epoch }))
				},
				Err(e) => ctx.out.warn(format!(
					"device {}: its data key could not be given to the group's readers: {e:#}",
					show_device(&device)
				)),
			}
		}
	}
	ctx.out.finalized(&what, &f, json!({ "permissions": bits, "keyed_devices": keyed }));
	Ok(())
}

async fn list(ctx: &Context, device: DeviceId) -> Result<()> {
	let chain = ctx.connect().await?;
	let grants = chain.grants(device).await?;
	let epoch = access::epoch_in_force(&chain, device).await?;
	let mut rows: Vec<Value> = Vec::new();
	for (scope, who, grant) in &grants {
		let key_epoch = match grant.permissions.0 & permission::READ {
			0 => None,
			_ => chain.sealed_key(device, *who).await?.map(|k| k.key.epoch),
		};
		rows.push(json!({
			"scope": match scope {
				Scope::Device(d) => format!("device {}", show_device(d)),
				Scope::Group(g) => format!("group {g}"),
			},
			"grantee": ss58(who.0),
			"permissions": permission_names(grant.permissions.0),
			"expires": grant.expires,
			"key_epoch": key_epoch,
		}));
	}
	let human = if rows.is_empty() {
		"no grants".to_string()
	} else {
		let line = |r: &Value| {
			let field = |name: &str| r[name].as_str().unwrap_or_default().to_string();
			let key = match r["key_epoch"].as_u64() {
				Some(e) if e >= u64::from(epoch) => "  holds the current key".to_string(),
				Some(e) => format!("  holds the key of epoch {e} only"),
				None => String::new(),
			};
			format!(
				"{}  {}  {}  expires {}{key}",
				field("grantee"),
				field("permissions"),
				field("scope"),
				r["expires"]
			)
		};
		rows.iter().map(line).collect::<Vec<_>>().join("\n")
	};
	let value = json!({ "device": show_device(&device), "key_epoch": epoch, "grants": rows });
	ctx.out.print(value, format!("data key epoch {epoch}\n{human}"));
	Ok(())
}

/// Revokes a grant. When the grantee could read, the chain has moved the data key of the
/// scope's devices to a new epoch, and the remaining readers are given its key, if the signer
/// can (the owner always can; a manager only if it can read the device).
pub async fn revoke(ctx: &Context, args: Revoke) -> Result<()> {
	let chain = ctx.connect().await?;
	let signer = args.account.load()?;
	let grantee = args.to;
	let scope = args.scope.scope()?;
	let call = api::transactions().access_control().revoke(scope.clone(), grantee);
	let f = chain.submit(&call, &signer).await?;
	// The devices whose key moved to a new epoch.
	let started: Vec<DeviceId> = f
		.events
		.find::<api::access_control::events::KeyEpochStarted>()
		.filter_map(|event| event.ok().map(|e| e.device))
		.collect();
	ctx.out.note(format!(
		"Revoked the grant of {} (finalized in block #{}); the data key of {} devices moved to a new epoch",
		ss58(grantee.0),
		f.block_number,
		started.len()
	));
	let mut resealed = Vec::new();
	let mut left = Vec::new();
	for device in &started {
		match reseal_noting(ctx, &chain, *device, &signer).await {
			Ok(done) => resealed.push(done),
			Err(e) => {
				ctx.out.warn(format!(
					"device {}: the new key could not be given to its readers: {e:#}; its owner runs `provena rotate --resume --device {}`",
					show_device(device),
					show_device(device)
				));
				left.push(show_device(device));
			},
		}
	}
	let rotated_for: usize = resealed.iter().map(|r| r.sealed.len() + r.had_it.len()).sum();
	let what = format!(
		"Revoked the grant of {}{}",
		ss58(grantee.0),
		if started.is_empty() {
			String::new()
		} else {
			format!("; new data-key epoch given to {rotated_for} remaining readers")
		}
	);
	ctx.out.finalized(
		&what,
		&f,
		json!({ "rotated_for": rotated_for, "devices": resealed, "not_resealed": left }),
	);
	Ok(())
}

/// Runs `provena rotate`: starts a new data-key epoch for a device (unless `--resume`), then
/// gives its key to every reader still missing it.
pub async fn rotate(ctx: &Context, args: Rotate) -> Result<()> {
	let chain = ctx.connect().await?;
	let signer = args.account.load()?;
	let device = args.device.device;
	if !args.resume {
		let call = api::transactions().access_control().rotate_data_key(device);
		let f = chain.submit(&call, &signer).await?;
		ctx.out.note(format!(
			"Device {} moved to a new data-key epoch (finalized in block #{})",
			show_device(&device),
			f.block_number
		));
	}
	let done = reseal_noting(ctx, &chain, device, &signer).await?;
	let human = format!(
		"Device {}: data key epoch {}; given now to {}, already held by {}{}",
		show_device(&device),
		done.epoch,
		done.sealed.len(),
		done.had_it.len(),
		if done.no_encryption_key.is_empty() {
			String::new()
		} else {
			format!(
				"; {} readers have no published encryption key: {}",
				done.no_encryption_key.len(),
				done.no_encryption_key.join(", ")
			)
		}
	);
	ctx.out.print(serde_json::to_value(&done)?, human);
	Ok(())
}

/// [`access::reseal`] with a note per reader, so a long run shows where it is.
pub(crate) async fn reseal_noting(
	ctx: &Context,
	chain: &Chain,
	device: DeviceId,
	signer: &KeyPair,
) -> Result<Resealed> {
	let shown = show_device(&device);
	let noting = |step: ResealStep<'_>| match step {
		ResealStep::Sealing { reader, n, of } => ctx.out.note(format!(
			"device {shown}: sealing the data key to {} ({n} of {of})",
			ss58(reader.0)
		)),
	};
	Ok(access::reseal(chain, device, signer, noting).await?)
}
