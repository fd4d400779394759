//! `provena bench`: how many readings a node takes in, against the generic baseline.
//!
//! One run sets up its own accounts and devices on a funded development chain, then loads the
//! node with each scenario in turn, for a warm-up and then a measured time:
//!
//! 1. `remark`: `System::remark_with_event` with 32 bytes, each account signing its own: the
//!    generic way to anchor 32 bytes on any Substrate chain;
//! 2. `single`: one reading per extrinsic, its anchor signed by the device key and the
//!    extrinsic signed by the device's own account;
//! 3. `gateway`: gateways relaying `anchor_batch`es of many devices' single-reading anchors;
//! 4. `merkle`: one device-signed anchor per extrinsic committing a Merkle batch of readings.
//!
//! The load is closed-loop: at most a window of transactions is submitted and not yet in a
//! block, and the window follows what the blocks take: twice the most of the last three blocks
//! while they are not full, a fifth more once they are. The pool always holds more than the
//! next block can carry, and latency shows what a device waits under full load rather than how
//! long an unbounded queue grew.
//!
//! Transactions go out with `author_submitExtrinsic`, signed against a cached block (no round
//! trip per transaction). Every imported block is fetched once (body, events, `BlockWeight`);
//! a transaction counts from the moment it was sent to the import and the finality of its block.
//! Readings count only from successful extrinsics, minus anchors a batch refused.

use crate::commands::{now_ms, percentile, say};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, ValueEnum};
use codec::{Compact, Decode, Encode};
use futures::{stream::FuturesUnordered, StreamExt};
use provena_client::{
	chain::{api, recode, sign_at, AtBlock, Chain, Signed},
	keys::{KeyPair, Scheme},
	readings::{Batch, SignedAnchor},
};
use provena_primitives::{
	telemetry::{Anchor, AnchorStatement, Measurement, MetricName, Reading, TimeRange},
	DeviceId,
};
use serde_json::{json, Value};
use sp_core::{ConstU32, H256};
use std::{
	collections::{HashMap, HashSet, VecDeque},
	path::PathBuf,
	process::ExitCode,
	time::{Duration, Instant},
};
use subxt::{
	config::Header as _,
	transactions::Signer,
	utils::{AccountId32, MultiAddress},
};

/// One load the benchmark applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
	/// `System::remark_with_event`, 32 bytes, each account signing its own.
	Remark,
	/// One device-signed single-reading anchor per extrinsic, from the device's account.
	Single,
	/// Gateways' `anchor_batch`es of single-reading anchors of many devices.
	Gateway,
	/// One device-signed anchor of a Merkle batch of readings per extrinsic.
	Merkle,
}

impl Scenario {
	fn label(self) -> &'static str {
		match self {
			Scenario::Remark => "(1) remark_with_event, 32 B",
			Scenario::Single => "(2) single anchors, device-signed",
			Scenario::Gateway => "(3) gateway batches",
			Scenario::Merkle => "(4) Merkle batches",
		}
	}

	fn key(self) -> &'static str {
		match self {
			Scenario::Remark => "remark",
			Scenario::Single => "single",
			Scenario::Gateway => "gateway",
			Scenario::Merkle => "merkle",
		}
	}
}

#[derive(Args, Debug)]
pub struct BenchArgs {
	/// The scenarios to run, in this order (comma-separated).
	#[arg(long, value_enum, value_delimiter = ',',
		default_values_t = [Scenario::Remark, Scenario::Single, Scenario::Gateway, Scenario::Merkle])]
	pub scenarios: Vec<Scenario>,
	/// Seconds of load before measuring, per scenario.
	#[arg(long, default_value_t = 30)]
	pub warmup: u64,
	/// Seconds measured, per scenario.
	#[arg(long, default_value_t = 60)]
	pub duration: u64,
	/// Accounts created for the run; each is also a device (its key signs its anchors).
	#[arg(long, default_value_t = 1000)]
	pub accounts: u32,
	/// Anchors per gateway transaction.
	#[arg(long, default_value_t = 100)]
	pub gateway_batch: u32,
	/// Readings per Merkle anchor.
	#[arg(long, default_value_t = 1000)]
	pub merkle_readings: u32,
	/// The most transactions submitted and not yet in a block. Keep it under the node's pool
	/// limit (`--pool-limit`, 8192 by default).
	#[arg(long, default_value_t = 7000)]
	pub max_in_flight: usize,
	/// The node's process id, to sample its resident memory from /proc (same machine only).
	#[arg(long)]
	pub node_pid: Option<u32>,
	/// The funded account that pays the run's accounts (development chains: `//Alice`).
	#[arg(long, default_value = "//Alice")]
	pub funder: String,
	/// The gateways' accounts (funded; each registers and relays for a share of the devices).
	#[arg(long, value_delimiter = ',', default_value = "//Bob,//Charlie,//Dave,//Eve")]
	pub gateways: Vec<String>,
	/// Also write the results as JSON to this file.
	#[arg(long)]
	pub out: Option<PathBuf>,
}

