//! Device-authorized anchors as the real runtime takes them: general (v5) transactions through
//! the runtime's own transaction extensions, validated as the pool does and applied as a block
//! does.

use frame_support::{
	assert_ok,
	dispatch::{DispatchClass, GetDispatchInfo},
	pallet_prelude::{InvalidTransaction, TransactionSource, TransactionValidityError},
	traits::Get,
	weights::Weight,
};
use provena_runtime::{
	Balances, Executive, Runtime, RuntimeCall, RuntimeOrigin, System, Telemetry, UncheckedExtrinsic,
};
use sp_keyring::Sr25519Keyring;

mod common;
use common::{anchor, demo_key, dev_chain, general, thermometer_id};

/// The demo thermometer's readings `first..first + count` as a device-authorized anchor.
fn device_anchor(first: u64, count: u64) -> UncheckedExtrinsic {
	general(RuntimeCall::Telemetry(pallet_telemetry::Call::device_anchor {
		anchor: anchor(&demo_key(), first, count),
		payload: None,
	}))
}

fn validate(xt: UncheckedExtrinsic) -> Result<(), TransactionValidityError> {
	Executive::validate_transaction(TransactionSource::External, xt, System::parent_hash())
		.map(|_| ())
}

/// Applies `xt` as a block does: after the block's initialization, among its extrinsics.
fn apply(xt: UncheckedExtrinsic) -> sp_runtime::ApplyExtrinsicResult {
	// `validate` initializes a block of its own, as the pool does; a block's extrinsics come
	// after its initialization.
	System::note_finished_initialize();
	Executive::apply_extrinsic(xt)
}

fn alice() -> sp_runtime::AccountId32 {
	Sr25519Keyring::Alice.to_account_id()
}

fn credits() -> u64 {
	Telemetry::device_state(thermometer_id()).map_or(0, |state| state.credits)
}

#[test]
fn a_device_anchor_is_paid_by_a_credit_and_charges_no_account() {
	dev_chain().execute_with(|| {
		assert_ok!(Telemetry::buy_credits(RuntimeOrigin::signed(alice()), thermometer_id(), 2));
		let xt = device_anchor(0, 4);
		assert_ok!(validate(xt.clone()));

		let before = (System::account_nonce(alice()), Balances::free_balance(alice()));
		let issuance = Balances::total_issuance();
		assert_ok!(apply(xt).expect("included"));

		let state = Telemetry::device_state(thermometer_id()).expect("anchored");
		assert_eq!((state.next_seq, state.credits), (4, 1));
		assert_eq!((System::account_nonce(alice()), Balances::free_balance(alice())), before);
		assert_eq!(Balances::total_issuance(), issuance, "no fee was taken from anyone");
	});
}

#[test]
fn the_nonce_fee_and_signature_checks_and_the_call_give_unused_weight_back_to_the_block() {
	dev_chain().execute_with(|| {
		assert_ok!(Telemetry::buy_credits(RuntimeOrigin::signed(alice()), thermometer_id(), 1));
		let xt = device_anchor(0, 1);
		let declared = xt.get_dispatch_info().total_weight();
		// The block also counts the extrinsic's bytes as proof size.
		let bytes = Weight::from_parts(0, codec::Encode::encoded_size(&xt) as u64);
		let before = System::block_weight().total();

		assert_ok!(apply(xt).expect("included"));

		let consumed = System::block_weight().total() - before;
		let base = <Runtime as frame_system::Config>::BlockWeights::get()
			.get(DispatchClass::Normal)
			.base_extrinsic;
		let given_back = <<Runtime as frame_system::Config>::ExtensionsWeightInfo as
			frame_system::ExtensionsWeightInfo>::check_nonce() +
			<<Runtime as pallet_transaction_payment::Config>::WeightInfo as
				pallet_transaction_payment::WeightInfo>::charge_transaction_payment();
		assert!(given_back.ref_time() > 0);
		// The call is charged for a log of the most peaks and reports what its log (empty
		// here) needed.
		use pallet_telemetry::WeightInfo;
		type Weights = <Runtime as pallet_telemetry::Config>::WeightInfo;
		let unused = Weights::device_anchor(0, pallet_telemetry::MAX_LOG_PEAKS)
			- Weights::device_anchor(0, 0);
		assert!(unused.ref_time() > 0);
		// And what the base weight spends on a sender, which this has not.
		let sender = <<Runtime as pallet_telemetry::Config>::SenderWeight as Get<Weight>>::get();
		assert_eq!(
			sender,
			provena_runtime::configs::sender_signature_check()
				+ provena_runtime::configs::sender_extensions_compute()
		);
		assert!(sender.ref_time() > provena_runtime::configs::sender_signature_check().ref_time());
		assert!(sender.ref_time() < base.ref_time(), "the base keeps what every extrinsic does");
		assert_eq!(consumed, base + declared + bytes - given_back - unused - sender);
	});
}

