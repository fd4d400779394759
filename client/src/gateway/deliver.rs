//! Delivery: every stored anchor the chain does not have yet, sent through the transaction
//! pipeline with locally counted nonces and followed to finality, the store updated at each step.

use super::{DeliverOptions, Delivery, Pay};
use crate::{
	chain::{
		account_of, api,
		events::{anchor_outcomes, ChainEvent},
		tx::{birth_block_max_age, general_at, sign_at, Sender},
		AtBlock, Bounded, Chain, Finalized, Signed,
	},
	keys::AccountKey,
	show_device,
	store::{Status, Store, StoredAnchor, Tally},
	Error,
};
use provena_primitives::{telemetry::Seq, DeviceId};
use std::{
	collections::{BTreeMap, HashMap, VecDeque},
	time::Instant,
};
use subxt::utils::Static;

/// What a transaction's watcher reports back to the delivery loop.
enum Update {
	/// Transaction `tx` entered a best block; with what it did there, when asked and known.
	InBlock { tx: usize, at: Instant, outcome: Option<Box<Finalized>> },
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
/// `on_progress` is called after each finalized transaction with the store's counts and the
/// delivery so far.
pub async fn deliver(
	chain: &Chain,
	store: &mut Store,
	account: &AccountKey,
	options: DeliverOptions,
	on_progress: impl FnMut(&Tally, &mut Delivery),
) -> Result<Delivery, Error> {
	let mut delivery = Delivery::default();
	deliver_into(chain, store, account, options, on_progress, &mut delivery).await?;
	Ok(delivery)
}

/// [`deliver`], counting into `delivery`: what was done before an error stays counted there,
/// so a caller that reconnects and delivers again reports the whole run. A caller that runs
/// for long ([`DeliverOptions::continuous`]) takes the per-transaction figures and events out
/// of `delivery` in `on_progress` as it counts them, so they do not pile up.
pub async fn deliver_into(
	chain: &Chain,
	store: &mut Store,
	account: &AccountKey,
	options: DeliverOptions,
	mut on_progress: impl FnMut(&Tally, &mut Delivery),
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

/// How often a continuous round ([`DeliverOptions::continuous`]) looks in the store for
/// anchors stored since it last looked.
const TOP_UP_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// One round: sends every pending anchor the chain does not have yet and follows it to
/// finality. A continuous round also sends what is stored meanwhile, and ends once nothing is
/// in flight and nothing new was found.
async fn round(
	chain: &Chain,
	store: &mut Store,
	account: &AccountKey,
	options: DeliverOptions,
	on_progress: &mut impl FnMut(&Tally, &mut Delivery),
	delivery: &mut Delivery,
) -> Result<(), Error> {
	// What the chain holds of each device this round has met: read at the finalized head when
	// first met, then advanced by what this round got into blocks.
	let mut devices: BTreeMap<DeviceId, OnChain> = BTreeMap::new();
	// Anchors sent this round and not yet settled, and devices with an account-paid
	// transaction not yet settled (in a continuous round they wait for its outcome).
	let mut sent_ids: std::collections::HashSet<i64> = Default::default();
	// (for each, the transaction that made it busy)
	let mut busy: BTreeMap<DeviceId, usize> = BTreeMap::new();
	// Transactions planned and not sent yet, in order, and those sent and not settled (with
	// when they were sent), by their index in the round. A continuous round runs for as long
	// as the service does: only what is unsettled is kept.
	let mut queue: VecDeque<(usize, Group)> = VecDeque::new();
	let mut live: HashMap<usize, (Group, Instant)> = HashMap::new();
	let mut next_index = 0usize;
	let mut sent = 0usize;
	let (mut max_ahead, mut nonce): (Option<u64>, Option<u64>) = (None, None);
	let (sender, mut updates) = tokio::sync::mpsc::unbounded_channel::<Update>();
	let mut in_flight = 0usize;
	let mut first_error: Option<Error> = None;
	let mut at: Option<AtBlock> = None;
	let mut at_taken = Instant::now();
	let mut top_up = true;
	let mut last_top_up = Instant::now();

	loop {
		let looked_now = top_up && first_error.is_none();
		if looked_now {
			top_up = false;
			last_top_up = Instant::now();
			let pending: Vec<StoredAnchor> = store
				.pending_anchors()?
				.into_iter()
				.filter(|a| !sent_ids.contains(&a.id) && !busy.contains_key(&a.device))
				.collect();
			let mut to_send = reconcile(chain, store, pending, &mut devices, delivery).await?;
			if options.hold_after_gap {
				let before = to_send.len();
				to_send = follow_on(to_send, &devices);
				delivery.held = (before - to_send.len()) as u64;
			}
			on_progress(&store.tally()?, delivery);
			let planned = plan(to_send, &devices, options)?;
			if planned.iter().any(|g| g.general) && max_ahead.is_none() {
				max_ahead = Some(chain.max_pooled_ahead().await?);
			}
			if planned.iter().any(|g| !g.general) && nonce.is_none() {
				nonce = Some(chain.next_nonce(&account_of(account)).await?);
			}
			for group in planned {
				let index = next_index;
				next_index += 1;
				sent_ids.extend(group.anchors.iter().map(|a| a.id));
				if !group.general {
					busy.extend(group.anchors.iter().map(|a| (a.device, index)));
				}
				queue.push_back((index, group));
			}
			if at.is_none() && !queue.is_empty() {
				at = Some(chain.signing_block().await?);
				at_taken = Instant::now();
			}
		}
		while first_error.is_none() && in_flight < options.max_in_flight.max(1) {
			let Some((index, group)) = queue.front() else { break };
			let index = *index;
			// The pool holds a device's anchors only so far ahead of its log: wait for the
			// ones before to be final.
			if group.general && !group.within(&devices, max_ahead.unwrap_or(0)) {
				if in_flight == 0 {
					first_error = Some(Error::Node(format!(
						"anchor from sequence number {} of device {} cannot be sent: the \
						 chain's log of the device stops before it",
						group.anchors[0].first_seq,
						show_device(&group.anchors[0].device)
					)));
				}
				break;
			}
			if sent % 64 == 63 || at_taken.elapsed() >= birth_block_max_age() {
				// Sign against a recent block, so long deliveries stay within the mortality:
				// every 64 transactions, and before a quarter of the mortality has passed.
				match chain.signing_block().await {
					Ok(recent) => {
						at = Some(recent);
						at_taken = Instant::now();
					},
					Err(error) => {
						first_error = Some(error);
						break;
					},
				}
			}
			let Some(signing_at) = at.as_ref() else { break };
			let made = match group.general {
				true => general_anchor(signing_at, &group.anchors[0]),
				false => {
					let this = nonce.unwrap_or_default();
					nonce = Some(this + 1);
					sign_group(signing_at, &group.anchors, account, this)
				},
			};
			let tx = match made {
				Ok(tx) => tx,
				Err(error) => {
					first_error = Some(error);
					break;
				},
			};
			let ids: Vec<i64> = group.anchors.iter().map(|a| a.id).collect();
			store.set_status(&ids, Status::Submitted, Some(tx.hash()), None, None)?;
			delivery.transactions += 1;
			sent += 1;
			in_flight += 1;
			let sender_kind = if group.general { Sender::Device } else { Sender::Account };
			// A continuous round frees an account-paid group's devices once the group is in
			// a best block with all its anchors taken: it asks what each did there.
			let outcomes = options.continuous && !group.general;
			tokio::spawn(watch(chain.clone(), tx, sender_kind, index, outcomes, sender.clone()));
			if let Some((index, group)) = queue.pop_front() {
				live.insert(index, (group, Instant::now()));
			}
		}
		let looking = options.continuous && first_error.is_none();
		if in_flight == 0 {
			// Nothing in flight: a round ends, but a continuous one first looks in the store
			// once more, and ends only if that finds nothing to send.
			if !looking || (looked_now && queue.is_empty()) {
				break;
			}
			top_up = true;
			continue;
		}
		let update = match looking {
			true => {
				let wait = TOP_UP_EVERY.saturating_sub(last_top_up.elapsed());
				match tokio::time::timeout(wait, updates.recv()).await {
					Ok(update) => update,
					Err(_) => {
						top_up = true;
						continue;
					},
				}
			},
			false => updates.recv().await,
		};
		let Some(update) = update else { break };
		match update {
			Update::InBlock { tx, at, outcome } => {
				let Some((group, sent_at)) = live.get(&tx) else { continue };
				delivery.to_in_block.push(at.saturating_duration_since(*sent_at));
				let ids: Vec<i64> = group.anchors.iter().map(|a| a.id).collect();
				store.set_status(&ids, Status::InBlock, None, None, None)?;
				// The pool measures how far ahead an anchor is from the best block.
				advance(&mut devices, &group.anchors);
				// All of the group's anchors taken in a best block: its devices' next anchors
				// may go. A later transaction of the same account comes after this one in any
				// block, so they cannot overtake it; only a refusal could leave a hole, and
				// then the devices wait for finality and a fresh look at the chain.
				let taken = outcome.is_some_and(|included| {
					anchor_outcomes(&included, group.anchors.len())
						.is_ok_and(|o| o.refused.iter().all(Option::is_none))
				});
				if taken {
					free(&mut busy, group, tx);
				}
			},
			Update::Finalized { tx, at, finalized } => {
				in_flight -= 1;
				let Some((group, sent_at)) = live.remove(&tx) else { continue };
				delivery.to_finalized.push(at.saturating_duration_since(sent_at));
				let refused = settle(chain, store, &group.anchors, &finalized, delivery).await?;
				advance(&mut devices, &group.anchors);
				for anchor in &group.anchors {
					sent_ids.remove(&anchor.id);
				}
				free(&mut busy, &group, tx);
				// A device with a refused anchor is read from the chain again when next met.
				for device in refused {
					devices.remove(&device);
				}
				on_progress(&store.tally()?, delivery);
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

/// Frees the devices transaction `tx` (carrying `group`) made busy, unless a later
/// transaction made them busy again.
fn free(busy: &mut BTreeMap<DeviceId, usize>, group: &Group, tx: usize) {
	for anchor in &group.anchors {
		if busy.get(&anchor.device) == Some(&tx) {
			busy.remove(&anchor.device);
		}
	}
}

/// Follows one transaction, vouched for by `kind`, and reports to the delivery loop.
async fn watch(
	chain: Chain,
	tx: Signed,
	kind: Sender,
	index: usize,
	outcomes: bool,
	sender: tokio::sync::mpsc::UnboundedSender<Update>,
) {
	let in_block = |outcome: Option<Finalized>| {
		let outcome = outcome.map(Box::new);
		let _ = sender.send(Update::InBlock { tx: index, at: Instant::now(), outcome });
	};
	let followed = match outcomes {
		true => chain.follow_with_outcomes(tx, kind, in_block).await,
		false => chain.follow_as(tx, kind, move || in_block(None)).await,
	};
	let update = match followed {
		Ok(finalized) => {
			Update::Finalized { tx: index, at: Instant::now(), finalized: Box::new(finalized) }
		},
		Err(error) => Update::Failed { error },
	};
	let _ = sender.send(update);
}

/// Records what the finalized transaction carrying `group` did to each of its anchors;
/// returns the devices the chain refused an anchor of.
async fn settle(
	chain: &Chain,
	store: &mut Store,
	group: &[StoredAnchor],
	finalized: &Finalized,
	delivery: &mut Delivery,
) -> Result<Vec<DeviceId>, Error> {
	let mut refused_devices = Vec::new();
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
		refused_devices.push(anchor.device);
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
	Ok(refused_devices)
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

/// What the chain's log of a device holds, as far as delivery cares.
#[derive(Clone, Copy, Debug)]
struct OnChain {
	/// The sequence number the log expects next (as of the finalized head, then advanced by
	/// what this delivery got into blocks).
	next_seq: Seq,
	/// The device's anchor credits when delivery began.
	credits: u64,
}

/// One transaction of a delivery: the anchors it carries, and whether it is a
/// device-authorized anchor paid by a credit (`general`) or account-signed.
struct Group {
	anchors: Vec<StoredAnchor>,
	general: bool,
}

impl Group {
	/// Whether the pool would hold this device-authorized anchor now: it starts at most
	/// `max_ahead` anchors of its size after what the device's log holds.
	fn within(&self, devices: &BTreeMap<DeviceId, OnChain>, max_ahead: u64) -> bool {
		let anchor = &self.anchors[0];
		let reach = max_ahead.saturating_mul(u64::from(anchor.count));
		devices
			.get(&anchor.device)
			.is_some_and(|d| anchor.first_seq <= d.next_seq.saturating_add(reach))
	}
}

/// Decides who pays for each device's anchors (see [`Pay`]) and groups them into
/// transactions: one per credit-paid anchor, `anchors_per_tx` per account-paid transaction.
fn plan(
	to_send: Vec<StoredAnchor>,
	devices: &BTreeMap<DeviceId, OnChain>,
	options: DeliverOptions,
) -> Result<Vec<Group>, Error> {
	// Per device (to_send is sorted by device, then sequence): how many anchors, and whether
	// they follow on from the log without a gap (a device-authorized anchor cannot skip).
	let mut wanted: BTreeMap<DeviceId, (u64, bool, Seq)> = BTreeMap::new();
	for anchor in &to_send {
		let start = devices.get(&anchor.device).map_or(0, |d| d.next_seq);
		let entry = wanted.entry(anchor.device).or_insert((0, true, start));
		entry.0 += 1;
		entry.1 &= anchor.first_seq == entry.2;
		entry.2 = anchor.first_seq + u64::from(anchor.count);
	}
	let mut by_credits = std::collections::BTreeSet::new();
	for (device, (count, contiguous, _)) in &wanted {
		let credits = devices.get(device).map_or(0, |d| d.credits);
		let covered = credits >= *count;
		match options.pay {
			Pay::Account => {},
			Pay::Auto if covered && *contiguous => {
				by_credits.insert(*device);
			},
			Pay::Auto => {},
			Pay::Credits if !covered => {
				return Err(Error::NoCredits { device: *device, have: credits, need: *count })
			},
			Pay::Credits if !contiguous => {
				return Err(Error::input(format!(
					"device {}'s readings skip sequence numbers: an anchor paid by credits must \
					 start where the device's log ends, so send these with --pay account (the \
					 chain then records the gap)",
					show_device(device)
				)))
			},
			Pay::Credits => {
				by_credits.insert(*device);
			},
		}
	}
	let (general, signed): (Vec<_>, Vec<_>) =
		to_send.into_iter().partition(|anchor| by_credits.contains(&anchor.device));
	let per_tx = options.anchors_per_tx.max(1);
	let mut groups: Vec<Group> = match options.hold_after_gap {
		true => one_transaction_per_device(signed, per_tx),
		false => signed
			.chunks(per_tx)
			.map(|chunk| Group { anchors: chunk.to_vec(), general: false })
			.collect(),
	};
	groups.extend(general.into_iter().map(|anchor| Group { anchors: vec![anchor], general: true }));
	Ok(groups)
}

/// Groups account-paid anchors (sorted by device, then sequence) so that each device's anchors
/// this round travel in one transaction, at most `per_tx` anchors each: a device's first
/// `per_tx` anchors go now, the rest in a later round.
///
/// The chain takes an account-paid anchor that skips sequence numbers and records the gap. If
/// one device's anchors were spread over two transactions and the first were refused (an anchor
/// in it already taken by a transaction an earlier, killed run sent, say), the second would
/// still be taken, and the chain would record a gap that the refused anchors could never fill.
/// In one transaction the chain refuses everything after a refused anchor of the same device
/// (`EarlierAnchorRefused`), and delivery sends it again.
fn one_transaction_per_device(signed: Vec<StoredAnchor>, per_tx: usize) -> Vec<Group> {
	let mut groups = Vec::new();
	let mut current: Vec<StoredAnchor> = Vec::new();
	let mut anchors = signed.into_iter().peekable();
	while let Some(first) = anchors.next() {
		let device = first.device;
		let mut run = vec![first];
		while let Some(next) = anchors.next_if(|a| a.device == device) {
			if run.len() < per_tx {
				run.push(next);
			}
		}
		if current.len() + run.len() > per_tx {
			groups.push(Group { anchors: std::mem::take(&mut current), general: false });
		}
		current.extend(run);
	}
	if !current.is_empty() {
		groups.push(Group { anchors: current, general: false });
	}
	groups
}

/// Sorts pending anchors into those already on chain (marked final), those the chain can no
/// longer take (marked failed), and those to send. `devices` holds what the chain has of each
/// device met so far; a device met for the first time is read at the finalized head (all of
/// them at one block).
async fn reconcile(
	chain: &Chain,
	store: &mut Store,
	pending: Vec<StoredAnchor>,
	devices: &mut BTreeMap<DeviceId, OnChain>,
	delivery: &mut Delivery,
) -> Result<Vec<StoredAnchor>, Error> {
	let mut new: Vec<DeviceId> =
		pending.iter().map(|a| a.device).filter(|d| !devices.contains_key(d)).collect();
	new.dedup();
	let states = chain.device_states(&new).await?;
	for (id, state) in new.into_iter().zip(states) {
		let next_seq = state.as_ref().map_or(0, |s| s.next_seq);
		let credits = state.as_ref().map_or(0, |s| s.credits);
		devices.insert(id, OnChain { next_seq, credits });
	}
	let mut to_send = Vec::new();
	for anchor in pending {
		let next = devices.get(&anchor.device).map_or(0, |d| d.next_seq);
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

/// The anchors of `to_send` (sorted by device, then sequence) that follow on without a hole
/// from their device's log on chain: each device's anchors up to its first hole.
fn follow_on(
	to_send: Vec<StoredAnchor>,
	devices: &BTreeMap<DeviceId, OnChain>,
) -> Vec<StoredAnchor> {
	let mut expected: BTreeMap<DeviceId, Option<Seq>> = BTreeMap::new();
	to_send
		.into_iter()
		.filter(|anchor| {
			let next = expected
				.entry(anchor.device)
				.or_insert_with(|| Some(devices.get(&anchor.device).map_or(0, |d| d.next_seq)));
			match *next {
				Some(seq) if seq == anchor.first_seq => {
					*next = Some(seq + u64::from(anchor.count));
					true
				},
				// A hole: this anchor and every later one of the device wait.
				_ => {
					*next = None;
					false
				},
			}
		})
		.collect()
}

/// Notes that `anchors` are in a block: their devices' logs reach past them.
fn advance(devices: &mut BTreeMap<DeviceId, OnChain>, anchors: &[StoredAnchor]) {
	for anchor in anchors {
		if let Some(device) = devices.get_mut(&anchor.device) {
			let after = anchor.first_seq + u64::from(anchor.count);
			device.next_seq = device.next_seq.max(after);
		}
	}
}

/// The device-authorized transaction carrying `anchor`, paid by one of the device's credits.
fn general_anchor(at: &AtBlock, anchor: &StoredAnchor) -> Result<Signed, Error> {
	let payload = anchor.payload.clone().map(Bounded);
	let call =
		api::transactions().telemetry().device_anchor(Static(anchor.anchor.clone()), payload);
	general_at(at, &call)
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

#[cfg(test)]
mod tests {
	use super::*;
	use crate::readings::{Batch, KeyPair, Scheme};
	use provena_primitives::telemetry::{Measurement, MetricName, Reading};
	use sp_core::H256;

	/// `count` stored anchors of `device` with 2 readings each, from sequence number 0.
	fn anchors_of(device: u8, count: u64) -> Vec<StoredAnchor> {
		let key = KeyPair::from_uri(Scheme::Ed25519, "//device").unwrap();
		(0..count)
			.map(|i| {
				let readings = (2 * i..2 * i + 2)
					.map(|seq| Reading {
						device: [device; 32],
						seq,
						timestamp_ms: 1_000 * seq,
						values: vec![Measurement {
							metric: MetricName::truncate_from(b"t".to_vec()),
							value: 1,
						}],
						payload_hash: None,
					})
					.collect();
				let batch = Batch::new(readings).unwrap();
				let anchor = batch.sign(&key, &H256::repeat_byte(1), None, &Default::default());
				StoredAnchor {
					id: i64::from(device) * 1_000 + i as i64,
					device: [device; 32],
					first_seq: 2 * i,
					count: 2,
					root: batch.root(),
					anchor,
					payload: None,
					status: Status::Signed,
					block_number: None,
					error: None,
					record: None,
				}
			})
			.collect()
	}

	fn on_chain(devices: &[u8]) -> BTreeMap<DeviceId, OnChain> {
		devices.iter().map(|d| ([*d; 32], OnChain { next_seq: 0, credits: 0 })).collect()
	}

	/// The (device, first sequence number) pairs of each group.
	fn shape(groups: &[Group]) -> Vec<Vec<(u8, Seq)>> {
		groups
			.iter()
			.map(|g| g.anchors.iter().map(|a| (a.device[0], a.first_seq)).collect())
			.collect()
	}

	#[test]
	fn the_service_never_spreads_a_device_over_two_transactions_of_a_round() {
		let mut pending = anchors_of(1, 20);
		pending.extend(anchors_of(2, 3));
		pending.extend(anchors_of(3, 14));
		let options = DeliverOptions {
			anchors_per_tx: 16,
			pay: Pay::Account,
			hold_after_gap: true,
			..DeliverOptions::default()
		};
		let groups = plan(pending, &on_chain(&[1, 2, 3]), options).unwrap();
		// Device 1's first 16 anchors fill a transaction; its last 4 wait for the next round.
		// Devices 2 and 3 do not fit beside each other.
		let seqs = |device: u8, n: u64| (0..n).map(|i| (device, 2 * i)).collect::<Vec<_>>();
		assert_eq!(shape(&groups), vec![seqs(1, 16), seqs(2, 3), seqs(3, 14)]);
		assert!(groups.iter().all(|g| !g.general));

		// Small devices share a transaction.
		let mut pending = anchors_of(1, 2);
		pending.extend(anchors_of(2, 3));
		pending.extend(anchors_of(3, 4));
		let groups = plan(pending, &on_chain(&[1, 2, 3]), options).unwrap();
		let all: Vec<(u8, Seq)> = [seqs(1, 2), seqs(2, 3), seqs(3, 4)].concat();
		assert_eq!(shape(&groups), vec![all]);
	}

	#[test]
	fn a_one_shot_delivery_fills_every_transaction() {
		let options =
			DeliverOptions { anchors_per_tx: 16, pay: Pay::Account, ..DeliverOptions::default() };
		let groups = plan(anchors_of(1, 20), &on_chain(&[1]), options).unwrap();
		assert_eq!(groups.iter().map(|g| g.anchors.len()).collect::<Vec<_>>(), [16, 4]);
	}
}
