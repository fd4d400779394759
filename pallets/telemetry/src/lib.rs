//! # Telemetry
//!
//! Device-signed anchors of IoT readings: what makes altered, dropped or reordered readings
//! detectable by anyone.
//!
//! ## Overview
//!
//! Readings stay off-chain; the chain keeps, per device, a sequence of **anchors**. An anchor
//! commits `count` consecutive readings starting at `first_seq` by one 32-byte `root`: the
//! reading's leaf when there is one reading, else the binary Merkle root of their leaves. The
//! device's own key (from the device registry) signs the anchor together with the chain's
//! genesis hash, so a gateway relaying it can forge nothing and a signature is worth nothing on
//! another chain. The byte formats (reading, leaf, root, signed statement) are documented in
//! [`provena_primitives::telemetry`], the one place the runtime and the client share.
//!
//! The pallet then enforces the sequence: an anchor must start above the last anchored reading,
//! so replays and reorders are refused, and a jump forward (at most [`Config::MaxSequenceGap`])
//! is recorded as a [`Event::SequenceGap`] naming exactly the readings that never arrived.
//!
//! ## Each device's log
//!
//! A device's telemetry is an append-only log, as Certificate Transparency's logs are: each
//! accepted anchor becomes an [`AnchorRecord`] (its readings' range and root, device times,
//! payload hash, block, chain time, submitter and its number in the log). The record is emitted
//! in [`Event::Anchored`] and appended to the device's Merkle Mountain Range; the state keeps
//! only one bounded [`DeviceTelemetry`] per device (next sequence number, counters, a running
//! hash, and the MMR's peaks), so state does not grow with anchors. The record and the MMR nodes
//! it completes are written to the node's offchain-indexed storage, from where the node serves
//! a device's history and inclusion proofs; see [`provena_primitives::device_log`] for the
//! formats and why an abandoned fork's records are never served.
//!
//! Anchors may carry public values (a temperature, a heart rate). The device's owner, or
//! whoever holds a MANAGE grant, sets bounds per metric; a public value outside them raises an
//! [`Event::AlertRaised`] in the same block. Each rule holds [`Config::RuleDeposit`] from whoever
//! set it until it is cleared or replaced. A rule counts only in the device's ownership epoch
//! it was set in: once the device changes hands, the old rules raise nothing, anyone may clear
//! them (their deposits go back to who paid), and the new owner's first rule clears them all.
//!
//! An anchor may also carry an encrypted payload. It is part of the extrinsic, so archive nodes
//! serve it, but it is never written to state. The device signs the payload's hash with the
//! anchor, so a relayer can neither strip nor swap it.
//!
//! ## Who may anchor
//!
//! The device's own account (the account of its registered key), its owner, or an account the
//! runtime's [`Config::Permissions`] says holds a SUBMIT grant for it. Only `Active` devices
//! anchor.
//!
//! ## Gateway batches
//!
//! [`Pallet::anchor_batch`] carries anchors of many devices in one extrinsic. Each anchor is
//! checked and applied on its own: a bad one is skipped with an [`Event::AnchorRejected`] that
//! names it and the reason, and the good ones are kept. Once one of a device's anchors is
//! refused, that device's later anchors in the same batch are refused too
//! ([`Error::EarlierAnchorRefused`]), so a refusal that is only transient (a device suspended
//! for a moment, a clock ahead) never leaves a permanent hole in its sequence: the gateway sends
//! them all again later. The call itself fails only when the batch is empty.
//!
//! ## Terminology
//!
//! - **Reading**: one measurement record of a device, off-chain.
//! - **Leaf**: blake2-256 of a reading's SCALE encoding.
//! - **Anchor**: a device-signed commitment to consecutive readings.
//! - **Gap**: sequence numbers skipped between two anchors.
//! - **Alert rule**: owner-set bounds for a metric of a device.
//!
//! ## Runtime API
//!
//! [`runtime_api::TelemetryApi`]: `verify_reading` (a reading's leaf and Merkle path, its
//! anchor record and the record's inclusion proof, against the device's log as of the block
//! asked) and `device_state`. The node's `provena_history` and `provena_proof` RPCs serve the
//! records and proofs.

#![cfg_attr(not(feature = "std"), no_std)]
// Code that runs in a block must never panic (STYLE.md 12): outside tests, clippy refuses
// unwrap, unchecked indexing and overflowing arithmetic; scripts/check-panics.py refuses expect.
#![cfg_attr(
	not(test),
	deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

extern crate alloc;

pub use pallet::*;
pub use provena_primitives::{
	device_log::AnchorRecord,
	telemetry::{Anchor, AnchorStatement, MetricName, PublicValue, Seq, TimeRange},
	DeviceId, DeviceInfo, DeviceKey, DevicePermissions, DeviceStatus, GrantPath, InspectDevice,
};
pub use types::{AlertRule, BatchItem, DeviceTelemetry, RuleRecord, VerifyError};
pub use weights::WeightInfo;

/// The longest Merkle path `verify_reading` takes: a batch counts its readings in a `u32`, so
/// its tree is at most 32 levels deep.
pub const MAX_PATH_LEN: usize = 32;

/// The most peaks a device's log has before an anchor is appended: a log counts at most
/// `u64::MAX - 1` entries before the one being added, and such a count has at most 63 set bits.
/// An anchor's weight grows with the peaks it merges; calls are charged for this many and
/// refunded down to the log's actual count.
pub const MAX_LOG_PEAKS: u32 = 63;

/// `total / by` rounded up, saturating; `total` itself when `by` is zero.
fn div_ceil(total: u64, by: u64) -> u64 {
	total.saturating_add(by.saturating_sub(1)).checked_div(by).unwrap_or(total)
}

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod device_anchor_tests;
#[cfg(test)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

