//! Benchmarks of every telemetry call, each in its worst case: sr25519 signatures (slower to
//! verify than ed25519), a device log of the most peaks (the next anchor merges them all), a
//! sequence gap, the largest payload, the most alert rules and a public value breaking each, and
//! a manager whose right comes from a grant by the runtime's costliest path (through the
//! device's last group, with access control). Anchors are submitted by the device's owner: the
//! search for a gateway's right is access control's to benchmark, and the call adds its weight
//! for the path the search took. A gateway's batch is measured three ways: its least items,
//! the same with full logs, and its costliest items; the call charges each item by what it
//! carries, so a batch of lean items is not charged as if each were the costliest.

// Benchmarks never run in a block: they build their own inputs in a benchmark build, where a
// panic only stops the benchmark. The block code's bans (see lib.rs) do not apply here.
#![allow(clippy::arithmetic_side_effects, clippy::indexing_slicing, clippy::unwrap_used)]

use super::*;
use crate::pallet::{AlertRules, AnchorOf, BatchItemOf, PayloadOf, RuleRecordOf};
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, InspectHold, Mutate, MutateHold},
		Get,
	},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_core::{crypto::KeyTypeId, H256};
use sp_runtime::{
	traits::{Saturating, Zero},
	MultiSignature,
};

/// The keystore slot benchmark device keys live in.
const KEY_TYPE: KeyTypeId = KeyTypeId(*b"prvn");

/// A device for the benchmarks: its id and its sr25519 key, held by the benchmark keystore.
struct BenchDevice {
	id: DeviceId,
	key: sp_core::sr25519::Public,
}

impl BenchDevice {
	/// Creates device number `n`, owned by `owner`, with a fresh key, registered and active.
	fn new<T: Config>(owner: &T::AccountId, n: u32) -> Self {
		let mut id = [0u8; 32];
		id[..4].copy_from_slice(&n.to_le_bytes());
		id[4] = 0xbe;
		let key = sp_io::crypto::sr25519_generate(KEY_TYPE, None);
		T::BenchmarkHelper::register_device(owner, id, DeviceKey::Sr25519(key));
		BenchDevice { id, key }
	}

	/// A signed anchor of `count` readings from `first_seq`, whose `values` public values each
	/// break one of the rules [`Self::with_rules`] sets.
	fn anchor<T: Config>(&self, first_seq: Seq, count: u32, values: u32) -> AnchorOf<T> {
		self.anchor_with_payload::<T>(first_seq, count, values, &payload::<T>())
	}

	/// As [`Self::anchor`], signing the hash of `payload`.
	fn anchor_with_payload<T: Config>(
		&self,
		first_seq: Seq,
		count: u32,
		values: u32,
		payload: &[u8],
	) -> AnchorOf<T> {
		let values: Vec<PublicValue> = (0..values)
			.map(|i| PublicValue {
				seq: first_seq + u64::from(i % count),
				metric: metric(T::MaxRulesPerDevice::get().saturating_sub(1).min(i)),
				value: i64::MAX,
			})
			.collect();
		self.anchor_with_values::<T>(first_seq, count, values, payload)
	}

	/// As [`Self::anchor_with_payload`], with these public values.
	fn anchor_with_values<T: Config>(
		&self,
		first_seq: Seq,
		count: u32,
		values: Vec<PublicValue>,
		payload: &[u8],
	) -> AnchorOf<T> {
		let statement = AnchorStatement {
			device: self.id,
			first_seq,
			count,
			root: H256::repeat_byte(0xab),
			time: TimeRange { first_ms: 0, last_ms: 0 },
			payload_hash: Some(H256(sp_io::hashing::blake2_256(payload))),
			values: BoundedVec::try_from(values).expect("at most MaxPublicValues"),
		};
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		let signature =
			sp_io::crypto::sr25519_sign(KEY_TYPE, &self.key, &statement.signing_hash(&genesis))
				.expect("the keystore holds the key");
		Anchor { statement, signature: MultiSignature::Sr25519(signature) }
	}

