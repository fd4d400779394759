//! Merkle anchors built ahead of the load, on threads of their own.
//!
//! A Merkle anchor commits a tree of readings that its device (or the device's gateway) built
//! and signed on its own hardware. Built by the load generator while the load runs, on the
//! same cores as the node, a thousand-leaf tree per anchor takes the node's CPU, and the
//! scenario measures the generator rather than the chain. So builders start before the
//! scenario, fill a buffer while the node is idle, and keep it topped up while the load runs.

use crate::{cast::Cast, generator::build_anchor};
use anyhow::{anyhow, Result};
use provena_client::readings::SignedAnchor;
use std::{
	sync::{
		atomic::{AtomicBool, AtomicUsize, Ordering},
		mpsc::{self, Receiver, TryRecvError},
		Arc, Mutex,
	},
	thread::JoinHandle,
	time::{Duration, Instant},
};

/// Anchors built ahead, handed out in the generator's turn order: turn `t` is device
/// `t % devices`, whose anchors follow one another from its next sequence number.
pub struct Prebuilt {
	/// One queue per builder; builder `k` builds for the devices `d` with `d % builders == k`.
	queues: Vec<Receiver<(usize, SignedAnchor)>>,
	devices: usize,
	turn: usize,
	built: Arc<AtomicUsize>,
	stop: Arc<AtomicBool>,
	failure: Arc<Mutex<Option<String>>>,
	workers: Vec<JoinHandle<()>>,
}

impl Prebuilt {
	/// Starts one builder per core for anchors of `readings` readings, each device's from
	/// `next_seq[device]` on; together they hold at most `buffer` anchors not yet taken.
	pub fn start(cast: &Cast, next_seq: &[u64], readings: u32, buffer: usize) -> Prebuilt {
		let builders = std::thread::available_parallelism().map_or(1, |n| n.get());
		let devices = cast.devices.len();
		let built = Arc::new(AtomicUsize::new(0));
		let stop = Arc::new(AtomicBool::new(false));
		let failure = Arc::new(Mutex::new(None));
		let mut queues = Vec::new();
		let mut workers = Vec::new();
		for k in 0..builders {
			let (sender, receiver) = mpsc::sync_channel((buffer / builders).max(1));
			queues.push(receiver);
			let (keys, genesis) = (cast.devices.clone(), cast.genesis);
			let mut seq = next_seq.to_vec();
			let (built, stop, failure) = (built.clone(), stop.clone(), failure.clone());
			workers.push(std::thread::spawn(move || {
				let mine = (0..devices).filter(|d| d % builders == k).cycle();
				for device in mine {
					if stop.load(Ordering::Relaxed) {
						return;
					}
					let anchor = match build_anchor(&keys[device], &genesis, seq[device], readings)
					{
						Ok(anchor) => anchor,
						Err(error) => {
							*failure.lock().unwrap_or_else(|e| e.into_inner()) =
								Some(format!("{error:#}"));
							return;
						},
					};
					seq[device] += u64::from(readings);
					// Fails only once the receiving side is gone: the scenario is over.
					if sender.send((device, anchor)).is_err() {
						return;
					}
					built.fetch_add(1, Ordering::Relaxed);
				}
			}));
		}
		Prebuilt { queues, devices, turn: 0, built, stop, failure, workers }
	}

	/// Waits until `count` anchors are built, saying how far it is every ten seconds unless
	/// `quiet`.
	pub fn wait_for(&self, count: usize, quiet: bool) -> Result<()> {
		let started = Instant::now();
		let mut next_report = started + Duration::from_secs(10);
		while self.built.load(Ordering::Relaxed) < count {
			self.check()?;
			std::thread::sleep(Duration::from_millis(50));
			if !quiet && Instant::now() >= next_report {
				next_report += Duration::from_secs(10);
				eprintln!(
					"  building Merkle anchors ahead: {} of {count}",
					self.built.load(Ordering::Relaxed)
				);
			}
		}
		if !quiet {
			eprintln!("  {count} Merkle anchors built ahead in {:.0?}", started.elapsed());
		}
		Ok(())
	}

	/// The next anchor in turn order, with its device's index; `None` while its builder has
	/// not built it yet.
	pub fn next(&mut self) -> Result<Option<(usize, SignedAnchor)>> {
		let device = self.turn % self.devices;
		match self.queues[device % self.queues.len()].try_recv() {
			Ok((built_for, anchor)) => {
				debug_assert_eq!(built_for, device, "builders follow the turn order");
				self.turn += 1;
				Ok(Some((built_for, anchor)))
			},
			Err(TryRecvError::Empty) => Ok(None),
			Err(TryRecvError::Disconnected) => {
				self.check()?;
				Err(anyhow!("a Merkle anchor builder stopped"))
			},
		}
	}

	/// Fails with a builder's error, if one had one.
	fn check(&self) -> Result<()> {
		match &*self.failure.lock().unwrap_or_else(|e| e.into_inner()) {
			Some(error) => Err(anyhow!("building a Merkle anchor: {error}")),
			None => Ok(()),
		}
	}
}

impl Drop for Prebuilt {
	/// Stops the builders: each ends at its next anchor, or at once if its queue is full.
	fn drop(&mut self) {
		self.stop.store(true, Ordering::Relaxed);
		self.queues.clear();
		for worker in self.workers.drain(..) {
			let _ = worker.join();
		}
	}
}
