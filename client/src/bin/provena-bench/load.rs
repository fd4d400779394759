//! One scenario's load: a closed loop that keeps a window of transactions in flight and follows
//! every block until what was sent while measuring is finalized.
//!
//! At most a window of transactions is submitted and not yet in a block, and the window follows
//! what the blocks take: twice the most of the last three blocks while they are not full, a
//! fifth more once they are. The pool always holds more than the next block can carry, and
//! latency shows what a device waits under full load rather than how long an unbounded queue
//! grew. Transactions go out with `author_submitExtrinsic`, signed against a cached block (no
//! round trip per transaction); a pool refusal is classified by the node's error code.

use crate::{
	args::{BenchArgs, Scenario},
	blocks::{fetch_block, memory_of, BlockSeen, Limits, Memory, Sent},
	cast::Cast,
	generator::{Generator, Made},
	prebuilt::Prebuilt,
};
use anyhow::Result;
use codec::Encode;
use futures::{future::BoxFuture, stream::FuturesUnordered, StreamExt};
use provena_client::chain::{account_of, tx::pool_refusal, AtBlock, Chain};
use provena_primitives::DeviceId;
use sp_core::H256;
use std::{
	collections::{BTreeMap, HashMap, HashSet, VecDeque},
	time::{Duration, Instant},
};
use subxt::{config::Header as _, utils::AccountId32};

/// Concurrent `author_submitExtrinsic` requests.
const SUBMIT_CONCURRENCY: usize = 128;
/// A transaction not seen in a block this long after it was accepted counts as dropped.
const DROP_AFTER: Duration = Duration::from_secs(90);
/// After the measured time, how long to wait for the measured transactions to be finalized.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);

/// A submission in progress: the transaction, its hash, and what the node answered.
type Submitting = BoxFuture<'static, (Made, H256, Result<H256, subxt::rpcs::Error>)>;

/// What one scenario's run saw.
pub struct Load {
	/// When the load started.
	pub started: Instant,
	/// When measuring starts (after the warm-up).
	pub measure_from: Instant,
	/// When measuring ends and draining starts.
	pub measure_to: Instant,
	/// Transactions by hash: when sent and what they carry.
	pub sent: HashMap<H256, Sent>,
	/// Blocks fetched, by hash.
	pub blocks: HashMap<H256, BlockSeen>,
	/// Pool refusals other than "full".
	pub refused_submits: u64,
	/// The first such refusal's reason.
	pub first_refusal: Option<String>,
	/// Those refusals by reason.
	pub refusals: BTreeMap<String, u64>,
	/// Transactions the pool took that never reached a block.
	pub dropped: u64,
	/// The node's resident memory over time.
	pub memory: Vec<(Instant, Memory)>,
	/// Accepted transactions not yet seen in a block, with when they were accepted.
	outstanding: HashMap<H256, Instant>,
	/// Transactions sent while measuring whose block is not finalized yet.
	awaiting_final: HashSet<H256>,
	fetching: HashSet<H256>,
	finalized_queue: VecDeque<(H256, Instant)>,
	/// Refused because the pool was full: sent again once due.
	resend: VecDeque<(Instant, Made, H256)>,
	min_window: usize,
	/// The most the window may grow to.
	max_window: usize,
	window: usize,
	/// Our extrinsics per recent block, and whether the block was full.
	recent_per_block: VecDeque<(usize, bool)>,
	last_final: (H256, u64),
	next_report: Instant,
}

