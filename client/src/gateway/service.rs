//! The gateway as a long-running service (`provena gateway run`): devices publish anchors they
//! signed themselves over MQTT or HTTP; the service checks and stores each before it is
//! acknowledged ([`super::ingest`]), delivers what the store holds to the chain without end,
//! and reports what it does on `/metrics` (Prometheus) and `/healthz`.
//!
//! - **MQTT**: a persistent session (a fixed client id, clean session off) subscribed with
//!   QoS 1 to `<prefix>/+/anchors`. Acknowledgements are manual: a PUBACK goes to the broker
//!   only after the message is stored (or refused for good), so a gateway killed at any point
//!   gets every unacknowledged message again from the broker when it comes back. A refusal is
//!   published to `<prefix>/<device>/rejected` (QoS 1) with its reason.
//! - **HTTP**: `POST /v1/anchors` takes one message per line (JSON Lines). `202 Accepted` once
//!   every line is stored (or was already); `400` with each refused line's reason (the other
//!   lines are stored); `503` when the store or the node failed (send the same body again:
//!   nothing is stored twice).
//! - **Raw readings** (only with device keys given, [`RawOptions`]): MQTT
//!   `<prefix>/<device>/readings` (JSON Lines) and `<prefix>/<device>/senml` (SenML JSON), and
//!   HTTP `POST /v1/devices/<device>/readings`, stored on arrival and signed by the gateway in
//!   batches by size and age ([`super::raw`]).
//! - **Dashboard**: `GET /v1/info`, `/v1/devices…` read the store for the dashboard (and
//!   scripts), and with a dashboard folder its files are served at `/dashboard/`
//!   ([`DashboardOptions`]).
//! - **Delivery**: one task sends every pending anchor and follows it to finality, again and
//!   again; it reconnects to a lost node for as long as it takes, and on its return resends
//!   only what the chain does not have ([`super::deliver`]).
//! - **Silence**: a device that has published nothing for `silent_after` is logged once as
//!   silent and counted in `provena_gateway_devices_silent` (its
//!   `provena_gateway_device_silent{device}` is 1) until it publishes again; with a webhook,
//!   each change is also posted to it as JSON: `{"event": "device_silent" |
//!   "device_publishes_again", "device", "silent_for_s", "at_ms"}`.

mod dashboard;

pub use dashboard::DashboardOptions;

use super::{
	ingest::{Batching, Ingest, Outcome},
	message::{Refusal, RefusalKind},
	raw::RawFormat,
	DeliverOptions, Delivery,
};
use crate::{
	chain::Chain,
	error::with_causes,
	keys::{AccountKey, KeyPair},
	parse_device, show_device,
	store::Store,
	Error,
};
use axum::{
	body::Bytes,
	extract::{DefaultBodyLimit, State},
	http::StatusCode,
	response::{IntoResponse, Response},
	routing::{get, post},
	Router,
};
use prometheus_client::{
	encoding::text::encode,
	metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
	registry::Registry,
};
use provena_primitives::DeviceId;
use std::{
	collections::HashMap,
	net::SocketAddr,
	path::PathBuf,
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc,
	},
	time::{Duration, Instant},
};
use tokio::sync::{watch, Mutex};

/// Labels of a metric family: (name, value) pairs.
type Labels = Vec<(&'static str, String)>;

/// Where the service listens and how it delivers.
#[derive(Clone, Debug)]
pub struct ServiceOptions {
	/// The MQTT broker, if the service takes MQTT.
	pub mqtt: Option<MqttOptions>,
	/// Where the HTTP server (ingest, `/metrics`, `/healthz`) listens, if anywhere.
	pub http: Option<SocketAddr>,
	/// How anchors are sent.
	pub deliver: DeliverOptions,
	/// How long to wait before looking again when nothing was pending.
	pub idle: Duration,
	/// How long a device may publish nothing before it is reported silent.
	pub silent_after: Option<Duration>,
	/// Where silent alerts are also posted (JSON, `http://` only), if anywhere.
	pub silent_webhook: Option<Webhook>,
	/// Raw readings of devices whose keys the gateway holds (the explicit raw mode).
	pub raw: RawOptions,
	/// The bearer token every HTTP request to `/v1` must carry, if any (`/metrics`,
	/// `/healthz` and the dashboard's files stay open).
	pub http_token: Option<HttpToken>,
	/// The dashboard and the store's read API ([`DashboardOptions`]).
	pub dashboard: DashboardOptions,
}

/// A secret HTTP clients prove they hold (`Authorization: Bearer <token>`). Its `Debug` does
/// not show it.
#[derive(Clone)]
pub struct HttpToken(pub zeroize::Zeroizing<String>);

impl std::fmt::Debug for HttpToken {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str("HttpToken(…)")
	}
}

impl HttpToken {
	/// Whether `header` (an `Authorization` value) carries this token. Takes the same time
	/// whatever byte differs.
	fn admits(&self, header: Option<&[u8]>) -> bool {
		let Some(given) = header.and_then(|h| h.strip_prefix(b"Bearer ")) else { return false };
		let expected = self.0.as_bytes();
		given.len() == expected.len()
			&& given.iter().zip(expected).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
	}
}

/// The raw-readings mode: the devices whose keys the gateway holds, and how their readings
/// are batched. With no keys, raw readings are refused and their topics not subscribed.
#[derive(Clone, Debug)]
pub struct RawOptions {
	/// The keys, by device.
	pub keys: HeldKeys,
	/// How readings become anchors.
	pub batching: Batching,
}

impl Default for RawOptions {
	fn default() -> Self {
		RawOptions {
			keys: HeldKeys::default(),
			batching: Batching { size: 100, max_age: Duration::from_secs(10) },
		}
	}
}

/// Device keys the gateway holds. Its `Debug` names the devices, never a key.
#[derive(Clone, Default)]
pub struct HeldKeys(pub HashMap<DeviceId, KeyPair>);

impl std::fmt::Debug for HeldKeys {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_list().entries(self.0.keys().map(show_device)).finish()
	}
}