/// What each run account receives from the funder: fees for some hundred thousand anchors.
const FUNDING: u128 = 100 * 1_000_000_000_000;
/// Concurrent `author_submitExtrinsic` requests.
const SUBMIT_CONCURRENCY: usize = 128;
/// A transaction not seen in a block this long after it was accepted counts as dropped.
const DROP_AFTER: Duration = Duration::from_secs(90);
/// After the measured time, how long to wait for the measured transactions to be finalized.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);

fn account_of(key: &KeyPair) -> AccountId32 {
	Signer::<provena_client::chain::ProvenaConfig>::account_id(key)
}

/// The run's keys: funder, gateways, and the accounts that are also devices.
struct Cast {
	genesis: H256,
	funder: KeyPair,
	gateways: Vec<KeyPair>,
	devices: Vec<KeyPair>,
	/// Each gateway's devices (indices into `devices`): device `i` belongs to gateway `i % G`.
	fleets: Vec<Vec<usize>>,
}

impl Cast {
	fn new(args: &BenchArgs, genesis: H256) -> Result<Cast> {
		let seed = format!("{:x}", now_ms());
		let from_uri = |uri: &str| {
			KeyPair::from_uri(Scheme::Sr25519, uri)
				.map_err(|e| anyhow!("bad secret URI {uri}: {e:?}"))
		};
		if args.gateways.is_empty() {
			bail!("--gateways needs at least one account");
		}
		if args.accounts == 0 {
			bail!("--accounts must be at least 1");
		}
		let devices = (0..args.accounts)
			.map(|i| from_uri(&format!("//provena-bench//{seed}//{i}")))
			.collect::<Result<Vec<_>>>()?;
		let gateways = args.gateways.iter().map(|uri| from_uri(uri)).collect::<Result<Vec<_>>>()?;
		let fleets = (0..gateways.len())
			.map(|g| (g..devices.len()).step_by(gateways.len()).collect())
			.collect();
		Ok(Cast { genesis, funder: from_uri(&args.funder)?, gateways, devices, fleets })
	}
}

/// Sends `calls` from `signer` with consecutive nonces, all at once, and waits until every one
/// is finalized and successful.
async fn send_all<Call: subxt::transactions::Payload>(
	chain: &Chain,
	signer: &KeyPair,
	calls: Vec<Call>,
) -> Result<()> {
	let at = chain.finalized().await?;
	let mut nonce = chain.next_nonce(&account_of(signer)).await?;
	let mut watching = FuturesUnordered::new();
	for call in &calls {
		let tx = sign_at(&at, call, signer, nonce)?;
		nonce += 1;
		watching.push(chain.submit_signed(tx));
	}
	while let Some(result) = watching.next().await {
		result?;
	}
	Ok(())
}

/// Funds every device account and registers every device under its gateway.
async fn set_up(chain: &Chain, cast: &Cast, quiet: bool) -> Result<()> {
	use api::runtime_types::{
		pallet_balances::pallet::Call as Balances,
		pallet_device_registry::{pallet::Call as Registry, types::MetadataInput},
		provena_runtime::RuntimeCall,
	};
	if !quiet {
		eprintln!(
			"Setting up: funding {} accounts and registering them as devices of {} gateways…",
			cast.devices.len(),
			cast.gateways.len()
		);
	}
	let funding = cast
		.devices
		.chunks(500)
		.map(|chunk| {
			let calls = chunk
				.iter()
				.map(|key| {
					RuntimeCall::Balances(Balances::transfer_keep_alive {
						dest: MultiAddress::Id(account_of(key)),
						value: FUNDING,
					})
				})
				.collect();
			api::transactions().utility().batch_all(calls)
		})
		.collect();
	send_all(chain, &cast.funder, funding).await.context("funding the run's accounts")?;

	let mut registering = FuturesUnordered::new();
	for (gateway, fleet) in cast.gateways.iter().zip(&cast.fleets) {
		let batches = fleet
			.chunks(100)
			.map(|chunk| {
				let calls = chunk
					.iter()
					.map(|&i| {
						let key = &cast.devices[i];
						Ok(RuntimeCall::DeviceRegistry(Registry::register {
							device: key.public(),
							key: recode(&key.key())?,
							metadata: MetadataInput {
								kind: b"bench-sensor".to_vec(),
								model: b"provena-bench".to_vec(),
								firmware: None,
								location: Vec::new(),
							},
						}))
					})
					.collect::<Result<Vec<_>, provena_client::Error>>()?;
				Ok(api::transactions().utility().batch_all(calls))
			})
			.collect::<Result<Vec<_>, provena_client::Error>>()?;
		registering.push(send_all(chain, gateway, batches));
	}
	while let Some(result) = registering.next().await {
		result.context("registering the run's devices")?;
	}
	Ok(())
}

