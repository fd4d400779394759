//! `provena gateway run`: the gateway as a service, configured by a file and flags.

use crate::{
	args::{read_key_file, Account},
	context::Context,
};
use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand};
use provena_client::{
	gateway::{
		ingest::Batching,
		service::{
			self, DashboardOptions, HeldKeys, HttpToken, MqttOptions, RawOptions, ServiceOptions,
			Webhook,
		},
		DeliverOptions, Pay,
	},
	keys::{read_password_file, KeyPair},
	parse_device,
};
use provena_primitives::DeviceId;
use serde::Deserialize;
use std::{
	collections::HashMap,
	net::SocketAddr,
	path::{Path, PathBuf},
	time::Duration,
};

/// The gateway service.
#[derive(Subcommand, Debug)]
pub enum Command {
	/// Run the gateway service until SIGINT or SIGTERM: take anchors devices signed
	/// themselves over MQTT (`<prefix>/<device>/anchors`, QoS 1) and HTTP (`POST
	/// /v1/anchors`, JSON Lines), store each before acknowledging it, deliver them to the
	/// chain, and serve `/metrics`, `/healthz`, the store's read API (`GET /v1/devices…`) and,
	/// with `--dashboard`, the dashboard. With `--device-keys`, also take raw
	/// readings (JSON Lines or SenML) of the devices whose keys it holds, and sign them in
	/// batches. The message formats are documented in `provena_client::gateway::message` and
	/// `::raw`, and in the README's gateway section.
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
	/// A file (owner-only) holding the token every HTTP `POST` must then carry as
	/// `Authorization: Bearer <token>`, at least 16 characters. Required when raw readings
	/// are taken over HTTP on an address other than loopback.
	#[arg(long, value_name = "FILE")]
	http_token_file: Option<PathBuf>,
	/// Where alerts about silent devices are also posted as JSON: an `http://` URL.
	#[arg(long, value_name = "URL")]
	silent_webhook: Option<String>,
	/// The raw-readings mode: a folder of device key files, each named after its device
	/// (`0x<64 hex digits>.json`, as `provena key generate` writes them). The gateway then
	/// takes raw readings of those devices (MQTT `<prefix>/<device>/readings` and
	/// `.../senml`, HTTP `POST /v1/devices/<device>/readings`) and signs them itself: whoever
	/// runs it can sign anything for them, so devices that can sign should send anchors.
	#[arg(long, value_name = "DIR")]
	device_keys: Option<PathBuf>,
	/// Raw mode: readings per anchor. Default 100.
	#[arg(long)]
	batch_size: Option<usize>,
	/// Raw mode: the longest a reading waits for its batch to fill, in seconds. Default 10.
	#[arg(long, value_name = "SECONDS")]
	batch_age: Option<u64>,
	/// Serve the dashboard built in this folder (`dashboard/dist` after `npm run build` in
	/// `dashboard/`; `scripts/start.sh` builds it) at `/dashboard/` on the HTTP address.
	#[arg(long, value_name = "DIR")]
	dashboard: Option<PathBuf>,
	/// The node's WebSocket URL as the dashboard's browser reaches it. Default: the node URL
	/// this gateway uses (`--url`).
	#[arg(long, value_name = "URL")]
	dashboard_node: Option<String>,
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
	http_token_file: Option<PathBuf>,
	silent_webhook: Option<String>,
	device_keys: Option<PathBuf>,
	batch_size: Option<usize>,
	batch_age: Option<u64>,
	dashboard: Option<PathBuf>,
	dashboard_node: Option<String>,
}

/// Runs a `provena gateway` command.
pub async fn run(ctx: &Context, command: Command) -> Result<()> {
	match command {
		Command::Run(args) => run_service(ctx, args).await,
	}
}

/// The service's default anchors per account-paid transaction.
const SERVICE_ANCHORS_PER_TX: usize = 100;

/// The most readings one anchor of the raw mode may commit.
const MAX_BATCH: usize = 4096;

