//! `provena submit` and `provena status`: readings into the store, anchors onto the chain.

use crate::{
	args::{device_id, Account, DeviceKey},
	context::Context,
	output::bound,
};
use anyhow::Result;
use clap::Args;
use provena_client::{
	access,
	chain::Chain,
	gateway::{self, ChainEvent, DeliverOptions, Delivery, Pay},
	input::{self, decimal},
	keys::KeyPair,
	report::now_ms,
	store::Store,
	Error,
};
use provena_primitives::DeviceId;
use serde_json::json;
use std::{path::PathBuf, process::ExitCode};

/// Anchor readings: one from the command line, or a file as Merkle batches.
#[derive(Args, Debug)]
pub struct Submit {
	/// The device the readings are from.
	#[arg(long, value_parser = device_id)]
	device: DeviceId,
	#[command(flatten)]
	device_key: DeviceKey,
	/// The account that sends. When it pays (see --pay), it must be the device's own, its
	/// owner's, or hold a SUBMIT grant; anchors paid by credits need no grant of it.
	#[command(flatten)]
	account: Account,
	/// Who pays: `credits` sends each anchor as a device-authorized transaction paid by one
	/// of the device's anchor credits (`provena credits buy`), `account` has the account sign
	/// and pay, `auto` uses credits when they cover every pending anchor of the device and
	/// the account otherwise.
	#[arg(long, value_enum, default_value_t = Pay::Auto)]
	pay: Pay,
	/// One reading's values: `metric=value` (repeatable).
	#[arg(long = "value", conflicts_with = "file")]
	values: Vec<String>,
	/// A file of readings: JSON Lines, CSV (`.csv`), or `-` for JSON Lines on stdin.
	#[arg(long)]
	file: Option<PathBuf>,
	/// Readings per Merkle anchor.
	#[arg(long, default_value_t = 16)]
	batch_size: usize,
	/// Anchors per account-paid transaction (more than 1 sends `anchor_batch`).
	#[arg(long, default_value_t = 16)]
	anchors_per_tx: usize,
	/// Transactions in flight at once.
	#[arg(long, default_value_t = 64)]
	max_in_flight: usize,
	/// Encrypt each anchor's readings into its payload for the device's readers, under the
	/// data key of the epoch in force on chain (the owner derives it; a gateway uses the key
	/// sealed to it by its READ grant).
	#[arg(long)]
	encrypt: bool,
	/// Publish this metric's values in the clear in each anchor (repeatable). Metrics with an
	/// alert rule are always published: the chain can only check what it sees. No other
	/// value reaches the chain unencrypted.
	#[arg(long = "public", value_name = "METRIC")]
	public: Vec<String>,
	/// Only send what the store still has pending; read no new readings.
	#[arg(long, conflicts_with_all = ["file", "values"])]
	resume: bool,
	/// When the node is lost during delivery, how long to keep trying to reach it again
	/// before giving up, in seconds without an anchor finalized (0: give up at once). What
	/// is pending stays in the store either way, and nothing is sent twice.
	#[arg(long, value_name = "SECONDS", default_value_t = 120)]
	reconnect_for: u64,
}

/// Runs `provena submit`. Exit code 3 when the chain refused an anchor.
pub async fn run(ctx: &Context, args: Submit) -> Result<ExitCode> {
	let device = args.device;
	let account = args.account.load()?;
	let device_key = args.device_key.load()?;
	// Read and check all input before touching the chain or the store.
	let inputs = match (&args.file, args.values.is_empty(), args.resume) {
		(_, _, true) => Vec::new(),
		(Some(path), _, _) => input::from_file(path)?,
		(None, false, _) => vec![input::from_pairs(&args.values, now_ms())?],
		(None, true, _) => {
			anyhow::bail!(
				"give readings: --value metric=number (repeatable), --file FILE, or --resume"
			)
		},
	};
	let chain = ctx.connect().await?;
	// Whether the account may have to pay: then it must be allowed to submit for the device.
	let account_may_pay = match args.pay {
		Pay::Account => true,
		Pay::Credits => false,
		Pay::Auto => chain.credits(device).await? == 0,
	};
	gateway::check_submitter(&chain, device, &device_key, &account, account_may_pay).await?;
	let mut store = ctx.store(&chain)?;
	let (stored, skipped) = gateway::import(&chain, &mut store, device, &inputs).await?;
	let data_key = match args.encrypt {
		true => Some(access::current_key(&chain, device, &account).await.map_err(|e| {
			anyhow::Error::new(e).context(format!(
				"{stored} new readings are kept in the store, unsigned; once this account has \
				 the device's current data key, `provena submit --resume --encrypt` sends them"
			))
		})?),
		false => None,
	};
	let chosen = args
		.public
		.iter()
		.map(|name| input::metric_name(name))
		.collect::<Result<Vec<_>, Error>>()?;
	let public = gateway::public_metrics(&chain, device, &chosen).await?;
	let options = gateway::SealOptions {
		batch_size: args.batch_size,
		data_key: data_key.as_ref(),
		public: &public,
		max_payload: chain.max_payload_len().await?,
		keep_partial: false,
	};
	let genesis = chain.genesis_hash();
	let sealed = gateway::seal(&mut store, device, &device_key, genesis, &options)?;
	ctx.out.note(format!(
		"{stored} new readings stored ({skipped} already stored), {sealed} anchors signed"
	));
	let options = DeliverOptions {
		anchors_per_tx: args.anchors_per_tx,
		max_in_flight: args.max_in_flight,
		pay: args.pay,
		hold_after_gap: false,
		continuous: false,
	};
	let mut chain = chain;
	let mut delivery = Delivery::default();
	let within = std::time::Duration::from_secs(args.reconnect_for);
	// When the node was first lost without an anchor finalized since, and how many were final
	// then: a node that keeps accepting connections and dropping them gets `--reconnect-for`
	// seconds in all, not per reconnection.
	let mut lost: Option<(std::time::Instant, u64)> = None;
	loop {
		let error =
			match deliver_with_progress(ctx, &chain, &mut store, &account, options, &mut delivery)
				.await
			{
				Ok(()) => break,
				Err(error @ Error::Unreachable { .. }) => error,
				Err(error) => return Err(error.into()),
			};
		let tally = store.tally()?;
		let give_up = |error: Error| {
			anyhow::Error::new(error).context(format!(
				"{} anchors are final, {} still pending in the store; run the same `provena \
				 submit` again (or with --resume) once the node is back: nothing is sent twice",
				tally.finalized, tally.pending
			))
		};
		let since = match lost {
			Some((since, finalized)) if finalized == tally.finalized => since,
			_ => std::time::Instant::now(),
		};
		lost = Some((since, tally.finalized));
		let left = within.saturating_sub(since.elapsed());
		if left.is_zero() {
			return Err(give_up(error));
		}
		ctx.out.warn(format!(
			"lost the node at {} ({} anchors final, {} pending); trying to reach it again for \
			 up to {} s",
			chain.url,
			tally.finalized,
			tally.pending,
			left.as_secs()
		));
		let waiting = |attempt: u32, wait: std::time::Duration| {
			ctx.out.warn(format!("  attempt {attempt} failed; next in {:.1} s", wait.as_secs_f64()))
		};
		chain = match chain.reconnect(left, waiting).await {
			Ok(again) => again,
			Err(error @ Error::Unreachable { .. }) => return Err(give_up(error)),
			Err(error) => return Err(error.into()),
		};
		ctx.out.warn(format!("reached {} again; delivering what is still pending", chain.url));
	}
	report(ctx, &store, stored, skipped, sealed, &delivery)?;
	Ok(if delivery.rejected > 0 { ExitCode::from(3) } else { ExitCode::SUCCESS })
}