/// An `http://host[:port]/path` URL that alerts are posted to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
	/// The host, as written.
	pub host: String,
	/// The port (80 unless written).
	pub port: u16,
	/// The path, from its `/`.
	pub path: String,
}

impl std::str::FromStr for Webhook {
	type Err = String;

	fn from_str(url: &str) -> Result<Self, String> {
		let Some(rest) = url.strip_prefix("http://") else {
			return Err(format!(
				"`{url}`: the webhook must be an http:// URL (the gateway speaks no TLS to \
				 webhooks: post to a relay on this host or the local network)"
			));
		};
		let (authority, path) = match rest.find('/') {
			Some(at) => (&rest[..at], &rest[at..]),
			None => (rest, "/"),
		};
		// An IPv6 host is written in brackets: its colons are not the port's.
		let host_end = match authority.starts_with('[') {
			true => authority.find(']').map_or(authority.len(), |end| end + 1),
			false => authority.find(':').unwrap_or(authority.len()),
		};
		let (host, port) = authority.split_at(host_end);
		let port = match port.strip_prefix(':') {
			Some(port) => port.parse().map_err(|_| format!("`{url}`: `{port}` is not a port"))?,
			None if port.is_empty() => 80,
			None => return Err(format!("`{url}` is not a webhook URL (http://host[:port]/path)")),
		};
		if host.is_empty() || host.contains(['@', ' ']) || path.contains([' ', '\r', '\n']) {
			return Err(format!("`{url}` is not a webhook URL (http://host[:port]/path)"));
		}
		Ok(Webhook { host: host.to_string(), port, path: path.to_string() })
	}
}

/// How long a webhook may take to answer.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

impl Webhook {
	/// Posts `body` (JSON); the answer's status code.
	async fn post(&self, body: &str) -> Result<u16, String> {
		use tokio::io::{AsyncReadExt, AsyncWriteExt};
		let exchange = async {
			let host = self.host.trim_matches(['[', ']']);
			let mut stream = tokio::net::TcpStream::connect((host, self.port))
				.await
				.map_err(|e| format!("cannot connect: {e}"))?;
			let request = format!(
				"POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\n\
				 Content-Length: {}\r\nConnection: close\r\nUser-Agent: provena-gateway\r\n\r\n{body}",
				self.path,
				self.host,
				self.port,
				body.len()
			);
			stream.write_all(request.as_bytes()).await.map_err(|e| format!("cannot send: {e}"))?;
			// The status line is all that is read.
			let mut answer = Vec::with_capacity(64);
			let mut chunk = [0u8; 256];
			while !answer.contains(&b'\n') && answer.len() < 4096 {
				let read = stream.read(&mut chunk).await.map_err(|e| format!("no answer: {e}"))?;
				if read == 0 {
					break;
				}
				answer.extend_from_slice(&chunk[..read]);
			}
			let line = String::from_utf8_lossy(&answer);
			line.split_whitespace()
				.nth(1)
				.filter(|_| line.starts_with("HTTP/"))
				.and_then(|code| code.parse().ok())
				.ok_or_else(|| "the answer is not HTTP".to_string())
		};
		tokio::time::timeout(WEBHOOK_TIMEOUT, exchange)
			.await
			.unwrap_or_else(|_| Err(format!("no answer within {} s", WEBHOOK_TIMEOUT.as_secs())))
	}
}

/// The MQTT side.
#[derive(Clone, Debug)]
pub struct MqttOptions {
	/// The broker's host.
	pub host: String,
	/// The broker's port.
	pub port: u16,
	/// The service's client id: fixed, so the broker keeps its session (and the messages not
	/// yet acknowledged) while it is away.
	pub client_id: String,
	/// Topics are `<prefix>/<device>/anchors`, with the raw mode also `.../readings` and
	/// `.../senml` (and `.../rejected` for refusals).
	pub prefix: String,
}

/// What the service counts, served on `/metrics`.
pub struct Metrics {
	registry: Registry,
	received: Family<Labels, Counter>,
	stored_messages: Counter,
	stored_readings: Counter,
	duplicates: Counter,
	refused: Family<Labels, Counter>,
	anchored: Counter,
	finalized_readings: Counter,
	rejected_anchors: Counter,
	backlog: Gauge,
	held: Gauge,
	to_finalized: Histogram,
	silent: Gauge,
	device_silent: Family<Labels, Gauge>,
	sealed: Counter,
	webhook_failures: Counter,
}

impl Metrics {
	fn new() -> Self {
		let mut registry = Registry::with_prefix("provena_gateway");
		let metrics = Metrics {
			received: Family::default(),
			stored_messages: Counter::default(),
			stored_readings: Counter::default(),
			duplicates: Counter::default(),
			refused: Family::default(),
			anchored: Counter::default(),
			finalized_readings: Counter::default(),
			rejected_anchors: Counter::default(),
			backlog: Gauge::default(),
			held: Gauge::default(),
			to_finalized: Histogram::new(
				[1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 18.0, 24.0, 30.0, 40.0, 60.0, 120.0].into_iter(),
			),
			silent: Gauge::default(),
			device_silent: Family::default(),
			sealed: Counter::default(),
			webhook_failures: Counter::default(),
			registry: Registry::default(),
		};
		registry.register(
			"messages_received",
			"Messages received, by transport",
			metrics.received.clone(),
		);
		registry.register(
			"messages_stored",
			"Messages stored as new anchors",
			metrics.stored_messages.clone(),
		);
		registry.register(
			"readings_stored",
			"Readings stored in new anchors",
			metrics.stored_readings.clone(),
		);
		registry.register(
			"messages_duplicate",
			"Messages received again after they were stored (acknowledged, nothing stored)",
			metrics.duplicates.clone(),
		);
		registry.register(
			"messages_refused",
			"Messages refused for good, by reason",
			metrics.refused.clone(),
		);
		registry.register(
			"anchors_finalized",
			"Anchors this process saw finalized (or found already on chain)",
			metrics.anchored.clone(),
		);
		registry.register(
			"readings_finalized",
			"Readings in anchors this process saw finalized",
			metrics.finalized_readings.clone(),
		);
		registry.register(
			"anchors_rejected",
			"Anchors the chain refused",
			metrics.rejected_anchors.clone(),
		);
		registry.register(
			"backlog_anchors",
			"Anchors stored and not final yet",
			metrics.backlog.clone(),
		);
		registry.register(
			"held_anchors",
			"Anchors waiting for an earlier anchor of their device that has not arrived",
			metrics.held.clone(),
		);
		registry.register(
			"submit_to_finalized_seconds",
			"From sending a transaction to its finality",
			metrics.to_finalized.clone(),
		);
		registry.register(
			"devices_silent",
			"Devices that published nothing for their interval",
			metrics.silent.clone(),
		);
		registry.register(
			"device_silent",
			"1 while a device is silent",
			metrics.device_silent.clone(),
		);
		registry.register(
			"anchors_sealed",
			"Anchors the gateway signed for raw readings of the devices whose keys it holds",
			metrics.sealed.clone(),
		);
		registry.register(
			"webhook_failures",
			"Alerts the webhook did not take (no answer, or not a 2xx status)",
			metrics.webhook_failures.clone(),
		);
		Metrics { registry, ..metrics }
	}

