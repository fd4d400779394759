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

mod deliver;
pub mod ingest;
pub mod message;
pub mod raw;
pub mod service;

pub use crate::chain::events::ChainEvent;
pub use deliver::{deliver, deliver_into};

use crate::{
	chain::{account_of, api, Chain},
	crypto::EpochKey,
	input::ReadingInput,
	keys::{ss58, AccountKey, KeyPair},
	readings::Batch,
	show_device,
	store::Store,
	Error,
};
use codec::Encode;
use provena_primitives::{
	permission,
	telemetry::{MetricName, Reading},
	DeviceId,
};
use std::{collections::BTreeSet, time::Duration};
use subxt::utils::H256;

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
	/// Anchors held back behind a hole in their device's sequence numbers
	/// ([`DeliverOptions::hold_after_gap`]), in the last round.
	pub held: u64,
	/// Anchors the chain asked to send again (an earlier anchor of the same device in their
	/// batch was refused, so they were refused too rather than leave a hole); sent again in
	/// the next round, or by the next run.
	pub deferred: u64,
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
	/// Anchors per account-paid transaction: 1 sends `anchor`, more send `anchor_batch`.
	pub anchors_per_tx: usize,
	/// Transactions in flight at once.
	pub max_in_flight: usize,
	/// Who pays for the anchors.
	pub pay: Pay,
	/// Hold back a device's anchors that do not follow on from its log and the anchors before
	/// them in the store: the gateway service receives anchors from devices, possibly out of
	/// order (a broker redelivering after a restart), and an account-paid anchor sent across a
	/// hole would make the chain record a gap the late anchors can never fill. Held anchors go
	/// once the hole is filled. For the same reason a device's account-paid anchors travel in
	/// one transaction per round (the first `anchors_per_tx` of them), so that a refusal of
	/// some cannot let later ones through.
	pub hold_after_gap: bool,
	/// Keep a round going while anchors keep arriving (the gateway service): every second it
	/// sends what was stored since, for each device whose earlier transaction is settled, so
	/// an anchor waits for its device's previous transaction rather than for the whole round.
	/// Without it, a round sends what the store held when it began.
	pub continuous: bool,
}

impl Default for DeliverOptions {
	fn default() -> Self {
		DeliverOptions {
			anchors_per_tx: 16,
			max_in_flight: 64,
			pay: Pay::Auto,
			hold_after_gap: false,
			continuous: false,
		}
	}
}

/// Who pays for delivering a device's anchors.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	clap::ValueEnum,
	serde::Serialize,
	serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Pay {
	/// Credits for each device whose credits cover all of its pending anchors and whose
	/// anchors follow on from the chain without a gap; the account for the others.
	#[default]
	Auto,
	/// The device's anchor credits: each anchor is its own device-authorized transaction
	/// (`Telemetry::device_anchor`), signed by nothing but the device's key inside it. The
	/// sending account signs nothing, pays nothing and needs no grant.
	Credits,
	/// The account: it signs `anchor` (or `anchor_batch`) and pays the fee; it must be the
	/// device, its owner or hold a SUBMIT grant.
	Account,
}

/// Stores `inputs` as readings of `device`, after what the chain and the store already have.
/// Returns (stored, skipped as already stored).
pub async fn import(
	chain: &Chain,
	store: &mut Store,
	device: DeviceId,
	inputs: &[ReadingInput],
) -> Result<(u64, u64), Error> {
	let chain_next = chain.next_seq(device).await?;
	store.import(&device, inputs, chain_next)
}

/// How [`seal`] makes anchors.
#[derive(Clone, Debug)]
pub struct SealOptions<'a> {
	/// Readings per anchor, at most (a gap in sequence numbers also ends a batch).
	pub batch_size: usize,
	/// The key each anchor's readings are encrypted under into its payload, if any.
	pub data_key: Option<&'a EpochKey>,
	/// The metrics whose values are published in the anchor (for alert rules); no other
	/// value reaches the chain in the clear.
	pub public: &'a BTreeSet<MetricName>,
	/// The chain's payload limit, in bytes.
	pub max_payload: usize,
	/// Leave a last batch of fewer than `batch_size` readings unsealed, for readings still to
	/// come to join it (the gateway service seals it once it is old enough).
	pub keep_partial: bool,
}

/// The metrics a device's anchors publish: those with an alert rule on the chain (the chain
/// can only check what it sees), and those in `chosen`.
pub async fn public_metrics(
	chain: &Chain,
	device: DeviceId,
	chosen: &[MetricName],
) -> Result<BTreeSet<MetricName>, Error> {
	let rules = chain.alert_rules(device).await?;
	let mut public: BTreeSet<MetricName> = chosen.iter().cloned().collect();
	public.extend(rules.into_iter().map(|stored| MetricName::truncate_from(stored.rule.metric.0)));
	Ok(public)
}

/// Turns `device`'s unanchored readings into signed anchors as `options` say. Returns how many
/// anchors were made.
pub fn seal(
	store: &mut Store,
	device: DeviceId,
	device_key: &KeyPair,
	genesis: H256,
	options: &SealOptions<'_>,
) -> Result<u64, Error> {
	let SealOptions { batch_size, data_key, public, max_payload, keep_partial } = *options;
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
	if keep_partial && runs.last().is_some_and(|run| run.len() < batch_size.max(1)) {
		runs.pop();
	}
	let mut made = 0;
	for run in runs {
		let batch = Batch::new(run)?;
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
				return Err(Error::input(format!(
					"{} readings encrypt to {} bytes, more than the chain's {max_payload}-byte \
					 payload limit; use a smaller --batch-size",
					batch.readings().len(),
					payload.len()
				)));
			}
		}
		let anchor = batch.sign(device_key, &genesis, payload.as_deref(), public);
		store.add_anchor(&batch, &anchor, payload.as_deref())?;
		made += 1;
	}
	Ok(made)
}

/// Checks that `device_key` is `device`'s registered key, that the device is active, and, when
/// the account is to pay (`account_pays`), that it may anchor for the device; so that a wrong
/// key file or a missing grant is said before anything is sent.
pub async fn check_submitter(
	chain: &Chain,
	device: DeviceId,
	device_key: &KeyPair,
	account: &AccountKey,
	account_pays: bool,
) -> Result<(), Error> {
	let info = chain.known_device(device).await?;
	if info.key.0 != device_key.key() {
		return Err(Error::key(format!(
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
	let who = account_of(account);
	if !account_pays {
		return Ok(());
	}
	let is_owner = info.owner == who;
	let is_device = who.0 == device_key.public();
	if !is_owner && !is_device {
		let bits = chain.permissions(who, device).await?;
		if bits & permission::SUBMIT == 0 {
			return Err(Error::NotAuthorized(format!(
				"account {} may not submit for device {}: ask its owner for a SUBMIT grant \
				 (`provena grant add --device {} --to {} --submit`)",
				ss58(who.0),
				show_device(&device),
				show_device(&device),
				ss58(who.0),
			)));
		}
	}
	Ok(())
}
