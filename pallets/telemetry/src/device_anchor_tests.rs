//! Device-authorized anchors and the credits that pay for them: what the pool and the block
//! accept, in what order, and every refusal.

use crate::{mock::*, pallet::Call as TelemetryCall, *};
use frame_support::{
	assert_noop, assert_ok,
	pallet_prelude::{InvalidTransaction, TransactionSource, TransactionValidityError},
	traits::{fungible::Inspect, Authorize},
};
use sp_core::H256;
use sp_runtime::{traits::BadOrigin, transaction_validity::ValidTransaction, DispatchError};

type Event = crate::Event<Test>;

fn thermometer() -> TestDevice {
	TestDevice::sr(20, "//cold-chain-probe")
}

fn pump() -> TestDevice {
	TestDevice::ed(21, "//infusion-pump")
}

/// The general call that carries `anchor` with an optional payload.
fn call(anchor: Anchor<MaxPublicValues>, payload: Option<&[u8]>) -> TelemetryCall<Test> {
	let payload = payload.map(|p| p.to_vec().try_into().expect("within MaxPayloadLen"));
	TelemetryCall::device_anchor { anchor, payload }
}

/// What the authorization says of `call` arriving from `source`.
fn authorize(
	call: &TelemetryCall<Test>,
	source: TransactionSource,
) -> Result<ValidTransaction, TransactionValidityError> {
	call.authorize(source).expect("device_anchor is authorized by the pallet").map(|(v, _)| v)
}

/// The reason the pool gives for refusing `call`.
fn refused_at_pool(call: &TelemetryCall<Test>) -> TransactionValidityError {
	authorize(call, TransactionSource::External).expect_err("the pool refuses it")
}

/// Authorizes `call` as a block does: among its extrinsics, after its initialization.
fn authorize_in_block(
	call: &TelemetryCall<Test>,
) -> Result<ValidTransaction, TransactionValidityError> {
	System::note_finished_initialize();
	authorize(call, TransactionSource::InBlock)
}

/// The reason a block refuses `call`.
fn refused_in_block(call: &TelemetryCall<Test>) -> TransactionValidityError {
	authorize_in_block(call).expect_err("the block refuses it")
}

/// A pallet error as the pool reports it: `Custom` with the error's index.
fn custom(error: Error<Test>) -> TransactionValidityError {
	let index = codec::Encode::encode(&error)[0];
	InvalidTransaction::Custom(index).into()
}

/// Includes `call` as a block would: authorized in the block, then dispatched with the origin
/// the authorization gives.
fn include(call: TelemetryCall<Test>) -> sp_runtime::DispatchResult {
	authorize_in_block(&call).map_err(|e| {
		DispatchError::Other(if e == InvalidTransaction::Stale.into() {
			"stale"
		} else {
			"refused"
		})
	})?;
	let TelemetryCall::device_anchor { anchor, payload } = call else { unreachable!() };
	Telemetry::device_anchor(frame_system::RawOrigin::Authorized.into(), anchor, payload)
		.map(|_| ())
		.map_err(|e| e.error)
}

fn credits_of(device: &TestDevice) -> u64 {
	DeviceStates::<Test>::get(device.id()).map_or(0, |state| state.credits)
}

fn buy(device: &TestDevice, count: u32) {
	assert_ok!(Telemetry::buy_credits(RuntimeOrigin::signed(OWNER), device.id(), count));
}

mod buy_credits {
	use super::*;

	#[test]
	fn burns_the_price_and_credits_the_device() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let issuance = Balances::total_issuance();
			buy(&device, 4);
			assert_eq!(credits_of(&device), 4);
			assert_eq!(Balances::balance(&OWNER), RICH - 4 * CreditPrice::get());
			assert_eq!(Balances::total_issuance(), issuance - 4 * CreditPrice::get());
			assert_eq!(
				telemetry_events().last(),
				Some(&Event::CreditsBought {
					device: device.id(),
					payer: OWNER,
					count: 4,
					price: 12,
					credits: 4,
				})
			);

