//! `provena simulate`: many simulated devices sending readings through one gateway.
//!
//! The gateway account registers N fresh devices (one `utility.batch_all` per 100), then for
//! the given time produces readings at the given total rate: cold-chain thermometers
//! (temperature, humidity), heart monitors (heart rate) and trackers (latitude, longitude),
//! each a random walk. Readings go through the same store, batching, signing and delivery as
//! `provena submit`: what a real gateway does, at a chosen rate (`provena-bench` is the load
//! generator that saturates a node). The final report counts
//! readings generated, anchored, finalized and rejected, and the latency of transactions from
//! submission to a block and to finality (p50, p99).

use crate::{args::Account, context::Context};
use anyhow::{anyhow, Result};
use clap::Args;
use provena_client::{
	chain::api::{
		self,
		runtime_types::{
			pallet_device_registry::{pallet::Call as Registry, types::MetadataInput},
			provena_runtime::RuntimeCall,
		},
	},
	gateway::{self, ChainEvent, DeliverOptions, Pay},
	input::ReadingInput,
	keys::{KeyPair, Scheme},
	report::{now_ms, percentile},
	store::Store,
};
use provena_primitives::telemetry::{MetricName, VALUE_SCALE};
use serde_json::json;
use std::{
	collections::{BTreeMap, BTreeSet},
	process::ExitCode,
	time::{Duration, Instant},
};
use subxt::utils::Static;

/// Simulated devices sending readings through one gateway.
#[derive(Args, Debug)]
pub struct Simulate {
	/// How many devices.
	#[arg(long, default_value_t = 10)]
	pub devices: u32,
	/// Readings per second, all devices together.
	#[arg(long, default_value_t = 10.0)]
	pub rate: f64,
	/// How long to produce readings, in seconds.
	#[arg(long, default_value_t = 60)]
	pub duration: u64,
	/// Readings per Merkle anchor.
	#[arg(long, default_value_t = 8)]
	pub batch_size: usize,
	/// Anchors per gateway-paid transaction.
	#[arg(long, default_value_t = 100)]
	pub anchors_per_tx: usize,
	/// Who pays for the anchors, as for `provena submit` (new simulated devices hold no
	/// credits, so `auto` has the gateway pay).
	#[arg(long, value_enum, default_value_t = Pay::Auto)]
	pub pay: Pay,
	/// Publish each device's signed anchors to this MQTT broker (HOST:PORT), QoS 1, for a
	/// gateway service (`provena gateway run`) to relay, instead of anchoring them from this
	/// process: the real path, device → broker → gateway → chain. Each device signs its
	/// batches itself, with `provena-device` (ed25519), every `--batch-size` readings; the run
	/// follows finalized blocks and reports publish → finalized latency and anything lost.
	#[arg(long, value_name = "HOST:PORT")]
	pub mqtt: Option<String>,
	/// With `--mqtt`: the topic prefix; anchors go to `<prefix>/<device>/anchors`.
	#[arg(long, default_value = "provena", requires = "mqtt")]
	pub topic_prefix: String,
	/// With `--mqtt`: the gateway's process id, to report its memory (RSS) each minute.
	#[arg(long, requires = "mqtt")]
	pub gateway_pid: Option<u32>,
	/// With `--mqtt`: how long to wait, once publishing ends, for the last anchors to be
	/// finalized before counting them lost, in seconds.
	#[arg(long, default_value_t = 120, requires = "mqtt")]
	pub drain: u64,
	/// The account that registers and owns the simulated devices; without `--mqtt` also the
	/// gateway that anchors their readings (with `--mqtt` the gateway service does, and must
	/// run as this account or hold a submit grant for the devices).
	#[command(flatten)]
	pub account: Account,
}

/// A tiny deterministic random walk source (xorshift64*): no crypto needed for fake data.
pub(super) struct Noise(u64);

impl Noise {
	fn next(&mut self) -> f64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		(self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64 - 0.5
	}
}

/// The kinds of simulated device, by `SimDevice::kind`.
const KINDS: [&str; 3] = ["thermometer", "heart-monitor", "tracker"];

pub(super) struct SimDevice {
	pub(super) id: [u8; 32],
	/// The secret seed of its key (`key` is derived from it over MQTT).
	pub(super) seed: [u8; 32],
	key: KeyPair,
	kind: usize,
	state: [f64; 2],
}