/// Makes the scenario's transactions: whose turn it is, their nonces, the devices' sequence
/// numbers.
struct Generator<'a> {
	cast: &'a Cast,
	scenario: Scenario,
	gateway_batch: u32,
	merkle_readings: u32,
	/// Next nonce per account (device accounts first, then gateways).
	nonces: Vec<u64>,
	/// Next sequence number per device.
	next_seq: &'a mut Vec<u64>,
	turn: usize,
	/// Per gateway, the next of its devices to anchor for.
	fleet_turn: Vec<usize>,
	remarks: u64,
}

/// A transaction ready to send, with what it carries.
struct Made {
	tx: Signed,
	readings: u32,
	/// Readings per anchor (what a refused anchor of a batch takes away).
	per_anchor: u32,
	/// The account (index into the generator's nonces) that signed it.
	account: usize,
}

impl Generator<'_> {
	fn single_anchor(&mut self, device: usize, count: u32) -> Result<SignedAnchor> {
		let key = &self.cast.devices[device];
		let id: DeviceId = key.public();
		let first_seq = self.next_seq[device];
		self.next_seq[device] += u64::from(count);
		let stamp = now_ms();
		let statement = if count == 1 {
			// One reading: its leaf is the root, no tree to build.
			let reading = bench_reading(id, first_seq, stamp);
			AnchorStatement {
				device: id,
				first_seq,
				count: 1,
				root: reading.leaf(),
				time: TimeRange { first_ms: stamp, last_ms: stamp },
				values: Default::default(),
			}
		} else {
			let readings =
				(0..u64::from(count)).map(|k| bench_reading(id, first_seq + k, stamp)).collect();
			let batch = Batch::new(readings)?;
			AnchorStatement::<ConstU32<{ provena_client::readings::MAX_PUBLIC_VALUES }>> {
				device: id,
				first_seq,
				count,
				root: batch.root(),
				time: TimeRange { first_ms: stamp, last_ms: stamp },
				values: Default::default(),
			}
		};
		let signature = key.sign(&statement.signing_hash(&self.cast.genesis));
		Ok(Anchor { statement, signature })
	}

	fn next(&mut self, at: &AtBlock) -> Result<Made> {
		let devices = self.cast.devices.len();
		let turn = self.turn;
		self.turn += 1;
		let (account, tx, readings, per_anchor) = match self.scenario {
			Scenario::Remark => {
				let account = turn % devices;
				self.remarks += 1;
				let mut bytes = [0u8; 32];
				bytes[..8].copy_from_slice(&self.remarks.to_le_bytes());
				bytes[8..16].copy_from_slice(&now_ms().to_le_bytes());
				let call = api::transactions().system().remark_with_event(bytes.to_vec());
				let key = &self.cast.devices[account];
				(account, sign_at(at, &call, key, self.nonces[account])?, 1, 1)
			},
			Scenario::Single | Scenario::Merkle => {
				let device = turn % devices;
				let count =
					if self.scenario == Scenario::Single { 1 } else { self.merkle_readings };
				let anchor = self.single_anchor(device, count)?;
				let call = api::transactions().telemetry().anchor(recode(&anchor)?, None);
				let key = &self.cast.devices[device];
				(device, sign_at(at, &call, key, self.nonces[device])?, count, count)
			},
			Scenario::Gateway => {
				let gateway = turn % self.cast.gateways.len();
				let fleet = &self.cast.fleets[gateway];
				let mut items = Vec::new();
				for _ in 0..self.gateway_batch.min(fleet.len() as u32) {
					let device = fleet[self.fleet_turn[gateway] % fleet.len()];
					self.fleet_turn[gateway] += 1;
					let anchor = self.single_anchor(device, 1)?;
					items.push(api::runtime_types::pallet_telemetry::types::BatchItem {
						anchor: recode(&anchor)?,
						payload: None,
					});
				}
				let readings = items.len() as u32;
				let call = api::transactions().telemetry().anchor_batch(
					api::runtime_types::bounded_collections::bounded_vec::BoundedVec(items),
				);
				let account = devices + gateway;
				let key = &self.cast.gateways[gateway];
				(account, sign_at(at, &call, key, self.nonces[account])?, readings, 1)
			},
		};
		self.nonces[account] += 1;
		Ok(Made { tx, readings, per_anchor, account })
	}
}