	fn outcome(&self, outcome: &Outcome) {
		match outcome {
			Outcome::Stored { readings, .. } => {
				self.stored_messages.inc();
				self.stored_readings.inc_by(*readings);
			},
			Outcome::Duplicate { .. } => {
				self.duplicates.inc();
			},
			Outcome::Refused(refusal) => {
				self.refused.get_or_create(&vec![("reason", refusal.kind.label().into())]).inc();
			},
		}
	}

	/// Counts what `delivery` did since `reported`, the part of it counted before (a round of
	/// the service can last long: its figures are counted as it goes), and takes its
	/// per-transaction figures and events out of it once counted, so a round that lasts for
	/// months holds none of them.
	fn delivered(&self, delivery: &mut Delivery, reported: &mut Reported) {
		let anchored = delivery.anchored + delivery.already_anchored;
		self.anchored.inc_by(anchored.saturating_sub(reported.anchored));
		self.finalized_readings
			.inc_by(delivery.readings_anchored.saturating_sub(reported.readings));
		self.rejected_anchors.inc_by(delivery.rejected.saturating_sub(reported.rejected));
		self.held.set(delivery.held as i64);
		for took in delivery.to_finalized.drain(..) {
			self.to_finalized.observe(took.as_secs_f64());
		}
		delivery.to_in_block.clear();
		delivery.events.clear();
		*reported = Reported {
			anchored,
			readings: delivery.readings_anchored,
			rejected: delivery.rejected,
		};
	}

	/// The metrics in Prometheus' text format.
	pub fn render(&self) -> String {
		let mut text = String::new();
		// Writing to a String cannot fail.
		let _ = encode(&mut text, &self.registry);
		text
	}
}

/// How much of a delivery the metrics have counted.
#[derive(Default)]
struct Reported {
	anchored: u64,
	readings: u64,
	rejected: u64,
}

/// What the service's tasks share.
struct Shared {
	ingest: Mutex<Ingest>,
	metrics: Metrics,
	/// When each device last published, and whether it is reported silent.
	seen: std::sync::Mutex<HashMap<DeviceId, (Instant, bool)>>,
	mqtt_up: AtomicBool,
	node_up: AtomicBool,
	mqtt: bool,
	/// Alerts for the webhook task, if there is a webhook.
	alerts: Option<tokio::sync::mpsc::Sender<serde_json::Value>>,
	/// The token HTTP posts must carry, if any.
	token: Option<HttpToken>,
	/// The store's second connection, for the dashboard's reads (SQLite's WAL lets them run
	/// beside the ingest's writes).
	view: Mutex<Store>,
	/// The node connection as the delivery task last made it.
	chain: watch::Receiver<Chain>,
	/// How long a device may publish nothing before it is reported silent.
	silent_after: Option<Duration>,
	/// What the dashboard needs.
	dashboard: DashboardOptions,
	/// Whether HTTP listens on a loopback address only.
	http_loopback: bool,
}

/// `status` with `body` as JSON.
fn json_answer(status: StatusCode, body: serde_json::Value) -> Response {
	(status, [(axum::http::header::CONTENT_TYPE, "application/json")], body.to_string())
		.into_response()
}

/// `status` with `{"error": message}` as JSON.
fn json_error(status: StatusCode, message: impl Into<String>) -> Response {
	json_answer(status, serde_json::json!({ "error": message.into() }))
}

/// `403` with `reason`, as JSON.
fn forbidden(reason: &str) -> Response {
	json_error(StatusCode::FORBIDDEN, reason)
}

/// `Some(403)` for a request a browser sent from a page of another site: browsers name the
/// page's origin in `Origin` on cross-site posts (and on any cross-origin fetch), and devices,
/// scripts and the dashboard itself (same origin) either name none or this gateway.
fn refuse_cross_site(headers: &axum::http::HeaderMap) -> Option<Response> {
	let origin = headers.get(axum::http::header::ORIGIN)?;
	let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok());
	let same = match (origin.to_str(), host) {
		(Ok(origin), Some(host)) => {
			origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host)
		},
		_ => false,
	};
	(!same).then(|| {
		forbidden(
			"this gateway takes no request from a page of another site (its `Origin` is not \
			 this gateway)",
		)
	})
}

/// Whether the request names this gateway by address (`Host` an IP address or `localhost`),
/// as every client on this machine does. A web page whose own name was made to point to
/// 127.0.0.1 (DNS rebinding) still names itself: without a token, whatever is trusted for
/// coming from this machine is refused to it.
fn names_an_address(headers: &axum::http::HeaderMap) -> bool {
	let Some(host) = headers.get(axum::http::header::HOST) else { return true };
	let Ok(host) = host.to_str() else { return false };
	let name = match host.strip_prefix('[') {
		Some(rest) => rest.split_once(']').map_or(rest, |(name, _)| name),
		None => match host.rsplit_once(':') {
			Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
			_ => host,
		},
	};
	name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok()
}