			// Anyone may sponsor a device; credits add up.
			assert_ok!(Telemetry::buy_credits(RuntimeOrigin::signed(STRANGER), device.id(), 1));
			assert_eq!(credits_of(&device), 5);
		});
	}

	#[test]
	fn credits_survive_anchors_through_the_signed_path() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 2);
			assert_ok!(Telemetry::anchor(RuntimeOrigin::signed(OWNER), device.anchor(0, 1), None));
			assert_eq!(credits_of(&device), 2, "a signed anchor pays its own fee");
		});
	}

	#[test]
	fn fails_when_unsigned() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_noop!(Telemetry::buy_credits(RuntimeOrigin::none(), device.id(), 1), BadOrigin);
		});
	}

	#[test]
	fn fails_for_zero_credits() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_noop!(
				Telemetry::buy_credits(RuntimeOrigin::signed(OWNER), device.id(), 0),
				Error::<Test>::NoCredits
			);
		});
	}

	#[test]
	fn fails_for_an_unknown_device() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				Telemetry::buy_credits(RuntimeOrigin::signed(OWNER), [9; 32], 1),
				Error::<Test>::NotFound
			);
		});
	}

	#[test]
	fn fails_for_a_decommissioned_device() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			Directory::set_status(device.id(), DeviceStatus::Decommissioned);
			assert_noop!(
				Telemetry::buy_credits(RuntimeOrigin::signed(OWNER), device.id(), 1),
				Error::<Test>::Decommissioned
			);
		});
	}

	#[test]
	fn fails_when_the_payer_cannot_pay_and_stay_alive() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			// POOR holds 3, exactly one credit's price, but must keep its existential deposit.
			assert_noop!(
				Telemetry::buy_credits(RuntimeOrigin::signed(POOR), device.id(), 1),
				Error::<Test>::InsufficientBalance
			);
		});
	}

	#[test]
	fn fails_when_the_count_would_overflow() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 1);
			DeviceStates::<Test>::mutate(device.id(), |state| {
				state.as_mut().expect("bought").credits = u64::MAX;
			});
			assert_noop!(
				Telemetry::buy_credits(RuntimeOrigin::signed(OWNER), device.id(), 1),
				Error::<Test>::TooManyCredits
			);
		});
	}
}

mod authorize {
	use super::*;