#[test]
fn a_replayed_or_unpaid_device_anchor_is_refused_and_never_included() {
	dev_chain().execute_with(|| {
		let unpaid = device_anchor(0, 1);
		assert_eq!(validate(unpaid.clone()), Err(InvalidTransaction::Payment.into()));
		// A block refuses it as a whole: an `Err` here is a transaction left out of the block.
		assert_eq!(apply(unpaid), Err(InvalidTransaction::Payment.into()));

		assert_ok!(Telemetry::buy_credits(RuntimeOrigin::signed(alice()), thermometer_id(), 2));
		let xt = device_anchor(0, 1);
		assert_ok!(apply(xt.clone()).expect("included"));
		assert_eq!(validate(xt.clone()), Err(InvalidTransaction::Stale.into()));
		assert_eq!(apply(xt), Err(InvalidTransaction::Stale.into()));
		assert_eq!(credits(), 1, "the replay spent nothing");
	});
}

/// A tag of a device-authorized anchor, as the pool sees it: the demo thermometer at `seq`.
fn next_tag(seq: u64) -> Vec<u8> {
	codec::Encode::encode(&("ProvenaAnchor", (thermometer_id(), b"next", seq)))
}

/// A block from another author may hold several anchors of one device in a row. The pool
/// checks each of that block's transactions it does not hold alone against the block's parent
/// (`InBlock`), to learn what they provide; the later ones start ahead of the parent's log.
/// Were they refused there, the pool would never learn that the device's sequence moved on, and
/// would hold the device's next anchors back for good. In a block, each must still start at the
/// device's next sequence.
#[test]
fn the_pool_learns_what_a_blocks_anchors_provide_and_a_block_keeps_them_in_order() {
	dev_chain().execute_with(|| {
		assert_ok!(Telemetry::buy_credits(RuntimeOrigin::signed(alice()), thermometer_id(), 2));
		let (first, second) = (device_anchor(0, 4), device_anchor(4, 4));

		// Alone against the parent, as the pool prunes an imported block.
		let learnt = Executive::validate_transaction(
			TransactionSource::InBlock,
			second.clone(),
			System::parent_hash(),
		)
		.expect("valid behind the anchor before it");
		assert!(learnt.provides.contains(&next_tag(8)), "{:?}", learnt.provides);
		assert_eq!(learnt.requires, vec![next_tag(4)]);

		// In a block: out of order it is left out; after the first it is taken.
		assert_eq!(apply(second.clone()), Err(InvalidTransaction::Future.into()));
		assert_ok!(apply(first).expect("included"));
		assert_ok!(apply(second).expect("included"));
		assert_eq!(Telemetry::device_state(thermometer_id()).map(|s| s.next_seq), Some(8));
	});
}

#[test]
fn a_general_transaction_of_any_other_call_is_refused() {
	dev_chain().execute_with(|| {
		let transfer =
			general(RuntimeCall::Balances(pallet_balances::Call::transfer_allow_death {
				dest: Sr25519Keyring::Bob.to_account_id().into(),
				value: 1,
			}));
		assert_eq!(validate(transfer.clone()), Err(InvalidTransaction::UnknownOrigin.into()));
		assert_eq!(apply(transfer), Err(InvalidTransaction::UnknownOrigin.into()));
	});
}
