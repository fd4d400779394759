//! The gateway: readings in, anchors on chain, resumable at any point.
//!
//! 1. [`import`]: readings go into the store with their sequence numbers (idempotent: the same
//!    file twice stores nothing new).
//! 2. [`seal`]: unanchored readings become Merkle batches, signed by the device key and stored
//!    with their proofs (and the encrypted payload) before anything is sent.
//! 3. [`deliver`]: every anchor the chain does not have is sent, at most `max_in_flight`
//!    transactions at a time with locally counted nonces, and followed to finality. Before
//!    sending, each stored anchor is checked against the chain, so after a crash or a node restart
//!    what was already anchored is recognised (same root) and never sent again.

use crate::{
	chain::{self, api, recode, Chain, ProvenaConfig},
	crypto::DataKey,
	input::ReadingInput,
	keys::{AccountKey, KeyPair},
	readings::Batch,
	show_device,
	store::{Status, Store, StoredAnchor},
	Error,
};
use codec::Encode;
use provena_primitives::{
	telemetry::{Reading, Seq},
	DeviceId,
};
use std::{
	collections::BTreeMap,
	time::{Duration, Instant},
};
use subxt::{
	transactions::{Signer, TransactionStatus},
	utils::H256,
};

/// What the chain said about anchors and readings, for people and for tests.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ChainEvent {
	/// An anchor was stored.
	Anchored {
		/// The device, `0x`-hex.
		device: String,
		/// The device's anchor number.
		index: u64,
		/// Its first sequence number.
		first_seq: Seq,
		/// How many readings it commits.
		count: u32,
		/// The finalized block.
		block: u64,
	},
	/// Readings that never arrived.
	SequenceGap {
		/// The device.
		device: String,
		/// The first missing sequence number.
		from: Seq,
		/// The last missing one.
		to: Seq,
		/// The block.
		block: u64,
	},
	/// A public value broke an alert rule.
	AlertRaised {
		/// The device.
		device: String,
		/// The reading's sequence number.
		seq: Seq,
		/// The metric.
		metric: String,
		/// The value, in thousandths.
		value: i64,
		/// The rule's lower bound.
		min: Option<i64>,
		/// The rule's upper bound.
		max: Option<i64>,
		/// The block.
		block: u64,
	},
	/// The chain refused an anchor.
	AnchorRejected {
		/// The device.
		device: String,
		/// Its first sequence number.
		first_seq: Seq,
		/// The chain's reason, as `Pallet.Error`.
		error: String,
	},
}

/// How a delivery went.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Delivery {
	/// Anchors this run put on chain (finalized).
	pub anchored: u64,
	/// Readings in them.
	pub readings_anchored: u64,
	/// Anchors found already on chain (an earlier run sent them).
	pub already_anchored: u64,
	/// Anchors the chain refused.
	pub rejected: u64,
	/// Transactions sent.
	pub transactions: u64,
	/// What the chain emitted about them.
	pub events: Vec<ChainEvent>,
	/// Submission to best-block inclusion, per transaction.
	#[serde(skip)]
	pub to_in_block: Vec<Duration>,
	/// Submission to finality, per transaction.
	#[serde(skip)]
	pub to_finalized: Vec<Duration>,
}

/// How [`deliver`] sends.
#[derive(Clone, Copy, Debug)]
pub struct DeliverOptions {
	/// Anchors per transaction: 1 sends `anchor`, more send `anchor_batch`.
	pub anchors_per_tx: usize,
	/// Transactions in flight at once.
	pub max_in_flight: usize,
}

impl Default for DeliverOptions {
	fn default() -> Self {
		DeliverOptions { anchors_per_tx: 16, max_in_flight: 64 }
	}
}

/// Stores `inputs` as readings of `device`, after what the chain and the store already have.
/// Returns (stored, skipped as already stored).
pub async fn import(
	chain: &Chain,
	store: &mut Store,
	device: DeviceId,
	inputs: &[ReadingInput],
) -> Result<(u64, u64), Error> {
	let chain_next = chain.device_state(device).await?.map(|s| s.next_seq).unwrap_or(0);
	store.import(&device, inputs, chain_next)
}