	#[test]
	fn a_paid_anchor_at_the_next_sequence_is_valid_with_sequence_tags() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 1);
			let validity = authorize(&call(device.anchor(0, 3), None), TransactionSource::External)
				.expect("valid");
			assert_eq!(validity.priority, 0, "never above a fee-paying transaction");
			assert!(validity.requires.is_empty(), "the device is at its first reading");
			assert_eq!(validity.provides.len(), 2);
			assert_eq!(validity.longevity, AnchorLongevity::get());

			// The next anchor waits for this one: it requires what this one provides.
			let next = authorize(&call(device.anchor(3, 1), None), TransactionSource::External)
				.expect("held in the pool");
			assert_eq!(next.requires.len(), 1);
			assert!(validity.provides.contains(&next.requires[0]));
			// Two anchors for one slot cannot both wait in the pool.
			let rival = authorize(&call(device.anchor(0, 1), None), TransactionSource::External)
				.expect("valid alone");
			assert_eq!(rival.provides[0], validity.provides[0]);
			assert_ne!(rival.provides[1], validity.provides[1]);
		});
	}

	#[test]
	fn a_block_takes_only_the_next_sequence() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 1);
			assert_eq!(
				refused_in_block(&call(device.anchor(1, 1), None)),
				InvalidTransaction::Future.into()
			);
			assert!(authorize_in_block(&call(device.anchor(0, 1), None)).is_ok());
		});
	}

	/// The pool checks an imported block's anchors alone against the block's parent, to
	/// learn what they provide: there a device's later anchors in the block start ahead of
	/// its log, by any distance, and the block's rate is the block's business.
	#[test]
	fn the_pool_learns_what_an_imported_blocks_anchors_provide() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 1);
			let far = MaxPooledAhead::get() + 1;
			// Outside a block's extrinsics, as the pool's own block is initialized.
			System::initialize(&2, &System::parent_hash(), &Default::default());
			let learnt = authorize(&call(device.anchor(far, 1), None), TransactionSource::InBlock)
				.expect("valid behind the anchors before it");
			let next =
				|seq: u64| codec::Encode::encode(&("ProvenaAnchor", (device.id(), b"next", seq)));
			assert!(learnt.provides.contains(&next(far + 1)), "it provides the slot after it");
			assert_eq!(learnt.requires, vec![next(far)], "it follows the block's earlier anchors");
			// The pool itself holds it only so far ahead, and a block only at the next slot.
			assert_eq!(
				refused_at_pool(&call(device.anchor(far, 1), None)),
				InvalidTransaction::Future.into()
			);
			assert_eq!(
				refused_in_block(&call(device.anchor(far, 1), None)),
				InvalidTransaction::Future.into()
			);
		});
	}

	#[test]
	fn the_pool_holds_anchors_only_so_far_ahead() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 1);
			// In anchors of its own size: four single readings, or four batches of three.
			let ahead = MaxPooledAhead::get();
			assert!(authorize(&call(device.anchor(ahead, 1), None), TransactionSource::External)
				.is_ok());
			assert_eq!(
				refused_at_pool(&call(device.anchor(ahead + 1, 1), None)),
				InvalidTransaction::Future.into()
			);
			assert!(authorize(
				&call(device.anchor(3 * ahead, 3), None),
				TransactionSource::External
			)
			.is_ok());
			assert_eq!(
				refused_at_pool(&call(device.anchor(3 * ahead + 1, 3), None)),
				InvalidTransaction::Future.into()
			);
		});
	}

	#[test]
	fn refuses_a_device_without_credit() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_eq!(
				refused_at_pool(&call(device.anchor(0, 1), None)),
				InvalidTransaction::Payment.into()
			);
		});
	}

	#[test]
	fn refuses_another_keys_signature() {
		let (device, other) = (thermometer(), pump());
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 1);
			let forged = Anchor {
				signature: other.sign(&device.statement(0, 1)),
				statement: device.statement(0, 1),
			};
			assert_eq!(refused_at_pool(&call(forged, None)), InvalidTransaction::BadProof.into());
		});
	}

	#[test]
	fn refuses_an_altered_statement() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 1);
			let mut altered = device.anchor(0, 1);
			altered.statement.root = H256::repeat_byte(7);
			assert_eq!(refused_at_pool(&call(altered, None)), InvalidTransaction::BadProof.into());
		});
	}

	#[test]
	fn refuses_a_replay() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 2);
			let anchor = device.anchor(0, 2);
			assert_ok!(include(call(anchor.clone(), None)));
			assert_eq!(
				refused_at_pool(&call(anchor.clone(), None)),
				InvalidTransaction::Stale.into()
			);
			assert_eq!(refused_in_block(&call(anchor, None)), InvalidTransaction::Stale.into());
			// A slot already taken is stale too, whatever the anchor claims for it.
			assert_eq!(
				refused_at_pool(&call(device.anchor(1, 5), None)),
				InvalidTransaction::Stale.into()
			);
		});
	}

	#[test]
	fn refuses_unknown_suspended_and_decommissioned_devices() {
		let (device, unknown) = (thermometer(), pump());
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 1);
			assert_eq!(
				refused_at_pool(&call(unknown.anchor(0, 1), None)),
				custom(Error::<Test>::NotFound)
			);
			for status in [DeviceStatus::Suspended, DeviceStatus::Decommissioned] {
				Directory::set_status(device.id(), status);
				assert_eq!(
					refused_at_pool(&call(device.anchor(0, 1), None)),
					custom(Error::<Test>::NotActive)
				);
			}
		});
	}

	#[test]
	fn refuses_malformed_anchors_before_reading_state() {
		let device = thermometer();
		// Not even registered: the statement's own faults are found first.
		ExtBuilder::new().build_and_execute(|| {
			let empty = device.signed(device.statement(0, 0));
			assert_eq!(refused_at_pool(&call(empty, None)), custom(Error::<Test>::EmptyAnchor));

			let overflow = device.signed(device.statement(u64::MAX, 2));
			assert_eq!(
				refused_at_pool(&call(overflow, None)),
				custom(Error::<Test>::SequenceOverflow)
			);

			let mut statement = device.statement(0, 2);
			std::mem::swap(&mut statement.time.first_ms, &mut statement.time.last_ms);
			assert_eq!(
				refused_at_pool(&call(device.signed(statement), None)),
				custom(Error::<Test>::BadTimeRange)
			);

			let mut statement = device.statement(0, 1);
			statement.values = vec![PublicValue { seq: 5, metric: metric("temp_c"), value: 1 }]
				.try_into()
				.expect("one value");
			assert_eq!(
				refused_at_pool(&call(device.signed(statement), None)),
				custom(Error::<Test>::ValueOutsideAnchor)
			);

			// A payload the device did not sign, or none where it signed one.
			assert_eq!(
				refused_at_pool(&call(device.anchor(0, 1), Some(b"sealed"))),
				custom(Error::<Test>::PayloadMismatch)
			);
			let mut statement = device.statement(0, 1);
			statement.payload_hash = Some(H256(sp_io::hashing::blake2_256(b"sealed")));
			assert_eq!(
				refused_at_pool(&call(device.signed(statement), None)),
				custom(Error::<Test>::PayloadMismatch)
			);

			let mut statement = device.statement(0, 1);
			statement.time.last_ms = NOW_MS + MaxClockDrift::get() + 1;
			assert_eq!(
				refused_at_pool(&call(device.signed(statement), None)),
				custom(Error::<Test>::FutureTimestamp)
			);
		});
	}

	#[test]
	fn a_block_takes_at_most_max_anchors_per_block_of_a_device() {
		let (device, other) = (thermometer(), pump());
		ExtBuilder::new().with_device(&device).with_device(&other).build_and_execute(|| {
			buy(&device, 5);
			buy(&other, 1);
			let limit = MaxAnchorsPerBlock::get() as u64;
			for seq in 0..limit {
				assert_ok!(include(call(device.anchor(seq, 1), None)));
			}
			let over = call(device.anchor(limit, 1), None);
			assert_eq!(refused_in_block(&over), InvalidTransaction::ExhaustsResources.into());
			// The pool keeps it for the next block; other devices anchor on.
			assert!(authorize(&over, TransactionSource::External).is_ok());
			assert_ok!(include(call(other.anchor(0, 1), None)));

			System::set_block_number(2);
			assert_ok!(include(over));
			assert_eq!(DeviceStates::<Test>::get(device.id()).expect("anchored").block_anchors, 1);
		});
	}

	#[test]
	fn signed_anchors_count_toward_the_block_limit() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 1);
			for seq in 0..MaxAnchorsPerBlock::get() as u64 {
				assert_ok!(Telemetry::anchor(
					RuntimeOrigin::signed(OWNER),
					device.anchor(seq, 1),
					None
				));
			}
			let next = MaxAnchorsPerBlock::get() as u64;
			assert_eq!(
				refused_in_block(&call(device.anchor(next, 1), None)),
				InvalidTransaction::ExhaustsResources.into()
			);
		});
	}
}

