//! `provena rule`: alert bounds on a device's public values.

use crate::{
	args::{bounded, Account, Device},
	context::Context,
	output::bound,
};
use anyhow::{anyhow, Result};
use clap::Subcommand;
use provena_client::{chain::api, input::thousandths, show_device};
use serde_json::{json, Value};

/// Alert bounds for a device's metrics.
#[derive(Subcommand, Debug)]
pub enum Command {
	/// Set bounds for a metric; a public value outside them raises an alert. The chain can
	/// only check what it sees: from now on every anchor of the device publishes this
	/// metric's values (for a batch, its lowest and highest) in the clear, even with
	/// `--encrypt`. Holds the chain's rule deposit from the signer until the rule is cleared
	/// or replaced.
	Set {
		#[command(flatten)]
		device: Device,
		/// The metric.
		#[arg(long)]
		metric: String,
		/// The lowest allowed value.
		#[arg(long, allow_negative_numbers = true)]
		min: Option<f64>,
		/// The highest allowed value.
		#[arg(long, allow_negative_numbers = true)]
		max: Option<f64>,
		#[command(flatten)]
		account: Account,
	},
	/// Remove a metric's bounds; the deposit goes back to whoever set them. Anyone may
	/// remove a rule left from the device's previous owner.
	Clear {
		#[command(flatten)]
		device: Device,
		/// The metric.
		#[arg(long)]
		metric: String,
		#[command(flatten)]
		account: Account,
	},
	/// List a device's rules.
	List {
		#[command(flatten)]
		device: Device,
	},
}

/// Runs a `provena rule` command.
pub async fn run(ctx: &Context, command: Command) -> Result<()> {
	let chain = ctx.connect().await?;
	let telemetry = api::transactions().telemetry();
	match command {
		Command::Set { device, metric, min, max, account } => {
			let min = min.map(thousandths).transpose().map_err(|e| anyhow!("--min: {e}"))?;
			let max = max.map(thousandths).transpose().map_err(|e| anyhow!("--max: {e}"))?;
			let name = bounded(metric.as_bytes().to_vec());
			let call = telemetry.set_alert_rule(device.device, name, min, max);
			let f = chain.submit(&call, &account.load()?).await?;
			let what = format!(
				"Alert rule set: {metric} in [{}, {}]. Anchors of this device now publish \
				 {metric} in the clear, so the chain can check it",
				bound(min),
				bound(max)
			);
			ctx.out.finalized(&what, &f, json!({}));
		},
		Command::Clear { device, metric, account } => {
			let call =
				telemetry.clear_alert_rule(device.device, bounded(metric.as_bytes().to_vec()));
			let f = chain.submit(&call, &account.load()?).await?;
			ctx.out.finalized(&format!("Alert rule for {metric} cleared"), &f, json!({}));
		},
		Command::List { device } => {
			let rules = chain.alert_rules(device.device).await?;
			let epoch = chain.known_device(device.device).await?.epoch;
			let name = |m: &[u8]| String::from_utf8_lossy(m).into_owned();
			let rows: Vec<Value> = rules
				.iter()
				.map(|r| {
					json!({
						"metric": name(&r.rule.metric.0),
						"min": r.rule.min,
						"max": r.rule.max,
						"set_by": r.payer.to_string(),
						"deposit": r.deposit.to_string(),
						"current": r.epoch == epoch,
					})
				})
				.collect();
			let human = if rules.is_empty() {
				"no alert rules".into()
			} else {
				let lines: Vec<String> = rules
					.iter()
					.map(|r| {
						let stale = if r.epoch == epoch {
							""
						} else {
							"  (a previous owner's: raises nothing; anyone may clear it)"
						};
						let (min, max) = (bound(r.rule.min), bound(r.rule.max));
						format!(
							"{}  [{min}, {max}]  set by {}{stale}",
							name(&r.rule.metric.0),
							r.payer
						)
					})
					.collect();
				lines.join("\n")
			};
			ctx.out.print(json!({ "device": show_device(&device.device), "rules": rows }), human);
		},
	}
	Ok(())
}