impl Shared {
	/// `None` if the request to `/v1` may go on, else the answer: a page of another site is
	/// refused, and with a token the request must carry it. Without a token, `by_address`
	/// requests (raw readings, which the gateway signs, and reads of the store) also need the
	/// gateway named by its address.
	fn refuse_request(
		&self,
		headers: &axum::http::HeaderMap,
		by_address: bool,
	) -> Option<Response> {
		if let Some(refused) = refuse_cross_site(headers) {
			return Some(refused);
		}
		if self.token.is_some() {
			return self.refuse_unauthorized(headers);
		}
		(by_address && !names_an_address(headers)).then(|| {
			forbidden(
				"without --http-token-file this gateway takes raw readings and serves readings \
				 only to clients that name it by its address (http://127.0.0.1:PORT or \
				 http://localhost:PORT)",
			)
		})
	}

	/// `None` if the request carries the token (or none is needed), else the `401` to answer.
	fn refuse_unauthorized(&self, headers: &axum::http::HeaderMap) -> Option<Response> {
		let token = self.token.as_ref()?;
		let given = headers.get(axum::http::header::AUTHORIZATION).map(|v| v.as_bytes());
		if token.admits(given) {
			return None;
		}
		let body = serde_json::json!({
			"error": "this gateway answers /v1 only with `Authorization: Bearer <token>`, the \
					  token of its --http-token-file",
		});
		Some(
			(
				StatusCode::UNAUTHORIZED,
				[(axum::http::header::WWW_AUTHENTICATE, "Bearer")],
				body.to_string(),
			)
				.into_response(),
		)
	}
}

impl Shared {
	/// Accepts one message (see [`Ingest::accept`]), counting and logging what became of it.
	async fn accept(
		&self,
		transport: &'static str,
		bytes: &[u8],
		claimed: Option<DeviceId>,
	) -> Result<Outcome, Error> {
		self.metrics.received.get_or_create(&vec![("transport", transport.into())]).inc();
		let outcome = self.ingest.lock().await.accept(bytes, claimed).await?;
		Ok(self.observed(transport, outcome))
	}

	/// Counts what became of a message, marks its device as heard, logs a refusal.
	fn observed(&self, transport: &'static str, outcome: Outcome) -> Outcome {
		self.metrics.outcome(&outcome);
		if let Outcome::Stored { device, .. } | Outcome::Duplicate { device } = &outcome {
			self.heard(*device);
		}
		if let Outcome::Refused(refusal) = &outcome {
			tracing::warn!(transport, kind = refusal.kind.label(), "refused: {}", refusal.reason);
		}
		outcome
	}

	/// [`Shared::accept`] for raw readings of `device` (see [`Ingest::accept_raw`]).
	async fn accept_raw(
		&self,
		transport: &'static str,
		bytes: &[u8],
		format: RawFormat,
		device: DeviceId,
		redelivered: bool,
	) -> Result<Outcome, Error> {
		self.metrics.received.get_or_create(&vec![("transport", transport.into())]).inc();
		let outcome =
			self.ingest.lock().await.accept_raw(bytes, format, device, redelivered).await?;
		Ok(self.observed(transport, outcome))
	}

	fn heard(&self, device: DeviceId) {
		let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
		if let Some((last, true)) = seen.insert(device, (Instant::now(), false)) {
			tracing::info!(device = %show_device(&device), "device publishes again");
			self.metrics.silent.dec();
			self.metrics
				.device_silent
				.get_or_create(&vec![("device", show_device(&device))])
				.set(0);
			self.alert(serde_json::json!({
				"event": "device_publishes_again",
				"device": show_device(&device),
				"silent_for_s": last.elapsed().as_secs(),
				"at_ms": now_ms(),
			}));
		}
	}

	/// Queues `alert` for the webhook, if there is one; counted as a failure if the queue is
	/// full (the webhook is down or slow and alerts pile up).
	fn alert(&self, alert: serde_json::Value) {
		if let Some(alerts) = &self.alerts {
			if alerts.try_send(alert).is_err() {
				self.metrics.webhook_failures.inc();
			}
		}
	}
}