/// Turns `device`'s unanchored readings into signed anchors of at most `batch_size` readings
/// each (a gap in sequence numbers also ends a batch), encrypting each anchor's readings under
/// `data_key` when given. Returns how many anchors were made.
pub fn seal(
	store: &mut Store,
	device: DeviceId,
	device_key: &KeyPair,
	genesis: H256,
	batch_size: usize,
	data_key: Option<&DataKey>,
	max_payload: usize,
) -> Result<u64, Error> {
	let readings = store.unanchored(&device)?;
	let mut runs: Vec<Vec<Reading>> = Vec::new();
	for reading in readings {
		match runs.last_mut() {
			Some(run)
				if run.len() < batch_size.max(1)
					&& run.last().is_some_and(|last| last.seq + 1 == reading.seq) =>
			{
				run.push(reading)
			},
			_ => runs.push(vec![reading]),
		}
	}
	let mut made = 0;
	for run in runs {
		let batch = Batch::new(run).map_err(|e| Error::Input(e.to_string()))?;
		let anchor = batch.sign(device_key, &genesis);
		let payload = data_key.map(|key| {
			key.encrypt(
				&device,
				batch.first_seq(),
				batch.readings().len() as u32,
				&batch.readings().to_vec().encode(),
			)
		});
		if let Some(payload) = &payload {
			if payload.len() > max_payload {
				return Err(Error::Input(format!(
					"{} readings encrypt to {} bytes, more than the chain's {max_payload}-byte \
					 payload limit; use a smaller --batch-size",
					batch.readings().len(),
					payload.len()
				)));
			}
		}
		store.add_anchor(&batch, &anchor, payload.as_deref())?;
		made += 1;
	}
	Ok(made)
}

/// Checks that `account` may anchor for `device` and that `device_key` is its registered key,
/// so that a wrong key file or a missing grant is said before anything is sent.
pub async fn check_submitter(
	chain: &Chain,
	device: DeviceId,
	device_key: &KeyPair,
	account: &AccountKey,
) -> Result<(), Error> {
	let info = chain.known_device(device).await?;
	let registered = info.key.encode();
	let ours: provena_primitives::DeviceKey = device_key.key();
	if registered != ours.encode() {
		return Err(Error::Key(format!(
			"the device key given is not the one registered for device {} (rotated, or the \
			 wrong key file)",
			show_device(&device)
		)));
	}
	use api::runtime_types::provena_primitives::DeviceStatus;
	if !matches!(info.status, DeviceStatus::Active) {
		return Err(Error::NotAuthorized(format!(
			"device {} is {:?}; only active devices anchor",
			show_device(&device),
			info.status
		)));
	}
	let who = Signer::<ProvenaConfig>::account_id(account);
	let is_owner = info.owner == who;
	let is_device = who.0 == device_key.public();
	if !is_owner && !is_device {
		let bits = chain.permissions(who.clone(), device).await?;
		if bits & 1 == 0 {
			return Err(Error::NotAuthorized(format!(
				"account {} may not submit for device {}: ask its owner for a SUBMIT grant \
				 (`provena grant add --device {} --to {} --submit`)",
				crate::keys::ss58(who.0),
				show_device(&device),
				show_device(&device),
				crate::keys::ss58(who.0),
			)));
		}
	}
	Ok(())
}

enum Update {
	InBlock {
		tx: usize,
		at: Instant,
	},
	Finalized {
		tx: usize,
		block: H256,
		number: u64,
		outcome: Vec<AnchorOutcome>,
		events: Vec<ChainEvent>,
		at: Instant,
	},
	Failed {
		error: Error,
	},
}

#[derive(Debug)]
enum AnchorOutcome {
	Anchored,
	Refused(String),
}