mod device_anchor {
	use super::*;

	#[test]
	fn spends_a_credit_and_records_the_device_as_submitter() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 2);
			let payload = b"sealed readings";
			let mut statement = device.statement(0, 4);
			statement.payload_hash = Some(H256(sp_io::hashing::blake2_256(payload)));
			assert_ok!(include(call(device.signed(statement.clone()), Some(payload))));

			let state = DeviceStates::<Test>::get(device.id()).expect("anchored");
			assert_eq!((state.credits, state.next_seq, state.anchors), (1, 4, 1));
			assert_eq!(state.block_anchors, 1);
			let record = match telemetry_events().last() {
				Some(Event::Anchored { record }) => record.clone(),
				other => panic!("expected Anchored, got {other:?}"),
			};
			assert_eq!(record.submitter, device.account());
			assert_eq!((record.first_seq, record.count, record.root), (0, 4, statement.root));
			assert_eq!(record.payload_hash, statement.payload_hash);
		});
	}

	#[test]
	fn raises_alerts_like_a_signed_anchor() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 1);
			assert_ok!(Telemetry::set_alert_rule(
				RuntimeOrigin::signed(OWNER),
				device.id(),
				metric("temp_c"),
				Some(2_000),
				Some(8_000)
			));
			assert_ok!(include(call(device.anchor_with_values(0, &[("temp_c", 9_500)]), None)));
			assert!(telemetry_events()
				.iter()
				.any(|event| matches!(event, Event::AlertRaised { value: 9_500, .. })));
		});
	}

	#[test]
	fn the_last_credit_is_the_last_anchor() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 1);
			assert_ok!(include(call(device.anchor(0, 1), None)));
			assert_eq!(credits_of(&device), 0);
			assert_eq!(
				refused_at_pool(&call(device.anchor(1, 1), None)),
				InvalidTransaction::Payment.into()
			);
		});
	}

	#[test]
	fn fails_for_any_origin_but_the_authorization() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 1);
			for origin in [
				RuntimeOrigin::signed(OWNER),
				RuntimeOrigin::signed(device.account()),
				RuntimeOrigin::none(),
				RuntimeOrigin::root(),
			] {
				assert_noop!(
					Telemetry::device_anchor(origin, device.anchor(0, 1), None),
					BadOrigin
				);
			}
		});
	}

	// The dispatch repeats the cheap checks, so that an `Authorized` origin made some other
	// way cannot spend credits the device does not have or anchor out of order.
	#[test]
	fn fails_without_credit_even_when_authorized() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_noop!(
				Telemetry::device_anchor(
					frame_system::RawOrigin::Authorized.into(),
					device.anchor(0, 1),
					None
				),
				Error::<Test>::OutOfCredits
			);
		});
	}

	#[test]
	fn fails_out_of_order_even_when_authorized() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 1);
			assert_noop!(
				Telemetry::device_anchor(
					frame_system::RawOrigin::Authorized.into(),
					device.anchor(2, 1),
					None
				),
				Error::<Test>::NotNextSequence
			);
		});
	}

	#[test]
	fn fails_for_a_replay_or_an_empty_anchor_even_when_authorized() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 2);
			let anchor = device.anchor(0, 1);
			assert_ok!(include(call(anchor.clone(), None)));
			let authorized = || frame_system::RawOrigin::Authorized.into();
			assert_noop!(
				Telemetry::device_anchor(authorized(), anchor, None),
				Error::<Test>::StaleSequence
			);
			assert_noop!(
				Telemetry::device_anchor(authorized(), device.signed(device.statement(1, 0)), None),
				Error::<Test>::EmptyAnchor
			);
		});
	}

	#[test]
	fn fails_for_a_suspended_device_even_when_authorized() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 1);
			Directory::set_status(device.id(), DeviceStatus::Suspended);
			assert_noop!(
				Telemetry::device_anchor(
					frame_system::RawOrigin::Authorized.into(),
					device.anchor(0, 1),
					None
				),
				Error::<Test>::NotActive
			);
		});
	}

	#[test]
	fn fails_over_the_block_limit_even_when_authorized() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 5);
			for seq in 0..MaxAnchorsPerBlock::get() as u64 {
				assert_ok!(include(call(device.anchor(seq, 1), None)));
			}
			assert_noop!(
				Telemetry::device_anchor(
					frame_system::RawOrigin::Authorized.into(),
					device.anchor(MaxAnchorsPerBlock::get() as u64, 1),
					None
				),
				Error::<Test>::RateLimited
			);
		});
	}
}

