//! `provena gateway run` with a real Mosquitto and a real node: devices sign on the device (with
//! the `provena-device` crate, as firmware would), publish over MQTT or POST over HTTP, and the
//! service stores, acknowledges, anchors and finalizes every batch; malformed and forged
//! messages are refused with a reason and counted, and nothing else is lost.

use super::*;
use provena_device::{
	batch_root, Ed25519Key, Measurement, PublicValue, Reading, Sr25519Key, Statement,
};
use provena_test_utils::{free_port, http, http_with, Broker, Node};
use std::time::{Duration, Instant};

/// A simulated device: its key, and the readings it has signed so far.
struct Device {
	key: DeviceSigner,
	id: [u8; 32],
	next_seq: u64,
}

enum DeviceSigner {
	Ed25519(Ed25519Key),
	Sr25519(Sr25519Key),
}

/// A stand-in for a device's hardware random number generator.
struct Rng(u64);

impl rand_core::RngCore for Rng {
	fn next_u32(&mut self) -> u32 {
		self.next_u64() as u32
	}
	fn next_u64(&mut self) -> u64 {
		self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
		self.0
	}
	fn fill_bytes(&mut self, dest: &mut [u8]) {
		for chunk in dest.chunks_mut(8) {
			chunk.copy_from_slice(&self.next_u64().to_le_bytes()[..chunk.len()]);
		}
	}
	fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
		self.fill_bytes(dest);
		Ok(())
	}
}

impl rand_core::CryptoRng for Rng {}

impl Device {
	/// The device with secret seed `seed`, registered on the chain at `url` by Alice.
	fn register(url: &str, home: &Path, seed: [u8; 32], sr25519: bool) -> Device {
		let key = match sr25519 {
			true => DeviceSigner::Sr25519(Sr25519Key::from_seed(&seed)),
			false => DeviceSigner::Ed25519(Ed25519Key::from_seed(&seed)),
		};
		let id = match &key {
			DeviceSigner::Ed25519(key) => key.public(),
			DeviceSigner::Sr25519(key) => key.public(),
		};
		let suri = format!("0x{}", hex::encode(seed));
		let scheme = if sr25519 { "sr25519" } else { "ed25519" };
		ok(provena(url, home).args(["device", "register", "--suri", "//Alice"]).args([
			"--device-suri",
			&suri,
			"--device-scheme",
			scheme,
		]));
		Device { key, id, next_seq: 0 }
	}

	fn hex_id(&self) -> String {
		format!("0x{}", hex::encode(self.id))
	}