/// What benchmarks need from the runtime: registered devices, accounts that act on them
/// through grants by the costliest path the runtime's permissions have, and storage keys.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Registers `device`, owned by `owner` and signing with `key`, as active.
	fn register_device(owner: &AccountId, device: DeviceId, key: DeviceKey);

	/// An account, not `owner`, that `owner` lets manage `device`'s alert rules by the
	/// costliest path; `None` when the runtime has no grants, and the owner manages.
	fn manager(owner: &AccountId, device: DeviceId) -> Option<AccountId>;

	/// The storage keys outside this pallet that authorizing a device anchor reads and its
	/// dispatch reads again without writing them: the device's record and the chain's clock.
	/// The authorization's weight pays for reading them; the dispatch's benchmark does not.
	fn read_by_authorization(device: DeviceId) -> alloc::vec::Vec<alloc::vec::Vec<u8>>;

	/// Hands `device` to `to` as an accepted transfer does: a new ownership epoch.
	fn transfer_device(device: DeviceId, to: &AccountId);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		storage::with_storage_layer,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Preservation},
			UnixTime,
		},
	};
	use frame_system::pallet_prelude::*;
	use provena_primitives::{
		device_log::{self, offchain_key, LogEntry},
		telemetry::{chain_link, verify_batch_proof},
	};
	use sp_core::H256;
	use sp_runtime::{
		traits::{Saturating, Zero},
		AccountId32,
	};

	/// An anchor as this runtime accepts it.
	pub type AnchorOf<T> = Anchor<<T as Config>::MaxPublicValues>;

	/// An anchor record as this runtime stores it.
	pub type AnchorRecordOf<T> =
		AnchorRecord<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;

	/// The balance type deposits are held in.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

	/// A stored alert rule as this runtime keeps it.
	pub type RuleRecordOf<T> = RuleRecord<<T as frame_system::Config>::AccountId, BalanceOf<T>>;

	/// A batch item as this runtime accepts it.
	pub type BatchItemOf<T> =
		BatchItem<<T as Config>::MaxPublicValues, <T as Config>::MaxPayloadLen>;

	/// An encrypted payload as this runtime accepts it.
	pub type PayloadOf<T> = BoundedVec<u8, <T as Config>::MaxPayloadLen>;

	/// The current version of this pallet's storage layout.
	///
	/// Version 1 replaced the `Anchors` map by each device's log; version 2 stores alert rules
	/// with their epoch, payer and deposit (development chains only: no migration; start them
	/// anew).
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Telemetry's configuration.
	#[pallet::config]
	pub trait Config:
		frame_system::Config<
		RuntimeEvent: From<Event<Self>>,
		Hash = H256,
		AccountId: From<AccountId32>,
	>
	{
		/// Where devices, their owners, keys and status are looked up (the device registry).
		type Devices: InspectDevice<Self::AccountId>;

		/// Who holds SUBMIT and MANAGE grants beyond owners (access control).
		type Permissions: DevicePermissions<Self::AccountId>;

		/// The chain's clock, to refuse readings from the future and stamp anchors.
		type UnixTime: UnixTime;

		/// The currency alert rules' deposits are held in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reasons, which include this pallet's.
		type RuntimeHoldReason: From<HoldReason>;

		/// The deposit held for every alert rule, from whoever set it.
		#[pallet::constant]
		type RuleDeposit: Get<BalanceOf<Self>>;

		/// The most public values one anchor may carry.
		#[pallet::constant]
		type MaxPublicValues: Get<u32>;

		/// The most bytes an anchor's encrypted payload may have.
		#[pallet::constant]
		type MaxPayloadLen: Get<u32>;

		/// The most anchors one `anchor_batch` may carry.
		#[pallet::constant]
		type MaxBatchLen: Get<u32>;

		/// The most alert rules one device may have.
		#[pallet::constant]
		type MaxRulesPerDevice: Get<u32>;

		/// How far ahead of the chain's time, in milliseconds, a device clock may run before
		/// its anchors are refused.
		#[pallet::constant]
		type MaxClockDrift: Get<u64>;

		/// How many readings one anchor may skip. Without a bound, one anchor starting near
		/// `u64::MAX` would end the device's anchoring for good.
		#[pallet::constant]
		type MaxSequenceGap: Get<u64>;

		/// The price of one anchor credit, burned from whoever buys it: about the fee of a
		/// signed single anchor, so that anchoring through credits is paid, never free.
		#[pallet::constant]
		type CreditPrice: Get<BalanceOf<Self>>;

		/// The most device-authorized anchors one device may have in one block; more wait in
		/// the transaction pool for the next block.
		#[pallet::constant]
		type MaxAnchorsPerBlock: Get<u32>;

		/// How far ahead of a device's next sequence number a device-authorized anchor may
		/// start and still be held by the transaction pool, waiting for the anchors before it,
		/// counted in anchors of its own size: an anchor of `count` readings may start at most
		/// `MaxPooledAhead × count` after it. A device anchoring one reading at a time parks at
		/// most this many anchors; one anchoring Merkle batches keeps as many batches in flight.
		#[pallet::constant]
		type MaxPooledAhead: Get<u64>;

		/// How many blocks a device-authorized anchor stays valid in the transaction pool
		/// (mortal transactions may give it less).
		#[pallet::constant]
		type AnchorLongevity: Get<u64>;

		/// What the runtime's extrinsic base weight spends on a transaction's sender
		/// (`benchmark overhead` measures the base on signed remarks): the check of the
		/// sender's signature, and the work of the extensions that check the sender's nonce and
		/// take its fee. A device-authorized anchor has no sender: its authorization checks the
		/// device's signature and pays for that, and gives this back to the block.
		#[pallet::constant]
		type SenderWeight: Get<Weight>;

		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;

		/// Sets up devices for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper<Self::AccountId>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit for an alert rule.
		#[codec(index = 0)]
		RuleDeposit,
	}

	/// Each device's telemetry so far: next expected sequence number, counters, hash chain and
	/// its log's MMR peaks. The only state anchoring writes; bounded whatever the anchors.
	#[pallet::storage]
	pub type DeviceStates<T: Config> =
		StorageMap<_, Blake2_128Concat, DeviceId, DeviceTelemetry<BlockNumberFor<T>>>;

	/// Each device's alert rules, at most one per metric, each with the ownership epoch it
	/// was set in and its deposit.
	#[pallet::storage]
	pub type AlertRules<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		DeviceId,
		BoundedVec<RuleRecordOf<T>, T::MaxRulesPerDevice>,
		ValueQuery,
	>;

	/// What telemetry reports.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// Readings `first_seq ..= first_seq + count - 1` of `record.device` were anchored: the
		/// record is entry `record.index` of the device's log.
		Anchored { record: AnchorRecordOf<T> },
		/// A device's readings `from ..= to` were never anchored: the new anchor starts after
		/// them.
		SequenceGap { device: DeviceId, from: Seq, to: Seq },
		/// A public value broke the device's alert rule for its metric.
		AlertRaised {
			device: DeviceId,
			seq: Seq,
			metric: MetricName,
			value: i64,
			min: Option<i64>,
			max: Option<i64>,
		},
		/// The anchor at `position` in a batch was refused for `error`; the rest of the batch
		/// was processed.
		AnchorRejected { position: u32, device: DeviceId, first_seq: Seq, error: DispatchError },
		/// A gateway's batch was processed: `accepted` anchors kept, `rejected` refused.
		BatchProcessed { submitter: T::AccountId, accepted: u32, rejected: u32 },
		/// A device's alert rule for a metric was set or replaced.
		AlertRuleSet { device: DeviceId, rule: AlertRule },
		/// A device's alert rule for a metric was removed (cleared, or left from the device's
		/// previous owner and swept when a rule was set); its deposit went back to `payer`.
		AlertRuleCleared { device: DeviceId, metric: MetricName, payer: T::AccountId },
		/// `payer` bought `count` anchor credits for `device`, burning `price`; the device now
		/// has `credits`.
		CreditsBought {
			device: DeviceId,
			payer: T::AccountId,
			count: u32,
			price: BalanceOf<T>,
			credits: u64,
		},
	}

	/// Why a telemetry call (or one anchor of a batch) failed.
	#[pallet::error]
	pub enum Error<T> {
		/// No device is registered under this id.
		NotFound,
		/// The caller is not the device, its owner, nor a holder of the needed grant (anyone
		/// may clear only a rule left from the device's previous owner).
		NotAuthorized,
		/// The device is suspended or decommissioned; it cannot anchor readings.
		NotActive,
		/// The device is decommissioned; its rules cannot be set.
		Decommissioned,
		/// The signature is not the device's current key's signature of this anchor on this
		/// chain (altered content, another chain, or a rotated-out key).
		BadSignature,
		/// The anchor starts at or below the device's last anchored reading: a replay or a
		/// reorder.
		StaleSequence,
		/// The anchor commits no readings (`count` is zero).
		EmptyAnchor,
		/// The anchor's sequence range runs past the largest sequence number.
		SequenceOverflow,
		/// The anchor's first device time is after its last.
		BadTimeRange,
		/// The anchor's readings claim a device time too far ahead of the chain's time.
		FutureTimestamp,
		/// A public value names a sequence number outside the anchor's range.
		ValueOutsideAnchor,
		/// A batch must carry at least one anchor.
		EmptyBatch,
		/// An alert rule needs a lower bound, an upper bound, or both.
		NoBounds,
		/// An alert rule's lower bound is above its upper bound.
		InvertedBounds,
		/// The device already has `MaxRulesPerDevice` alert rules.
		TooManyRules,
		/// The device has no alert rule for this metric.
		RuleNotFound,
		/// The payload is not the one the device signed (its hash differs from the statement's
		/// `payload_hash`, or one is missing): a relayer stripped, added or swapped it.
		PayloadMismatch,
		/// The anchor would skip more than `MaxSequenceGap` readings.
		SequenceGapTooLarge,
		/// An earlier anchor of the same device in this batch was refused; this one is refused
		/// too, so no hole is left in the device's sequence. Send them again.
		EarlierAnchorRefused,
		/// The device's log cannot take another entry (its commitment is full or corrupt).
		LogFull,
		/// The caller's free balance cannot cover the rule's deposit or the credits' price.
		InsufficientBalance,
		/// Credits are bought at least one at a time.
		NoCredits,
		/// The device would hold more credits than a `u64` counts.
		TooManyCredits,
		/// The device has no anchor credits left for a device-authorized anchor; its owner
		/// buys more with `buy_credits`. (At the pool: `InvalidTransaction::Payment`.)
		OutOfCredits,
		/// The device already has `MaxAnchorsPerBlock` device-authorized anchors in this block;
		/// the anchor waits for the next one. (At the pool:
		/// `InvalidTransaction::ExhaustsResources`.)
		RateLimited,
		/// A device-authorized anchor must start exactly at the device's next sequence number
		/// when it is included, and at most `MaxPooledAhead` anchors of its size after it while
		/// it waits in the pool; a device that skips readings anchors across the gap with `anchor`. (At the
		/// pool: `InvalidTransaction::Future`.)
		NotNextSequence,
	}

	/// Where a device-authorized anchor is being checked.
	#[derive(Clone, Copy, PartialEq, Eq, Debug)]
	pub enum Check {
		/// Entering the transaction pool: it may start up to `MaxPooledAhead` anchors of its
		/// size after the device's next sequence number, and wait there.
		Pool,
		/// Part of a block the pool imports, checked alone against the block's parent so the
		/// pool learns what it provides: the device's anchors before it in that block are not
		/// counted yet, so it may start any distance ahead, and the block's rate is not
		/// checked (the block itself was).
		Imported,
		/// Being included in a block: it must start at the device's next sequence number.
		Block,
		/// Being dispatched, right after its authorization in the block: as `Block`, without
		/// the signature and the payload's hash again.
		Dispatch,
	}

	/// An anchor that passed its checks, with what they read, ready to append.
	pub struct Checked<T: Config> {
		/// The device, as the registry has it.
		info: DeviceInfo<T::AccountId>,
		/// The device's telemetry before the anchor.
		state: DeviceTelemetry<BlockNumberFor<T>>,
		/// The device's next sequence number after the anchor.
		next_seq: Seq,
		/// The payload's hash, as signed.
		payload_hash: Option<H256>,
		/// The chain's time in milliseconds.
		now_ms: u64,
		/// How many readings the anchor skips.
		skipped: u64,
		/// Whether the anchor spends one of the device's credits.
		credit: bool,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		/// The limits fit together: the largest batch the calls accept, with every anchor
		/// carrying the most public values and the longest payload, fits one extrinsic's weight
		/// and one block's length, so every batch the types admit can be included.
		fn integrity_test() {
			let (max, values) = (T::MaxBatchLen::get(), T::MaxPublicValues::get());
			assert!(max > 0, "MaxBatchLen must admit at least one anchor");
			assert!(T::MaxRulesPerDevice::get() > 0, "MaxRulesPerDevice must admit a rule");
			assert!(T::MaxSequenceGap::get() > 0, "MaxSequenceGap must admit a gap");
			assert!(!T::RuleDeposit::get().is_zero(), "an alert rule must hold a deposit");

			let block = <T as frame_system::Config>::BlockWeights::get();
			let limit = block.get(DispatchClass::Normal).max_extrinsic.unwrap_or(block.max_block);
			let payload = T::MaxPayloadLen::get().saturating_mul(max);
			let full = Self::batch_weight_of(max, max, payload);
			assert!(
				full.all_lte(limit),
				"a full anchor_batch weighs {full:?}, more than an extrinsic may ({limit:?})"
			);
			let one = T::WeightInfo::anchor(values, MAX_LOG_PEAKS);
			assert!(one.all_lte(limit), "one anchor weighs {one:?}, more than {limit:?}");
			let rule = T::WeightInfo::set_alert_rule();
			assert!(rule.all_lte(limit), "set_alert_rule weighs {rule:?}, more than {limit:?}");

			let length = <T as frame_system::Config>::BlockLength::get();
			let room = u64::from(*length.max.get(DispatchClass::Normal));
			// The call's items, a compact length prefix, and room for the signature and
			// transaction extensions.
			let items = (BatchItemOf::<T>::max_encoded_len() as u64).saturating_mul(max.into());
			let needed = items.saturating_add(1024);
			assert!(
				needed <= room,
				"a full anchor_batch takes up to {needed} bytes, more than a block's {room}"
			);
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Anchors readings of one device.
		///
		/// - `origin`: signed by the device's own account, its owner, or a holder of a SUBMIT
		///   grant for it.
		/// - `anchor`: the statement (device, `first_seq`, `count`, root, device times, payload
		///   hash, public values) and the device key's signature of it. `first_seq` must be
		///   above the device's last anchored reading, and skip at most `MaxSequenceGap`; the
		///   last device time may run at most `MaxClockDrift` ahead of the chain.
		/// - `payload`: optional encrypted data for the readings, at most `MaxPayloadLen` bytes,
		///   whose blake2-256 hash must be the statement's `payload_hash` (none when that is
		///   `None`); kept in the block, never in state.
		///
		/// Appends the anchor's record to the device's log. Emits `Anchored` with the record;
		/// also `SequenceGap` when readings were skipped, and `AlertRaised` for each public value
		/// outside its metric's rule.
		#[pallet::call_index(0)]
		#[pallet::weight(
			T::WeightInfo::anchor(anchor.statement.values.len() as u32, MAX_LOG_PEAKS)
				.saturating_add(T::Permissions::submit_path_weight(None))
		)]
		pub fn anchor(
			origin: OriginFor<T>,
			anchor: AnchorOf<T>,
			payload: Option<PayloadOf<T>>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			// The payload's job is done by being in the block: archive nodes serve it, the
			// device signed its hash, and nothing of it goes to state.
			let payload = payload.as_deref().map(|p| p.as_slice());
			let (peaks, search) = Self::do_anchor(&who, &anchor, payload)?;
			let values = anchor.statement.values.len() as u32;
			Ok(Some(T::WeightInfo::anchor(values, peaks).saturating_add(search)).into())
		}

		/// Anchors many devices' readings at once: a gateway's batch. Each anchor is checked
		/// and applied alone, in order, exactly as `anchor` would; a refused one is skipped and
		/// reported, the others are kept, except that the same device's later anchors in the
		/// batch are refused too (`EarlierAnchorRefused`), so no hole is left to fill later.
		///
		/// - `origin`: signed; must be allowed to submit for each anchor's device.
		/// - `items`: one to `MaxBatchLen` anchors, each with an optional encrypted payload.
		///
		/// Emits, per anchor, what `anchor` emits or `AnchorRejected` with the reason; then
		/// `BatchProcessed`. Charged by what its items carry (public values, payload bytes),
		/// for every device's log at its most peaks and for the longest search for each right
		/// to submit, and refunded what the accepted anchors did not need of the last two.
		#[pallet::call_index(1)]
		#[pallet::weight(Pallet::<T>::batch_weight(items))]
		pub fn anchor_batch(
			origin: OriginFor<T>,
			items: BoundedVec<BatchItemOf<T>, T::MaxBatchLen>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			ensure!(!items.is_empty(), Error::<T>::EmptyBatch);

			let (mut accepted, mut rejected) = (0u32, 0u32);
			let mut unused = Weight::zero();
			// Devices with a refused anchor in this batch: their later anchors are refused too.
			let mut refused: alloc::collections::BTreeSet<DeviceId> = Default::default();
			for (position, item) in items.iter().enumerate() {
				let statement = &item.anchor.statement;
				let payload = item.payload.as_deref().map(|p| p.as_slice());
				let outcome = if refused.contains(&statement.device) {
					Err(Error::<T>::EarlierAnchorRefused.into())
				} else {
					with_storage_layer(|| Self::do_anchor(&who, &item.anchor, payload))
				};
				match outcome {
					Ok((peaks, search)) => {
						accepted.saturating_inc();
						unused.saturating_accrue(Self::unused_by(peaks, search));
					},
					Err(error) => {
						rejected.saturating_inc();
						refused.insert(statement.device);
						Self::deposit_event(Event::AnchorRejected {
							position: position as u32,
							device: statement.device,
							first_seq: statement.first_seq,
							error,
						});
					},
				}
			}

			Self::deposit_event(Event::BatchProcessed { submitter: who, accepted, rejected });
			Ok(Some(Self::batch_weight(&items).saturating_sub(unused)).into())
		}

		/// Sets, or replaces, the bounds for one metric of a device. Public values of that
		/// metric outside them raise `AlertRaised` when anchored.
		///
		/// - `origin`: signed by the device's owner or a holder of a MANAGE grant for it; pays
		///   the deposit.
		/// - `device`: a device that is not decommissioned.
		/// - `metric`: the metric's name, as the device reports it.
		/// - `min`, `max`: the bounds in thousandths, inclusive; at least one, `min ≤ max`.
		///
		/// Holds `RuleDeposit` from the caller and releases the replaced rule's deposit to
		/// whoever paid it. Rules left from the device's previous owners are removed first,
		/// their deposits released (each emits `AlertRuleCleared`), so they never take the
		/// new owner's places. Emits `AlertRuleSet`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_alert_rule())]
		pub fn set_alert_rule(
			origin: OriginFor<T>,
			device: DeviceId,
			metric: MetricName,
			min: Option<i64>,
			max: Option<i64>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = T::Devices::device(&device).ok_or(Error::<T>::NotFound)?;
			ensure!(info.status != DeviceStatus::Decommissioned, Error::<T>::Decommissioned);
			ensure!(Self::may_manage(&who, &device, &info), Error::<T>::NotAuthorized);
			ensure!(min.is_some() || max.is_some(), Error::<T>::NoBounds);
			if let (Some(min), Some(max)) = (min, max) {
				ensure!(min <= max, Error::<T>::InvertedBounds);
			}

			// Sweep the previous owners' rules, and take out the one this replaces.
			let mut kept = BoundedVec::<RuleRecordOf<T>, T::MaxRulesPerDevice>::new();
			for record in AlertRules::<T>::get(device) {
				if record.epoch != info.epoch {
					Self::release(&record.payer, record.deposit)?;
					Self::deposit_event(Event::AlertRuleCleared {
						device,
						metric: record.rule.metric,
						payer: record.payer,
					});
				} else if record.rule.metric == metric {
					Self::release(&record.payer, record.deposit)?;
				} else {
					// `kept` is no longer than the stored list was.
					let _ = kept.try_push(record);
				}
			}
			let deposit = T::RuleDeposit::get();
			Self::hold(&who, deposit)?;
			let rule = AlertRule { metric, min, max };
			let record = RuleRecord { rule: rule.clone(), epoch: info.epoch, payer: who, deposit };
			kept.try_push(record).map_err(|_| Error::<T>::TooManyRules)?;
			AlertRules::<T>::insert(device, kept);

			Self::deposit_event(Event::AlertRuleSet { device, rule });
			Ok(())
		}

		/// Removes the alert rule for one metric of a device, and releases its deposit to
		/// whoever paid it.
		///
		/// - `origin`: signed by the device's owner or a holder of a MANAGE grant for it; or
		///   by anyone, for a rule left from the device's previous owner (set in an earlier
		///   ownership epoch), which no longer counts.
		/// - `device`: a registered device (decommissioned ones included, to tidy up).
		/// - `metric`: a metric the device has a rule for.
		///
		/// Emits `AlertRuleCleared`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::clear_alert_rule())]
		pub fn clear_alert_rule(
			origin: OriginFor<T>,
			device: DeviceId,
			metric: MetricName,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = T::Devices::device(&device).ok_or(Error::<T>::NotFound)?;
			let mut rules = AlertRules::<T>::get(device);
			let position = rules
				.iter()
				.position(|record| record.rule.metric == metric)
				.ok_or(Error::<T>::RuleNotFound)?;
			let record = rules.remove(position);
			let stale = record.epoch != info.epoch;
			ensure!(stale || Self::may_manage(&who, &device, &info), Error::<T>::NotAuthorized);

			Self::release(&record.payer, record.deposit)?;
			if rules.is_empty() {
				AlertRules::<T>::remove(device);
			} else {
				AlertRules::<T>::insert(device, rules);
			}

			Self::deposit_event(Event::AlertRuleCleared { device, metric, payer: record.payer });
			Ok(())
		}

		/// Anchors readings of one device on the device's own authority: a general transaction
		/// whose only signature is the device's, paid with one of its anchor credits. Whoever
		/// relays it (the device itself, a gateway, anyone) needs no account, grant or fee.
		///
		/// [`Pallet::authorize_device_anchor`] checks it, cheapest check first and the
		/// signature last, when it enters the transaction pool and again in the block, so an
		/// anchor that would fail is never included for free. The device's sequence number takes
		/// the place of an account nonce: in the block an anchor must start exactly at the
		/// device's next sequence number, and the pool holds one that starts at most
		/// `MaxPooledAhead` anchors of its size after it until the anchors before it arrive.
		///
		/// - `origin`: `Authorized`, which only the authorization above gives.
		/// - `anchor`: as for `anchor`; the device must be active and have a credit, and may
		///   have at most `MaxAnchorsPerBlock` such anchors in a block. No gaps: a device that
		///   skipped readings anchors across them with `anchor`.
		/// - `payload`: as for `anchor`.
		///
		/// Spends one credit and appends the anchor's record, with the device's own account as
		/// its submitter, to the device's log. Emits `Anchored`, and `AlertRaised` for each
		/// public value outside its metric's rule.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::device_anchor(
			anchor.statement.values.len() as u32,
			MAX_LOG_PEAKS
		))]
		#[pallet::authorize(Pallet::<T>::authorize_device_anchor)]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_device_anchor(
			payload.as_ref().map_or(0, |p| p.len() as u32),
			anchor.statement.values.len() as u32
		))]
		pub fn device_anchor(
			origin: OriginFor<T>,
			anchor: AnchorOf<T>,
			payload: Option<PayloadOf<T>>,
		) -> DispatchResultWithPostInfo {
			ensure_authorized(origin)?;
			// The authorization just checked all of it in this same state; this repeats the
			// cheap checks (its reads come from the block's cache), not the signature or the
			// payload's hash, so that no origin can spend what the device has not.
			let payload = payload.as_deref().map(|p| p.as_slice());
			let checked = Self::check_device_anchor(&anchor, payload, Check::Dispatch)?;
			let submitter = T::AccountId::from(checked.info.key.account());
			let peaks = Self::append(&submitter, &anchor.statement, checked)?;
			let values = anchor.statement.values.len() as u32;
			Ok(Some(T::WeightInfo::device_anchor(values, peaks)).into())
		}

		/// Buys anchor credits for a device: each lets the device anchor once with
		/// `device_anchor`, with no account or fee of its own.
		///
		/// - `origin`: signed by whoever pays: the owner, or anyone sponsoring the device.
		/// - `device`: a registered device that is not decommissioned. Its credits stay with it
		///   when it changes hands, and are lost if it is decommissioned.
		/// - `count`: how many credits, at least one.
		///
		/// Burns `count × CreditPrice` from the caller, keeping its account alive. Emits
		/// `CreditsBought`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::buy_credits())]
		pub fn buy_credits(origin: OriginFor<T>, device: DeviceId, count: u32) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(count > 0, Error::<T>::NoCredits);
			let info = T::Devices::device(&device).ok_or(Error::<T>::NotFound)?;
			ensure!(info.status != DeviceStatus::Decommissioned, Error::<T>::Decommissioned);
			let mut state = DeviceStates::<T>::get(device).unwrap_or_default();
			state.credits =
				state.credits.checked_add(count.into()).ok_or(Error::<T>::TooManyCredits)?;
			let price = T::CreditPrice::get().saturating_mul(count.into());
			T::Currency::burn_from(
				&who,
				price,
				Preservation::Preserve,
				Precision::Exact,
				Fortitude::Polite,
			)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
			let credits = state.credits;
			DeviceStates::<T>::insert(device, state);

			Self::deposit_event(Event::CreditsBought { device, payer: who, count, price, credits });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// The weight of a batch, before its refund: counts its items with public values and
		/// its payload bytes, and prices them with [`Self::batch_weight_of`].
		fn batch_weight(items: &[BatchItemOf<T>]) -> Weight {
			let (mut with_values, mut bytes) = (0u32, 0u32);
			for item in items {
				let valued = !item.anchor.statement.values.is_empty();
				with_values.saturating_accrue(u32::from(valued));
				let len = item.payload.as_ref().map_or(0, |p| p.len() as u32);
				bytes.saturating_accrue(len);
			}
			Self::batch_weight_of(items.len() as u32, with_values, bytes)
		}

		/// The weight of a batch of `len` anchors, `with_values` of which carry public values,
		/// with `bytes` bytes of payload in all, before its refund: the batch's least items
		/// (its benchmark); every device's log at its most peaks (`batch_log_weight`); for each
		/// item with values, what the costliest item costs beyond that (the most values, each
		/// raising an alert, and the largest payload; per item, see `batch_per_item`); the
		/// payload bytes hashed; and the longest search for each right to submit.
		pub fn batch_weight_of(len: u32, with_values: u32, bytes: u32) -> Weight {
			let logs = Self::batch_log_weight(MAX_LOG_PEAKS).saturating_mul(len.into());
			let carrying = Self::batch_per_item(|n| {
				T::WeightInfo::anchor_batch_costliest(n)
					.saturating_sub(T::WeightInfo::anchor_batch_full_logs(n))
			})
			.saturating_mul(with_values.into());
			let payloads = T::WeightInfo::authorize_device_anchor(bytes, 0)
				.saturating_sub(T::WeightInfo::authorize_device_anchor(0, 0));
			let searches = T::Permissions::submit_path_weight(None).saturating_mul(len.into());
			T::WeightInfo::anchor_batch(len)
				.saturating_add(logs)
				.saturating_add(carrying)
				.saturating_add(payloads)
				.saturating_add(searches)
		}

		/// Per item, what `extra(n)` costs, a difference between two of `anchor_batch`'s
		/// benchmarks at `n` items: `extra` at the most items divided by them (rounded up), or
		/// `extra(1)`, whichever is more. Both benchmarks are straight lines in `n`, so `n`
		/// times this covers `extra(n)` for every `n` up to the most, also when the
		/// difference of their fitted intercepts is negative and `extra` is nothing at a few
		/// items (a measurement's noise, not a free item).
		fn batch_per_item(extra: impl Fn(u32) -> Weight) -> Weight {
			let most = T::MaxBatchLen::get();
			let full = extra(most);
			let per = |total: u64| div_ceil(total, most.into());
			Weight::from_parts(per(full.ref_time()), per(full.proof_size())).max(extra(1))
		}

		/// What appending to a log of `peaks` peaks costs an anchor of a batch beyond the
		/// batch's least item, in proportion to the peaks (rounded up) of what a log of the most
		/// peaks costs it: the benchmark of batches whose logs all have the most peaks, less
		/// that of the least items, per item ([`Self::batch_per_item`]).
		pub(crate) fn batch_log_weight(peaks: u32) -> Weight {
			let per_item = Self::batch_per_item(|n| {
				T::WeightInfo::anchor_batch_full_logs(n)
					.saturating_sub(T::WeightInfo::anchor_batch(n))
			});
			let share = |total: u64| {
				let scaled = total.saturating_mul(peaks.min(MAX_LOG_PEAKS).into());
				div_ceil(scaled, MAX_LOG_PEAKS.into())
			};
			Weight::from_parts(share(per_item.ref_time()), share(per_item.proof_size()))
		}

		/// What an anchor of a batch appended to a log of `peaks` peaks, whose right to submit
		/// took `search` to find, did not use of the weight charged for a log of the most peaks
		/// and the longest search.
		fn unused_by(peaks: u32, search: Weight) -> Weight {
			let log =
				Self::batch_log_weight(MAX_LOG_PEAKS).saturating_sub(Self::batch_log_weight(peaks));
			let longest = T::Permissions::submit_path_weight(None);
			log.saturating_add(longest.saturating_sub(search))
		}

		/// Checks one anchor submitted by `who` with its `payload` and, if it holds, appends it
		/// to the device's log and emits its events; gives the peaks the log had before and the
		/// weight of finding `who`'s right to submit (what the weight depends on). Writes
		/// nothing when it fails.
		pub(crate) fn do_anchor(
			who: &T::AccountId,
			anchor: &AnchorOf<T>,
			payload: Option<&[u8]>,
		) -> Result<(u32, Weight), DispatchError> {
			let statement = &anchor.statement;
			let device = statement.device;
			let info = T::Devices::device(&device).ok_or(Error::<T>::NotFound)?;
			let search =
				Self::submit_right(who, &device, &info).ok_or(Error::<T>::NotAuthorized)?;
			ensure!(info.is_active(), Error::<T>::NotActive);
			let (next_seq, payload_hash) = Self::check_shape(statement, payload, true)?;
			let now_ms = Self::check_clock(statement)?;
			let state = DeviceStates::<T>::get(device).unwrap_or_default();
			ensure!(statement.first_seq >= state.next_seq, Error::<T>::StaleSequence);
			let skipped = statement.first_seq.saturating_sub(state.next_seq);
			ensure!(skipped <= T::MaxSequenceGap::get(), Error::<T>::SequenceGapTooLarge);
			ensure!(Self::signed_by_device(anchor, &info), Error::<T>::BadSignature);

			let checked =
				Checked { info, state, next_seq, payload_hash, now_ms, skipped, credit: false };
			let peaks = Self::append(who, statement, checked)?;
			Ok((peaks, search))
		}

		/// What [`Pallet::authorize_device_anchor`] checks, at the `check` step; the signature
		/// only when authorizing, and the payload's hash not again at dispatch. Cheapest first:
		/// the statement alone, the chain's time, the device, its telemetry, the signature.
		pub(crate) fn check_device_anchor(
			anchor: &AnchorOf<T>,
			payload: Option<&[u8]>,
			check: Check,
		) -> Result<Checked<T>, Error<T>> {
			let statement = &anchor.statement;
			// At dispatch, the authorization hashed this very payload a moment ago.
			let (next_seq, payload_hash) =
				Self::check_shape(statement, payload, check != Check::Dispatch)?;
			let now_ms = Self::check_clock(statement)?;
			let info = T::Devices::device(&statement.device).ok_or(Error::<T>::NotFound)?;
			ensure!(info.is_active(), Error::<T>::NotActive);
			let state = DeviceStates::<T>::get(statement.device).unwrap_or_default();
			ensure!(state.credits > 0, Error::<T>::OutOfCredits);
			ensure!(statement.first_seq >= state.next_seq, Error::<T>::StaleSequence);
			let ahead = statement.first_seq.saturating_sub(state.next_seq);
			let allowed = match check {
				Check::Pool => T::MaxPooledAhead::get().saturating_mul(statement.count.into()),
				Check::Imported => Seq::MAX,
				Check::Block | Check::Dispatch => 0,
			};
			ensure!(ahead <= allowed, Error::<T>::NotNextSequence);
			// The pool validates against the best block as if building on it, where the
			// device has no anchors yet; only a block counts them.
			let block = frame_system::Pallet::<T>::block_number();
			let in_block = if state.last_anchor_block == block { state.block_anchors } else { 0 };
			let room = matches!(check, Check::Pool | Check::Imported)
				|| in_block < T::MaxAnchorsPerBlock::get();
			ensure!(room, Error::<T>::RateLimited);
			if check != Check::Dispatch {
				ensure!(Self::signed_by_device(anchor, &info), Error::<T>::BadSignature);
			}
			Ok(Checked { info, state, next_seq, payload_hash, now_ms, skipped: 0, credit: true })
		}

		/// Whether a device-authorized anchor may enter the pool (`source` external or local)
		/// or a block (`InBlock`, among the block's extrinsics); see [`Pallet::device_anchor`].
		/// `InBlock` anywhere else is the pool learning what an imported block's anchor
		/// provides ([`Check::Imported`]). Refusals name the standard
		/// reasons where there is one (`Stale`, `Future`, `Payment`, `ExhaustsResources`,
		/// `BadProof`), else `Custom` with the index of this pallet's error, as the chain's
		/// metadata lists them.
		///
		/// Valid anchors take the device's sequence as their pool order: each provides its slot
		/// (device, `first_seq`), so two anchors for one slot never both wait, and the sequence
		/// number after it; it requires the one it starts at unless the device is there already.
		/// Their priority is zero: never above a fee-paying transaction. A valid anchor gives
		/// back `SenderWeight`: what the base weight spends on a sender it does not have.
		pub fn authorize_device_anchor(
			source: TransactionSource,
			anchor: &AnchorOf<T>,
			payload: &Option<PayloadOf<T>>,
		) -> TransactionValidityWithRefund {
			// The pool also says `InBlock` when it checks an imported block's transactions
			// against the block's parent; only a block's extrinsics are checked in their place.
			let applying = matches!(
				frame_system::Pallet::<T>::execution_phase(),
				Some(frame_system::Phase::ApplyExtrinsic(_))
			);
			let check = match source {
				TransactionSource::InBlock if applying => Check::Block,
				TransactionSource::InBlock => Check::Imported,
				TransactionSource::External | TransactionSource::Local => Check::Pool,
			};
			let payload = payload.as_deref().map(|p| p.as_slice());
			let checked = Self::check_device_anchor(anchor, payload, check)
				.map_err(Self::invalid_transaction)?;
			let statement = &anchor.statement;
			let device = statement.device;
			let mut validity = ValidTransaction::with_tag_prefix("ProvenaAnchor")
				.priority(0)
				.and_provides((device, b"slot", statement.first_seq))
				.and_provides((device, b"next", checked.next_seq))
				.longevity(T::AnchorLongevity::get())
				.propagate(true);
			if statement.first_seq > checked.state.next_seq {
				validity = validity.and_requires((device, b"next", statement.first_seq));
			}
			// Unspent: what the extrinsic base weight counts for a sender.
			Ok((validity.build()?, T::SenderWeight::get()))
		}

		/// A refusal of a device-authorized anchor, as the transaction pool reports it.
		fn invalid_transaction(error: Error<T>) -> TransactionValidityError {
			let invalid = match error {
				Error::<T>::StaleSequence => InvalidTransaction::Stale,
				Error::<T>::NotNextSequence => InvalidTransaction::Future,
				Error::<T>::OutOfCredits => InvalidTransaction::Payment,
				Error::<T>::RateLimited => InvalidTransaction::ExhaustsResources,
				Error::<T>::BadSignature => InvalidTransaction::BadProof,
				other => {
					// A pallet error encodes as its index in the metadata's error list.
					let index = other.encode().first().copied().unwrap_or(u8::MAX);
					InvalidTransaction::Custom(index)
				},
			};
			invalid.into()
		}

		/// The checks of an anchor that need nothing but the anchor: it commits readings, its
		/// range fits, its times are in order, its public values are its own, and the payload
		/// is the one it signed (only that there is one, unless `hash`). Gives the sequence
		/// number after it and the payload's hash.
		fn check_shape(
			statement: &AnchorStatement<T::MaxPublicValues>,
			payload: Option<&[u8]>,
			hash: bool,
		) -> Result<(Seq, Option<H256>), Error<T>> {
			ensure!(statement.count > 0, Error::<T>::EmptyAnchor);
			let last_seq = statement.last_seq().ok_or(Error::<T>::SequenceOverflow)?;
			let next_seq = last_seq.checked_add(1).ok_or(Error::<T>::SequenceOverflow)?;
			ensure!(statement.time.first_ms <= statement.time.last_ms, Error::<T>::BadTimeRange);
			ensure!(
				statement.values.iter().all(|value| statement.covers(value.seq)),
				Error::<T>::ValueOutsideAnchor
			);
			if hash {
				let payload_hash = payload.map(|p| H256(sp_io::hashing::blake2_256(p)));
				ensure!(payload_hash == statement.payload_hash, Error::<T>::PayloadMismatch);
			} else {
				let both = payload.is_some() == statement.payload_hash.is_some();
				ensure!(both, Error::<T>::PayloadMismatch);
			}
			Ok((next_seq, statement.payload_hash))
		}

		/// Refuses readings from too far in the future; gives the chain's time.
		fn check_clock(statement: &AnchorStatement<T::MaxPublicValues>) -> Result<u64, Error<T>> {
			let now_ms = Self::now_ms();
			ensure!(
				statement.time.last_ms <= now_ms.saturating_add(T::MaxClockDrift::get()),
				Error::<T>::FutureTimestamp
			);
			Ok(now_ms)
		}

		/// Whether the device's current key signed the anchor for this chain.
		fn signed_by_device(anchor: &AnchorOf<T>, info: &DeviceInfo<T::AccountId>) -> bool {
			let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
			info.key.verify(&anchor.statement.signing_hash(&genesis), &anchor.signature)
		}

		/// Appends a checked anchor, submitted by `submitter`, to the device's log, spending a
		/// credit for a device-authorized one; gives the peaks the log had before (what the
		/// append's weight depends on). Fails only when the log is full, writing nothing.
		fn append(
			submitter: &T::AccountId,
			statement: &AnchorStatement<T::MaxPublicValues>,
			checked: Checked<T>,
		) -> Result<u32, DispatchError> {
			let Checked { info, mut state, next_seq, payload_hash, now_ms, skipped, credit } =
				checked;
			let device = statement.device;
			let peaks = state.peaks.len() as u32;
			let block = frame_system::Pallet::<T>::block_number();
			let record = AnchorRecord {
				device,
				index: state.anchors,
				first_seq: statement.first_seq,
				count: statement.count,
				root: statement.root,
				device_time: statement.time,
				payload_hash,
				block,
				chain_time_ms: now_ms,
				submitter: submitter.clone(),
			};
			let entry = LogEntry::Leaf(record.encode());
			let leaf = entry.hash();
			let appended =
				device_log::append(state.anchors, &state.peaks, leaf).ok_or(Error::<T>::LogFull)?;
			state.peaks = BoundedVec::try_from(appended.peaks).map_err(|_| Error::<T>::LogFull)?;
			let anchors = state.anchors.checked_add(1).ok_or(Error::<T>::LogFull)?;
			if credit {
				state.credits = state.credits.checked_sub(1).ok_or(Error::<T>::OutOfCredits)?;
			}

			// Nothing below can fail. The record and the MMR nodes it completed go to the node's
			// offchain-indexed storage, keyed by their hashes, for the node to serve.
			sp_io::offchain_index::set(&offchain_key(&leaf), &entry.encode());
			for (hash, left, right) in appended.nodes {
				sp_io::offchain_index::set(
					&offchain_key(&hash),
					&LogEntry::Node(left, right).encode(),
				);
			}
			if skipped > 0 {
				let (from, to) = (state.next_seq, statement.first_seq.saturating_sub(1));
				state.missing = state.missing.saturating_add(skipped);
				Self::deposit_event(Event::SequenceGap { device, from, to });
			}
			state.head = chain_link(
				&state.head,
				&device,
				statement.first_seq,
				statement.count,
				&statement.root,
			);
			state.next_seq = next_seq;
			state.anchors = anchors;
			state.readings = state.readings.saturating_add(statement.count.into());
			state.last_device_time_ms = statement.time.last_ms;
			state.block_anchors = if state.last_anchor_block == block {
				state.block_anchors.saturating_add(1)
			} else {
				1
			};
			state.last_anchor_block = block;
			DeviceStates::<T>::insert(device, state);

			Self::deposit_event(Event::Anchored { record });
			Self::raise_alerts(&device, info.epoch, &statement.values);
			Ok(peaks)
		}

		/// Emits `AlertRaised` for every public value outside its metric's rule, counting only
		/// the rules set in the device's current ownership `epoch`.
		fn raise_alerts(device: &DeviceId, epoch: u32, values: &[PublicValue]) {
			if values.is_empty() {
				return;
			}
			let rules = AlertRules::<T>::get(device);
			for value in values {
				let broken = rules
					.iter()
					.filter(|record| record.epoch == epoch)
					.map(|record| &record.rule)
					.find(|rule| rule.metric == value.metric)
					.filter(|rule| rule.is_broken_by(value.value));
				if let Some(rule) = broken {
					Self::deposit_event(Event::AlertRaised {
						device: *device,
						seq: value.seq,
						metric: value.metric.clone(),
						value: value.value,
						min: rule.min,
						max: rule.max,
					});
				}
			}
		}

		/// Whether `who` may anchor for `device`: the device itself, its owner, or a SUBMIT
		/// grantee. Gives the weight of finding out, which is nothing for the first two.
		fn submit_right(
			who: &T::AccountId,
			device: &DeviceId,
			info: &DeviceInfo<T::AccountId>,
		) -> Option<Weight> {
			if *who == info.owner || *who == T::AccountId::from(info.key.account()) {
				return Some(Weight::zero());
			}
			let path = T::Permissions::submit_path(who, device, info)?;
			Some(T::Permissions::submit_path_weight(Some(path)))
		}

		/// Whether `who` may set `device`'s rules: its owner or a MANAGE grantee.
		fn may_manage(
			who: &T::AccountId,
			device: &DeviceId,
			info: &DeviceInfo<T::AccountId>,
		) -> bool {
			*who == info.owner || T::Permissions::may_manage(who, device)
		}

		fn hold(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
			if amount.is_zero() {
				return Ok(());
			}
			T::Currency::hold(&HoldReason::RuleDeposit.into(), who, amount)
				.map_err(|_| Error::<T>::InsufficientBalance.into())
		}

		fn release(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
			if amount.is_zero() {
				return Ok(());
			}
			T::Currency::release(&HoldReason::RuleDeposit.into(), who, amount, Precision::Exact)
				.map(|_| ())
		}

		/// The chain's time in milliseconds since the Unix epoch.
		fn now_ms() -> u64 {
			u64::try_from(T::UnixTime::now().as_millis()).unwrap_or(u64::MAX)
		}

		/// Whether `leaf` is reading `seq` of `device` as anchored: `record` must be in the
		/// device's log (through the inclusion proof `log_proof`, against the log as of this
		/// block) and cover `seq`, and `path` must be the leaf's Merkle path at exactly position
		/// `seq - record.first_seq` of the record's batch (empty for a one-reading anchor).
		pub fn verify_reading(
			device: DeviceId,
			seq: Seq,
			leaf: H256,
			path: Vec<H256>,
			record: AnchorRecordOf<T>,
			log_proof: Vec<H256>,
		) -> Result<AnchorRecordOf<T>, VerifyError> {
			ensure!(
				path.len() <= MAX_PATH_LEN && log_proof.len() <= device_log::MAX_PROOF_LEN,
				VerifyError::ProofTooLong
			);
			let state = DeviceStates::<T>::get(device).ok_or(VerifyError::UnknownDevice)?;
			let in_log = record.device == device
				&& device_log::verify_inclusion(
					state.anchors,
					&state.peaks,
					record.index,
					record.leaf(),
					&log_proof,
				);
			ensure!(in_log, VerifyError::NotInLog);
			ensure!(record.covers(seq), VerifyError::NotCovered);
			let position = u32::try_from(seq.saturating_sub(record.first_seq))
				.map_err(|_| VerifyError::NotCovered)?;
			ensure!(
				verify_batch_proof(&record.root, record.count, position, leaf, &path),
				VerifyError::ProofMismatch
			);
			Ok(record)
		}

		/// The device's telemetry so far, if it ever anchored.
		pub fn device_state(device: DeviceId) -> Option<DeviceTelemetry<BlockNumberFor<T>>> {
			DeviceStates::<T>::get(device)
		}

		/// Checks telemetry's invariants: each device's log has one peak per set bit of its
		/// anchor count, its counters add up, its hash chain started, every rule has a bound in
		/// order and at most one rule per metric, every rule's deposit is `RuleDeposit`, and
		/// every payer's held total equals the deposits of the rules it set.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			for (_, state) in DeviceStates::<T>::iter() {
				ensure!(
					state.peaks.len() as u32 == state.anchors.count_ones(),
					"a device's log peaks do not fit its anchor count"
				);
				ensure!(
					state.readings.checked_add(state.missing) == Some(state.next_seq),
					"readings and gaps do not add up to the next sequence number"
				);
				ensure!(
					(state.anchors == 0) == (state.head == H256::zero()),
					"the hash chain does not match the anchor count"
				);
				ensure!(state.anchors <= state.readings, "an anchor commits no readings");
			}
			use alloc::collections::{btree_map::BTreeMap, btree_set::BTreeSet};
			use frame_support::traits::fungible::InspectHold;
			let mut held: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			for (_, rules) in AlertRules::<T>::iter() {
				ensure!(!rules.is_empty(), "an empty rule list is stored");
				let metrics: BTreeSet<_> = rules.iter().map(|r| &r.rule.metric).collect();
				ensure!(metrics.len() == rules.len(), "a metric has two rules");
				for record in rules.iter() {
					ensure!(
						record.deposit == T::RuleDeposit::get(),
						"a rule's deposit is not RuleDeposit"
					);
					let total = held.entry(record.payer.clone()).or_insert_with(Zero::zero);
					*total = total.saturating_add(record.deposit);
					let rule = &record.rule;
					ensure!(rule.min.is_some() || rule.max.is_some(), "a rule has no bound");
					if let (Some(min), Some(max)) = (rule.min, rule.max) {
						ensure!(min <= max, "a rule's bounds are inverted");
					}
				}
			}
			for (who, total) in held {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::RuleDeposit.into(), &who) == total,
					"an account's held rule deposits differ from its rules'"
				);
			}
			Ok(())
		}
	}
}