/// Runs the service until `shutdown` completes (or a task cannot go on). `store` is the
/// store's path; `chain` the node connection (reconnected when lost); `account` pays for
/// anchors the devices' credits do not.
pub async fn run(
	chain: Chain,
	store: PathBuf,
	account: AccountKey,
	options: ServiceOptions,
	shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
	let genesis = chain.genesis_hash();
	let mut ingest = Ingest::new(chain.clone(), Store::open(&store, genesis)?);
	let raw = !options.raw.keys.0.is_empty();
	ingest.hold_keys(options.raw.keys.0.clone())?;
	let (alerts, alert_inbox) = match options.silent_webhook {
		Some(_) => {
			let (to, from) = tokio::sync::mpsc::channel(ALERT_QUEUE);
			(Some(to), Some(from))
		},
		None => (None, None),
	};
	let view = Store::open(&store, genesis)?;
	let (chain_tx, chain_rx) = watch::channel(chain.clone());
	let shared = Arc::new(Shared {
		ingest: Mutex::new(ingest),
		metrics: Metrics::new(),
		seen: Default::default(),
		mqtt_up: AtomicBool::new(false),
		node_up: AtomicBool::new(true),
		mqtt: options.mqtt.is_some(),
		alerts,
		token: options.http_token.clone(),
		view: Mutex::new(view),
		chain: chain_rx.clone(),
		silent_after: options.silent_after,
		dashboard: options.dashboard.clone(),
		http_loopback: options.http.is_some_and(|addr| addr.ip().is_loopback()),
	});
	let (stop_tx, stop) = watch::channel(false);
	let mut tasks = tokio::task::JoinSet::new();

	if let Some(addr) = options.http {
		let listener = tokio::net::TcpListener::bind(addr)
			.await
			.map_err(|e| Error::input_from(format!("cannot listen on {addr} for HTTP"), e))?;
		tracing::info!(
			"HTTP on http://{}",
			listener.local_addr().map_err(|e| Error::input_from("HTTP", e))?
		);
		let app = Router::new()
			.route("/v1/anchors", post(post_anchors))
			.route("/v1/devices/{device}/readings", post(post_readings))
			.route("/metrics", get(metrics))
			.route("/healthz", get(healthz))
			.merge(dashboard::routes(&options.dashboard))
			.layer(DefaultBodyLimit::max(64 << 20))
			.with_state(shared.clone());
		let mut stop = stop.clone();
		tasks.spawn(async move {
			axum::serve(listener, app)
				.with_graceful_shutdown(async move {
					stopped(&mut stop).await;
				})
				.await
				.map_err(|e| Error::input_from("the HTTP server stopped", e))
		});
	}
	if let Some(mqtt) = options.mqtt.clone() {
		tasks.spawn(run_mqtt(mqtt, raw, shared.clone(), stop.clone()));
	}
	if raw {
		tasks.spawn(seal_forever(options.raw.batching, shared.clone(), stop.clone()));
	}
	if let (Some(webhook), Some(inbox)) = (options.silent_webhook.clone(), alert_inbox) {
		tasks.spawn(post_alerts(webhook, inbox, shared.clone(), stop.clone()));
	}
	{
		let shared = shared.clone();
		let stop = stop.clone();
		tasks.spawn(deliver_forever(
			chain,
			store,
			account,
			options.clone(),
			shared,
			chain_tx,
			stop,
		));
	}
	if let Some(after) = options.silent_after {
		tasks.spawn(watch_silence(after, shared.clone(), stop.clone()));
	}
	// The ingest's node connection follows the delivery task's reconnections.
	{
		let shared = shared.clone();
		let mut chain_rx = chain_rx;
		let mut stop = stop.clone();
		tasks.spawn(async move {
			loop {
				tokio::select! {
					changed = chain_rx.changed() => {
						if changed.is_err() { return Ok(()) }
						let chain = chain_rx.borrow_and_update().clone();
						shared.ingest.lock().await.set_chain(chain);
					}
					_ = stopped(&mut stop) => return Ok(()),
				}
			}
		});
	}

	let mut shutdown = Box::pin(shutdown);
	let result = tokio::select! {
		_ = &mut shutdown => Ok(()),
		Some(ended) = tasks.join_next() => match ended {
			Ok(Ok(())) => Ok(()),
			Ok(Err(error)) => Err(error),
			Err(panic) => Err(Error::input(format!("a gateway task failed: {panic}"))),
		},
	};
	let _ = stop_tx.send(true);
	// Every task ends at `stop`; what a task was doing is either stored and acknowledged, or
	// not acknowledged and sent again by the broker (or the HTTP client) later.
	let _ = tokio::time::timeout(Duration::from_secs(10), async {
		while tasks.join_next().await.is_some() {}
	})
	.await;
	result
}

/// MQTT messages taken from the broker and not yet stored, at most.
const WORKER_QUEUE: usize = 64;

/// Requests (acknowledgements, replies) the MQTT client queues for polling to send, at most.
const REQUEST_QUEUE: usize = 65_536;

