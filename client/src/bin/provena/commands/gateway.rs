//! `provena gateway run`: the gateway as a service, configured by a file and flags.

use crate::{args::Account, context::Context};
use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand};
use provena_client::gateway::{
	service::{self, MqttOptions, ServiceOptions},
	DeliverOptions, Pay,
};
use serde::Deserialize;
use std::{net::SocketAddr, path::PathBuf, time::Duration};

/// The gateway service.
#[derive(Subcommand, Debug)]
pub enum Command {
	/// Run the gateway service until SIGINT or SIGTERM: take anchors devices signed
	/// themselves over MQTT (`<prefix>/<device>/anchors`, QoS 1) and HTTP (`POST
	/// /v1/anchors`, JSON Lines), store each before acknowledging it, deliver them to the
	/// chain, and serve `/metrics` and `/healthz`. The message format is documented in
	/// `provena_client::gateway::message` and the README's gateway section.
	Run(Run),
}

/// `provena gateway run`. Every flag may also be set in the `--config` file (TOML, the flag's
/// name with `_` for `-`: `mqtt = "127.0.0.1:1883"`); a flag given wins over the file.
#[derive(Args, Debug)]
pub struct Run {
	/// A TOML file with any of the settings below.
	#[arg(long, value_name = "FILE")]
	config: Option<PathBuf>,
	/// The MQTT broker, HOST:PORT. Without it (and without `mqtt` in the file), no MQTT.
	#[arg(long, value_name = "HOST:PORT")]
	mqtt: Option<String>,
	/// The MQTT client id: keep it fixed, the broker keeps this gateway's session (and what it
	/// has not acknowledged) under it. Default `provena-gateway`.
	#[arg(long)]
	mqtt_client_id: Option<String>,
	/// The first level of the topics. Default `provena`.
	#[arg(long)]
	topic_prefix: Option<String>,
	/// Where HTTP (ingest, /metrics, /healthz) listens. Default `127.0.0.1:8080`; `off` for no
	/// HTTP.
	#[arg(long, value_name = "ADDR:PORT")]
	http: Option<String>,
	/// Report a device silent after it published nothing for this many seconds. Default 300;
	/// 0 turns it off.
	#[arg(long, value_name = "SECONDS")]
	silent_after: Option<u64>,
	/// Who pays for anchors: `auto` (a device's credits when it has enough, else the
	/// account), `credits` or `account`. Default `auto`.
	#[arg(long, value_enum)]
	pay: Option<Pay>,
	/// Anchors per account-paid transaction (the chain takes at most 256). Default 100: a
	/// gateway relays many devices, and each device's anchors of a moment travel together.
	#[arg(long)]
	anchors_per_tx: Option<usize>,
	/// Transactions in flight at once. Default 64.
	#[arg(long)]
	max_in_flight: Option<usize>,
	#[command(flatten)]
	account: Account,
}

/// The settings a `--config` file may hold.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
	mqtt: Option<String>,
	mqtt_client_id: Option<String>,
	topic_prefix: Option<String>,
	http: Option<String>,
	silent_after: Option<u64>,
	pay: Option<Pay>,
	anchors_per_tx: Option<usize>,
	max_in_flight: Option<usize>,
}

/// Runs a `provena gateway` command.
pub async fn run(ctx: &Context, command: Command) -> Result<()> {
	match command {
		Command::Run(args) => run_service(ctx, args).await,
	}
}

/// The service's default anchors per account-paid transaction.
const SERVICE_ANCHORS_PER_TX: usize = 100;

/// `HOST:PORT` as host and port (brackets around an IPv6 host dropped).
pub(super) fn host_port(text: &str) -> Result<(String, u16)> {
	let (host, port) = text
		.rsplit_once(':')
		.with_context(|| format!("`{text}`: write the broker as HOST:PORT"))?;
	let port = port.parse().with_context(|| format!("`{text}`: `{port}` is not a port"))?;
	Ok((host.trim_matches(['[', ']']).to_string(), port))
}

async fn run_service(ctx: &Context, args: Run) -> Result<()> {
	let file: FileConfig = match &args.config {
		None => FileConfig::default(),
		Some(path) => {
			let text = std::fs::read_to_string(path)
				.with_context(|| format!("cannot read the config file {}", path.display()))?;
			toml::from_str(&text)
				.with_context(|| format!("the config file {} is not valid", path.display()))?
		},
	};
	let mqtt = match args.mqtt.or(file.mqtt) {
		None => None,
		Some(broker) => {
			let (host, port) = host_port(&broker)?;
			Some(MqttOptions {
				host,
				port,
				client_id: args
					.mqtt_client_id
					.or(file.mqtt_client_id)
					.unwrap_or_else(|| "provena-gateway".into()),
				prefix: args.topic_prefix.or(file.topic_prefix).unwrap_or_else(|| "provena".into()),
			})
		},
	};
	let http = match args.http.or(file.http).as_deref() {
		Some("off") => None,
		None => Some(SocketAddr::from(([127, 0, 0, 1], 8080))),
		Some(addr) => Some(
			addr.parse::<SocketAddr>()
				.with_context(|| format!("`{addr}` is not an address to listen on (ADDR:PORT)"))?,
		),
	};
	if mqtt.is_none() && http.is_none() {
		bail!("nothing to listen on: give --mqtt HOST:PORT, or leave HTTP on");
	}
	let defaults = DeliverOptions::default();
	let options = ServiceOptions {
		mqtt,
		http,
		deliver: DeliverOptions {
			anchors_per_tx: args
				.anchors_per_tx
				.or(file.anchors_per_tx)
				.unwrap_or(SERVICE_ANCHORS_PER_TX),
			max_in_flight: args
				.max_in_flight
				.or(file.max_in_flight)
				.unwrap_or(defaults.max_in_flight),
			pay: args.pay.or(file.pay).unwrap_or(defaults.pay),
			hold_after_gap: true,
			continuous: true,
		},
		idle: Duration::from_millis(500),
		silent_after: match args.silent_after.or(file.silent_after).unwrap_or(300) {
			0 => None,
			seconds => Some(Duration::from_secs(seconds)),
		},
	};
	let account = args.account.load()?;
	let chain = ctx.connect().await?;
	let store = ctx.store_path(&chain)?;
	eprintln!(
		"provena gateway: node {}, store {}, MQTT {}, HTTP {}",
		chain.url,
		store.display(),
		options
			.mqtt
			.as_ref()
			.map(|m| format!("{}:{} ({}/+/anchors)", m.host, m.port, m.prefix))
			.unwrap_or_else(|| "off".into()),
		options.http.map(|a| format!("http://{a}")).unwrap_or_else(|| "off".into()),
	);
	let shutdown = async {
		let mut term =
			match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
				Ok(term) => term,
				Err(_) => return std::future::pending().await,
			};
		tokio::select! {
			_ = tokio::signal::ctrl_c() => {},
			_ = term.recv() => {},
		}
	};
	service::run(chain, store, account, options, shutdown).await?;
	eprintln!("provena gateway: stopped");
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_example_configuration_is_valid() {
		let text = include_str!("../../../../../docs/gateway/gateway.toml");
		let config: FileConfig = toml::from_str(text).unwrap();
		assert_eq!(config.mqtt.as_deref(), Some("127.0.0.1:1883"));
		assert_eq!(config.anchors_per_tx, Some(SERVICE_ANCHORS_PER_TX));
		// A misspelt key is refused, not ignored.
		assert!(toml::from_str::<FileConfig>("mqtt_host = \"x\"").is_err());
	}
}