impl SimDevice {
	/// The metrics this kind of device reports, and how far each walks per reading.
	fn metrics(&self) -> ([&'static str; 2], [f64; 2]) {
		match self.kind {
			0 => (["temperature", "humidity"], [0.4, 1.0]),
			1 => (["heart_rate", "spo2"], [2.0, 0.3]),
			_ => (["latitude", "longitude"], [0.001, 0.001]),
		}
	}

	/// What its anchors publish: the readings are made up, so all of them, for anyone
	/// browsing the chain to see (real devices publish only what has an alert rule or was
	/// chosen with `provena submit --public`).
	fn public(&self) -> BTreeSet<MetricName> {
		let names = self.metrics().0;
		names.iter().map(|name| MetricName::truncate_from(name.as_bytes().to_vec())).collect()
	}

	pub(super) fn reading(&mut self, noise: &mut Noise, now_ms: u64) -> ReadingInput {
		let (names, steps) = self.metrics();
		let mut values = BTreeMap::new();
		for i in 0..2 {
			self.state[i] += noise.next() * steps[i];
			values
				.insert(names[i].to_string(), (self.state[i] * VALUE_SCALE as f64).round() as i64);
		}
		ReadingInput { origin: "simulator".into(), seq: None, timestamp_ms: now_ms, values }
	}
}

/// Runs `provena simulate`. Exit code 3 when the chain refused an anchor.
pub async fn run(ctx: &Context, args: Simulate) -> Result<ExitCode> {
	let chain = &ctx.connect().await?;
	let gateway = args.account.load()?;
	let genesis = chain.genesis_hash();
	let mut noise = Noise(now_ms() | 1);
	let run_seed = format!("{:016x}", now_ms());

	// Fresh devices, registered by the gateway in batches of 100.
	let mut devices: Vec<SimDevice> = (0..args.devices)
		.map(|i| {
			let uri = format!("//provena-sim//{run_seed}//{i}");
			let seed = sp_crypto_hashing::blake2_256(uri.as_bytes());
			let key = match args.mqtt {
				// Over MQTT the device signs with `provena-device`, from this seed.
				Some(_) => KeyPair::from_uri(Scheme::Ed25519, &format!("0x{}", hex::encode(seed))),
				None => KeyPair::from_uri(Scheme::Sr25519, &uri),
			}
			.map_err(|e| anyhow!("cannot derive {uri}: {e:?}"))?;
			let start = match i % 3 {
				0 => [5.0, 60.0],
				1 => [72.0, 97.0],
				_ => [52.52, 13.40],
			};
			Ok(SimDevice { id: key.public(), seed, key, kind: (i % 3) as usize, state: start })
		})
		.collect::<Result<_>>()?;
	register_devices(ctx, chain, &gateway, &devices).await?;
	if let Some(broker) = &args.mqtt {
		let broker = super::gateway::host_port(broker)?;
		return super::simulate_mqtt::run(ctx, chain, &args, broker, devices, noise, &run_seed)
			.await;
	}

	let mut store: Store = ctx.store(chain)?;
	let bar = ctx.out.progress_bar().then(|| {
		let bar = indicatif::ProgressBar::new(args.duration);
		if let Ok(style) =
			indicatif::ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} s  {msg}")
		{
			bar.set_style(style);
		}
		bar
	});
	// Without a terminal (a log file, a service), a progress line every 30 s instead of a bar.
	let log_progress = !ctx.out.json && bar.is_none();
	let mut next_log = Instant::now() + Duration::from_secs(30);
	let options = DeliverOptions {
		anchors_per_tx: args.anchors_per_tx,
		max_in_flight: 64,
		pay: args.pay,
		hold_after_gap: false,
		continuous: false,
	};
	let started = Instant::now();
	let end = started + Duration::from_secs(args.duration);
	let mut generated = 0u64;
	let mut due = 0.0f64;
	let mut last = Instant::now();
	let mut next_device = 0usize;
	let (mut anchored, mut readings_anchored, mut rejected, mut txs) = (0u64, 0u64, 0u64, 0u64);
	let (mut to_block, mut to_final) = (Vec::new(), Vec::new());
	let mut alerts = 0u64;