/// The MQTT side until stopped: a persistent session subscribed to `<prefix>/+/anchors` (and,
/// with `raw`, `<prefix>/+/readings` and `<prefix>/+/senml`), each message stored (or refused)
/// before it is acknowledged, reconnecting to a lost broker.
async fn run_mqtt(
	options: MqttOptions,
	raw: bool,
	shared: Arc<Shared>,
	mut stop: watch::Receiver<bool>,
) -> Result<(), Error> {
	use rumqttc::{AsyncClient, Event, Packet, QoS};
	let mut mqtt = rumqttc::MqttOptions::new(&options.client_id, &options.host, options.port);
	mqtt.set_keep_alive(Duration::from_secs(30));
	mqtt.set_clean_session(false);
	mqtt.set_manual_acks(true);
	let max = super::message::MAX_MESSAGE_BYTES + 4096;
	mqtt.set_max_packet_size(max, max);
	let (client, mut events) = AsyncClient::new(mqtt, REQUEST_QUEUE);
	let kinds: &[&str] = if raw { &["anchors", "readings", "senml"] } else { &["anchors"] };
	let filters: Vec<String> = kinds.iter().map(|k| format!("{}/+/{k}", options.prefix)).collect();
	let filter = filters.join(", ");
	// Messages go to a worker in arrival order, so that polling (keep-alives, acks) waits for
	// the store only while the worker's queue is full, until the worker takes the next one.
	// The queue is small, so a backlog waits at the broker (Mosquitto sends a session its
	// whole queue), not in this process. The worker's acknowledgements and replies go through
	// the client's request queue, which only polling empties: it is made far larger than the
	// worker's queue, so the worker never waits for it while polling waits for the worker.
	let (to_worker, mut inbox) = tokio::sync::mpsc::channel::<rumqttc::Publish>(WORKER_QUEUE);
	let worker = {
		let client = client.clone();
		let shared = shared.clone();
		let prefix = options.prefix.clone();
		let mut stop = stop.clone();
		tokio::spawn(async move {
			let mut batch = Vec::with_capacity(WORKER_QUEUE);
			loop {
				batch.clear();
				if inbox.recv_many(&mut batch, WORKER_QUEUE).await == 0 {
					return;
				}
				// The keys of the devices the waiting messages' topics name, read together: a
				// gateway meeting many devices at once would otherwise ask for each in turn.
				let devices: Vec<DeviceId> =
					batch.iter().filter_map(|p| topic_parts(&prefix, &p.topic).0).collect();
				shared.ingest.lock().await.prefetch_keys(&devices).await;
				for publish in batch.drain(..) {
					let (claimed, kind) = topic_parts(&prefix, &publish.topic);
					let outcome = loop {
						let accepted = match (kind, claimed) {
							(Some(Topic::Anchors), _) => {
								shared.accept("mqtt", &publish.payload, claimed).await
							},
							(Some(Topic::Raw(format)), Some(device)) => {
								shared
									.accept_raw(
										"mqtt",
										&publish.payload,
										format,
										device,
										publish.dup,
									)
									.await
							},
							_ => Ok(Outcome::Refused(Refusal::new(
								RefusalKind::Malformed,
								format!(
								"topic `{}` is not <prefix>/<device>/anchors, readings or senml",
								publish.topic
							),
							))),
						};
						match accepted {
							Ok(outcome) => break Some(outcome),
							Err(error) => {
								tracing::warn!(
									"cannot store an MQTT message yet ({}); trying again",
									with_causes(&error)
								);
								tokio::select! {
									_ = tokio::time::sleep(Duration::from_secs(1)) => {},
									_ = stopped(&mut stop) => break None,
								}
							},
						}
					};
					// Stopped before it was stored: not acknowledged, so the broker keeps it.
					let Some(outcome) = outcome else { return };
					if let Outcome::Refused(refusal) = &outcome {
						let device =
							claimed.map(|d| show_device(&d)).unwrap_or_else(|| "unknown".into());
						let reply = serde_json::json!({
							"kind": refusal.kind.label(),
							"reason": refusal.reason,
						});
						let _ = client
							.publish(
								format!("{prefix}/{device}/rejected"),
								QoS::AtLeastOnce,
								false,
								reply.to_string(),
							)
							.await;
					}
					if let Err(error) = client.ack(&publish).await {
						tracing::warn!("cannot acknowledge an MQTT message: {error}");
					}
				}
			}
		})
	};
	loop {
		let event = tokio::select! {
			event = events.poll() => event,
			_ = stopped(&mut stop) => break,
		};
		match event {
			Ok(Event::Incoming(Packet::ConnAck(_))) => {
				tracing::info!(
					"MQTT: connected to {}:{}, subscribing to {filter}",
					options.host,
					options.port
				);
				let client = client.clone();
				let filters: Vec<rumqttc::SubscribeFilter> = filters
					.iter()
					.map(|f| rumqttc::SubscribeFilter::new(f.clone(), QoS::AtLeastOnce))
					.collect();
				tokio::spawn(async move { client.subscribe_many(filters).await });
			},
			// Healthy once subscribed: from then on the broker keeps every message for this
			// session, even while the gateway is away.
			Ok(Event::Incoming(Packet::SubAck(_))) => {
				shared.mqtt_up.store(true, Ordering::Relaxed);
				tracing::info!("MQTT: subscribed to {filter}");
			},
			Ok(Event::Incoming(Packet::Publish(publish))) => {
				if to_worker.send(publish).await.is_err() {
					break;
				}
			},
			Ok(_) => {},
			Err(error) => {
				if shared.mqtt_up.swap(false, Ordering::Relaxed) {
					tracing::warn!(
						"MQTT: lost the broker at {}:{} ({error}); reconnecting",
						options.host,
						options.port
					);
				}
				tokio::select! {
					_ = tokio::time::sleep(Duration::from_secs(1)) => {},
					_ = stopped(&mut stop) => break,
				}
			},
		}
	}
	drop(to_worker);
	let _ = worker.await;
	Ok(())
}

/// Completes once the service is told to stop (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
	// The guard `wait_for` returns is dropped here, so no caller holds it across an await.
	let _ = stop.wait_for(|stop| *stop).await;
}

/// What a topic's last level says a message holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Topic {
	/// `<prefix>/<device>/anchors`: a device-signed anchor.
	Anchors,
	/// `<prefix>/<device>/readings` or `.../senml`: raw readings.
	Raw(RawFormat),
}

/// The device a topic `<prefix>/<device>/<kind>` names, and its kind.
fn topic_parts(prefix: &str, topic: &str) -> (Option<DeviceId>, Option<Topic>) {
	let Some(rest) = topic.strip_prefix(prefix).and_then(|r| r.strip_prefix('/')) else {
		return (None, None);
	};
	let Some((device, kind)) = rest.split_once('/') else { return (None, None) };
	let kind = match kind {
		"anchors" => Some(Topic::Anchors),
		"readings" => Some(Topic::Raw(RawFormat::JsonLines)),
		"senml" => Some(Topic::Raw(RawFormat::Senml)),
		_ => None,
	};
	(parse_device(device).ok(), kind)
}

/// Delivers what the store holds, again and again, reconnecting to a lost node.
async fn deliver_forever(
	mut chain: Chain,
	store: PathBuf,
	account: AccountKey,
	options: ServiceOptions,
	shared: Arc<Shared>,
	chain_tx: watch::Sender<Chain>,
	mut stop: watch::Receiver<bool>,
) -> Result<(), Error> {
	let mut store = Store::open(&store, chain.genesis_hash())?;
	loop {
		let mut delivery = Delivery::default();
		let metrics = &shared.metrics;
		let mut reported = Reported::default();
		let result = tokio::select! {
			result = super::deliver_into(
				&chain,
				&mut store,
				&account,
				options.deliver,
				|tally, delivery| {
					metrics.backlog.set(tally.pending as i64);
					metrics.delivered(delivery, &mut reported);
				},
				&mut delivery,
			) => result,
			_ = stopped(&mut stop) => return Ok(()),
		};
		metrics.delivered(&mut delivery, &mut reported);
		if delivery.transactions > 0 || delivery.already_anchored > 0 {
			tracing::info!(
				"delivered: {} anchors ({} readings) finalized, {} found on chain, {} refused, {} \
				 deferred, in {} transactions",
				delivery.anchored,
				delivery.readings_anchored,
				delivery.already_anchored,
				delivery.rejected,
				delivery.deferred,
				delivery.transactions
			);
		}
		match result {
			Ok(()) => {
				shared.node_up.store(true, Ordering::Relaxed);
				if delivery.transactions == 0 {
					tokio::select! {
						_ = tokio::time::sleep(options.idle) => {},
						_ = stopped(&mut stop) => return Ok(()),
					}
				}
			},
			Err(error) => {
				// Whatever failed (the node gone, a subscription dropped, a refusal that ended
				// the round), go on with a connection known to work: the next round asks the
				// chain again what it has, so nothing is sent twice.
				shared.node_up.store(false, Ordering::Relaxed);
				tracing::warn!(
					"delivery stopped ({}); reaching the node at {} again",
					with_causes(&error),
					chain.url
				);
				// A pause, so an error that repeats at once does not spin.
				tokio::select! {
					_ = tokio::time::sleep(Duration::from_secs(1)) => {},
					_ = stopped(&mut stop) => return Ok(()),
				}
				let again = tokio::select! {
					again = chain.reconnect(Duration::from_secs(u64::MAX >> 2), |attempt, wait| {
						tracing::info!("node: attempt {attempt} failed, next in {:.1} s", wait.as_secs_f64())
					}) => again?,
					_ = stopped(&mut stop) => return Ok(()),
				};
				tracing::info!("reached the node at {} again", again.url);
				chain = again;
				let _ = chain_tx.send(chain.clone());
				shared.node_up.store(true, Ordering::Relaxed);
			},
		}
	}
}