mod refunds {
	use super::*;
	use frame_support::{dispatch::GetDispatchInfo, weights::Weight, BoundedVec};

	type W = ();

	#[test]
	fn a_device_anchor_pays_for_the_peaks_its_log_has() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			buy(&device, 8);
			for seq in 0..7u64 {
				// The log holds `seq` anchors: one peak per set bit.
				let anchor = device.anchor(seq, 1);
				let declared = call(anchor.clone(), None).get_dispatch_info().call_weight;
				assert_eq!(declared, W::device_anchor(0, MAX_LOG_PEAKS));
				// A valid authorization gives back the base weight's sender signature check.
				let (_, unspent) = call(anchor.clone(), None)
					.authorize(TransactionSource::InBlock)
					.expect("device_anchor is authorized by the pallet")
					.expect("valid");
				assert_eq!(unspent, SenderWeight::get());
				let origin = frame_system::RawOrigin::Authorized.into();
				let info = Telemetry::device_anchor(origin, anchor, None).expect("anchored");
				let actual = W::device_anchor(0, seq.count_ones());
				assert_eq!(info.actual_weight, Some(actual));
				let refunded = actual.ref_time() < declared.ref_time();
				assert!(refunded, "{actual:?} refunds part of {declared:?}");
				System::set_block_number(System::block_number() + 1);
			}
		});
	}

	#[test]
	fn a_signed_anchor_pays_for_the_peaks_its_log_has_and_the_search_it_made() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			Directory::grant(GATEWAY, device.id(), Grant::Submit);
			for seq in 0..6u64 {
				let anchor = device.anchor(seq, 1);
				let declared =
					TelemetryCall::<Test>::anchor { anchor: anchor.clone(), payload: None }
						.get_dispatch_info()
						.call_weight;
				assert_eq!(declared, W::anchor(0, MAX_LOG_PEAKS).saturating_add(LONGEST_SEARCH));
				// The owner's right needs no search; the gateway's is found on the device.
				let (who, search) =
					if seq % 2 == 0 { (OWNER, Weight::zero()) } else { (GATEWAY, DIRECT_SEARCH) };
				let info =
					Telemetry::anchor(RuntimeOrigin::signed(who), anchor, None).expect("anchored");
				let actual = W::anchor(0, seq.count_ones()).saturating_add(search);
				assert_eq!(info.actual_weight, Some(actual));
			}
		});
	}

	#[test]
	fn a_batch_is_charged_for_what_its_items_carry() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let declared = |items: Vec<BatchItem<MaxPublicValues, MaxPayloadLen>>| {
				let items: BoundedVec<_, MaxBatchLen> =
					items.try_into().expect("within MaxBatchLen");
				TelemetryCall::<Test>::anchor_batch { items }.get_dispatch_info().call_weight
			};
			let lean = |seq| BatchItem { anchor: device.anchor(seq, 1), payload: None };
			let valued = |values: &[(&str, i64)]| BatchItem {
				anchor: device.anchor_with_values(1, values),
				payload: None,
			};
			let two_lean = declared(vec![lean(0), lean(1)]);
			let one_value = declared(vec![lean(0), valued(&[("temp_c", 1)])]);
			let two_values = declared(vec![lean(0), valued(&[("temp_c", 1), ("rh", 2)])]);
			// An item with public values pays what the costliest item costs beyond a lean one,
			// however many values it has, and never nothing: the benchmarks' fitted lines may
			// cross at a few items, where their difference alone would make it free.
			let carrying = one_value.saturating_sub(two_lean);
			assert!(carrying.ref_time() > 0, "an item with public values is charged for them");
			assert_eq!(two_values, one_value);
			for n in 1..=MaxBatchLen::get() {
				let measured =
					W::anchor_batch_costliest(n).saturating_sub(W::anchor_batch_full_logs(n));
				let charged = carrying.saturating_mul(n.into());
				assert!(charged.all_gte(measured), "{n} items: {charged:?} < {measured:?}");
			}

			let mut paying = lean(1);
			paying.anchor.statement.payload_hash = Some(H256::repeat_byte(1));
			paying.payload = Some(
				vec![0u8; MaxPayloadLen::get() as usize].try_into().expect("within MaxPayloadLen"),
			);
			let bytes = declared(vec![lean(0), paying]).saturating_sub(two_lean);
			assert_eq!(
				bytes,
				W::authorize_device_anchor(MaxPayloadLen::get(), 0)
					.saturating_sub(W::authorize_device_anchor(0, 0)),
				"the payload's bytes hashed"
			);
		});
	}

	#[test]
	fn a_batch_is_refunded_what_its_accepted_anchors_did_not_need() {
		let (device, other) = (thermometer(), pump());
		ExtBuilder::new().with_device(&device).with_device(&other).build_and_execute(|| {
			// The thermometer's log has 3 anchors (2 peaks); the pump's none.
			for seq in 0..3 {
				assert_ok!(Telemetry::anchor(
					RuntimeOrigin::signed(OWNER),
					device.anchor(seq, 1),
					None
				));
			}
			let items: BoundedVec<_, MaxBatchLen> = vec![
				BatchItem { anchor: device.anchor(3, 1), payload: None },
				BatchItem { anchor: other.anchor(0, 1), payload: None },
				// Stale: refused, and charged in full.
				BatchItem { anchor: device.anchor(0, 1), payload: None },
			]
			.try_into()
			.expect("within MaxBatchLen");
			let declared = TelemetryCall::<Test>::anchor_batch { items: items.clone() }
				.get_dispatch_info()
				.call_weight;
			let info =
				Telemetry::anchor_batch(RuntimeOrigin::signed(OWNER), items).expect("processed");
			let most = Telemetry::batch_log_weight(MAX_LOG_PEAKS);
			// Each accepted anchor: the peaks its log lacked, and the whole search (the owner
			// needs none).
			let unused: Weight = [2, 0].iter().fold(Weight::zero(), |sum, peaks| {
				let log = most.saturating_sub(Telemetry::batch_log_weight(*peaks));
				sum.saturating_add(log).saturating_add(LONGEST_SEARCH)
			});
			assert_eq!(info.actual_weight, Some(declared.saturating_sub(unused)));
			assert!(unused.ref_time() > 0);
		});
	}
}