/// A bench reading: one temperature value, so its leaf commits a realistic record.
fn bench_reading(device: DeviceId, seq: u64, timestamp_ms: u64) -> Reading {
	let metric: MetricName = MetricName::truncate_from(b"temperature".to_vec());
	let value = 4_000 + (seq % 1_000) as i64;
	Reading {
		device,
		seq,
		timestamp_ms,
		values: vec![Measurement { metric, value }],
		payload_hash: None,
	}
}

/// A block as the benchmark saw it.
struct BlockSeen {
	number: u64,
	parent: H256,
	/// When its import was announced (or when it was first fetched, if never announced).
	imported: Instant,
	finalized: Option<Instant>,
	/// Each extrinsic's hash, whether it succeeded, and how many anchors of it were refused.
	extrinsics: Vec<(H256, bool, u32)>,
	/// Normal-class weight used, as a share of what normal extrinsics may use.
	weight_share: f64,
	/// Bytes of extrinsics, as a share of what normal extrinsics may use.
	length_share: f64,
}

/// The `System::BlockWeight` value: consumed weight per dispatch class.
#[derive(Decode)]
struct ConsumedWeight {
	normal: (Compact<u64>, Compact<u64>),
	_operational: (Compact<u64>, Compact<u64>),
	_mandatory: (Compact<u64>, Compact<u64>),
}

fn block_weight_key() -> Vec<u8> {
	let mut key = sp_crypto_hashing::twox_128(b"System").to_vec();
	key.extend(sp_crypto_hashing::twox_128(b"BlockWeight"));
	key
}

/// Limits of normal extrinsics per block: ref time and bytes.
#[derive(Clone, Copy)]
struct Limits {
	normal_ref_time: u64,
	normal_length: u64,
}

async fn fetch_block(
	chain: Chain,
	hash: H256,
	announced: Instant,
	limits: Limits,
) -> Result<(H256, BlockSeen)> {
	let details = chain
		.rpc
		.chain_get_block(Some(hash))
		.await
		.map_err(|e| chain.lost(e))?
		.ok_or_else(|| anyhow!("the node no longer has block {hash:?}"))?;
	let header = details.block.header;
	let at = chain.client.at_block(hash).await.map_err(|e| chain.lost(e))?;
	let events = at.events().fetch().await.map_err(|e| chain.lost(e))?;
	let (mut failed, mut refused) = (HashSet::new(), HashMap::<u32, u32>::new());
	for event in events.iter() {
		let event = event.map_err(|e| anyhow!("an event of block {hash:?}: {e}"))?;
		let subxt::events::Phase::ApplyExtrinsic(index) = event.phase() else { continue };
		match (event.pallet_name(), event.event_name()) {
			("System", "ExtrinsicFailed") => {
				failed.insert(index);
			},
			("Telemetry", "AnchorRejected") => *refused.entry(index).or_default() += 1,
			_ => {},
		}
	}
	let weight = at.storage().fetch_raw(block_weight_key()).await.map_err(|e| chain.lost(e))?;
	let consumed = ConsumedWeight::decode(&mut &weight[..])
		.map_err(|e| anyhow!("System::BlockWeight of {hash:?}: {e}"))?;
	let mut length = 0u64;
	let extrinsics = details
		.block
		.extrinsics
		.iter()
		.enumerate()
		.map(|(index, bytes)| {
			length += bytes.0.len() as u64;
			let index = index as u32;
			let hash = H256(sp_crypto_hashing::blake2_256(&bytes.0));
			(hash, !failed.contains(&index), refused.get(&index).copied().unwrap_or(0))
		})
		.collect();
	Ok((
		hash,
		BlockSeen {
			number: header.number(),
			parent: header.parent_hash,
			imported: announced,
			finalized: None,
			extrinsics,
			weight_share: consumed.normal.0 .0 as f64 / limits.normal_ref_time.max(1) as f64,
			length_share: length as f64 / limits.normal_length.max(1) as f64,
		},
	))
}