	// Rounds: produce what is due, sign it, send it and follow it to finality.
	loop {
		let producing = last < end;
		let sealing: Vec<usize>;
		if producing {
			// Readings due up to now, and never past the end: the last round flushes them.
			let now = Instant::now().min(end);
			due += (now - last).as_secs_f64() * args.rate;
			last = now;
			let mut by_device: BTreeMap<usize, Vec<ReadingInput>> = BTreeMap::new();
			let mut stamp = now_ms();
			while due >= 1.0 {
				let index = next_device % devices.len().max(1);
				next_device += 1;
				stamp += 1;
				let reading = devices[index].reading(&mut noise, stamp);
				by_device.entry(index).or_default().push(reading);
				due -= 1.0;
				generated += 1;
			}
			for (index, inputs) in &by_device {
				gateway::import(chain, &mut store, devices[*index].id, inputs).await?;
			}
			sealing = by_device.into_keys().collect();
		} else {
			// Flush the remainder, even short batches.
			sealing = (0..devices.len()).collect();
		}
		for index in sealing {
			let device = &devices[index];
			let (id, key) = (device.id, &device.key);
			let public = device.public();
			let options = gateway::SealOptions {
				batch_size: args.batch_size,
				data_key: None,
				public: &public,
				max_payload: usize::MAX,
				keep_partial: false,
			};
			gateway::seal(&mut store, id, key, genesis, &options)?;
		}
		let delivery = gateway::deliver(chain, &mut store, &gateway, options, |_, _| {}).await?;
		anchored += delivery.anchored;
		readings_anchored += delivery.readings_anchored;
		rejected += delivery.rejected;
		txs += delivery.transactions;
		to_block.extend(delivery.to_in_block.iter().map(Duration::as_secs_f64));
		to_final.extend(delivery.to_finalized.iter().map(Duration::as_secs_f64));
		alerts +=
			delivery.events.iter().filter(|e| matches!(e, ChainEvent::AlertRaised { .. })).count()
				as u64;
		if let Some(bar) = &bar {
			bar.set_position(started.elapsed().as_secs().min(args.duration));
			bar.set_message(format!("{generated} generated, {readings_anchored} finalized"));
		}
		if log_progress && Instant::now() >= next_log {
			next_log += Duration::from_secs(30);
			eprintln!(
				"{:>6} s: {generated} readings generated, {readings_anchored} finalized in {anchored} anchors, {alerts} alerts, {rejected} rejected",
				started.elapsed().as_secs()
			);
		}
		if !producing && store.tally()?.pending == 0 {
			break;
		}
		if delivery.transactions == 0 {
			tokio::time::sleep(Duration::from_millis(500)).await;
		}
	}
	if let Some(bar) = &bar {
		bar.finish_and_clear();
	}
	let elapsed = started.elapsed().as_secs_f64();
	let report = json!({
		"devices": args.devices,
		"seconds": elapsed,
		"readings_generated": generated,
		"readings_finalized": readings_anchored,
		"anchors_finalized": anchored,
		"anchors_rejected": rejected,
		"transactions": txs,
		"alerts": alerts,
		"readings_per_second_finalized": readings_anchored as f64 / elapsed,
		"submit_to_block_p50_s": percentile(&mut to_block, 50.0).unwrap_or(0.0),
		"submit_to_block_p99_s": percentile(&mut to_block, 99.0).unwrap_or(0.0),
		"submit_to_final_p50_s": percentile(&mut to_final, 50.0).unwrap_or(0.0),
		"submit_to_final_p99_s": percentile(&mut to_final, 99.0).unwrap_or(0.0),
	});
	let human = format!(
		"Simulated {} devices for {:.0} s\n  readings generated  {}\n  readings finalized  {} ({:.1}/s) in {} anchors, {} transactions\n  anchors rejected    {}\n  submit → block      p50 {:.1} s, p99 {:.1} s\n  submit → finalized  p50 {:.1} s, p99 {:.1} s",
		args.devices,
		elapsed,
		generated,
		readings_anchored,
		readings_anchored as f64 / elapsed,
		anchored,
		txs,
		rejected,
		report["submit_to_block_p50_s"].as_f64().unwrap_or_default(),
		report["submit_to_block_p99_s"].as_f64().unwrap_or_default(),
		report["submit_to_final_p50_s"].as_f64().unwrap_or_default(),
		report["submit_to_final_p99_s"].as_f64().unwrap_or_default(),
	);
	ctx.out.print(report, human);
	Ok(if rejected > 0 { ExitCode::from(3) } else { ExitCode::SUCCESS })
}

/// Registers `devices`, owned by `owner`, in `utility.batch_all`s of 100.
async fn register_devices(
	ctx: &Context,
	chain: &provena_client::chain::Chain,
	owner: &provena_client::keys::AccountKey,
	devices: &[SimDevice],
) -> Result<()> {
	let genesis = chain.genesis_hash();
	ctx.out.note(format!("Registering {} simulated devices…", devices.len()));
	for chunk in devices.chunks(100) {
		let calls = chunk
			.iter()
			.map(|d| {
				RuntimeCall::DeviceRegistry(Registry::register {
					device: d.id,
					key: Static(d.key.key()),
					metadata: MetadataInput {
						kind: KINDS[d.kind].as_bytes().to_vec(),
						model: b"provena-sim".to_vec(),
						firmware: None,
						location: Vec::new(),
					},
					proof: Static(d.key.possession_proof(&genesis, &d.id, &owner.public())),
				})
			})
			.collect();
		chain.submit(&api::transactions().utility().batch_all(calls), owner).await?;
	}
	Ok(())
}