/// Reports devices that published nothing for `after`, once each, until they publish again.
async fn watch_silence(
	after: Duration,
	shared: Arc<Shared>,
	mut stop: watch::Receiver<bool>,
) -> Result<(), Error> {
	let every = (after / 4).clamp(Duration::from_millis(200), Duration::from_secs(10));
	loop {
		tokio::select! {
			_ = tokio::time::sleep(every) => {},
			_ = stopped(&mut stop) => return Ok(()),
		}
		let mut seen = shared.seen.lock().unwrap_or_else(|e| e.into_inner());
		for (device, (last, silent)) in seen.iter_mut() {
			if !*silent && last.elapsed() >= after {
				*silent = true;
				tracing::warn!(
					device = %show_device(device),
					"device silent: nothing published for {} s",
					last.elapsed().as_secs()
				);
				shared.metrics.silent.inc();
				shared
					.metrics
					.device_silent
					.get_or_create(&vec![("device", show_device(device))])
					.set(1);
				shared.alert(serde_json::json!({
					"event": "device_silent",
					"device": show_device(device),
					"silent_for_s": last.elapsed().as_secs(),
					"at_ms": now_ms(),
				}));
			}
		}
	}
}

/// Alerts waiting for the webhook, at most; more are dropped and counted as failures.
const ALERT_QUEUE: usize = 1024;

/// Posts each alert to `webhook`, one at a time, in order; one the webhook does not take
/// (no answer, or not a 2xx status) is logged, counted, and tried once more after a pause.
async fn post_alerts(
	webhook: Webhook,
	mut alerts: tokio::sync::mpsc::Receiver<serde_json::Value>,
	shared: Arc<Shared>,
	mut stop: watch::Receiver<bool>,
) -> Result<(), Error> {
	loop {
		let alert = tokio::select! {
			alert = alerts.recv() => match alert { Some(alert) => alert, None => return Ok(()) },
			_ = stopped(&mut stop) => return Ok(()),
		};
		let body = alert.to_string();
		for attempt in 1..=2 {
			match webhook.post(&body).await {
				Ok(status) if (200..300).contains(&status) => break,
				failed => {
					let why = match failed {
						Ok(status) => format!("status {status}"),
						Err(error) => error,
					};
					shared.metrics.webhook_failures.inc();
					tracing::warn!(
						"webhook http://{}:{}{} did not take an alert ({why}){}",
						webhook.host,
						webhook.port,
						webhook.path,
						if attempt == 1 { "; trying once more" } else { "" }
					);
					if attempt == 1 {
						tokio::select! {
							_ = tokio::time::sleep(Duration::from_secs(2)) => {},
							_ = stopped(&mut stop) => return Ok(()),
						}
					}
				},
			}
		}
	}
}

/// How often the raw mode looks for readings due to be sealed.
const SEAL_EVERY: Duration = Duration::from_millis(500);

/// Seals raw readings into signed anchors as they fall due (see [`Ingest::seal_due`]).
async fn seal_forever(
	batching: Batching,
	shared: Arc<Shared>,
	mut stop: watch::Receiver<bool>,
) -> Result<(), Error> {
	loop {
		tokio::select! {
			_ = tokio::time::sleep(SEAL_EVERY) => {},
			_ = stopped(&mut stop) => return Ok(()),
		}
		match shared.ingest.lock().await.seal_due(batching).await {
			Ok(made) => {
				shared.metrics.sealed.inc_by(made);
			},
			Err(error) => {
				tracing::warn!(
					"cannot seal raw readings yet ({}); trying again",
					with_causes(&error)
				)
			},
		}
	}
}

/// The gateway's clock, in milliseconds since the Unix epoch.
fn now_ms() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map_or(0, |d| d.as_millis() as u64)
}

/// `POST /v1/devices/<device>/readings`: raw readings of a device whose key the gateway holds,
/// JSON Lines, or a SenML pack with `Content-Type: application/senml+json`. 202 when stored
/// (or stored before), 400 with the reason when refused, 503 when the store or node failed.
async fn post_readings(
	State(shared): State<Arc<Shared>>,
	axum::extract::Path(device): axum::extract::Path<String>,
	headers: axum::http::HeaderMap,
	body: Bytes,
) -> Response {
	if let Some(refused) = shared.refuse_request(&headers, true) {
		return refused;
	}
	let Ok(device) = parse_device(&device) else {
		let body = serde_json::json!({
			"refused": [{ "kind": "malformed", "reason": format!("`{device}` is not a device id (0x and 64 hex digits)") }],
		});
		return (StatusCode::BAD_REQUEST, body.to_string()).into_response();
	};
	let senml = headers
		.get(axum::http::header::CONTENT_TYPE)
		.and_then(|v| v.to_str().ok())
		.is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/senml+json"));
	let format = if senml { RawFormat::Senml } else { RawFormat::JsonLines };
	match shared.accept_raw("http", &body, format, device, false).await {
		Ok(Outcome::Stored { readings, .. }) => {
			let body = serde_json::json!({ "stored": readings, "duplicates": 0 });
			(StatusCode::ACCEPTED, body.to_string()).into_response()
		},
		Ok(Outcome::Duplicate { .. }) => {
			let body = serde_json::json!({ "stored": 0, "duplicates": 1 });
			(StatusCode::ACCEPTED, body.to_string()).into_response()
		},
		Ok(Outcome::Refused(refusal)) => {
			let body = serde_json::json!({
				"refused": [{ "kind": refusal.kind.label(), "reason": refusal.reason }],
			});
			(StatusCode::BAD_REQUEST, body.to_string()).into_response()
		},
		Err(error) => {
			let body = serde_json::json!({
				"error": format!("{}; send the same body again", with_causes(&error)),
			});
			(StatusCode::SERVICE_UNAVAILABLE, body.to_string()).into_response()
		},
	}
}