/// A sent transaction.
struct Sent {
	at: Instant,
	readings: u32,
	per_anchor: u32,
}

/// The resident memory of process `pid`, in bytes.
fn rss_of(pid: u32) -> Option<u64> {
	let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
	let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
	let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
	Some(kib * 1024)
}

/// Readings per second between the first and the last of `events` (time, readings) inside
/// `window`: the readings after the first event over the time between them, so the rate does
/// not depend on how many block times fall into the window.
fn rate(mut events: Vec<(Instant, u64)>, window: (Instant, Instant)) -> Option<f64> {
	events.retain(|(at, _)| *at >= window.0 && *at <= window.1);
	events.sort_by_key(|(at, _)| *at);
	// One finality notification may finalize several blocks: one event per moment.
	events.dedup_by(|later, earlier| {
		let same = later.0 == earlier.0;
		if same {
			earlier.1 += later.1;
		}
		same
	});
	let (first, last) = (events.first()?.0, events.last()?.0);
	let span = (last - first).as_secs_f64();
	if span <= 0.0 {
		return None;
	}
	let readings: u64 = events.iter().skip(1).map(|(_, r)| r).sum();
	Some(readings as f64 / span)
}

/// Runs one scenario and returns its figures.
async fn run_scenario(
	chain: &Chain,
	cast: &Cast,
	args: &BenchArgs,
	scenario: Scenario,
	next_seq: &mut Vec<u64>,
	limits: Limits,
	quiet: bool,
) -> Result<Value> {
	// Nonces as the node sees them (an earlier scenario may have had drops).
	let accounts: Vec<AccountId32> =
		cast.devices.iter().chain(&cast.gateways).map(account_of).collect();
	let nonces = futures::stream::iter(accounts.iter().map(|who| chain.next_nonce(who)))
		.buffered(32)
		.collect::<Vec<_>>()
		.await
		.into_iter()
		.collect::<Result<Vec<_>, _>>()?;
	let mut generator = Generator {
		cast,
		scenario,
		gateway_batch: args.gateway_batch,
		merkle_readings: args.merkle_readings,
		nonces,
		next_seq,
		turn: 0,
		fleet_turn: vec![0; cast.gateways.len()],
		remarks: 0,
	};

	let mut heads = chain.rpc.chain_subscribe_all_heads().await.map_err(|e| chain.lost(e))?;
	let mut finals =
		chain.rpc.chain_subscribe_finalized_heads().await.map_err(|e| chain.lost(e))?;
	let start_final = chain.rpc.chain_get_finalized_head().await.map_err(|e| chain.lost(e))?;
	let mut last_final = (start_final, chain.block_number(start_final).await?);

	let started = Instant::now();
	let measure_from = started + Duration::from_secs(args.warmup);
	let measure_to = measure_from + Duration::from_secs(args.duration);
	let window = (measure_from, measure_to);
	let mut at = chain.finalized().await?;
	let mut at_refreshed = Instant::now();

	// Transactions by hash: when sent and what they carry; those not yet seen in a block.
	let mut sent: HashMap<H256, Sent> = HashMap::new();
	let mut outstanding: HashMap<H256, Instant> = HashMap::new();
	let mut blocks: HashMap<H256, BlockSeen> = HashMap::new();
	let mut fetching: HashSet<H256> = HashSet::new();
	let mut finalized_queue: VecDeque<(H256, Instant)> = VecDeque::new();
	let (fetched_tx, mut fetched_rx) = tokio::sync::mpsc::unbounded_channel();
	let mut submitting = FuturesUnordered::new();
	let mut resend: VecDeque<(Instant, Made, H256)> = VecDeque::new();
	let min_window = match scenario {
		Scenario::Gateway => 8,
		_ => 500,
	}
	.min(args.max_in_flight);
	let mut window_size = min_window;
	let mut recent_per_block: VecDeque<(usize, bool)> = VecDeque::new();
	let (mut refused_submits, mut dropped) = (0u64, 0u64);
	let mut first_refusal: Option<String> = None;
	let mut rss: Vec<(Instant, u64)> = Vec::new();
	let mut tick = tokio::time::interval(Duration::from_secs(1));
	let mut next_report = started + Duration::from_secs(15);
	let mut drained = false;
	// Transactions sent while measuring whose block is not finalized yet.
	let mut awaiting_final: HashSet<H256> = HashSet::new();

	let spawn_fetch = |hash: H256, announced: Instant, fetching: &mut HashSet<H256>| {
		if fetching.insert(hash) {
			let (chain, sender) = (chain.clone(), fetched_tx.clone());
			tokio::spawn(async move {
				let _ = sender.send(fetch_block(chain, hash, announced, limits).await);
			});
		}
	};

	loop {
		let now = Instant::now();
		let loading = now < measure_to;
		// Keep the window full.
		while loading
			&& outstanding.len() + submitting.len() < window_size
			&& submitting.len() < SUBMIT_CONCURRENCY
		{
			let (made, hash) = match resend.pop_front() {
				// A full pool gets a second before the same transaction comes again.
				Some((due, made, hash)) if due > Instant::now() => {
					resend.push_front((due, made, hash));
					break;
				},
				Some((_, made, hash)) => (made, hash),
				None => {
					let made = generator.next(&at)?;
					let hash = made.tx.hash();
					(made, hash)
				},
			};
			let sent_at = Instant::now();
			if sent_at >= measure_from {
				awaiting_final.insert(hash);
			}
			sent.insert(
				hash,
				Sent { at: sent_at, readings: made.readings, per_anchor: made.per_anchor },
			);
			let rpc = chain.rpc.clone();
			submitting.push(async move {
				let result = rpc.author_submit_extrinsic(made.tx.encoded()).await;
				(made, hash, result)
			});
		}

		tokio::select! {
			Some((made, hash, result)) = submitting.next(), if !submitting.is_empty() => {
				match result {
					Ok(_) => {
						outstanding.insert(hash, Instant::now());
					},
					Err(error) => {
						let message = error.to_string();
						sent.remove(&hash);
						awaiting_final.remove(&hash);
						if message.contains("pool") && message.contains("full")
							|| message.contains("Immediately Dropped")
							|| message.contains("Too low priority")
						{
							// The pool is full: send the same transaction again in a second.
							resend.push_back((Instant::now() + Duration::from_secs(1), made, hash));
						} else {
							refused_submits += 1;
							first_refusal.get_or_insert(message);
							// The nonce went unused: ask the node for it again.
							let who = &accounts[made.account];
							generator.nonces[made.account] = chain.next_nonce(who).await?;
						}
					},
				}
			},
			Some(header) = heads.next() => {
				let header = header.map_err(|e| chain.lost(e))?;
				if header.number() > last_final.1 {
					let hash = H256(sp_crypto_hashing::blake2_256(&header.encode()));
					spawn_fetch(hash, Instant::now(), &mut fetching);
				}
			},
			Some(header) = finals.next() => {
				let header = header.map_err(|e| chain.lost(e))?;
				let hash = H256(sp_crypto_hashing::blake2_256(&header.encode()));
				finalized_queue.push_back((hash, Instant::now()));
			},
			Some(fetched) = fetched_rx.recv() => {
				let (hash, seen) = fetched?;
				let ours = seen.extrinsics.iter().filter(|(tx, ..)| sent.contains_key(tx)).count();
				for (tx, ..) in &seen.extrinsics {
					outstanding.remove(tx);
				}
				let full = seen.weight_share >= 0.95 || seen.length_share >= 0.95;
				recent_per_block.push_back((ours, full));
				if recent_per_block.len() > 3 {
					recent_per_block.pop_front();
				}
				let largest = recent_per_block.iter().map(|(n, _)| *n).max().unwrap_or(0);
				// Double while blocks take all they are offered; once they are full, keep a
				// fifth more than they take, so the queue stays short.
				let extra = if recent_per_block.iter().all(|(_, full)| *full) { largest / 5 } else { largest };
				window_size = (largest + extra).clamp(min_window, args.max_in_flight);
				blocks.insert(hash, seen);
			},
			_ = tick.tick() => {
				let now = Instant::now();
				if let Some(bytes) = args.node_pid.and_then(rss_of) {
					rss.push((now, bytes));
				}
				if now - at_refreshed > Duration::from_secs(12) {
					at = chain.finalized().await?;
					at_refreshed = now;
				}
				let before = outstanding.len();
				outstanding.retain(|_, accepted| now - *accepted < DROP_AFTER);
				dropped += (before - outstanding.len()) as u64;
				if now >= measure_to && submitting.is_empty() {
					// Drained when the pool holds nothing of ours and every transaction sent
					// while measuring is in a finalized block (or the drain took too long).
					drained = (outstanding.is_empty() && awaiting_final.is_empty())
						|| now > measure_to + DRAIN_LIMIT;
				}
				if !quiet && now >= next_report {
					next_report += Duration::from_secs(15);
					let phase = if now < measure_from { "warm-up" } else if now < measure_to { "measuring" } else { "draining" };
					eprintln!(
						"  {:>4} s {phase}: {} sent, {} in flight (window {window_size}), {} blocks seen",
						(now - started).as_secs(), sent.len(), outstanding.len() + submitting.len(), blocks.len()
					);
				}
			},
		}

		// Mark finalized blocks: from each finalized head back to the previous one.
		while let Some(&(head, when)) = finalized_queue.front() {
			let mut path = Vec::new();
			let mut cursor = head;
			let mut missing = None;
			while cursor != last_final.0 {
				match blocks.get(&cursor) {
					Some(seen) if seen.number > last_final.1 => {
						path.push(cursor);
						cursor = seen.parent;
					},
					Some(_) => break,
					None => {
						missing = Some(cursor);
						break;
					},
				}
			}
			if let Some(hash) = missing {
				spawn_fetch(hash, when, &mut fetching);
				break;
			}
			for hash in &path {
				if let Some(seen) = blocks.get_mut(hash) {
					seen.finalized.get_or_insert(when);
					for (tx, ..) in &seen.extrinsics {
						awaiting_final.remove(tx);
					}
				}
			}
			if let Some(seen) = blocks.get(&head) {
				last_final = (head, seen.number);
			}
			finalized_queue.pop_front();
		}

		if drained {
			break;
		}
	}

	// Figures from finalized blocks only (a block on a dropped fork counts for nothing).
	let mut included = Vec::new();
	let mut finalized = Vec::new();
	let (mut to_block, mut to_final) = (Vec::new(), Vec::new());
	let (mut weight_shares, mut length_shares) = (Vec::new(), Vec::new());
	let mut measured_found = 0u64;
	let mut extrinsics_in_window = 0u64;
	for seen in blocks.values() {
		let Some(final_at) = seen.finalized else { continue };
		let mut readings = 0u64;
		let mut ours = 0u64;
		for (tx, ok, refused) in &seen.extrinsics {
			let Some(s) = sent.get(tx) else { continue };
			ours += 1;
			if *ok {
				readings += u64::from(s.readings.saturating_sub(refused * s.per_anchor));
			}
			if s.at >= measure_from && s.at <= measure_to {
				measured_found += 1;
				to_block.push((seen.imported - s.at).as_secs_f64());
				to_final.push((final_at - s.at).as_secs_f64());
			}
		}
		included.push((seen.imported, readings));
		finalized.push((final_at, readings));
		if seen.imported >= measure_from && seen.imported <= measure_to {
			weight_shares.push(seen.weight_share);
			length_shares.push(seen.length_share);
			extrinsics_in_window += ours;
		}
	}
	let measured_sent =
		sent.values().filter(|s| s.at >= measure_from && s.at <= measure_to).count() as u64;
	let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
	let in_window: Vec<u64> = rss
		.iter()
		.filter(|(t, _)| *t >= measure_from && *t <= measure_to)
		.map(|(_, b)| *b)
		.collect();
	let readings_per_tx = match scenario {
		Scenario::Remark | Scenario::Single => 1,
		Scenario::Gateway => args.gateway_batch.min(cast.fleets[0].len() as u32),
		Scenario::Merkle => args.merkle_readings,
	};
	Ok(json!({
		"scenario": scenario.key(),
		"label": scenario.label(),
		"readings_per_extrinsic": readings_per_tx,
		"included_readings_per_s": rate(included, window),
		"finalized_readings_per_s": rate(finalized, window),
		"blocks_in_window": weight_shares.len(),
		"extrinsics_per_block": (!weight_shares.is_empty()).then(|| extrinsics_in_window as f64 / weight_shares.len() as f64),
		"submit_to_block_p50_s": percentile(&mut to_block, 50.0),
		"submit_to_block_p99_s": percentile(&mut to_block, 99.0),
		"submit_to_final_p50_s": percentile(&mut to_final, 50.0),
		"submit_to_final_p99_s": percentile(&mut to_final, 99.0),
		"block_weight_share_mean": mean(&weight_shares),
		"block_length_share_mean": mean(&length_shares),
		"node_rss_max_bytes": in_window.iter().max(),
		"measured_sent": measured_sent,
		"measured_finalized": measured_found,
		"dropped": dropped,
		"refused_at_submit": refused_submits,
		"first_refusal": first_refusal,
	}))
}

