//! Delivery: every stored anchor the chain does not have yet, sent through the transaction
//! pipeline with locally counted nonces and followed to finality, the store updated at each step.

use super::{DeliverOptions, Delivery};
use crate::{
	chain::{
		account_of, api,
		events::{anchor_outcomes, ChainEvent},
		tx::sign_at,
		AtBlock, Bounded, Chain, Finalized, Signed,
	},
	keys::AccountKey,
	show_device,
	store::{Status, Store, StoredAnchor, Tally},
	Error,
};
use provena_primitives::{telemetry::Seq, DeviceId};
use std::{collections::BTreeMap, time::Instant};
use subxt::utils::Static;

/// What a transaction's watcher reports back to the delivery loop.
enum Update {
	/// Transaction `tx` entered a best block.
	InBlock { tx: usize, at: Instant },
	/// Transaction `tx` is in a finalized block.
	Finalized { tx: usize, at: Instant, finalized: Box<Finalized> },
	/// Transaction `tx` failed before a block took it (refused, dropped, node gone).
	Failed { error: Error },
}

/// How many rounds one delivery makes at most: each round after the first sends what the chain
/// deferred in the one before, and each deferral follows a refusal, so rounds end quickly.
const MAX_ROUNDS: usize = 8;

/// Sends every pending anchor the chain does not have yet and follows it to finality.
///
/// `on_progress` is called after each finalized transaction with the store's counts.
pub async fn deliver(
	chain: &Chain,
	store: &mut Store,
	account: &AccountKey,
	options: DeliverOptions,
	on_progress: impl FnMut(&Tally),
) -> Result<Delivery, Error> {
	let mut delivery = Delivery::default();
	deliver_into(chain, store, account, options, on_progress, &mut delivery).await?;
	Ok(delivery)
}

/// [`deliver`], counting into `delivery`: what was done before an error stays counted there,
/// so a caller that reconnects and delivers again reports the whole run.
pub async fn deliver_into(
	chain: &Chain,
	store: &mut Store,
	account: &AccountKey,
	options: DeliverOptions,
	mut on_progress: impl FnMut(&Tally),
	delivery: &mut Delivery,
) -> Result<(), Error> {
	for _ in 0..MAX_ROUNDS {
		let deferred = delivery.deferred;
		round(chain, store, account, options, &mut on_progress, delivery).await?;
		if delivery.deferred == deferred {
			break;
		}
	}
	Ok(())
}