/// Sends every pending anchor the chain does not have yet and follows it to finality.
///
/// `on_progress` is called after each finalized transaction with the store's counts.
pub async fn deliver(
	chain: &Chain,
	store: &mut Store,
	account: &AccountKey,
	options: DeliverOptions,
	mut on_progress: impl FnMut(&crate::store::Tally),
) -> Result<Delivery, Error> {
	let mut delivery = Delivery::default();
	let pending = store.pending_anchors()?;
	let to_send = reconcile(chain, store, pending, &mut delivery).await?;
	on_progress(&store.tally()?);
	if to_send.is_empty() {
		return Ok(delivery);
	}

	let groups: Vec<Vec<StoredAnchor>> =
		to_send.chunks(options.anchors_per_tx.max(1)).map(|c| c.to_vec()).collect();
	let who = Signer::<ProvenaConfig>::account_id(account);
	let mut nonce = chain.next_nonce(&who).await?;
	let (sender, mut updates) = tokio::sync::mpsc::unbounded_channel::<Update>();
	let mut sent_at: Vec<Instant> = Vec::new();
	let mut next_group = 0;
	let mut in_flight = 0usize;
	let mut first_error: Option<Error> = None;

	loop {
		while first_error.is_none()
			&& in_flight < options.max_in_flight.max(1)
			&& next_group < groups.len()
		{
			let group = &groups[next_group];
			let ids: Vec<i64> = group.iter().map(|a| a.id).collect();
			let tx = match send(chain, account, group, nonce).await {
				Ok(tx) => tx,
				Err(error) => {
					first_error = Some(error);
					break;
				},
			};
			store.set_status(&ids, Status::Submitted, Some(tx.hash()), None, None)?;
			nonce += 1;
			delivery.transactions += 1;
			let index = sent_at.len();
			sent_at.push(Instant::now());
			next_group += 1;
			in_flight += 1;
			let sender = sender.clone();
			let chain = chain.clone();
			let count = group.len();
			tokio::spawn(async move {
				let update = match follow(&chain, tx, index, count, &sender).await {
					Ok(update) => update,
					Err(error) => Update::Failed { error },
				};
				let _ = sender.send(update);
			});
		}
		if in_flight == 0 {
			break;
		}
		let Some(update) = updates.recv().await else { break };
		match update {
			Update::InBlock { tx, at } => {
				delivery.to_in_block.push(at - sent_at[tx]);
				let ids: Vec<i64> = groups[tx].iter().map(|a| a.id).collect();
				store.set_status(&ids, Status::InBlock, None, None, None)?;
			},
			Update::Finalized { tx, block, number, outcome, events, at } => {
				in_flight -= 1;
				delivery.to_finalized.push(at - sent_at[tx]);
				let group = &groups[tx];
				for (anchor, result) in group.iter().zip(outcome) {
					match result {
						AnchorOutcome::Anchored => {
							store.set_status(
								&[anchor.id],
								Status::Finalized,
								None,
								Some((block, number)),
								None,
							)?;
							delivery.anchored += 1;
							delivery.readings_anchored += anchor.count as u64;
						},
						AnchorOutcome::Refused(error) => {
							// A stale sequence may be this very anchor, sent by an earlier run.
							if error.ends_with("StaleSequence") && on_chain(chain, anchor).await? {
								store.set_status(
									&[anchor.id],
									Status::Finalized,
									None,
									None,
									None,
								)?;
								delivery.already_anchored += 1;
								continue;
							}
							store.set_status(
								&[anchor.id],
								Status::Failed,
								None,
								Some((block, number)),
								Some(&error),
							)?;
							delivery.rejected += 1;
							delivery.events.push(ChainEvent::AnchorRejected {
								device: show_device(&anchor.device),
								first_seq: anchor.first_seq,
								error,
							});
						},
					}
				}
				delivery.events.extend(events);
				on_progress(&store.tally()?);
			},
			Update::Failed { error } => {
				in_flight -= 1;
				first_error.get_or_insert(error);
			},
		}
	}
	match first_error {
		Some(error) => Err(error),
		None => Ok(delivery),
	}
}

/// Whether exactly this anchor (same first seq and root) is on chain.
async fn on_chain(chain: &Chain, anchor: &StoredAnchor) -> Result<bool, Error> {
	let found = chain.anchors(anchor.device, anchor.first_seq, anchor.first_seq, 1).await?;
	Ok(found
		.first()
		.is_some_and(|a| a.anchor.first_seq == anchor.first_seq && a.anchor.root == anchor.root))
}