fn cell(value: &Value, scale: f64, decimals: usize) -> String {
	value.as_f64().map(|v| format!("{:.*}", decimals, v * scale)).unwrap_or_else(|| "–".into())
}

/// The results as a Markdown table, with the ratios to the baseline.
fn table(results: &[Value]) -> String {
	let mut out = String::from(
		"| scenario | readings/tx | readings/s included | readings/s finalized | tx/block | submit→block p50 / p99 (s) | submit→final p50 / p99 (s) | block weight used | block length used | node RSS max (MiB) |\n\
		 |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
	);
	for r in results {
		out += &format!(
			"| {} | {} | {} | {} | {} | {} / {} | {} / {} | {} % | {} % | {} |\n",
			r["label"].as_str().unwrap_or_default(),
			r["readings_per_extrinsic"],
			cell(&r["included_readings_per_s"], 1.0, 0),
			cell(&r["finalized_readings_per_s"], 1.0, 0),
			cell(&r["extrinsics_per_block"], 1.0, 0),
			cell(&r["submit_to_block_p50_s"], 1.0, 1),
			cell(&r["submit_to_block_p99_s"], 1.0, 1),
			cell(&r["submit_to_final_p50_s"], 1.0, 1),
			cell(&r["submit_to_final_p99_s"], 1.0, 1),
			cell(&r["block_weight_share_mean"], 100.0, 0),
			cell(&r["block_length_share_mean"], 100.0, 0),
			cell(&r["node_rss_max_bytes"], 1.0 / (1024.0 * 1024.0), 0),
		);
	}
	out
}

