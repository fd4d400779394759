//! `provena simulate --mqtt`: simulated devices that sign on the device and publish over MQTT.
//!
//! Each device builds and signs its batches with `provena-device`, the crate firmware links,
//! and publishes each as one anchor message (QoS 1) to `<prefix>/<device>/anchors`; a gateway
//! service (`provena gateway run`) takes them from the broker and anchors them. Meanwhile the
//! run follows the chain's finalized blocks and matches every `Anchored` event to the message
//! that carried it, so it measures the whole path, publish → finalized, and finds any anchor
//! that never arrived (lost), any gap the chain recorded, and any anchor it refused.

use super::simulate::{Noise, SimDevice, Simulate};
use crate::context::Context;
use anyhow::{anyhow, bail, Result};
use provena_client::{
	chain::{api, Chain},
	input::ReadingInput,
	report::{now_ms, percentile},
};
use provena_device::{batch_root, Ed25519Key, Measurement, PublicValue, Reading, Statement};
use serde_json::{json, Value};
use std::{
	collections::HashMap,
	process::ExitCode,
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc, Mutex,
	},
	time::{Duration, Instant},
};

/// A simulated device as it runs over MQTT: the readings it has not sent yet.
struct Publisher {
	sim: SimDevice,
	key: Ed25519Key,
	next_seq: u64,
	buffer: Vec<ReadingInput>,
}

/// What the run has seen, shared by the publisher, the MQTT connection and the block follower.
#[derive(Default)]
struct Seen {
	/// Published anchors not yet seen finalized: (device, first seq) → (when, readings).
	waiting: HashMap<([u8; 32], u64), (Instant, u32)>,
	/// Publish → finalized, seconds, per anchor.
	latencies: Vec<f64>,
	anchors_finalized: u64,
	readings_finalized: u64,
	/// Readings finalized per minute of the run (by when their block was seen finalized).
	finalized_by_minute: Vec<u64>,
	gaps: u64,
	/// The anchors seen finalized, by (device, first seq).
	anchored: std::collections::HashSet<([u8; 32], u64)>,
	/// Every refusal (`AnchorRejected`), by (device, first seq). A refusal of an anchor that is
	/// anchored after all (before or later) is a resend that cost a fee: a gateway that could
	/// not know whether a transaction landed (a node restarted under it) sent it again, or the
	/// device's later anchors of a batch in which one was refused, deferred and sent again.
	refusals: Vec<([u8; 32], u64)>,
}

impl Seen {
	/// (refused anchors the chain never took, refusals of anchors it took after all).
	fn refused(&self) -> (u64, u64) {
		let never: std::collections::HashSet<_> =
			self.refusals.iter().filter(|key| !self.anchored.contains(key)).collect();
		let resent = self.refusals.iter().filter(|key| self.anchored.contains(key)).count();
		(never.len() as u64, resent as u64)
	}
}