	/// The next `count` readings as one signed anchor message for the chain with `genesis`,
	/// built and signed with nothing but `provena-device`.
	fn message(&mut self, count: u64, genesis: &[u8; 32]) -> String {
		let first = self.next_seq;
		self.next_seq += count;
		let temps: Vec<i64> =
			(first..first + count).map(|seq| 4_000 + (seq as i64 % 7) * 125).collect();
		// Metric names in byte order: the gateway rebuilds values sorted by name.
		let values: Vec<[Measurement<'_>; 2]> = temps
			.iter()
			.map(|t| {
				[
					Measurement { metric: b"humidity", value: 61_500 },
					Measurement { metric: b"temp_c", value: *t },
				]
			})
			.collect();
		let readings: Vec<Reading<'_>> = (0..count as usize)
			.map(|i| Reading {
				device: self.id,
				seq: first + i as u64,
				timestamp_ms: 1_795_219_200_000 + 1_000 * (first + i as u64),
				values: &values[i],
				payload_hash: None,
			})
			.collect();
		let mut nodes: Vec<[u8; 32]> = readings.iter().map(|r| r.leaf().unwrap()).collect();
		let root = batch_root(&mut nodes).unwrap();
		let public = [PublicValue { seq: first, metric: b"temp_c", value: temps[0] }];
		let (first_ms, last_ms) =
			(readings[0].timestamp_ms, readings[readings.len() - 1].timestamp_ms);
		let statement = Statement {
			device: self.id,
			first_seq: first,
			count: count as u32,
			root,
			first_ms,
			last_ms,
			payload_hash: None,
			values: &public,
		};
		let hash = statement.signing_hash(genesis).unwrap();
		let signature = match &self.key {
			DeviceSigner::Ed25519(key) => key.sign(&hash),
			DeviceSigner::Sr25519(key) => key.sign(&hash, Rng(first + 1)),
		};
		let json_readings: Vec<serde_json::Value> = readings
			.iter()
			.zip(&temps)
			.map(|(r, t)| {
				serde_json::json!({
					"seq": r.seq,
					"timestamp_ms": r.timestamp_ms,
					"values": { "humidity": 61.5, "temp_c": *t as f64 / 1000.0 },
				})
			})
			.collect();
		serde_json::json!({
			"device": self.hex_id(),
			"readings": json_readings,
			"public": [{ "seq": first, "metric": "temp_c", "value": temps[0] as f64 / 1000.0 }],
			"time": { "first_ms": first_ms, "last_ms": last_ms },
			"signature": format!("0x{}", hex::encode(signature.scale_bytes())),
		})
		.to_string()
	}
}

/// Waits up to 60 s for the gateway with HTTP on `http_port` to answer `/healthz` with 200.
fn wait_healthy(http_port: u16) {
	let started = Instant::now();
	while http(http_port, "GET", "/healthz", b"").map(|(s, _)| s) != Ok(200) {
		assert!(started.elapsed() < Duration::from_secs(60), "the gateway is not healthy");
		std::thread::sleep(Duration::from_millis(200));
	}
}

/// The genesis hash of `node`'s chain, which device statements are signed for.
fn genesis_of(node: &Node) -> [u8; 32] {
	let hash = node.rpc("chain_getBlockHash", serde_json::json!([0])).unwrap();
	hex::decode(hash.as_str().unwrap().trim_start_matches("0x")).unwrap().try_into().unwrap()
}

/// Publishes `messages` (topic, payload) with QoS 1 and waits until the broker acknowledged
/// each; collects what arrives on `<prefix>/+/rejected` meanwhile and for `linger` after.
fn publish(port: u16, messages: Vec<(String, String)>, linger: Duration) -> Vec<serde_json::Value> {
	use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
	let mut options = MqttOptions::new(format!("test-devices-{port}"), "127.0.0.1", port);
	options.set_max_packet_size(1 << 21, 1 << 21);
	let (client, mut connection) = Client::new(options, 1024);
	client.subscribe("provena/+/rejected", QoS::AtLeastOnce).unwrap();
	let total = messages.len();
	for (topic, payload) in messages {
		client.publish(topic, QoS::AtLeastOnce, false, payload).unwrap();
	}
	let (mut acked, mut rejected) = (0, Vec::new());
	let mut until: Option<Instant> = None;
	let started = Instant::now();
	for event in connection.iter() {
		match event {
			Ok(Event::Incoming(Packet::PubAck(_))) => {
				acked += 1;
				if acked == total {
					until = Some(Instant::now() + linger);
				}
			},
			Ok(Event::Incoming(Packet::Publish(p))) => {
				rejected.push(serde_json::from_slice(&p.payload).unwrap());
			},
			Ok(_) => {},
			Err(e) => panic!("MQTT: {e}"),
		}
		if until.is_some_and(|u| Instant::now() >= u) {
			break;
		}
		assert!(started.elapsed() < Duration::from_secs(60), "the broker did not acknowledge");
	}
	let _ = client.disconnect();
	rejected
}

/// The value of the Prometheus sample `name` (with its labels, as written) on `/metrics`.
fn metric(port: u16, sample: &str) -> f64 {
	let (status, body) = http(port, "GET", "/metrics", b"").unwrap();
	assert_eq!(status, 200, "{body}");
	body.lines()
		.find_map(|line| line.strip_prefix(sample).and_then(|rest| rest.trim().parse().ok()))
		.unwrap_or(0.0)
}

#[test]
fn devices_signed_readings_reach_finality_through_mqtt_and_http() {
	let node = Node::dev();
	let url = node.url();
	let broker = Broker::start();
	let home = tempfile::tempdir().unwrap();
	let home = home.path();
	let genesis = genesis_of(&node);
	let mut devices = [
		Device::register(&url, home, [0x11; 32], false),
		Device::register(&url, home, [0x22; 32], true),
	];
	let http_port = free_port();
	let store = home.join("gateway.db");
	let gateway = provena(&url, home)
		.args(["gateway", "run", "--suri", "//Alice", "--pay", "account", "--silent-after", "5"])
		.args(["--mqtt", &format!("127.0.0.1:{}", broker.port)])
		.args(["--http", &format!("127.0.0.1:{http_port}")])
		.arg("--store")
		.arg(&store)
		.env("PROVENA_LOG", "info")
		.stdout(Stdio::piped())
		.stderr(Stdio::piped())
		.spawn()
		.unwrap();
	let gateway = Running(Some(gateway));
	wait_healthy(http_port);

	// Three anchors of four readings from each device over MQTT, plus garbage, a forgery (the
	// first device's next anchor with a reading changed) and a message on another device's topic.
	let mut messages = Vec::new();
	for _ in 0..3 {
		for device in devices.iter_mut() {
			let topic = format!("provena/{}/anchors", device.hex_id());
			messages.push((topic, device.message(4, &genesis)));
		}
	}
	let forged = devices[0].message(4, &genesis).replace("\"humidity\":61.5", "\"humidity\":99.5");
	devices[0].next_seq -= 4;
	let misrouted = devices[0].message(1, &genesis);
	devices[0].next_seq -= 1;
	let first = format!("provena/{}/anchors", devices[0].hex_id());
	let second = format!("provena/{}/anchors", devices[1].hex_id());
	messages.push((first.clone(), "not json".into()));
	messages.push((first.clone(), forged));
	messages.push((second, misrouted));
	// The same anchor twice (as a broker may deliver it): stored once.
	let again = messages[0].clone();
	messages.push(again);
	let rejected = publish(broker.port, messages, Duration::from_secs(3));
	let kinds: Vec<&str> = rejected.iter().map(|r| r["kind"].as_str().unwrap()).collect();
	assert_eq!(kinds, ["malformed", "bad_signature", "malformed"], "{rejected:?}");
	assert!(rejected[2]["reason"].as_str().unwrap().contains("topic of device"), "{rejected:?}");

	// Over HTTP: two more anchors of the first device, then a line that is not a message.
	let body =
		format!("{}\n{}\n", devices[0].message(2, &genesis), devices[0].message(3, &genesis));
	let (status, reply) = http(http_port, "POST", "/v1/anchors", body.as_bytes()).unwrap();
	assert_eq!(status, 202, "{reply}");
	let (status, reply) = http(http_port, "POST", "/v1/anchors", b"{\"device\": 1}\n").unwrap();
	assert_eq!(status, 400, "{reply}");
	assert!(reply.contains("malformed"), "{reply}");

	// Every stored reading is finalized: 12 + 5 of the first device, 12 of the second.
	let started = Instant::now();
	while metric(http_port, "provena_gateway_readings_finalized_total") < 29.0 {
		assert!(
			started.elapsed() < Duration::from_secs(180),
			"not everything was finalized:\n{}",
			http(http_port, "GET", "/metrics", b"").unwrap().1
		);
		std::thread::sleep(Duration::from_millis(500));
	}
	assert_eq!(metric(http_port, "provena_gateway_messages_stored_total"), 8.0);
	assert_eq!(metric(http_port, "provena_gateway_readings_stored_total"), 29.0);
	assert_eq!(metric(http_port, "provena_gateway_messages_duplicate_total"), 1.0);
	assert_eq!(
		metric(http_port, "provena_gateway_messages_refused_total{reason=\"malformed\"}"),
		3.0
	);
	assert_eq!(
		metric(http_port, "provena_gateway_messages_refused_total{reason=\"bad_signature\"}"),
		1.0
	);

	// On chain: each device's log continues without a gap, and a reading verifies.
	for (device, next) in [(&devices[0], 17), (&devices[1], 12)] {
		let history = json(provena(&url, home).args(["history", "--device", &device.hex_id()]));
		let firsts = first_seqs(&history);
		let expected: Vec<u64> = match next {
			17 => vec![0, 4, 8, 12, 14],
			_ => vec![0, 4, 8],
		};
		assert_eq!(firsts, expected, "{history}");
		let verified = json(
			provena(&url, home)
				.args(["verify", "--device", &device.hex_id(), "--seq", "5", "--store"])
				.arg(&store),
		);
		assert_eq!(verified["verified"], true, "{verified}");
	}

	// Nothing published for 5 s: both devices are reported silent.
	let started = Instant::now();
	while metric(http_port, "provena_gateway_devices_silent") < 2.0 {
		assert!(started.elapsed() < Duration::from_secs(30), "no device reported silent");
		std::thread::sleep(Duration::from_millis(500));
	}

	// SIGTERM: the service stops cleanly.
	let gateway = gateway.into_child();
	Command::new("kill").args(["-TERM", &gateway.id().to_string()]).status().unwrap();
	let out = gateway.wait_with_output().unwrap();
	let said = text(&out.stderr);
	assert!(out.status.success(), "{said}");
	assert!(said.contains("device silent"), "{said}");
	drop(broker);
}

/// `provena gateway run` for the crash test: fixed store and MQTT client id, HTTP on
/// `http_port`, the account paying.
fn gateway_command(url: &str, home: &Path, broker: u16, http_port: u16) -> Command {
	let mut command = provena(url, home);
	command
		.args(["gateway", "run", "--suri", "//Alice", "--pay", "account"])
		.args(["--mqtt", &format!("127.0.0.1:{broker}"), "--mqtt-client-id", "crash-test"])
		.args(["--http", &format!("127.0.0.1:{http_port}")])
		.arg("--store")
		.arg(home.join("gateway.db"))
		.env("PROVENA_LOG", "info")
		.stdout(Stdio::null())
		.stderr(
			std::fs::File::options().create(true).append(true).open(gateway_log(home)).unwrap(),
		);
	command
}

/// A gateway process, killed (SIGKILL) when dropped, so that a failed assertion stops it too.
struct Running(Option<std::process::Child>);

impl Running {
	fn spawn(mut command: Command) -> Running {
		Running(Some(command.spawn().unwrap()))
	}