	/// Gives the device `MaxRulesPerDevice` rules of its current ownership epoch, each with an
	/// upper bound of zero, each set by another account whose deposit is held.
	fn with_rules<T: Config>(self) -> Self {
		let epoch = T::Devices::device(&self.id).expect("registered").epoch;
		let rules: Vec<RuleRecordOf<T>> = (0..T::MaxRulesPerDevice::get())
			.map(|i| {
				let payer: T::AccountId = account("rule-payer", i, 0);
				let deposit = T::RuleDeposit::get();
				let funds = deposit.saturating_mul(100u32.into());
				T::Currency::set_balance(&payer, funds);
				T::Currency::hold(&HoldReason::RuleDeposit.into(), &payer, deposit)
					.expect("a funded payer");
				let rule = AlertRule { metric: metric(i), min: None, max: Some(0) };
				RuleRecord { rule, epoch, payer, deposit }
			})
			.collect();
		AlertRules::<T>::insert(self.id, BoundedVec::try_from(rules).expect("MaxRulesPerDevice"));
		self
	}

	/// Gives the device a log of 2^m - 1 one-reading anchors, readings 0 .. 2^m - 1: `m`
	/// peaks, all of which the next anchor merges. It has one anchor credit, and anchored
	/// `MaxAnchorsPerBlock - 1` times in this block already.
	fn with_history<T: Config>(self, m: u32) -> Self {
		let anchors = history(m);
		let peaks: Vec<H256> = (0..m as u8).map(H256::repeat_byte).collect();
		DeviceStates::<T>::insert(
			self.id,
			DeviceTelemetry {
				next_seq: anchors,
				anchors,
				readings: anchors,
				missing: 0,
				head: H256::repeat_byte(0xcd),
				last_device_time_ms: 0,
				last_anchor_block: frame_system::Pallet::<T>::block_number(),
				block_anchors: T::MaxAnchorsPerBlock::get().saturating_sub(1),
				credits: 1,
				peaks: BoundedVec::try_from(peaks).expect("at most MAX_LOG_PEAKS of 64 peaks"),
			},
		);
		self
	}
}

/// How many anchors (and readings) a log of `m` peaks has in [`BenchDevice::with_history`]:
/// the next sequence number of such a device, without a gap.
fn history(m: u32) -> Seq {
	(1u64 << m) - 1
}

/// The first sequence number an anchor after a log of `m` peaks starts at: after a gap.
fn after_gap(m: u32) -> Seq {
	history(m) + 10
}

/// The largest payload an anchor may carry.
fn payload<T: Config>() -> Vec<u8> {
	vec![0xee; T::MaxPayloadLen::get() as usize]
}

/// [`payload`], bounded as a call takes it.
fn bounded_payload<T: Config>() -> PayloadOf<T> {
	BoundedVec::try_from(payload::<T>()).expect("MaxPayloadLen bytes")
}

/// The name of metric `i`: the longest allowed name, so comparisons cost the most.
fn metric(i: u32) -> MetricName {
	let mut name = vec![b'm'; provena_primitives::telemetry::MAX_METRIC_NAME_LEN as usize];
	name[..4].copy_from_slice(&i.to_le_bytes());
	MetricName::try_from(name).expect("MAX_METRIC_NAME_LEN bytes")
}

fn assert_last_event<T: Config>(event: Event<T>) {
	frame_system::Pallet::<T>::assert_last_event(<T as frame_system::Config>::RuntimeEvent::from(
		event,
	));
}

/// `n` items of `n` devices of `owner`, one per device, each made by `item` from its device.
fn batch_of<T: Config>(
	owner: &T::AccountId,
	n: u32,
	item: impl Fn(BenchDevice) -> BatchItemOf<T>,
) -> BoundedVec<BatchItemOf<T>, T::MaxBatchLen> {
	let items: Vec<BatchItemOf<T>> =
		(0..n).map(|i| item(BenchDevice::new::<T>(owner, i))).collect();
	BoundedVec::try_from(items).expect("at most MaxBatchLen")
}

/// A lean item of a batch: one reading of `device`, whose log is given `peaks` peaks first, no
/// public value, an empty payload, after the gap `after_gap` leaves.
fn lean_item<T: Config>(device: BenchDevice, peaks: u32) -> BatchItemOf<T> {
	let device = device.with_history::<T>(peaks);
	BatchItem {
		anchor: device.anchor_with_values::<T>(after_gap(peaks), 1, Vec::new(), &[]),
		payload: Some(BoundedVec::new()),
	}
}

