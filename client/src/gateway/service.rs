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
//! - **Delivery**: one task sends every pending anchor and follows it to finality, again and
//!   again; it reconnects to a lost node for as long as it takes, and on its return resends
//!   only what the chain does not have ([`super::deliver`]).
//! - **Silence**: a device that has published nothing for `silent_after` is logged once as
//!   silent (`provena_gateway_devices_silent`, and `provena_gateway_device_silent{device}` is
//!   1) until it publishes again.

use super::{
	ingest::{Ingest, Outcome},
	DeliverOptions, Delivery,
};
use crate::{chain::Chain, keys::AccountKey, parse_device, show_device, store::Store, Error};
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
	/// Topics are `<prefix>/<device>/anchors` (and `.../rejected` for refusals).
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
	/// the service can last long: its figures are counted as it goes).
	fn delivered(&self, delivery: &Delivery, reported: &mut Reported) {
		let anchored = delivery.anchored + delivery.already_anchored;
		self.anchored.inc_by(anchored.saturating_sub(reported.anchored));
		self.finalized_readings
			.inc_by(delivery.readings_anchored.saturating_sub(reported.readings));
		self.rejected_anchors.inc_by(delivery.rejected.saturating_sub(reported.rejected));
		self.held.set(delivery.held as i64);
		for took in delivery.to_finalized.iter().skip(reported.latencies) {
			self.to_finalized.observe(took.as_secs_f64());
		}
		*reported = Reported {
			anchored,
			readings: delivery.readings_anchored,
			rejected: delivery.rejected,
			latencies: delivery.to_finalized.len(),
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
	latencies: usize,
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
		self.metrics.outcome(&outcome);
		if let Outcome::Stored { device, .. } | Outcome::Duplicate { device } = &outcome {
			self.heard(*device);
		}
		if let Outcome::Refused(refusal) = &outcome {
			tracing::warn!(transport, kind = refusal.kind.label(), "refused: {}", refusal.reason);
		}
		Ok(outcome)
	}

	fn heard(&self, device: DeviceId) {
		let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
		if let Some((_, true)) = seen.insert(device, (Instant::now(), false)) {
			tracing::info!(device = %show_device(&device), "device publishes again");
			self.metrics.silent.dec();
			self.metrics
				.device_silent
				.get_or_create(&vec![("device", show_device(&device))])
				.set(0);
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
	let ingest = Ingest::new(chain.clone(), Store::open(&store, genesis)?);
	let shared = Arc::new(Shared {
		ingest: Mutex::new(ingest),
		metrics: Metrics::new(),
		seen: Default::default(),
		mqtt_up: AtomicBool::new(false),
		node_up: AtomicBool::new(true),
		mqtt: options.mqtt.is_some(),
	});
	let (stop_tx, stop) = watch::channel(false);
	let (chain_tx, chain_rx) = watch::channel(chain.clone());
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
			.route("/metrics", get(metrics))
			.route("/healthz", get(healthz))
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
		tasks.spawn(run_mqtt(mqtt, shared.clone(), stop.clone()));
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

/// The MQTT side until stopped: a persistent session subscribed to `<prefix>/+/anchors`, each
/// message stored (or refused) before it is acknowledged, reconnecting to a lost broker.
async fn run_mqtt(
	options: MqttOptions,
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
	let filter = format!("{}/+/anchors", options.prefix);
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
			while let Some(publish) = inbox.recv().await {
				let claimed = topic_device(&prefix, &publish.topic);
				let outcome = loop {
					match shared.accept("mqtt", &publish.payload, claimed).await {
						Ok(outcome) => break Some(outcome),
						Err(error) => {
							tracing::warn!(
								"cannot store an MQTT message yet ({error}); trying again"
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
				let filter = filter.clone();
				tokio::spawn(async move { client.subscribe(filter, QoS::AtLeastOnce).await });
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

/// The device a topic `<prefix>/<device>/anchors` names.
fn topic_device(prefix: &str, topic: &str) -> Option<DeviceId> {
	let rest = topic.strip_prefix(prefix)?.strip_prefix('/')?;
	let (device, _) = rest.split_once('/')?;
	parse_device(device).ok()
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
		metrics.delivered(&delivery, &mut reported);
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
					"delivery stopped ({error}); reaching the node at {} again",
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
			}
		}
	}
}

async fn post_anchors(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
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