/// One round: sends every pending anchor the chain does not have yet and follows it to
/// finality.
async fn round(
	chain: &Chain,
	store: &mut Store,
	account: &AccountKey,
	options: DeliverOptions,
	on_progress: &mut impl FnMut(&Tally),
	delivery: &mut Delivery,
) -> Result<(), Error> {
	let pending = store.pending_anchors()?;
	let to_send = reconcile(chain, store, pending, delivery).await?;
	on_progress(&store.tally()?);
	if to_send.is_empty() {
		return Ok(());
	}

	let groups: Vec<Vec<StoredAnchor>> =
		to_send.chunks(options.anchors_per_tx.max(1)).map(<[StoredAnchor]>::to_vec).collect();
	let mut nonce = chain.next_nonce(&account_of(account)).await?;
	let (sender, mut updates) = tokio::sync::mpsc::unbounded_channel::<Update>();
	let mut sent_at: Vec<Instant> = Vec::new();
	let mut in_flight = 0usize;
	let mut first_error: Option<Error> = None;
	let mut at = chain.signing_block().await?;

	loop {
		while first_error.is_none()
			&& in_flight < options.max_in_flight.max(1)
			&& sent_at.len() < groups.len()
		{
			let index = sent_at.len();
			let group = &groups[index];
			if index % 64 == 63 {
				// Sign against a recent block, so long deliveries stay within the mortality.
				match chain.signing_block().await {
					Ok(recent) => at = recent,
					Err(error) => {
						first_error = Some(error);
						break;
					},
				}
			}
			let tx = match sign_group(&at, group, account, nonce) {
				Ok(tx) => tx,
				Err(error) => {
					first_error = Some(error);
					break;
				},
			};
			let ids: Vec<i64> = group.iter().map(|a| a.id).collect();
			store.set_status(&ids, Status::Submitted, Some(tx.hash()), None, None)?;
			nonce += 1;
			delivery.transactions += 1;
			sent_at.push(Instant::now());
			in_flight += 1;
			tokio::spawn(watch(chain.clone(), tx, index, sender.clone()));
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
			Update::Finalized { tx, at, finalized } => {
				in_flight -= 1;
				delivery.to_finalized.push(at - sent_at[tx]);
				settle(chain, store, &groups[tx], &finalized, delivery).await?;
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
		None => Ok(()),
	}
}

/// Follows one transaction and reports to the delivery loop.
async fn watch(
	chain: Chain,
	tx: Signed,
	index: usize,
	sender: tokio::sync::mpsc::UnboundedSender<Update>,
) {
	let in_block = || {
		let _ = sender.send(Update::InBlock { tx: index, at: Instant::now() });
	};
	let update = match chain.follow(tx, in_block).await {
		Ok(finalized) => {
			Update::Finalized { tx: index, at: Instant::now(), finalized: Box::new(finalized) }
		},
		Err(error) => Update::Failed { error },
	};
	let _ = sender.send(update);
}

/// Records what the finalized transaction carrying `group` did to each of its anchors.
async fn settle(
	chain: &Chain,
	store: &mut Store,
	group: &[StoredAnchor],
	finalized: &Finalized,
	delivery: &mut Delivery,
) -> Result<(), Error> {
	let block = Some((finalized.block_hash, finalized.block_number));
	let outcomes = anchor_outcomes(finalized, group.len())?;
	for (anchor, refusal) in group.iter().zip(outcomes.refused) {
		let Some(error) = refusal else {
			store.set_status(&[anchor.id], Status::Finalized, None, block, None)?;
			// Keep the log's record of it: receipts need it, and the node is not asked for it.
			let record = outcomes.records.iter().find(|r| {
				r.device == anchor.device
					&& r.first_seq == anchor.first_seq
					&& r.root == anchor.root
			});
			if let Some(record) = record {
				store.set_record(anchor.id, record)?;
			}
			delivery.anchored += 1;
			delivery.readings_anchored += u64::from(anchor.count);
			continue;
		};
		// Refused only because an earlier anchor of its device in the batch was: send it again.
		if error.is_dispatch("Telemetry", "EarlierAnchorRefused") {
			store.set_status(&[anchor.id], Status::Signed, None, None, None)?;
			delivery.deferred += 1;
			continue;
		}
		// A stale sequence may be this very anchor, sent by an earlier run.
		if error.is_dispatch("Telemetry", "StaleSequence") && on_chain(chain, store, anchor).await?
		{
			store.set_status(&[anchor.id], Status::Finalized, None, None, None)?;
			delivery.already_anchored += 1;
			continue;
		}
		let name = error.name();
		store.set_status(&[anchor.id], Status::Failed, None, block, Some(&name))?;
		delivery.rejected += 1;
		delivery.events.push(ChainEvent::AnchorRejected {
			device: show_device(&anchor.device),
			first_seq: anchor.first_seq,
			error: name,
		});
	}
	delivery.events.extend(outcomes.said);
	Ok(())
}

/// Whether exactly this anchor (same first seq and root) is in its device's log on chain, as
/// the node serves it; if so, the store keeps the log's record of it.
async fn on_chain(chain: &Chain, store: &mut Store, anchor: &StoredAnchor) -> Result<bool, Error> {
	let Some(found) = chain.log_proof(anchor.device, anchor.first_seq).await? else {
		return Ok(false);
	};
	let record = found.record;
	let same = record.first_seq == anchor.first_seq && record.root == anchor.root;
	if same {
		store.set_record(anchor.id, &record)?;
	}
	Ok(same)
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
				let next = chain.next_seq(anchor.device).await?;
				next_seq.insert(anchor.device, next);
				next
			},
		};
		if anchor.first_seq >= next {
			to_send.push(anchor);
		} else if on_chain(chain, store, &anchor).await? {
			store.set_status(&[anchor.id], Status::Finalized, None, None, None)?;
			delivery.already_anchored += 1;
		} else {
			let error = format!(
				"sequence numbers {}..{} of device {} are already taken on chain by another anchor",
				anchor.first_seq,
				anchor.first_seq + u64::from(anchor.count) - 1,
				show_device(&anchor.device)
			);
			store.set_status(&[anchor.id], Status::Failed, None, None, Some(&error))?;
			delivery.rejected += 1;
		}
	}
	Ok(to_send)
}

/// Signs the call carrying `group` at `nonce`: `anchor` for one, `anchor_batch` for more.
fn sign_group(
	at: &AtBlock,
	group: &[StoredAnchor],
	account: &AccountKey,
	nonce: u64,
) -> Result<Signed, Error> {
	let payload = |a: &StoredAnchor| a.payload.clone().map(Bounded);
	let telemetry = api::transactions().telemetry();
	if let [single] = group {
		let call = telemetry.anchor(Static(single.anchor.clone()), payload(single));
		return sign_at(at, &call, account, nonce);
	}
	let items = group
		.iter()
		.map(|a| api::runtime_types::pallet_telemetry::types::BatchItem {
			anchor: Static(a.anchor.clone()),
			payload: payload(a),
		})
		.collect();
	sign_at(at, &telemetry.anchor_batch(Bounded(items)), account, nonce)
}