/// The batch of `submitter` took all its `n` anchors.
fn assert_batch_took_all<T: Config>(submitter: T::AccountId, n: u32) {
	assert_last_event::<T>(Event::BatchProcessed { submitter, accepted: n, rejected: 0 });
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// One anchor with `v` public values, each raising an alert, after a gap, appended to a
	/// log of `m` peaks that it all merges.
	#[benchmark]
	fn anchor(v: Linear<0, { T::MaxPublicValues::get() }>, m: Linear<0, MAX_LOG_PEAKS>) {
		let owner: T::AccountId = whitelisted_caller();
		let device = BenchDevice::new::<T>(&owner, 0).with_rules::<T>().with_history::<T>(m);
		let signed = device.anchor::<T>(after_gap(m), 1_000, v);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), signed, Some(bounded_payload::<T>()));

		let state = DeviceStates::<T>::get(device.id).expect("anchored");
		assert_eq!((state.next_seq, state.peaks.len()), (after_gap(m) + 1_000, 1));
	}

	/// A batch of `n` anchors of `n` devices of one owner, each of the least an item can be:
	/// one reading, no public value, an empty payload, a log without peaks, only the sequence
	/// gap it reports. The call adds what an item's log peaks, public values and payload bytes
	/// cost from [`anchor_batch_full_logs`](Self), [`anchor_batch_costliest`](Self) and
	/// `authorize_device_anchor`'s `p`, and refunds what the logs did not need.
	#[benchmark]
	fn anchor_batch(n: Linear<1, { T::MaxBatchLen::get() }>) {
		let owner: T::AccountId = whitelisted_caller();
		let items = batch_of::<T>(&owner, n, |device| lean_item::<T>(device, 0));

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), items);

		assert_batch_took_all::<T>(owner, n);
	}

	/// As [`anchor_batch`](Self), with every device's log at its most peaks, all of which the
	/// anchor merges: what a log's peaks cost an item of a batch.
	#[benchmark]
	fn anchor_batch_full_logs(n: Linear<1, { T::MaxBatchLen::get() }>) {
		let owner: T::AccountId = whitelisted_caller();
		let items = batch_of::<T>(&owner, n, |device| lean_item::<T>(device, MAX_LOG_PEAKS));

		#[extrinsic_call]
		anchor_batch(RawOrigin::Signed(owner.clone()), items);

		assert_batch_took_all::<T>(owner, n);
	}

	/// A batch of `n` anchors, each the costliest an item can be: the most public values,
	/// each breaking a rule, the largest payload, a log of the most peaks, after a gap. An item
	/// with public values is charged what this costs beyond [`anchor_batch_full_logs`](Self).
	#[benchmark]
	fn anchor_batch_costliest(n: Linear<1, { T::MaxBatchLen::get() }>) {
		let owner: T::AccountId = whitelisted_caller();
		let values = T::MaxPublicValues::get();
		let items = batch_of::<T>(&owner, n, |device| {
			let device = device.with_rules::<T>().with_history::<T>(MAX_LOG_PEAKS);
			BatchItem {
				anchor: device.anchor::<T>(after_gap(MAX_LOG_PEAKS), 1_000, values),
				payload: Some(bounded_payload::<T>()),
			}
		});

		#[extrinsic_call]
		anchor_batch(RawOrigin::Signed(owner.clone()), items);

		assert_batch_took_all::<T>(owner, n);
	}

	/// Sets a rule for the new owner of a device whose previous owner left it full of rules,
	/// each paid by another account: the call sweeps them all, releasing every deposit.
	#[benchmark]
	fn set_alert_rule() {
		let owner: T::AccountId = whitelisted_caller();
		let device = BenchDevice::new::<T>(&owner, 0).with_rules::<T>();
		let buyer: T::AccountId = account("buyer", 0, 0);
		T::BenchmarkHelper::transfer_device(device.id, &buyer);
		let manager = T::BenchmarkHelper::manager(&buyer, device.id).unwrap_or(buyer);
		T::Currency::set_balance(&manager, T::RuleDeposit::get().saturating_mul(100u32.into()));
		let last = T::MaxRulesPerDevice::get().saturating_sub(1);

		#[extrinsic_call]
		_(RawOrigin::Signed(manager), device.id, metric(last), Some(i64::MIN), Some(i64::MAX));

		assert_eq!(AlertRules::<T>::get(device.id).len(), 1);
		for i in 0..T::MaxRulesPerDevice::get() {
			let payer: T::AccountId = account("rule-payer", i, 0);
			assert!(T::Currency::balance_on_hold(&HoldReason::RuleDeposit.into(), &payer).is_zero());
		}
	}

	/// Removes the last of a device's rules, releasing its payer's deposit.
	#[benchmark]
	fn clear_alert_rule() {
		let owner: T::AccountId = whitelisted_caller();
		let device = BenchDevice::new::<T>(&owner, 0).with_rules::<T>();
		let manager = T::BenchmarkHelper::manager(&owner, device.id).unwrap_or(owner);
		let last = T::MaxRulesPerDevice::get().saturating_sub(1);

		#[extrinsic_call]
		_(RawOrigin::Signed(manager), device.id, metric(last));

		assert_eq!(AlertRules::<T>::get(device.id).len() as u32, last);
	}

	/// The dispatch of a device-authorized anchor with `v` public values, each raising an
	/// alert: it spends the device's last credit and merges the `m` peaks of its log. (Its
	/// authorization, signature included, is `authorize_device_anchor`, which runs just before
	/// it in the same block: what the authorization read and the dispatch only reads again is
	/// not charged twice.)
	#[benchmark]
	fn device_anchor(v: Linear<0, { T::MaxPublicValues::get() }>, m: Linear<0, MAX_LOG_PEAKS>) {
		let owner: T::AccountId = whitelisted_caller();
		let device = BenchDevice::new::<T>(&owner, 0).with_rules::<T>().with_history::<T>(m);
		let signed = device.anchor::<T>(history(m), 1_000, v);
		for key in T::BenchmarkHelper::read_by_authorization(device.id) {
			frame_benchmarking::benchmarking::add_to_whitelist(key.into());
		}

		#[extrinsic_call]
		_(RawOrigin::Authorized, signed, Some(bounded_payload::<T>()));

		let state = DeviceStates::<T>::get(device.id).expect("anchored");
		assert_eq!((state.next_seq, state.credits), (history(m) + 1_000, 0));
	}

	/// The authorization of a device-authorized anchor with a payload of `p` bytes and `v`
	/// public values: every check passes, the signature (sr25519) last.
	#[benchmark]
	fn authorize_device_anchor(
		p: Linear<0, { T::MaxPayloadLen::get() }>,
		v: Linear<0, { T::MaxPublicValues::get() }>,
	) -> Result<(), BenchmarkError> {
		let owner: T::AccountId = whitelisted_caller();
		let device = BenchDevice::new::<T>(&owner, 0).with_history::<T>(MAX_LOG_PEAKS);
		let payload = vec![0xee; p as usize];
		let first = history(MAX_LOG_PEAKS);
		let signed = device.anchor_with_payload::<T>(first, 1_000, v, &payload);
		let payload = Some(BoundedVec::try_from(payload).expect("at most MaxPayloadLen"));
		let call = Call::<T>::device_anchor { anchor: signed, payload };

		#[block]
		{
			use frame_support::{pallet_prelude::TransactionSource, traits::Authorize};
			call.authorize(TransactionSource::InBlock)
				.ok_or("device_anchor is authorized by the pallet")?
				.map_err(|_| "the anchor is valid")?;
		}

		Ok(())
	}

	/// One sr25519 signature checked, over a message of 64 bytes: what the extrinsic base
	/// weight (`benchmark overhead`, on sr25519-signed remarks) spends on the sender's
	/// signature, which a device-authorized anchor does not have (the runtime's
	/// `SenderWeight`). The shortest message a sender signs costs the least, so the
	/// part given back is not overstated.
	#[benchmark]
	fn account_signature_check() {
		let public = sp_io::crypto::sr25519_generate(KEY_TYPE, None);
		let message = [0x5a; 64];
		let signature = sp_io::crypto::sr25519_sign(KEY_TYPE, &public, &message)
			.expect("the keystore holds it");
		let valid;

		#[block]
		{
			valid = sp_io::crypto::sr25519_verify(&signature, &message, &public);
		}

		assert!(valid);
	}

	/// A sponsor buys credits for a device that never anchored.
	#[benchmark]
	fn buy_credits() {
		let owner: T::AccountId = whitelisted_caller();
		let device = BenchDevice::new::<T>(&owner, 0);
		let sponsor: T::AccountId = account("sponsor", 0, 0);
		let funds = T::CreditPrice::get()
			.saturating_mul(1_000u32.into())
			.saturating_add(T::Currency::minimum_balance());
		T::Currency::set_balance(&sponsor, funds);

		#[extrinsic_call]
		_(RawOrigin::Signed(sponsor), device.id, 100);

		assert_eq!(DeviceStates::<T>::get(device.id).expect("credited").credits, 100);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::ExtBuilder::new().build(), crate::mock::Test);
}