/// Each scenario's finalized readings/s over the baseline's.
fn ratios(results: &[Value]) -> Value {
	let base = results
		.iter()
		.find(|r| r["scenario"] == "remark")
		.and_then(|r| r["finalized_readings_per_s"].as_f64());
	let mut ratios = serde_json::Map::new();
	if let Some(base) = base.filter(|b| *b > 0.0) {
		for r in results.iter().filter(|r| r["scenario"] != "remark") {
			if let Some(v) = r["finalized_readings_per_s"].as_f64() {
				ratios.insert(r["scenario"].as_str().unwrap_or_default().into(), json!(v / base));
			}
		}
	}
	Value::Object(ratios)
}

pub async fn run(chain: &Chain, json_out: bool, args: BenchArgs) -> Result<ExitCode> {
	let quiet = json_out;
	let cast = Cast::new(&args, chain.genesis_hash())?;
	let at = chain.finalized().await?;
	let weights = at
		.constants()
		.entry(api::constants().system().block_weights())
		.map_err(|e| anyhow!("System::BlockWeights: {e}"))?;
	let length = at
		.constants()
		.entry(api::constants().system().block_length())
		.map_err(|e| anyhow!("System::BlockLength: {e}"))?;
	let limits = Limits {
		normal_ref_time: weights
			.per_class
			.normal
			.max_total
			.map(|w| w.ref_time)
			.unwrap_or(weights.max_block.ref_time),
		normal_length: u64::from(length.max.normal),
	};
	set_up(chain, &cast, quiet).await?;

	let mut next_seq = vec![0u64; cast.devices.len()];
	let mut results = Vec::new();
	for &scenario in &args.scenarios {
		if !quiet {
			eprintln!(
				"{}: {} s warm-up, {} s measured…",
				scenario.label(),
				args.warmup,
				args.duration
			);
		}
		let result =
			run_scenario(chain, &cast, &args, scenario, &mut next_seq, limits, quiet).await?;
		if !quiet {
			eprintln!(
				"  finalized {} readings/s, p99 submit→final {} s",
				cell(&result["finalized_readings_per_s"], 1.0, 0),
				cell(&result["submit_to_final_p99_s"], 1.0, 1)
			);
		}
		results.push(result);
	}

	let report = json!({
		"url": chain.url,
		"accounts": args.accounts,
		"gateways": args.gateways.len(),
		"warmup_s": args.warmup,
		"duration_s": args.duration,
		"results": results,
		"ratios_to_remark": ratios(&results),
		"table": table(&results),
	});
	if let Some(path) = &args.out {
		std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
			.with_context(|| format!("writing {}", path.display()))?;
	}
	let mut human = table(&results);
	if let Value::Object(ratios) = &report["ratios_to_remark"] {
		for (name, ratio) in ratios {
			human += &format!("\n{name}/remark: {:.2}", ratio.as_f64().unwrap_or_default());
		}
	}
	say(json_out, report, human);
	Ok(ExitCode::SUCCESS)
}