/// Runs `scenario` against `chain` and returns what it saw.
pub async fn run_scenario(
	chain: &Chain,
	cast: &Cast,
	args: &BenchArgs,
	scenario: Scenario,
	limits: Limits,
	quiet: bool,
) -> Result<Load> {
	// Nonces as the node sees them (an earlier scenario may have had drops).
	let accounts: Vec<AccountId32> =
		cast.devices.iter().chain(&cast.gateways).map(account_of).collect();
	let nonces = futures::stream::iter(accounts.iter().map(|who| chain.next_nonce(who)))
		.buffered(32)
		.collect::<Vec<_>>()
		.await
		.into_iter()
		.collect::<Result<Vec<_>, _>>()?;
	// Sequence numbers as the chain sees them: an earlier scenario's drops, or anchors a
	// gateway batch had refused, left the chain behind what was sent.
	let devices: Vec<DeviceId> = cast.devices.iter().map(|key| key.public()).collect();
	let next_seq = chain.next_seqs(&devices).await?;
	let prebuilt = match scenario {
		Scenario::Merkle if args.prebuild > 0 => {
			let prebuilt = Prebuilt::start(cast, &next_seq, args.merkle_readings, args.prebuild);
			prebuilt.wait_for(args.prebuild, quiet)?;
			Some(prebuilt)
		},
		_ => None,
	};
	let mut generator = Generator {
		cast,
		scenario,
		gateway_batch: args.gateway_batch,
		merkle_readings: args.merkle_readings,
		nonces,
		next_seq,
		prebuilt,
		turn: 0,
		fleet_turn: vec![0; cast.gateways.len()],
		remarks: 0,
	};
	let start_final = chain.rpc.chain_get_finalized_head().await.map_err(|e| chain.lost(e))?;
	let started = Instant::now();
	let measure_from = started + Duration::from_secs(args.warmup);
	// The pool holds a device-authorized anchor only so far ahead of its device's log
	// (`MaxPooledAhead` anchors of its size), and checks it against the best block it has
	// caught up with, which under load is often a block behind the one just seen included.
	// Devices take turns, so a window of half that many per device keeps every anchor within
	// reach even then (a device's share of a block is under half of it).
	let max_window = match scenario {
		Scenario::Single | Scenario::Merkle => {
			let ahead = usize::try_from(chain.max_pooled_ahead().await?).unwrap_or(usize::MAX);
			args.max_in_flight.min(cast.devices.len().saturating_mul(ahead / 2))
		},
		Scenario::Remark | Scenario::Gateway => args.max_in_flight,
	};
	let min_window = match scenario {
		Scenario::Gateway => 8,
		_ => 500,
	}
	.min(max_window);
	let mut load = Load {
		started,
		measure_from,
		measure_to: measure_from + Duration::from_secs(args.duration),
		sent: HashMap::new(),
		blocks: HashMap::new(),
		refused_submits: 0,
		first_refusal: None,
		refusals: BTreeMap::new(),
		dropped: 0,
		memory: Vec::new(),
		outstanding: HashMap::new(),
		awaiting_final: HashSet::new(),
		fetching: HashSet::new(),
		finalized_queue: VecDeque::new(),
		resend: VecDeque::new(),
		min_window,
		max_window,
		window: min_window,
		recent_per_block: VecDeque::new(),
		last_final: (start_final, chain.block_number(start_final).await?),
		next_report: started + Duration::from_secs(15),
	};
	load.drive(chain, &mut generator, &accounts, args, limits, quiet).await?;
	Ok(load)
}

impl Load {
	/// The loop: fill the window, then react to whatever comes first.
	async fn drive(
		&mut self,
		chain: &Chain,
		generator: &mut Generator<'_>,
		accounts: &[AccountId32],
		args: &BenchArgs,
		limits: Limits,
		quiet: bool,
	) -> Result<()> {
		let mut heads = chain.rpc.chain_subscribe_all_heads().await.map_err(|e| chain.lost(e))?;
		let mut finals =
			chain.rpc.chain_subscribe_finalized_heads().await.map_err(|e| chain.lost(e))?;
		let (fetched_tx, mut fetched_rx) = tokio::sync::mpsc::unbounded_channel();
		let fetch = |hash: H256, announced: Instant, fetching: &mut HashSet<H256>| {
			if fetching.insert(hash) {
				let (chain, sender) = (chain.clone(), fetched_tx.clone());
				tokio::spawn(async move {
					let _ = sender.send(fetch_block(chain, hash, announced, limits).await);
				});
			}
		};
		let mut submitting: FuturesUnordered<Submitting> = FuturesUnordered::new();
		let mut at = chain.finalized().await?;
		let mut at_refreshed = Instant::now();
		let mut tick = tokio::time::interval(Duration::from_secs(1));
		loop {
			self.fill(chain, generator, &at, &mut submitting)?;
			let mut drained = false;
			tokio::select! {
				Some((made, hash, result)) = submitting.next(), if !submitting.is_empty() => {
					match result {
						Ok(_) => {
							self.outstanding.insert(hash, Instant::now());
						},
						Err(error) => {
							self.sent.remove(&hash);
							self.awaiting_final.remove(&hash);
							match pool_refusal(&error) {
								// The pool is full: the same transaction again in a second.
								Some(why) if why.is_retryable() => self
									.resend
									.push_back((Instant::now() + Duration::from_secs(1), made, hash)),
								Some(why) => {
									self.refused_submits += 1;
									let why = why.to_string();
									*self.refusals.entry(why.clone()).or_default() += 1;
									self.first_refusal.get_or_insert(why);
									// The nonce went unused: ask the node for it again.
									let who = &accounts[made.account];
									generator.nonces[made.account] = chain.next_nonce(who).await?;
								},
								None => return Err(chain.lost(error).into()),
							}
						},
					}
				},
				Some(header) = heads.next() => {
					let header = header.map_err(|e| chain.lost(e))?;
					if header.number() > self.last_final.1 {
						let hash = H256(sp_crypto_hashing::blake2_256(&header.encode()));
						fetch(hash, Instant::now(), &mut self.fetching);
					}
				},
				Some(header) = finals.next() => {
					let header = header.map_err(|e| chain.lost(e))?;
					let hash = H256(sp_crypto_hashing::blake2_256(&header.encode()));
					self.finalized_queue.push_back((hash, Instant::now()));
				},
				Some(fetched) = fetched_rx.recv() => {
					let (hash, seen) = fetched?;
					self.on_block(hash, seen);
				},
				_ = tick.tick() => {
					let now = Instant::now();
					if now - at_refreshed > Duration::from_secs(12) {
						at = chain.finalized().await?;
						at_refreshed = now;
					}
					drained = self.on_tick(args, submitting.is_empty(), quiet);
				},
			}
			if let Some(missing) = self.mark_finalized() {
				fetch(missing.0, missing.1, &mut self.fetching);
			}
			if drained {
				return Ok(());
			}
		}
	}

