//! `provena grant`: give, list and revoke access. READ is enforced by encryption: a READ grant
//! carries the device's data key sealed to the grantee, and revoking a reader rotates the key.

use crate::{
	args::{account_id, bounded, Account, Device, ScopeArgs},
	context::Context,
	output::permission_names,
};
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use provena_client::{
	chain::{
		api::{self, runtime_types::pallet_access_control::types::Permissions},
		Chain, DeviceGrant, Scope,
	},
	crypto::DataKey,
	keys::ss58,
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
	/// Take a grant back (and rotate the device's data key when it could read).
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
	/// May read payloads (the data key is sealed to the grantee's published key).
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
	/// Keep the data key even if the grant could read (default: rotate it and re-seal it for
	/// the remaining readers).
	#[arg(long)]
	no_rotate: bool,
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
	let sealed = if args.read {
		let device =
			args.scope.device.ok_or_else(|| {
				anyhow!("READ is granted per device (its data key is sealed to the reader); use --device")
			})?;
		let Some(reader_key) = chain.encryption_key(args.to).await? else {
			bail!(
				"{} has not published an encryption key; it runs `provena encryption-key publish` first",
				ss58(args.to.0)
			);
		};
		let mut store = ctx.store(&chain)?;
		let key = match store.current_data_key(&device)? {
			Some(key) => key,
			None => {
				let key = DataKey::generate();
				store.put_data_key(&device, &key, true)?;
				key
			},
		};
		Some(bounded(key.seal_to(&reader_key)))
	} else {
		None
	};
	let call = api::transactions().access_control().grant(
		args.scope.scope()?,
		args.to,
		Permissions(bits),
		args.expires,
		sealed,
	);
	let f = chain.submit(&call, &signer).await?;
	let what = format!("Granted {} to {}", permission_names(bits), ss58(args.to.0));
	ctx.out.finalized(&what, &f, json!({ "permissions": bits }));
	Ok(())
}

async fn list(ctx: &Context, device: DeviceId) -> Result<()> {
	let chain = ctx.connect().await?;
	let grants = chain.grants(device).await?;
	let rows: Vec<Value> = grants
		.iter()
		.map(|(scope, who, grant)| {
			json!({
				"scope": match scope {
					Scope::Device(d) => format!("device {}", show_device(d)),
					Scope::Group(g) => format!("group {g}"),
				},
				"grantee": ss58(who.0),
				"permissions": permission_names(grant.permissions.0),
				"expires": grant.expires,
				"sealed_key": grant.sealed_key.is_some(),
			})
		})
		.collect();
	let human = if rows.is_empty() {
		"no grants".to_string()
	} else {
		let line = |r: &Value| {
			let field = |name: &str| r[name].as_str().unwrap_or_default().to_string();
			let expires = r["expires"].to_string();
			format!(
				"{}  {}  {}  expires {expires}",
				field("grantee"),
				field("permissions"),
				field("scope")
			)
		};
		rows.iter().map(line).collect::<Vec<_>>().join("\n")
	};
	ctx.out.print(json!({ "device": show_device(&device), "grants": rows }), human);
	Ok(())
}

/// Revokes a grant. When the grantee could read a device, the device's data key is rotated and
/// the new one sealed for each remaining reader, so what is encrypted from now on is closed to
/// the revoked account.
pub async fn revoke(ctx: &Context, args: Revoke) -> Result<()> {
	let chain = ctx.connect().await?;
	let signer = args.account.load()?;
	let grantee = args.to;
	let device = args.scope.device;
	// Who could read before: the revoked grantee decides whether to rotate, the others get
	// the new key.
	let grants = match device {
		Some(device) => chain.grants(device).await?,
		None => Vec::new(),
	};
	let can_read = |(_, _, g): &DeviceGrant| g.permissions.0 & permission::READ != 0;
	let could_read = grants.iter().any(|g| g.1 == grantee && can_read(g));
	let readers: Vec<DeviceGrant> = grants
		.into_iter()
		.filter(|g| matches!(g.0, Scope::Device(_)) && g.1 != grantee && can_read(g))
		.collect();
	let call = api::transactions().access_control().revoke(args.scope.scope()?, grantee);
	let f = chain.submit(&call, &signer).await?;
	let rotate = could_read && !args.no_rotate;
	let rotated = match device {
		Some(device) if rotate => rotate_key(ctx, &chain, device, readers, &signer).await?,
		_ => 0,
	};
	let what = format!(
		"Revoked the grant of {}{}",
		ss58(grantee.0),
		if rotate {
			format!("; data key rotated and re-sealed for {rotated} remaining readers")
		} else {
			String::new()
		}
	);
	ctx.out.finalized(&what, &f, json!({ "rotated_for": rotated }));
	Ok(())
}

/// Makes `device` a new data key and seals it for each of `readers`; returns how many got it.
async fn rotate_key(
	ctx: &Context,
	chain: &Chain,
	device: DeviceId,
	readers: Vec<DeviceGrant>,
	signer: &provena_client::keys::KeyPair,
) -> Result<u64> {
	let mut store = ctx.store(chain)?;
	let key = DataKey::generate();
	store.put_data_key(&device, &key, true)?;
	let mut rotated = 0;
	for (scope, who, grant) in readers {
		let Some(reader_key) = chain.encryption_key(who).await? else { continue };
		let sealed = Some(bounded(key.seal_to(&reader_key)));
		let call = api::transactions().access_control().grant(
			scope,
			who,
			grant.permissions,
			grant.expires,
			sealed,
		);
		chain.submit(&call, signer).await?;
		rotated += 1;
	}
	Ok(rotated)
}