/// Sorts pending anchors into those already on chain (marked final), those the chain can no
/// longer take (marked failed), and those to send.
async fn reconcile(
	chain: &Chain,
	store: &mut Store,
	pending: Vec<StoredAnchor>,
	delivery: &mut Delivery,
) -> Result<Vec<StoredAnchor>, Error> {
	let mut next_seq: BTreeMap<DeviceId, Seq> = BTreeMap::new();
	let mut to_send = Vec::new();
	for anchor in pending {
		let next = match next_seq.get(&anchor.device) {
			Some(next) => *next,
			None => {
				let next =
					chain.device_state(anchor.device).await?.map(|s| s.next_seq).unwrap_or(0);
				next_seq.insert(anchor.device, next);
				next
			},
		};
		if anchor.first_seq >= next {
			to_send.push(anchor);
			continue;
		}
		let found = chain.anchors(anchor.device, anchor.first_seq, anchor.first_seq, 1).await?;
		match found.first() {
			Some(on)
				if on.anchor.first_seq == anchor.first_seq && on.anchor.root == anchor.root =>
			{
				store.set_status(&[anchor.id], Status::Finalized, None, None, None)?;
				delivery.already_anchored += 1;
			},
			_ => {
				let error = format!(
					"sequence numbers {}..{} of device {} are already taken on chain by another \
					 anchor",
					anchor.first_seq,
					anchor.first_seq + anchor.count as u64 - 1,
					show_device(&anchor.device)
				);
				store.set_status(&[anchor.id], Status::Failed, None, None, Some(&error))?;
				delivery.rejected += 1;
			},
		}
	}
	Ok(to_send)
}

type Submittable = chain::Signed;

/// Signs the call carrying `group` at `nonce`.
async fn send(
	chain: &Chain,
	account: &AccountKey,
	group: &[StoredAnchor],
	nonce: u64,
) -> Result<Submittable, Error> {
	let payload = |a: &StoredAnchor| {
		a.payload.clone().map(api::runtime_types::bounded_collections::bounded_vec::BoundedVec)
	};
	if let [single] = group {
		let call = api::transactions().telemetry().anchor(recode(&single.anchor)?, payload(single));
		chain.sign(&call, account, nonce).await
	} else {
		let items = group
			.iter()
			.map(|a| {
				Ok(api::runtime_types::pallet_telemetry::types::BatchItem {
					anchor: recode(&a.anchor)?,
					payload: payload(a),
				})
			})
			.collect::<Result<Vec<_>, Error>>()?;
		let call = api::transactions()
			.telemetry()
			.anchor_batch(api::runtime_types::bounded_collections::bounded_vec::BoundedVec(items));
		chain.sign(&call, account, nonce).await
	}
}