/// The device key files in `dir`, one per device, named `0x<device id>.json`.
fn held_keys(dir: &Path) -> Result<HashMap<DeviceId, KeyPair>> {
	let mut keys = HashMap::new();
	let entries = std::fs::read_dir(dir)
		.with_context(|| format!("cannot read the folder {}", dir.display()))?;
	for entry in entries {
		let path =
			entry.with_context(|| format!("cannot read the folder {}", dir.display()))?.path();
		let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
		let device = name
			.strip_suffix(".json")
			.and_then(|stem| parse_device(stem).ok())
			.with_context(|| {
				format!(
					"{}: the --device-keys folder holds only key files named after their device, \
					 0x<64 hex digits>.json",
					path.display()
				)
			})?;
		let (_, key) = read_key_file(&path)?;
		keys.insert(device, key);
	}
	if keys.is_empty() {
		bail!("{} holds no device key file (0x<device id>.json)", dir.display());
	}
	Ok(keys)
}

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
	let silent_webhook = match args.silent_webhook.or(file.silent_webhook) {
		None => None,
		Some(url) => Some(url.parse::<Webhook>().map_err(anyhow::Error::msg)?),
	};
	let raw_defaults = RawOptions::default();
	let batching = Batching {
		size: args.batch_size.or(file.batch_size).unwrap_or(raw_defaults.batching.size),
		max_age: args
			.batch_age
			.or(file.batch_age)
			.map_or(raw_defaults.batching.max_age, Duration::from_secs),
	};
	if batching.size == 0 || batching.size > MAX_BATCH {
		bail!("--batch-size takes 1 to {MAX_BATCH} readings");
	}
	let keys = match args.device_keys.or(file.device_keys) {
		None => HeldKeys::default(),
		Some(dir) => HeldKeys(held_keys(&dir)?),
	};
	let http_token = match args.http_token_file.or(file.http_token_file) {
		None => None,
		Some(path) => {
			let token = read_password_file(&path)
				.with_context(|| format!("the HTTP token file {}", path.display()))?;
			if token.trim().len() < 16 || token.trim() != token.as_str() {
				bail!(
					"the HTTP token in {} must have at least 16 characters and no surrounding \
					 space",
					path.display()
				);
			}
			Some(HttpToken(token))
		},
	};
	if let (false, Some(addr), None) = (keys.0.is_empty(), http, &http_token) {
		if !addr.ip().is_loopback() {
			bail!(
				"raw readings over HTTP on {addr} would let anyone on the network have this \
				 gateway sign readings for its devices: give --http-token-file, or listen on \
				 loopback"
			);
		}
	}
	let dashboard_dir = args.dashboard.or(file.dashboard);
	if let Some(dir) = &dashboard_dir {
		if http.is_none() {
			bail!("the dashboard is served over HTTP: leave HTTP on (--http ADDR:PORT)");
		}
		if !dir.join("index.html").is_file() {
			bail!(
				"{} holds no built dashboard (index.html): run `npm install && npm run build` \
				 in dashboard/ and give its dist folder",
				dir.display()
			);
		}
	}
	let dashboard_node = args.dashboard_node.or(file.dashboard_node);
	if let Some(url) = &dashboard_node {
		if !(url.starts_with("ws://") || url.starts_with("wss://")) {
			bail!("--dashboard-node takes the node's ws:// or wss:// URL, not `{url}`");
		}
	}
	let mut options = ServiceOptions {
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
		silent_webhook,
		raw: RawOptions { keys, batching },
		http_token,
		dashboard: DashboardOptions { dir: dashboard_dir, node_url: String::new() },
	};
	let account = args.account.load()?;
	let chain = ctx.connect().await?;
	options.dashboard.node_url = dashboard_node.unwrap_or_else(|| chain.url.clone());
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
	if let (Some(addr), Some(_)) = (options.http, &options.dashboard.dir) {
		eprintln!("provena gateway: dashboard on http://{addr}/dashboard/");
	}
	if !options.raw.keys.0.is_empty() {
		eprintln!(
			"provena gateway: raw readings of {} devices whose keys it holds, {} readings an \
			 anchor or {} s at most",
			options.raw.keys.0.len(),
			options.raw.batching.size,
			options.raw.batching.max_age.as_secs()
		);
	}
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