async fn post_anchors(
	State(shared): State<Arc<Shared>>,
	headers: axum::http::HeaderMap,
	body: Bytes,
) -> Response {
	if let Some(refused) = shared.refuse_request(&headers, false) {
		return refused;
	}
	let (mut stored, mut duplicates) = (0u64, 0u64);
	let mut refused = Vec::new();
	for (index, line) in body.split(|b| *b == b'\n').enumerate() {
		if line.iter().all(u8::is_ascii_whitespace) {
			continue;
		}
		match shared.accept("http", line, None).await {
			Ok(Outcome::Stored { .. }) => stored += 1,
			Ok(Outcome::Duplicate { .. }) => duplicates += 1,
			Ok(Outcome::Refused(refusal)) => refused.push(serde_json::json!({
				"line": index + 1,
				"kind": refusal.kind.label(),
				"reason": refusal.reason,
			})),
			Err(error) => {
				let body = serde_json::json!({
					"stored": stored,
					"duplicates": duplicates,
					"refused": refused,
					"error": format!("line {}: {error}; send the same body again", index + 1),
				});
				return (StatusCode::SERVICE_UNAVAILABLE, body.to_string()).into_response();
			},
		}
	}
	let status = if refused.is_empty() { StatusCode::ACCEPTED } else { StatusCode::BAD_REQUEST };
	let body =
		serde_json::json!({ "stored": stored, "duplicates": duplicates, "refused": refused });
	(status, body.to_string()).into_response()
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
	(
		[("content-type", "application/openmetrics-text; version=1.0.0; charset=utf-8")],
		shared.metrics.render(),
	)
		.into_response()
}

async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
	let node = shared.node_up.load(Ordering::Relaxed);
	let mqtt = !shared.mqtt || shared.mqtt_up.load(Ordering::Relaxed);
	let body = serde_json::json!({ "node": node, "mqtt": shared.mqtt.then_some(mqtt) });
	let status = if node && mqtt { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
	(status, body.to_string()).into_response()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_webhook_is_an_http_url_with_host_port_and_path() {
		let hook: Webhook = "http://alerts.local:9000/provena/silent".parse().unwrap();
		assert_eq!(
			hook,
			Webhook { host: "alerts.local".into(), port: 9000, path: "/provena/silent".into() }
		);
		let hook: Webhook = "http://10.0.0.5".parse().unwrap();
		assert_eq!((hook.port, hook.path.as_str()), (80, "/"));
		let hook: Webhook = "http://[::1]:81/x".parse().unwrap();
		assert_eq!((hook.host.as_str(), hook.port), ("[::1]", 81));
		let hook: Webhook = "http://[::1]/x".parse().unwrap();
		assert_eq!((hook.host.as_str(), hook.port), ("[::1]", 80));
		for bad in
			["https://x/y", "ftp://x", "http://", "http://h:port/", "http://u@h/", "http://h/a b"]
		{
			assert!(bad.parse::<Webhook>().is_err(), "{bad}");
		}
	}

	#[test]
	fn a_token_is_admitted_only_whole_and_as_a_bearer() {
		let token = HttpToken(zeroize::Zeroizing::new("s3cret-token".to_string()));
		assert!(token.admits(Some(b"Bearer s3cret-token")));
		for wrong in [
			&b"Bearer s3cret-tokeN"[..],
			b"Bearer s3cret-toke",
			b"s3cret-token",
			b"Basic s3cret-token",
			b"Bearer ",
		] {
			assert!(!token.admits(Some(wrong)), "{}", String::from_utf8_lossy(wrong));
		}
		assert!(!token.admits(None));
		assert_eq!(format!("{token:?}"), "HttpToken(…)");
	}

	#[test]
	fn a_request_names_this_gateway_by_address_or_not() {
		let named = |host: &str| {
			let mut headers = axum::http::HeaderMap::new();
			headers.insert(axum::http::header::HOST, host.parse().unwrap());
			names_an_address(&headers)
		};
		for ok in ["127.0.0.1:8080", "localhost:8080", "LOCALHOST", "[::1]:8080", "10.0.0.5"] {
			assert!(named(ok), "{ok}");
		}
		for rebound in ["evil.example:8080", "evil.example", "127.0.0.1.evil.example:80"] {
			assert!(!named(rebound), "{rebound}");
		}
		assert!(names_an_address(&axum::http::HeaderMap::new()));
	}

	#[test]
	fn topics_name_the_device_and_what_the_message_holds() {
		let device = format!("0x{}", "ab".repeat(32));
		let parts = |kind: &str| topic_parts("provena", &format!("provena/{device}/{kind}"));
		assert_eq!(parts("anchors"), (Some([0xab; 32]), Some(Topic::Anchors)));
		assert_eq!(parts("readings"), (Some([0xab; 32]), Some(Topic::Raw(RawFormat::JsonLines))));
		assert_eq!(parts("senml"), (Some([0xab; 32]), Some(Topic::Raw(RawFormat::Senml))));
		assert_eq!(parts("other"), (Some([0xab; 32]), None));
		assert_eq!(topic_parts("provena", "other/x/anchors"), (None, None));
		assert_eq!(topic_parts("provena", "provena/0x12/anchors"), (None, Some(Topic::Anchors)));
	}
}