/// Delivers what the store holds, with a progress bar on a terminal, counting into `delivery`.
async fn deliver_with_progress(
	ctx: &Context,
	chain: &Chain,
	store: &mut Store,
	account: &KeyPair,
	options: DeliverOptions,
	delivery: &mut Delivery,
) -> Result<(), Error> {
	let bar = ctx.out.progress_bar().then(|| {
		let bar = indicatif::ProgressBar::new(0);
		if let Ok(style) = indicatif::ProgressStyle::with_template(
			"{spinner} {msg} [{bar:30}] {pos}/{len} anchors final",
		) {
			bar.set_style(style);
		}
		bar
	});
	let on_progress = |tally: &provena_client::store::Tally, _: &mut gateway::Delivery| {
		if let Some(bar) = &bar {
			bar.set_length(tally.finalized + tally.pending + tally.failed);
			bar.set_position(tally.finalized);
		}
	};
	let result = gateway::deliver_into(chain, store, account, options, on_progress, delivery).await;
	if let Some(bar) = &bar {
		bar.finish_and_clear();
	}
	result
}

/// Prints what a submit did.
fn report(
	ctx: &Context,
	store: &Store,
	stored: u64,
	skipped: u64,
	sealed: u64,
	delivery: &Delivery,
) -> Result<()> {
	let tally = store.tally()?;
	let value = json!({
		"stored": stored, "skipped": skipped, "anchors_signed": sealed,
		"anchored": delivery.anchored, "readings_anchored": delivery.readings_anchored,
		"already_anchored": delivery.already_anchored, "rejected": delivery.rejected,
		"deferred": delivery.deferred, "transactions": delivery.transactions, "events": delivery.events,
		"store": { "finalized": tally.finalized, "pending": tally.pending, "failed": tally.failed },
	});
	let mut human = format!(
		"{} anchors ({} readings) finalized in {} transactions; {} were already on chain; {} rejected",
		delivery.anchored,
		delivery.readings_anchored,
		delivery.transactions,
		delivery.already_anchored,
		delivery.rejected
	);
	if delivery.deferred > 0 {
		human += &format!(
			"; {} sent again after an earlier anchor of their device was refused in their batch",
			delivery.deferred
		);
	}
	for event in &delivery.events {
		let line =
			match event {
				ChainEvent::SequenceGap { device, from, to, block } => {
					format!("GAP     device {device}: readings {from}..{to} never arrived (block #{block})")
				},
				ChainEvent::AlertRaised { device, seq, metric, value, min, max, block } => format!(
				"ALERT   device {device}: {metric} = {} at reading {seq}, outside [{}, {}] (block #{block})",
				decimal(*value),
				bound(*min),
				bound(*max)
			),
				ChainEvent::AnchorRejected { device, first_seq, error } => {
					format!("REFUSED device {device}: anchor from reading {first_seq}: {error}")
				},
				ChainEvent::Anchored { .. } => continue,
			};
		human.push_str("\n  ");
		human.push_str(&line);
	}
	ctx.out.print(value, human);
	Ok(())
}

/// Runs `provena status`: the store's anchors by where they stand.
pub async fn status(ctx: &Context) -> Result<()> {
	let chain = ctx.connect().await?;
	let tally = ctx.store(&chain)?.tally()?;
	ctx.out.print(
		json!({ "pending": tally.pending, "finalized": tally.finalized, "failed": tally.failed, "readings_finalized": tally.readings_finalized }),
		format!(
			"anchors: {} finalized ({} readings), {} pending, {} failed",
			tally.finalized, tally.readings_finalized, tally.pending, tally.failed
		),
	);
	Ok(())
}