/// Runs `provena simulate --mqtt` with the devices already registered.
pub async fn run(
	ctx: &Context,
	chain: &Chain,
	args: &Simulate,
	(host, port): (String, u16),
	devices: Vec<SimDevice>,
	mut noise: Noise,
	run_seed: &str,
) -> Result<ExitCode> {
	if args.batch_size == 0 {
		bail!("--batch-size must be at least 1");
	}
	let genesis = chain.genesis_hash().0;
	let mut publishers: Vec<Publisher> = devices
		.into_iter()
		.map(|sim| Publisher {
			key: Ed25519Key::from_seed(&sim.seed),
			sim,
			next_seq: 0,
			buffer: Vec::new(),
		})
		.collect();

	// The broker connection: rumqttc sends what `publish` queues and resends what the broker
	// has not acknowledged after a reconnect.
	let mut options =
		rumqttc::MqttOptions::new(format!("provena-sim-{run_seed}"), host.clone(), port);
	options.set_keep_alive(Duration::from_secs(30));
	options.set_max_packet_size(1 << 21, 1 << 21);
	options.set_inflight(1_000);
	let (client, mut connection) = rumqttc::AsyncClient::new(options, 10_000);
	let acked = Arc::new(AtomicU64::new(0));
	let connected = Arc::new(tokio::sync::Notify::new());
	let mqtt_task = {
		let (acked, connected) = (acked.clone(), connected.clone());
		tokio::spawn(async move {
			use rumqttc::{Event, Packet};
			loop {
				match connection.poll().await {
					Ok(Event::Incoming(Packet::PubAck(_))) => {
						acked.fetch_add(1, Ordering::Relaxed);
					},
					Ok(Event::Incoming(Packet::ConnAck(_))) => connected.notify_one(),
					Ok(_) => {},
					Err(error) => {
						eprintln!("MQTT: {error}; connecting again in 1 s");
						tokio::time::sleep(Duration::from_secs(1)).await;
					},
				}
			}
		})
	};
	tokio::time::timeout(Duration::from_secs(10), connected.notified())
		.await
		.map_err(|_| anyhow!("the MQTT broker at {host}:{port} did not accept a connection"))?;

	let seen = Arc::new(Mutex::new(Seen::default()));
	let started = Instant::now();
	let follower = tokio::spawn(follow_finalized(chain.clone(), seen.clone(), started));
	let memory = Arc::new(Mutex::new(Vec::<u64>::new()));
	let sampler = args.gateway_pid.map(|pid| tokio::spawn(sample_rss(pid, memory.clone())));

	ctx.out.note(format!(
		"Publishing {} readings/s from {} devices to {host}:{port} for {} s, {} readings a \
		 message",
		args.rate,
		publishers.len(),
		args.duration,
		args.batch_size
	));
	let end = started + Duration::from_secs(args.duration);
	let (mut generated, mut anchors_published, mut readings_published) = (0u64, 0u64, 0u64);
	let mut published_by_minute: Vec<u64> = Vec::new();
	let (mut due, mut last, mut next_device) = (0.0f64, started, 0usize);
	let mut next_log = started + Duration::from_secs(30);
	let mut tick = tokio::time::interval(Duration::from_millis(20));
	loop {
		tick.tick().await;
		let now = Instant::now().min(end);
		due += (now - last).as_secs_f64() * args.rate;
		last = now;
		let producing = now < end;
		let mut stamp = now_ms();
		let mut full = Vec::new();
		while due >= 1.0 {
			let index = next_device % publishers.len().max(1);
			next_device += 1;
			stamp += 1;
			let device = &mut publishers[index];
			let mut reading = device.sim.reading(&mut noise, stamp);
			reading.seq = Some(device.next_seq + device.buffer.len() as u64);
			device.buffer.push(reading);
			if device.buffer.len() == args.batch_size {
				full.push(index);
			}
			due -= 1.0;
			generated += 1;
		}
		if !producing {
			// The end: short batches go too.
			full = (0..publishers.len()).filter(|i| !publishers[*i].buffer.is_empty()).collect();
		}
		for index in full {
			let device = &mut publishers[index];
			let readings = std::mem::take(&mut device.buffer);
			let first = device.next_seq;
			let message = anchor_message(device, &readings, &genesis)?;
			device.next_seq += readings.len() as u64;
			let topic = format!("{}/0x{}/anchors", args.topic_prefix, hex::encode(device.sim.id));
			let at = Instant::now();
			seen.lock()
				.map_err(|_| anyhow!("a task panicked"))?
				.waiting
				.insert((device.sim.id, first), (at, readings.len() as u32));
			client
				.publish(topic, rumqttc::QoS::AtLeastOnce, false, message)
				.await
				.map_err(|e| anyhow!("MQTT: cannot queue a message: {e}"))?;
			anchors_published += 1;
			readings_published += readings.len() as u64;
			let minute = (at - started).as_secs() as usize / 60;
			if published_by_minute.len() <= minute {
				published_by_minute.resize(minute + 1, 0);
			}
			published_by_minute[minute] += readings.len() as u64;
		}
		if Instant::now() >= next_log {
			next_log += Duration::from_secs(30);
			let finalized = seen.lock().map(|s| s.readings_finalized).unwrap_or_default();
			ctx.out.note(format!(
				"{:>5} s: {readings_published} readings published in {anchors_published} \
				 messages ({} acknowledged), {finalized} finalized",
				started.elapsed().as_secs(),
				acked.load(Ordering::Relaxed)
			));
		}
		if !producing {
			break;
		}
	}
	let produced_for = started.elapsed().as_secs_f64();

	// Drain: wait for the last anchors to be finalized.
	ctx.out.note(format!("Published; waiting up to {} s for the rest to be finalized", args.drain));
	let drain_end = Instant::now() + Duration::from_secs(args.drain);
	loop {
		let waiting = seen.lock().map(|s| s.waiting.len()).unwrap_or_default();
		if waiting == 0 || Instant::now() >= drain_end || follower.is_finished() {
			break;
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	if follower.is_finished() {
		match follower.await {
			Ok(Err(error)) => return Err(error.context("following finalized blocks")),
			Ok(Ok(())) => bail!("the node's stream of finalized blocks ended"),
			Err(error) => bail!("the block follower failed: {error}"),
		}
	}
	follower.abort();
	mqtt_task.abort();
	if let Some(sampler) = sampler {
		sampler.abort();
	}
	let _ = client.disconnect().await;

	let mut seen = std::mem::take(&mut *seen.lock().map_err(|_| anyhow!("a task panicked"))?);
	let rss: Vec<u64> = memory.lock().map(|m| m.clone()).unwrap_or_default();
	let lost_readings: u64 = seen.waiting.values().map(|(_, count)| u64::from(*count)).sum();
	let (rejected, refusals_resent) = seen.refused();
	let rate = |readings: u64| readings as f64 / produced_for;
	let per_s = |by_minute: &[u64]| by_minute.iter().map(|r| *r as f64 / 60.0).collect::<Vec<_>>();
	let mib = |kib: u64| kib as f64 / 1024.0;
	let report = json!({
		"devices": publishers.len(),
		"seconds": produced_for,
		"readings_per_message": args.batch_size,
		"readings_generated": generated,
		"readings_published": readings_published,
		"messages_published": anchors_published,
		"messages_acknowledged": acked.load(Ordering::Relaxed),
		"anchors_finalized": seen.anchors_finalized,
		"readings_finalized": seen.readings_finalized,
		"readings_per_second_published": rate(readings_published),
		"readings_per_second_finalized": rate(seen.readings_finalized),
		"published_per_second_by_minute": per_s(&published_by_minute),
		"finalized_per_second_by_minute": per_s(&seen.finalized_by_minute),
		"anchors_lost": seen.waiting.len(),
		"readings_lost": lost_readings,
		"sequence_gaps": seen.gaps,
		"anchors_rejected": rejected,
		"refusals_resent": refusals_resent,
		"publish_to_final_p50_s": percentile(&mut seen.latencies, 50.0),
		"publish_to_final_p99_s": percentile(&mut seen.latencies, 99.0),
		"publish_to_final_max_s": percentile(&mut seen.latencies, 100.0),
		"gateway_rss_max_mib": rss.iter().max().map(|k| mib(*k)),
		"gateway_rss_by_minute_mib": rss.chunks(60).map(|m| mib(m.iter().copied().max().unwrap_or(0))).collect::<Vec<_>>(),
	});
	let opt = |v: &Value| v.as_f64().map_or("–".to_string(), |x| format!("{x:.1}"));
	let human = format!(
		"Simulated {} devices over MQTT for {:.0} s\n  readings published   {} ({:.0}/s) in {} \
		 messages, {} acknowledged by the broker\n  readings finalized   {} ({:.0}/s) in {} \
		 anchors\n  lost                 {} anchors ({} readings); {} gaps, {} refused ({} more \
		 refusals of anchors sent again and taken)\n  \
		 publish → finalized  p50 {} s, p99 {} s, max {} s\n  gateway RSS max      {} MiB",
		publishers.len(),
		produced_for,
		readings_published,
		rate(readings_published),
		anchors_published,
		report["messages_acknowledged"],
		seen.readings_finalized,
		rate(seen.readings_finalized),
		seen.anchors_finalized,
		seen.waiting.len(),
		lost_readings,
		seen.gaps,
		rejected,
		refusals_resent,
		opt(&report["publish_to_final_p50_s"]),
		opt(&report["publish_to_final_p99_s"]),
		opt(&report["publish_to_final_max_s"]),
		opt(&report["gateway_rss_max_mib"]),
	);
	ctx.out.print(report, human);
	let clean = seen.waiting.is_empty() && seen.gaps == 0 && rejected == 0;
	Ok(if clean { ExitCode::SUCCESS } else { ExitCode::from(3) })
}

/// The anchor message of `readings` (consecutive, from the device's next sequence number),
/// signed by the device for the chain with `genesis`: what its firmware would publish.
fn anchor_message(
	device: &Publisher,
	readings: &[ReadingInput],
	genesis: &[u8; 32],
) -> Result<String> {
	let fail = |e: provena_device::Error| anyhow!("the device cannot sign its batch: {e}");
	// Measurements in metric-name order, as the chain's format has them.
	let values: Vec<Vec<Measurement<'_>>> = readings
		.iter()
		.map(|r| {
			r.values
				.iter()
				.map(|(name, value)| Measurement { metric: name.as_bytes(), value: *value })
				.collect()
		})
		.collect();
	let first = device.next_seq;
	let device_readings: Vec<Reading<'_>> = readings
		.iter()
		.zip(&values)
		.enumerate()
		.map(|(i, (r, values))| Reading {
			device: device.sim.id,
			seq: first + i as u64,
			timestamp_ms: r.timestamp_ms,
			values,
			payload_hash: None,
		})
		.collect();
	let mut nodes =
		device_readings.iter().map(Reading::leaf).collect::<Result<Vec<_>, _>>().map_err(fail)?;
	let root = batch_root(&mut nodes).map_err(fail)?;
	// The last reading's values are public, so alert rules can see them.
	let last = device_readings.len() - 1;
	let public: Vec<PublicValue<'_>> = values[last]
		.iter()
		.map(|m| PublicValue { seq: first + last as u64, metric: m.metric, value: m.value })
		.collect();
	let statement = Statement {
		device: device.sim.id,
		first_seq: first,
		count: readings.len() as u32,
		root,
		first_ms: device_readings[0].timestamp_ms,
		last_ms: device_readings[last].timestamp_ms,
		payload_hash: None,
		values: &public,
	};
	let signature = device.key.sign(&statement.signing_hash(genesis).map_err(fail)?);
	let decimal = |value: i64| value as f64 / provena_primitives::telemetry::VALUE_SCALE as f64;
	let json_readings: Vec<Value> = readings
		.iter()
		.enumerate()
		.map(|(i, r)| {
			let values: serde_json::Map<String, Value> =
				r.values.iter().map(|(name, v)| (name.clone(), json!(decimal(*v)))).collect();
			json!({ "seq": first + i as u64, "timestamp_ms": r.timestamp_ms, "values": values })
		})
		.collect();
	let json_public: Vec<Value> = public
		.iter()
		.map(|p| {
			json!({
				"seq": p.seq,
				"metric": String::from_utf8_lossy(p.metric),
				"value": decimal(p.value),
			})
		})
		.collect();
	Ok(json!({
		"device": format!("0x{}", hex::encode(device.sim.id)),
		"readings": json_readings,
		"public": json_public,
		"time": { "first_ms": statement.first_ms, "last_ms": statement.last_ms },
		"signature": format!("0x{}", hex::encode(signature.scale_bytes())),
	})
	.to_string())
}

/// Follows finalized blocks and matches each `Anchored` event to the message that carried it.
/// A lost node is reached again (for up to 15 minutes: a whole network may be restarting), and
/// the blocks finalized meanwhile are read by number, so no block is missed or read twice.
async fn follow_finalized(
	mut chain: Chain,
	seen: Arc<Mutex<Seen>>,
	started: Instant,
) -> Result<()> {
	let mut next = chain.finalized().await?.block_number();
	loop {
		match follow_from(&chain, &mut next, &seen, started).await {
			Ok(()) => eprintln!("The node's stream of finalized blocks ended; connecting again"),
			Err(error) => eprintln!(
				"Following finalized blocks: {}; connecting again",
				provena_client::error::with_causes(&error)
			),
		}
		chain = chain
			.reconnect(Duration::from_secs(900), |attempt, wait| {
				eprintln!("  node unreachable (attempt {attempt}); trying again in {wait:?}")
			})
			.await?;
		eprintln!("Following finalized blocks again from #{next}");
	}
}

/// Reads finalized blocks from number `next` on, as the node's stream reports them, filling in
/// any the stream skipped; `next` is the first block not read yet.
async fn follow_from(
	chain: &Chain,
	next: &mut u64,
	seen: &Mutex<Seen>,
	started: Instant,
) -> Result<(), provena_client::Error> {
	let mut blocks = chain.client.stream_blocks().await.map_err(|e| chain.lost(e))?;
	while let Some(block) = blocks.next().await {
		let block = block.map_err(|e| chain.lost(e))?;
		let number = block.number();
		while *next < number {
			let at = chain.client.at_block(*next).await.map_err(|e| chain.lost(e))?;
			let events = at.events().fetch().await.map_err(|e| chain.lost(e))?;
			record(&events, seen, started)?;
			*next += 1;
		}
		if number < *next {
			continue;
		}
		let at = block.at().await.map_err(|e| chain.lost(e))?;
		let events = at.events().fetch().await.map_err(|e| chain.lost(e))?;
		record(&events, seen, started)?;
		*next = number + 1;
	}
	Ok(())
}

/// Matches the Telemetry events of one finalized block to the messages waiting for them.
fn record(
	events: &subxt::events::Events<provena_client::chain::ProvenaConfig>,
	seen: &Mutex<Seen>,
	started: Instant,
) -> Result<(), provena_client::Error> {
	let now = Instant::now();
	let mut seen = seen.lock().map_err(|_| provena_client::Error::input("a task panicked"))?;
	for event in events.iter() {
		let event = event.map_err(|e| provena_client::Error::metadata("an event", e))?;
		let Ok(api::Event::Telemetry(event)) = event.decode_as::<api::Event>() else {
			continue;
		};
		use api::telemetry::Event as T;
		match event {
			T::Anchored { record } => {
				let record = record.0;
				seen.anchored.insert((record.device, record.first_seq));
				let Some((at, count)) = seen.waiting.remove(&(record.device, record.first_seq))
				else {
					continue;
				};
				seen.latencies.push((now - at).as_secs_f64());
				seen.anchors_finalized += 1;
				seen.readings_finalized += u64::from(count);
				let minute = (now - started).as_secs() as usize / 60;
				if seen.finalized_by_minute.len() <= minute {
					seen.finalized_by_minute.resize(minute + 1, 0);
				}
				seen.finalized_by_minute[minute] += u64::from(count);
			},
			T::SequenceGap { .. } => seen.gaps += 1,
			T::AnchorRejected { device, first_seq, .. } => seen.refusals.push((device, first_seq)),
			_ => {},
		}
	}
	Ok(())
}

/// Samples process `pid`'s resident memory (KiB) every second into `samples`.
async fn sample_rss(pid: u32, samples: Arc<Mutex<Vec<u64>>>) {
	let path = format!("/proc/{pid}/status");
	loop {
		let rss = std::fs::read_to_string(&path).ok().and_then(|status| {
			status
				.lines()
				.find_map(|line| line.strip_prefix("VmRSS:"))
				.and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
		});
		if let (Some(rss), Ok(mut samples)) = (rss, samples.lock()) {
			samples.push(rss);
		}
		tokio::time::sleep(Duration::from_secs(1)).await;
	}
}