	fn child(&mut self) -> &mut std::process::Child {
		self.0.as_mut().expect("the gateway runs")
	}

	/// The process, no longer killed on drop (the caller stops it).
	fn into_child(mut self) -> std::process::Child {
		self.0.take().expect("the gateway runs")
	}
}

impl Drop for Running {
	fn drop(&mut self) {
		if let Some(mut child) = self.0.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}
}

/// Where the crash test's gateways log (each run appends).
fn gateway_log(home: &Path) -> PathBuf {
	home.join("gateway.log")
}

/// The last `n` lines the crash test's gateways logged.
fn gateway_log_tail(home: &Path, n: usize) -> String {
	let text = std::fs::read_to_string(gateway_log(home)).unwrap_or_default();
	let lines: Vec<&str> = text.lines().collect();
	lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Three devices publish 40 signed anchors each over MQTT while the gateway is killed
/// (SIGKILL) and restarted, and later the node: every anchor the broker acknowledged ends in
/// its device's log exactly once, in order and without a gap, and none is failed or pending.
#[test]
fn every_acknowledged_reading_is_anchored_once_across_a_killed_gateway_and_node() {
	let home = tempfile::tempdir().unwrap();
	let home = home.path();
	let base = home.join("chain");
	let rpc_port = free_port();
	let node = Node::dev_at_port(&base, rpc_port);
	let url = node.url();
	let broker = Broker::start();
	let genesis = genesis_of(&node);
	let mut devices: Vec<Device> =
		(1..=3u8).map(|i| Device::register(&url, home, [0x40 + i; 32], false)).collect();
	let http_port = free_port();
	let mut gateway = Running::spawn(gateway_command(&url, home, broker.port, http_port));
	// Healthy means subscribed: from then on the broker keeps the gateway's messages for it,
	// also while it is dead. (A message published before a gateway ever subscribed is the
	// broker's to drop.)
	wait_healthy(http_port);

	// The devices: 3 × 40 anchors of 5 readings, one message every 40 ms, over one MQTT
	// connection that lives through everything below; the broker acknowledges each (QoS 1).
	use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
	let (client, mut connection) =
		Client::new(MqttOptions::new("crash-test-devices", "127.0.0.1", broker.port), 4096);
	let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
	let counter = acked.clone();
	std::thread::spawn(move || {
		for event in connection.iter() {
			match event {
				Ok(Event::Incoming(Packet::PubAck(_))) => {
					counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
				},
				Ok(Event::Incoming(Packet::Disconnect)) | Err(_) => break,
				Ok(_) => {},
			}
		}
	});
	let (anchors, size) = (40usize, 5u64);
	let mut node = Some(node);
	for round in 0..anchors {
		for device in devices.iter_mut() {
			let topic = format!("provena/{}/anchors", device.hex_id());
			client.publish(topic, QoS::AtLeastOnce, false, device.message(size, &genesis)).unwrap();
		}
		std::thread::sleep(Duration::from_millis(40 * devices.len() as u64));
		// A third of the way in, the gateway dies (SIGKILL) and comes back 2 s later.
		if round == anchors / 3 {
			gateway.child().kill().unwrap();
			gateway.child().wait().unwrap();
			std::thread::sleep(Duration::from_secs(2));
			gateway = Running::spawn(gateway_command(&url, home, broker.port, http_port));
		}
		// Two thirds of the way in, the node dies (SIGKILL) and comes back 5 s later on the
		// same port and chain.
		if round == 2 * anchors / 3 {
			node.take().unwrap().kill();
			std::thread::sleep(Duration::from_secs(5));
			node = Some(Node::dev_at_port(&base, rpc_port));
		}
	}
	let started = Instant::now();
	while acked.load(std::sync::atomic::Ordering::SeqCst) < anchors * devices.len() {
		assert!(
			started.elapsed() < Duration::from_secs(30),
			"the broker did not take every message"
		);
		std::thread::sleep(Duration::from_millis(100));
	}

	// Every acknowledged reading is anchored once: each device's log is exactly its 40
	// anchors, in order, with no gap and nothing twice, and no anchor failed.
	let expected: Vec<u64> = (0..anchors as u64).map(|i| i * size).collect();
	let started = Instant::now();
	for device in &devices {
		loop {
			let history = json(provena(&url, home).args(["history", "--device", &device.hex_id()]));
			let firsts = first_seqs(&history);
			if firsts.len() >= anchors {
				assert_eq!(firsts, expected, "{history}");
				break;
			}
			assert!(
				started.elapsed() < Duration::from_secs(300),
				"device {}: {} of {anchors} anchors finalized; the gateway counts:\n{}\nthe \
				 store: {}\nthe gateways logged:\n{}",
				device.hex_id(),
				firsts.len(),
				http(http_port, "GET", "/metrics", b"")
					.map(|(_, body)| body)
					.unwrap_or_default()
					.lines()
					.filter(|l| !l.starts_with('#') && !l.contains("_bucket"))
					.collect::<Vec<_>>()
					.join("\n"),
				text(
					&provena(&url, home)
						.args(["--json", "status", "--store"])
						.arg(home.join("gateway.db"))
						.output()
						.unwrap()
						.stdout
				),
				gateway_log_tail(home, 60)
			);
			if started.elapsed() > Duration::from_secs(120) {
				let db = rusqlite::Connection::open(home.join("gateway.db")).unwrap();
				let mut stmt = db
					.prepare("SELECT hex(device), first_seq, status, error, hex(root) FROM anchors WHERE status != 'finalized' ORDER BY device, first_seq")
					.unwrap();
				let rows: Vec<String> = stmt
					.query_map([], |r| {
						Ok(format!(
							"{} {} {} root {} {:?}",
							&r.get::<_, String>(0)?[..8],
							r.get::<_, i64>(1)?,
							r.get::<_, String>(2)?,
							&r.get::<_, String>(4)?[..8],
							r.get::<_, Option<String>>(3)?
						))
					})
					.unwrap()
					.map(Result::unwrap)
					.collect();
				let logs: Vec<String> = devices
					.iter()
					.map(|d| {
						let history =
							json(provena(&url, home).args(["history", "--device", &d.hex_id()]));
						let anchors = history["anchors"].as_array().cloned().unwrap_or_default();
						let entries: Vec<String> = anchors
							.iter()
							.map(|a| format!("{}:{}", a["first_seq"], a["root"]))
							.collect();
						format!("{} on chain: {}", &d.hex_id()[..8], entries.join(" "))
					})
					.collect();
				panic!(
					"not final after 120 s:\n{}\n{}\n{}",
					rows.join("\n"),
					logs.join("\n"),
					gateway_log_tail(home, 30)
				);
			}
			std::thread::sleep(Duration::from_secs(2));
		}
	}
	let status =
		json(provena(&url, home).args(["status"]).arg("--store").arg(home.join("gateway.db")));
	assert_eq!(status["failed"], 0, "{status}");
	assert_eq!(status["pending"], 0, "{status}");
	drop(gateway);
	let _ = client.disconnect();
}

/// A webhook receiver on a free port: each POST's body is sent to the channel, answered 204.
fn webhook_receiver() -> (u16, std::sync::mpsc::Receiver<serde_json::Value>) {
	use std::io::{BufRead, BufReader, Read, Write};
	let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
	let port = listener.local_addr().unwrap().port();
	let (to, from) = std::sync::mpsc::channel();
	std::thread::spawn(move || {
		for stream in listener.incoming() {
			let Ok(mut stream) = stream else { return };
			let mut reader = BufReader::new(stream.try_clone().unwrap());
			let mut length = 0usize;
			loop {
				let mut line = String::new();
				if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
					break;
				}
				if let Some((name, value)) = line.split_once(':') {
					if name.eq_ignore_ascii_case("content-length") {
						length = value.trim().parse().unwrap_or(0);
					}
				}
			}
			let mut body = vec![0; length];
			if reader.read_exact(&mut body).is_err() {
				continue;
			}
			let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
			if let Ok(alert) = serde_json::from_slice(&body) {
				if to.send(alert).is_err() {
					return;
				}
			}
		}
	});
	(port, from)
}

/// The raw-readings mode: a gateway given two devices' key files takes their unsigned readings
/// (JSON Lines over MQTT, SenML and JSON Lines over HTTP), batches them by size and by age,
/// signs and anchors them, and they verify; a repeated message stores nothing, a changed
/// reading and a device whose key it does not hold are refused with the reason; and silent
/// devices are posted to the webhook, and so is one that publishes again.
#[test]
fn raw_readings_are_signed_by_the_gateway_and_reach_finality() {
	let node = Node::dev();
	let url = node.url();
	let broker = Broker::start();
	let home = tempfile::tempdir().unwrap();
	let home = home.path();
	let keys = home.join("device-keys");
	std::fs::create_dir(&keys).unwrap();
	let mut ids = Vec::new();
	for name in ["a.json", "b.json"] {
		let (key, device) = alices_device(&url, home, name);
		std::fs::rename(&key, keys.join(format!("{device}.json"))).unwrap();
		ids.push(device);
	}
	let (a, b) = (ids[0].clone(), ids[1].clone());
	let (_, stranger) = alices_device(&url, home, "c.json");
	let (hook_port, alerts) = webhook_receiver();
	let http_port = free_port();
	let store = home.join("gateway.db");
	let token_file = home.join("http-token");
	std::fs::write(&token_file, "a-token-of-24-characters\n").unwrap();
	std::fs::set_permissions(&token_file, std::os::unix::fs::PermissionsExt::from_mode(0o600))
		.unwrap();

	// Held keys and HTTP on every interface without a token: the gateway will not start.
	let out = provena(&url, home)
		.args(["gateway", "run", "--suri", "//Alice", "--http", "0.0.0.0:1", "--device-keys"])
		.arg(&keys)
		.arg("--store")
		.arg(&store)
		.output()
		.unwrap();
	assert!(!out.status.success());
	assert!(text(&out.stderr).contains("--http-token-file"), "{}", text(&out.stderr));

	let gateway = provena(&url, home)
		.args(["gateway", "run", "--suri", "//Alice", "--pay", "account", "--silent-after", "4"])
		.args(["--batch-size", "5", "--batch-age", "2"])
		.arg("--http-token-file")
		.arg(&token_file)
		.args(["--silent-webhook", &format!("http://127.0.0.1:{hook_port}/alerts")])
		.args(["--mqtt", &format!("127.0.0.1:{}", broker.port)])
		.args(["--http", &format!("127.0.0.1:{http_port}")])
		.arg("--device-keys")
		.arg(&keys)
		.arg("--store")
		.arg(&store)
		.env("PROVENA_LOG", "info")
		.stdout(Stdio::piped())
		.stderr(Stdio::piped())
		.spawn()
		.unwrap();
	let gateway = Running(Some(gateway));
	wait_healthy(http_port);

	// Device A over MQTT: 3 + 4 readings, numbered by the gateway; the first message again
	// (stored once); a reading at a stored time with another value; the stranger's reading.
	let t0 = 1_795_219_200_000u64;
	let lines = |from: u64, n: u64, temp: f64| -> String {
		(from..from + n)
			.map(|i| {
				let values = serde_json::json!({ "temp_c": temp, "humidity": 60 });
				format!(
					"{}\n",
					serde_json::json!({ "timestamp_ms": t0 + 1_000 * i, "values": values })
				)
			})
			.collect()
	};
	let on = |device: &str| format!("provena/{device}/readings");
	let messages = vec![
		(on(&a), lines(0, 3, 4.5)),
		(on(&a), lines(3, 4, 4.5)),
		(on(&a), lines(0, 3, 4.5)),
		(on(&a), lines(1, 1, 9.0)),
		(on(&stranger), lines(0, 1, 4.5)),
	];
	let rejected = publish(broker.port, messages, Duration::from_secs(2));
	let kinds: Vec<&str> = rejected.iter().map(|r| r["kind"].as_str().unwrap()).collect();
	assert_eq!(kinds, ["conflict", "unknown_device"], "{rejected:?}");
	assert!(rejected[0]["reason"].as_str().unwrap().contains("other values"), "{rejected:?}");
	assert!(rejected[1]["reason"].as_str().unwrap().contains("holds no key"), "{rejected:?}");

	// Device B over HTTP: a SenML pack of two times, then a JSON line; a pack that cannot be
	// anchored; a path that names no device.
	let senml = serde_json::json!([
		{ "bn": "urn:dev:b:", "bt": (t0 / 1_000) as f64, "n": "temp_c", "v": 4.5 },
		{ "n": "humidity", "v": 60 },
		{ "n": "temp_c", "v": 4.75, "t": 60 },
		{ "n": "humidity", "v": 61, "t": 60 },
	])
	.to_string();
	// Without the token, or with another, nothing is taken.
	let path = format!("/v1/devices/{b}/readings");
	let bearer = ("Authorization", "Bearer a-token-of-24-characters");
	let senml_type = [("Content-Type", "application/senml+json"), bearer];
	for headers in [&[][..], &[("Authorization", "Bearer a-token-of-24-characterZ")][..]] {
		for target in [path.as_str(), "/v1/anchors"] {
			let (status, reply) =
				http_with(http_port, "POST", target, headers, lines(300, 1, 5.0).as_bytes())
					.unwrap();
			assert_eq!(status, 401, "{target}: {reply}");
			assert!(reply.contains("--http-token-file"), "{reply}");
		}
	}
	let (status, reply) =
		http_with(http_port, "POST", &path, &senml_type, senml.as_bytes()).unwrap();
	assert_eq!((status, reply.contains("\"stored\":2")), (202, true), "{reply}");
	let (status, reply) =
		http_with(http_port, "POST", &path, &[bearer], lines(120, 1, 5.0).as_bytes()).unwrap();
	assert_eq!(status, 202, "{reply}");
	let bad = br#"[{"n":"door","vs":"open"}]"#;
	let (status, reply) = http_with(http_port, "POST", &path, &senml_type, bad).unwrap();
	assert_eq!(status, 400, "{reply}");
	assert!(reply.contains("only numeric values"), "{reply}");
	let (status, reply) =
		http_with(http_port, "POST", "/v1/devices/0x12/readings", &[bearer], b"{}").unwrap();
	assert_eq!(status, 400, "{reply}");

	// Everything is sealed (A: one full batch of 5, then 2 by age; B: 3 by age) and final.
	let started = Instant::now();
	while metric(http_port, "provena_gateway_readings_finalized_total") < 10.0 {
		assert!(
			started.elapsed() < Duration::from_secs(180),
			"not everything was finalized:\n{}",
			http(http_port, "GET", "/metrics", b"").unwrap().1
		);
		std::thread::sleep(Duration::from_millis(500));
	}
	assert_eq!(metric(http_port, "provena_gateway_readings_stored_total"), 10.0);
	assert_eq!(metric(http_port, "provena_gateway_messages_duplicate_total"), 1.0);
	assert!(metric(http_port, "provena_gateway_anchors_sealed_total") >= 3.0);
	for (device, readings) in [(&a, 7), (&b, 3)] {
		let history = json(provena(&url, home).args(["history", "--device", device]));
		let anchors = history["anchors"].as_array().unwrap();
		let mut next = 0;
		for anchor in anchors {
			assert_eq!(anchor["first_seq"], next, "{history}");
			next += anchor["count"].as_u64().unwrap();
		}
		assert_eq!(next, readings, "{history}");
		let verified = json(
			provena(&url, home)
				.args(["verify", "--device", device, "--seq", "1", "--store"])
				.arg(&store),
		);
		assert_eq!(verified["verified"], true, "{verified}");
	}
	let history = json(provena(&url, home).args(["history", "--device", &a]));
	assert_eq!(first_seqs(&history)[0..2], [0, 5], "{history}");

	// The dashboard's read API answers only with the token; with it, it shows what the store
	// holds, and a reading's proof bundle verifies offline.
	for target in ["/v1/devices", "/v1/info", &format!("/v1/devices/{a}/readings")] {
		let (status, reply) = http_with(http_port, "GET", target, &[], b"").unwrap();
		assert_eq!(status, 401, "{target}: {reply}");
	}
	let get = |target: &str| -> serde_json::Value {
		let (status, reply) = http_with(http_port, "GET", target, &[bearer], b"").unwrap();
		assert_eq!(status, 200, "{target}: {reply}");
		serde_json::from_str(&reply).unwrap()
	};
	let listed = get("/v1/devices");
	let listed = listed["devices"].as_array().unwrap();
	let of = |id: &str| listed.iter().find(|d| d["device"] == id).unwrap().clone();
	assert_eq!((of(&a)["stored"].as_u64(), of(&a)["finalized"].as_u64()), (Some(7), Some(7)));
	assert_eq!((of(&b)["stored"].as_u64(), of(&b)["missing"].as_u64()), (Some(3), Some(0)));
	let newest = get(&format!("/v1/devices/{a}/readings?newest=2"));
	let seqs: Vec<u64> =
		newest["readings"].as_array().unwrap().iter().map(|r| r["seq"].as_u64().unwrap()).collect();
	assert_eq!(seqs, [5, 6], "{newest}");
	assert_eq!(newest["readings"][0]["values"]["temp_c"], 4.5, "{newest}");
	assert_eq!(newest["readings"][0]["anchor"]["status"], "finalized", "{newest}");
	let detail = get(&format!("/v1/devices/{a}?anchors=5"));
	assert_eq!(detail["anchors"].as_array().unwrap().len(), 2, "{detail}");
	assert_eq!(detail["holes"], serde_json::json!([]), "{detail}");
	let (status, bundle) =
		http_with(http_port, "GET", &format!("/v1/devices/{a}/readings/2/proof"), &[bearer], b"")
			.unwrap();
	assert_eq!(status, 200, "{bundle}");
	std::fs::write(home.join("from-api.json"), &bundle).unwrap();
	let verified =
		ok(provena(&url, home).args(["verify", "--bundle"]).arg(home.join("from-api.json")));
	assert!(verified.contains("VERIFIED: reading 2 of device"), "{verified}");
	let (status, reply) =
		http_with(http_port, "GET", &format!("/v1/devices/{a}/readings/99/proof"), &[bearer], b"")
			.unwrap();
	assert_eq!(status, 404, "{reply}");

	// Both go silent, and the webhook hears of it; A publishes again, and it hears that too.
	let mut silent = Vec::new();
	while silent.len() < 2 {
		let alert = alerts.recv_timeout(Duration::from_secs(30)).expect("a silent alert");
		assert_eq!(alert["event"], "device_silent", "{alert}");
		silent.push(alert["device"].as_str().unwrap().to_string());
	}
	silent.sort();
	let mut both = vec![a.clone(), b.clone()];
	both.sort();
	assert_eq!(silent, both);
	publish(broker.port, vec![(on(&a), lines(200, 1, 4.5))], Duration::from_millis(200));
	let alert = alerts.recv_timeout(Duration::from_secs(30)).expect("an alert");
	assert_eq!(
		(alert["event"].as_str(), alert["device"].as_str()),
		(Some("device_publishes_again"), Some(a.as_str()))
	);

	let gateway = gateway.into_child();
	Command::new("kill").args(["-TERM", &gateway.id().to_string()]).status().unwrap();
	let out = gateway.wait_with_output().unwrap();
	assert!(out.status.success(), "{}", text(&out.stderr));
	drop(broker);
}

/// The dashboard's settings are checked before anything starts; a gateway listening beyond
/// loopback without a token serves no readings (anyone who reaches it could read them all),
/// while it still answers `/healthz`; and one on loopback serves this machine but not the
/// pages of other sites a browser here has open.
#[test]
fn a_gateway_serves_readings_only_to_this_machine_or_the_token_holder() {
	let node = Node::dev();
	let url = node.url();
	let home = tempfile::tempdir().unwrap();
	let home = home.path();
	let store = home.join("gateway.db");
	let run = |extra: &[&str]| {
		let mut command = provena(&url, home);
		command
			.args(["gateway", "run", "--suri", "//Alice"])
			.args(extra)
			.arg("--store")
			.arg(&store);
		command
	};
	let (_, err) = fails(&mut run(&["--dashboard", home.to_str().unwrap()]));
	assert!(err.contains("holds no built dashboard") && err.contains("npm run build"), "{err}");
	let (_, err) = fails(&mut run(&["--dashboard-node", "http://127.0.0.1:9944"]));
	assert!(err.contains("ws:// or wss://"), "{err}");

	let http_port = free_port();
	let mut command = run(&["--http", &format!("0.0.0.0:{http_port}")]);
	command.stdout(Stdio::null()).stderr(Stdio::null());
	let _gateway = Running::spawn(command);
	wait_healthy(http_port);
	for target in ["/v1/devices", "/v1/info", "/v1/devices/0x12/readings"] {
		let (status, reply) = http(http_port, "GET", target, b"").unwrap();
		assert_eq!(status, 403, "{target}: {reply}");
		assert!(reply.contains("--http-token-file"), "{reply}");
	}
	// No dashboard folder given: no dashboard.
	let (status, _) = http(http_port, "GET", "/dashboard/index.html", b"").unwrap();
	assert_eq!(status, 404);

	// On loopback, holding a device's key, without a token: this machine may read and post,
	// a page of another site open in a browser here may not. Browsers name the page's origin
	// on cross-site posts (`Origin`), and a site that rebinds its own name to 127.0.0.1 still
	// names itself in `Host`.
	let keys = home.join("device-keys");
	std::fs::create_dir(&keys).unwrap();
	let (key, device) = alices_device(&url, home, "held.json");
	std::fs::rename(&key, keys.join(format!("{device}.json"))).unwrap();
	let local_port = free_port();
	let mut command = provena(&url, home);
	command
		.args(["gateway", "run", "--suri", "//Alice", "--http", &format!("127.0.0.1:{local_port}")])
		.arg("--device-keys")
		.arg(&keys)
		.arg("--store")
		.arg(home.join("local.db"))
		.stdout(Stdio::null())
		.stderr(Stdio::null());
	let _local = Running::spawn(command);
	wait_healthy(local_port);
	let reading = br#"{"seq": 0, "timestamp_ms": 1795219200000, "values": {"temp_c": 4.5}}"#;
	let post = format!("/v1/devices/{device}/readings");
	let evil = ("Origin", "http://evil.example");
	let (status, reply) = http_with(local_port, "POST", &post, &[evil], reading).unwrap();
	assert_eq!(status, 403, "a cross-site post was taken: {reply}");
	assert!(reply.contains("another site"), "{reply}");
	let (status, reply) = http_with(local_port, "POST", "/v1/anchors", &[evil], b"{}").unwrap();
	assert_eq!(status, 403, "{reply}");
	let rebound = ("Host", "evil.example:80");
	let (status, reply) = http_with(local_port, "GET", "/v1/devices", &[rebound], b"").unwrap();
	assert_eq!(status, 403, "a rebound name read the store: {reply}");
	let (status, reply) = http_with(local_port, "GET", "/v1/devices", &[evil], b"").unwrap();
	assert_eq!(status, 403, "{reply}");
	// The same origin (the dashboard itself), and clients that name none, are served.
	let own = format!("http://127.0.0.1:{local_port}");
	let (status, reply) =
		http_with(local_port, "POST", &post, &[("Origin", own.as_str())], reading).unwrap();
	assert_eq!(status, 202, "{reply}");
	let (status, reply) = http(local_port, "GET", "/v1/devices", b"").unwrap();
	assert_eq!(status, 200, "{reply}");
	let localhost = format!("localhost:{local_port}");
	let (status, reply) =
		http_with(local_port, "GET", "/v1/info", &[("Host", localhost.as_str())], b"").unwrap();
	assert_eq!(status, 200, "{reply}");
}

/// A gateway busy for longer than its transactions' mortality, with fewer than 64 transactions
/// in that time, signs each at a recent block: every one is taken, and delivery never stops
/// over an "ancient birth block". (A delivery round used to keep the block of its first
/// transaction until 64 more were sent: with the default mortality of 256 blocks, a gateway
/// sending one transaction every 30 s had one refused after 25 minutes, and restarted.)
#[test]
fn a_gateway_busy_past_the_mortality_signs_at_a_recent_block() {
	let node = Node::dev();
	let url = node.url();
	let broker = Broker::start();
	let home = tempfile::tempdir().unwrap();
	let home = home.path();
	let genesis = genesis_of(&node);
	let mut device = Device::register(&url, home, [0x33; 32], false);
	let http_port = free_port();
	let mut command = gateway_command(&url, home, broker.port, http_port);
	command.args(["--mortality", "8"]);
	let gateway = Running::spawn(command);
	wait_healthy(http_port);
	// An anchor every 3 s for 75 s: always one in flight (finality takes two blocks or more),
	// so one delivery round lasts the whole time, past 8 blocks of 6 s.
	let topic = format!("provena/{}/anchors", device.hex_id());
	for _ in 0..25 {
		publish(broker.port, vec![(topic.clone(), device.message(2, &genesis))], Duration::ZERO);
		std::thread::sleep(Duration::from_secs(3));
	}
	let started = Instant::now();
	while metric(http_port, "provena_gateway_readings_finalized_total") < 50.0 {
		assert!(
			started.elapsed() < Duration::from_secs(90),
			"not all 50 readings finalized:\n{}",
			gateway_log_tail(home, 20)
		);
		std::thread::sleep(Duration::from_millis(500));
	}
	drop(gateway);
	let log = std::fs::read_to_string(gateway_log(home)).unwrap();
	assert!(!log.contains("ancient birth block"), "{log}");
	assert!(!log.contains("delivery stopped"), "{log}");
}