/// Submits `tx` and follows it to finality; the update says what happened to each anchor.
async fn follow(
	chain: &Chain,
	tx: Submittable,
	index: usize,
	count: usize,
	sender: &tokio::sync::mpsc::UnboundedSender<Update>,
) -> Result<Update, Error> {
	let mut progress = tx.submit_and_watch().await.map_err(|e| classify(chain, e.to_string()))?;
	while let Some(status) = progress.next().await {
		match status.map_err(|e| chain.lost(e))? {
			TransactionStatus::InBestBlock(_) => {
				let _ = sender.send(Update::InBlock { tx: index, at: Instant::now() });
			},
			TransactionStatus::InFinalizedBlock(in_block) => {
				let at = Instant::now();
				let block = in_block.block_hash();
				let client = in_block.at().await.map_err(|e| chain.lost(e))?;
				let number = client.block_number();
				let metadata = client.metadata();
				let extrinsic_events = in_block.fetch_events().await.map_err(|e| chain.lost(e))?;
				let mut outcome: Vec<AnchorOutcome> =
					(0..count).map(|_| AnchorOutcome::Anchored).collect();
				let mut events = Vec::new();
				for event in extrinsic_events.iter() {
					let event = event.map_err(|e| Error::Metadata(e.to_string()))?;
					match (event.pallet_name(), event.event_name()) {
						("System", "ExtrinsicFailed") => {
							let error = subxt::error::DispatchError::decode_from(
								event.field_bytes().to_vec(),
								metadata.clone(),
							)
							.map_err(|e| Error::Metadata(e.to_string()))?;
							let name = error_name(&chain::dispatch_error(&error));
							outcome
								.iter_mut()
								.for_each(|o| *o = AnchorOutcome::Refused(name.clone()));
						},
						("Telemetry", "AnchorRejected") => {
							let rejected =
								decode::<api::telemetry::events::AnchorRejected>(&event)?;
							let name = runtime_error_name(&metadata, &rejected.error);
							if let Some(slot) = outcome.get_mut(rejected.position as usize) {
								*slot = AnchorOutcome::Refused(name);
							}
						},
						("Telemetry", "Anchored") => {
							let e = decode::<api::telemetry::events::Anchored>(&event)?;
							events.push(ChainEvent::Anchored {
								device: show_device(&e.device),
								index: e.index,
								first_seq: e.first_seq,
								count: e.count,
								block: number,
							});
						},
						("Telemetry", "SequenceGap") => {
							let e = decode::<api::telemetry::events::SequenceGap>(&event)?;
							events.push(ChainEvent::SequenceGap {
								device: show_device(&e.device),
								from: e.from,
								to: e.to,
								block: number,
							});
						},
						("Telemetry", "AlertRaised") => {
							let e = decode::<api::telemetry::events::AlertRaised>(&event)?;
							events.push(ChainEvent::AlertRaised {
								device: show_device(&e.device),
								seq: e.seq,
								metric: String::from_utf8_lossy(&e.metric.0).into_owned(),
								value: e.value,
								min: e.min,
								max: e.max,
								block: number,
							});
						},
						_ => {},
					}
				}
				return Ok(Update::Finalized { tx: index, block, number, outcome, events, at });
			},
			TransactionStatus::Error { message }
			| TransactionStatus::Invalid { message }
			| TransactionStatus::Dropped { message } => return Err(classify(chain, message)),
			_ => {},
		}
	}
	Err(chain.lost("the node closed the transaction's status stream"))
}

fn decode<E: subxt::events::DecodeAsEvent>(
	event: &subxt::events::Event<'_, ProvenaConfig>,
) -> Result<E, Error> {
	event
		.decode_fields_as::<E>()
		.ok_or_else(|| {
			Error::Metadata(format!(
				"{}.{} has another shape",
				event.pallet_name(),
				event.event_name()
			))
		})?
		.map_err(|e| Error::Metadata(e.to_string()))
}

/// A transport failure is `Unreachable`; anything else is a pool rejection.
fn classify(chain: &Chain, message: String) -> Error {
	let lower = message.to_lowercase();
	if lower.contains("restart")
		|| lower.contains("connection")
		|| lower.contains("closed")
		|| lower.contains("background task")
	{
		chain.lost(message)
	} else {
		Error::Rejected(message)
	}
}

/// `Pallet.Error` of a dispatch error.
fn error_name(error: &Error) -> String {
	match error {
		Error::Dispatch { pallet, error, .. } => format!("{pallet}.{error}"),
		other => other.to_string(),
	}
}

/// `Pallet.Error` of a `sp_runtime::DispatchError` carried inside an event.
fn runtime_error_name(
	metadata: &subxt::metadata::ArcMetadata,
	error: &api::runtime_types::sp_runtime::DispatchError,
) -> String {
	use api::runtime_types::sp_runtime::DispatchError as E;
	match error {
		E::Module(module) => metadata
			.pallet_by_error_index(module.index)
			.and_then(|pallet| {
				pallet
					.error_variant_by_index(module.error[0])
					.map(|variant| format!("{}.{}", pallet.name(), variant.name))
			})
			.unwrap_or_else(|| format!("pallet #{} error #{}", module.index, module.error[0])),
		other => format!("{other:?}"),
	}
}
