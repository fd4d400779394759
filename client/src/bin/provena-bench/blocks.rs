//! Blocks as the benchmark sees them: fetched once each, with their extrinsics' outcomes and
//! how full they are; and the figures computed from them.

use anyhow::{anyhow, Result};
use codec::{Compact, Decode};
use provena_client::chain::{api, Chain};
use sp_core::H256;
use std::{
	collections::{HashMap, HashSet},
	time::Instant,
};
use subxt::config::Header as _;

/// A block as the benchmark saw it.
pub struct BlockSeen {
	pub number: u64,
	pub parent: H256,
	/// When its import was announced (or when it was first fetched, if never announced).
	pub imported: Instant,
	pub finalized: Option<Instant>,
	/// Each extrinsic's hash, whether it succeeded, and how many anchors of it were refused.
	pub extrinsics: Vec<(H256, bool, u32)>,
	/// Normal-class weight used, as a share of what normal extrinsics may use.
	pub weight_share: f64,
	/// Bytes of extrinsics, as a share of what normal extrinsics may use.
	pub length_share: f64,
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
pub struct Limits {
	pub normal_ref_time: u64,
	pub normal_length: u64,
}

/// Fetches block `hash` once: its extrinsics, which failed or had anchors refused, and how
/// much of the block's weight and length they used.
pub async fn fetch_block(
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
		if event.is::<api::system::events::ExtrinsicFailed>() {
			failed.insert(index);
		} else if event.is::<api::telemetry::events::AnchorRejected>() {
			*refused.entry(index).or_default() += 1;
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
pub struct Sent {
	pub at: Instant,
	pub readings: u32,
	pub per_anchor: u32,
}

/// A process's resident memory, from `/proc/PID/status`, in bytes.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
	/// `VmRSS`: everything resident.
	pub total: u64,
	/// `RssAnon`: the process's own heap and stacks (what a leak or an unbounded cache grows).
	pub anon: u64,
	/// `RssFile`: pages of mapped files. For a node this is mostly its ParityDB files, which
	/// ParityDB maps into memory; they are the kernel's page cache, which it reclaims under
	/// pressure, and they grow with the database.
	pub file: u64,
}

/// The resident memory of process `pid` (`None` when it is gone or not on this machine).
pub fn memory_of(pid: u32) -> Option<Memory> {
	let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
	let field = |name: &str| -> Option<u64> {
		let line = status.lines().find(|line| line.starts_with(name))?;
		let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
		Some(kib * 1024)
	};
	Some(Memory { total: field("VmRSS:")?, anon: field("RssAnon:")?, file: field("RssFile:")? })
}

/// The bytes the files under `dir` take on disk, recursively (a node's database). Counted in
/// allocated blocks, not apparent lengths: ParityDB's index files are sparse (32 MiB each when
/// created, mostly holes).
pub fn dir_size(dir: &std::path::Path) -> Option<u64> {
	use std::os::unix::fs::MetadataExt;
	let mut total = 0u64;
	for entry in std::fs::read_dir(dir).ok()? {
		let entry = entry.ok()?;
		let meta = entry.metadata().ok()?;
		total += if meta.is_dir() { dir_size(&entry.path())? } else { meta.blocks() * 512 };
	}
	Some(total)
}

/// Readings per second between the first and the last of `events` (time, readings) inside
/// `window`: the readings after the first event over the time between them, so the rate does
/// not depend on how many block times fall into the window.
pub fn rate(mut events: Vec<(Instant, u64)>, window: (Instant, Instant)) -> Option<f64> {
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