	/// Sends until the window is full (only while loading).
	fn fill(
		&mut self,
		chain: &Chain,
		generator: &mut Generator<'_>,
		at: &AtBlock,
		submitting: &mut FuturesUnordered<Submitting>,
	) -> Result<()> {
		while Instant::now() < self.measure_to
			&& self.outstanding.len() + submitting.len() < self.window
			&& submitting.len() < SUBMIT_CONCURRENCY
		{
			let (made, hash) = match self.resend.pop_front() {
				// A full pool gets a second before the same transaction comes again.
				Some((due, made, hash)) if due > Instant::now() => {
					self.resend.push_front((due, made, hash));
					break;
				},
				Some((_, made, hash)) => (made, hash),
				None => {
					let Some(made) = generator.next(at)? else { break };
					let hash = made.tx.hash();
					(made, hash)
				},
			};
			let sent_at = Instant::now();
			if sent_at >= self.measure_from {
				self.awaiting_final.insert(hash);
			}
			let sent = Sent { at: sent_at, readings: made.readings, per_anchor: made.per_anchor };
			self.sent.insert(hash, sent);
			let rpc = chain.rpc.clone();
			submitting.push(Box::pin(async move {
				let result = rpc.author_submit_extrinsic(made.tx.encoded()).await;
				(made, hash, result)
			}));
		}
		Ok(())
	}

	/// A fetched block: its extrinsics leave the pool count, and the window follows its size.
	fn on_block(&mut self, hash: H256, seen: BlockSeen) {
		let ours = seen.extrinsics.iter().filter(|(tx, ..)| self.sent.contains_key(tx)).count();
		for (tx, ..) in &seen.extrinsics {
			self.outstanding.remove(tx);
		}
		let full = seen.weight_share >= 0.95 || seen.length_share >= 0.95;
		self.recent_per_block.push_back((ours, full));
		if self.recent_per_block.len() > 3 {
			self.recent_per_block.pop_front();
		}
		let largest = self.recent_per_block.iter().map(|(n, _)| *n).max().unwrap_or(0);
		// Double while blocks take all they are offered; once they are full, keep a fifth
		// more than they take, so the queue stays short.
		let all_full = self.recent_per_block.iter().all(|(_, full)| *full);
		let extra = if all_full { largest / 5 } else { largest };
		self.window = (largest + extra).clamp(self.min_window, self.max_window);
		self.blocks.insert(hash, seen);
	}

	/// Once a second: memory, drops, progress; returns whether the run is drained.
	fn on_tick(&mut self, args: &BenchArgs, nothing_submitting: bool, quiet: bool) -> bool {
		let now = Instant::now();
		if let Some(memory) = args.node_pid.and_then(memory_of) {
			self.memory.push((now, memory));
		}
		let before = self.outstanding.len();
		self.outstanding.retain(|_, accepted| now - *accepted < DROP_AFTER);
		self.dropped += (before - self.outstanding.len()) as u64;
		if !quiet && now >= self.next_report {
			self.next_report += Duration::from_secs(15);
			let phase = if now < self.measure_from {
				"warm-up"
			} else if now < self.measure_to {
				"measuring"
			} else {
				"draining"
			};
			eprintln!(
				"  {:>4} s {phase}: {} sent, {} in flight (window {}), {} blocks seen",
				(now - self.started).as_secs(),
				self.sent.len(),
				self.outstanding.len(),
				self.window,
				self.blocks.len()
			);
		}
		// Drained when the pool holds nothing of ours and every transaction sent while
		// measuring is in a finalized block (or the drain took too long).
		now >= self.measure_to
			&& nothing_submitting
			&& ((self.outstanding.is_empty() && self.awaiting_final.is_empty())
				|| now > self.measure_to + DRAIN_LIMIT)
	}

	/// Marks finalized blocks, from each finalized head back to the previous one. Returns a
	/// block to fetch first when the path back has one not seen yet.
	fn mark_finalized(&mut self) -> Option<(H256, Instant)> {
		while let Some(&(head, when)) = self.finalized_queue.front() {
			let mut path = Vec::new();
			let mut cursor = head;
			while cursor != self.last_final.0 {
				match self.blocks.get(&cursor) {
					Some(seen) if seen.number > self.last_final.1 => {
						path.push(cursor);
						cursor = seen.parent;
					},
					Some(_) => break,
					None => return Some((cursor, when)),
				}
			}
			for hash in &path {
				if let Some(seen) = self.blocks.get_mut(hash) {
					seen.finalized.get_or_insert(when);
					for (tx, ..) in &seen.extrinsics {
						self.awaiting_final.remove(tx);
					}
				}
			}
			if let Some(seen) = self.blocks.get(&head) {
				self.last_final = (head, seen.number);
			}
			self.finalized_queue.pop_front();
		}
		None
	}
}
