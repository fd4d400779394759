//! What a followed transaction needs to know about the block it landed in (the block's number,
//! its extrinsics' hashes, its events), fetched once per block and shared by every transaction
//! followed into it.
//!
//! subxt's `TransactionInBlock::fetch_events` asks the node for the block's header, runtime
//! version, whole body and whole event list for each transaction, and asks again at finality. A
//! gateway with dozens of transactions in each block made the node run the runtime for each
//! (`Core_version`) and send the same large body and event list dozens of times a block; here
//! each block costs one of each.

use super::{Chain, ProvenaConfig};
use crate::Error;
use std::{
	collections::VecDeque,
	sync::{Arc, Mutex},
};
use subxt::{
	error::EventsError,
	events::{DecodeAsEvent, Event, Events, Phase},
	metadata::ArcMetadata,
	utils::H256,
};
use tokio::sync::OnceCell;

/// How many blocks the cache keeps: a transaction is asked about in a best block and again
/// once it is final, a few blocks later.
const KEPT_BLOCKS: usize = 32;

/// A block as a followed transaction sees it.
pub struct BlockFacts {
	/// The block's number.
	pub number: u64,
	/// The runtime's metadata at the block.
	pub metadata: ArcMetadata,
	/// The hash of each of its extrinsics, in block order.
	extrinsics: Vec<H256>,
	/// All of its events.
	events: Arc<Events<ProvenaConfig>>,
}

impl BlockFacts {
	/// The events of the extrinsic with hash `tx_hash`, if the block includes it.
	pub fn events_of(&self, tx_hash: H256) -> Option<TxEvents> {
		let index = self.extrinsics.iter().position(|hash| *hash == tx_hash)?;
		Some(TxEvents { all: self.events.clone(), index: index as u32 })
	}
}

/// The events one extrinsic emitted in its block.
#[derive(Clone)]
pub struct TxEvents {
	all: Arc<Events<ProvenaConfig>>,
	index: u32,
}

impl TxEvents {
	/// The extrinsic's events, in order, undecoded.
	pub fn iter(&self) -> impl Iterator<Item = Result<Event<'_, ProvenaConfig>, EventsError>> {
		let phase = Phase::ApplyExtrinsic(self.index);
		// An event that cannot be read is kept, so the caller learns of it.
		self.all.iter().filter(move |event| event.as_ref().map_or(true, |e| e.phase() == phase))
	}

	/// The extrinsic's events of type `E`, decoded.
	pub fn find<E: DecodeAsEvent>(&self) -> impl Iterator<Item = Result<E, EventsError>> + '_ {
		self.iter().filter_map(Result::ok).filter_map(|event| event.decode_fields_as::<E>())
	}

	/// The extrinsic's first event of type `E`, decoded.
	pub fn find_first<E: DecodeAsEvent>(&self) -> Option<Result<E, EventsError>> {
		self.find::<E>().next()
	}
}

/// The facts of the blocks asked about last, newest at the back; each is fetched by whoever
/// asks first, while the others asking for it wait for that one fetch.
#[derive(Clone, Default)]
pub(crate) struct BlockCache(Arc<Mutex<VecDeque<Kept>>>);

/// One block's facts, once fetched.
type FactsCell = OnceCell<Arc<BlockFacts>>;

/// A block in the cache: its hash and its facts' cell.
type Kept = (H256, Arc<FactsCell>);

impl BlockCache {
	/// The cell of block `hash`, made (and the oldest cell dropped) if the cache has none.
	fn cell(&self, hash: H256) -> Arc<FactsCell> {
		let mut blocks = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		if let Some((_, cell)) = blocks.iter().find(|(kept, _)| *kept == hash) {
			return cell.clone();
		}
		if blocks.len() >= KEPT_BLOCKS {
			blocks.pop_front();
		}
		let cell = Arc::new(OnceCell::new());
		blocks.push_back((hash, cell.clone()));
		cell
	}
}

impl Chain {
	/// The facts of block `hash` (see [`BlockFacts`]), from the node once per block. A fetch
	/// that fails is not kept: the next caller asks the node again.
	pub async fn block_facts(&self, hash: H256) -> Result<Arc<BlockFacts>, Error> {
		let cell = self.blocks.cell(hash);
		let facts = cell.get_or_try_init(|| self.fetch_block_facts(hash)).await?;
		Ok(facts.clone())
	}

	async fn fetch_block_facts(&self, hash: H256) -> Result<Arc<BlockFacts>, Error> {
		let at = self.client.at_block(hash).await.map_err(|e| self.lost(e))?;
		let block = self.rpc.chain_get_block(Some(hash)).await.map_err(|e| self.lost(e))?;
		let block = block.ok_or_else(|| {
			self.lost(format!(
				"the node no longer has block {hash:?} (pruned, or on a dropped fork)"
			))
		})?;
		// A transaction's hash is the hash of its whole encoding, as the node names it.
		let extrinsics = block
			.block
			.extrinsics
			.iter()
			.map(|extrinsic| H256(sp_crypto_hashing::blake2_256(&extrinsic.0)))
			.collect();
		let events = at.events().fetch().await.map_err(|e| self.lost(e))?;
		Ok(Arc::new(BlockFacts {
			number: at.block_number(),
			metadata: at.metadata(),
			extrinsics,
			events: Arc::new(events),
		}))
	}
}
