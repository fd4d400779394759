//! Telemetry's behaviour, call by call, error by error.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, BoundedVec};
use provena_primitives::telemetry::{batch_proof, chain_link, Reading};
use sp_core::{Pair, H256};
use sp_runtime::{DispatchError, DispatchResult, MultiSignature};

type Event = crate::Event<Test>;

fn thermometer() -> TestDevice {
	TestDevice::sr(10, "//thermometer")
}

fn monitor() -> TestDevice {
	TestDevice::ed(11, "//ward-3-ecg")
}

fn submit(who: &sp_runtime::AccountId32, anchor: Anchor<MaxPublicValues>) -> DispatchResult {
	Telemetry::anchor(RuntimeOrigin::signed(who.clone()), anchor, None)
}

fn batch(items: Vec<Anchor<MaxPublicValues>>) -> BoundedVec<BatchItemOf<Test>, MaxBatchLen> {
	items
		.into_iter()
		.map(|anchor| BatchItem { anchor, payload: None })
		.collect::<Vec<_>>()
		.try_into()
		.expect("within MaxBatchLen")
}

fn leaves(device: &TestDevice, first_seq: Seq, count: u64) -> Vec<H256> {
	(first_seq..first_seq + count).map(|seq| device.reading(seq).leaf()).collect()
}

fn telemetry_events() -> Vec<Event> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Telemetry(event) => Some(event),
			_ => None,
		})
		.collect()
}

mod anchor {
	use super::*;

	#[test]
	fn a_single_reading_is_anchored_with_its_leaf_as_root() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let anchor = device.anchor(0, 1);
			assert_eq!(anchor.statement.root, device.reading(0).leaf());

			assert_ok!(submit(&OWNER, anchor.clone()));

			System::assert_last_event(
				Event::Anchored {
					device: device.id(),
					index: 0,
					first_seq: 0,
					count: 1,
					root: anchor.statement.root,
					submitter: OWNER,
				}
				.into(),
			);
			let record = Anchors::<Test>::get(device.id(), 0).expect("stored");
			assert_eq!(record.first_seq, 0);
			assert_eq!(record.count, 1);
			assert_eq!(record.device_time, anchor.statement.time);
			assert_eq!(record.block, 1);
			assert_eq!(record.chain_time_ms, NOW_MS);
			assert_eq!(record.submitter, OWNER);
			let state = DeviceStates::<Test>::get(device.id()).expect("stored");
			assert_eq!(state.next_seq, 1);
			assert_eq!(state.anchors, 1);
			assert_eq!(state.readings, 1);
			assert_eq!(state.missing, 0);
			assert_eq!(state.last_device_time_ms, anchor.statement.time.last_ms);
			assert_eq!(
				state.head,
				chain_link(&H256::zero(), &device.id(), 0, 1, &anchor.statement.root)
			);
		});
	}

	#[test]
	fn a_merkle_batch_is_anchored_under_its_root() {
		let device = monitor();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let anchor = device.anchor(0, 8);
			assert_eq!(
				anchor.statement.root,
				provena_primitives::telemetry::batch_root(&leaves(&device, 0, 8))
			);

			assert_ok!(submit(&OWNER, anchor.clone()));

			let state = Telemetry::device_state(device.id()).expect("anchored");
			assert_eq!((state.next_seq, state.anchors, state.readings), (8, 1, 8));
			System::assert_last_event(
				Event::Anchored {
					device: device.id(),
					index: 0,
					first_seq: 0,
					count: 8,
					root: anchor.statement.root,
					submitter: OWNER,
				}
				.into(),
			);
		});
	}

	#[test]
	fn consecutive_anchors_extend_the_hash_chain() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let first = device.anchor(0, 4);
			let second = device.anchor(4, 1);
			assert_ok!(submit(&OWNER, first.clone()));
			assert_ok!(submit(&OWNER, second.clone()));

			let head = chain_link(&H256::zero(), &device.id(), 0, 4, &first.statement.root);
			let head = chain_link(&head, &device.id(), 4, 1, &second.statement.root);
			let state = DeviceStates::<Test>::get(device.id()).unwrap();
			assert_eq!(state.head, head);
			assert_eq!((state.next_seq, state.anchors, state.readings), (5, 2, 5));
			assert_eq!(Anchors::<Test>::get(device.id(), 1).unwrap().first_seq, 4);
		});
	}

	#[test]
	fn the_device_itself_may_anchor() {
		let device = monitor();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(submit(&device.account(), device.anchor(0, 1)));
			assert_eq!(Anchors::<Test>::get(device.id(), 0).unwrap().submitter, device.account());
		});
	}

	#[test]
	fn a_gateway_anchors_only_while_it_holds_a_submit_grant() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_noop!(submit(&GATEWAY, device.anchor(0, 1)), Error::<Test>::NotAuthorized);

			Directory::grant(GATEWAY, device.id(), Grant::Submit);
			assert_ok!(submit(&GATEWAY, device.anchor(0, 1)));

			Directory::revoke(GATEWAY, device.id(), Grant::Submit);
			assert_noop!(submit(&GATEWAY, device.anchor(1, 1)), Error::<Test>::NotAuthorized);
		});
	}

	#[test]
	fn a_manage_grant_does_not_let_anyone_anchor() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			Directory::grant(GATEWAY, device.id(), Grant::Manage);
			assert_noop!(submit(&GATEWAY, device.anchor(0, 1)), Error::<Test>::NotAuthorized);
		});
	}

	#[test]
	fn anchor_fails_for_a_stranger() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_noop!(submit(&STRANGER, device.anchor(0, 1)), Error::<Test>::NotAuthorized);
		});
	}

	#[test]
	fn anchor_fails_for_an_unknown_device() {
		let device = thermometer();
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(submit(&OWNER, device.anchor(0, 1)), Error::<Test>::NotFound);
		});
	}

	#[test]
	fn anchor_fails_when_unsigned() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_noop!(
				Telemetry::anchor(RuntimeOrigin::none(), device.anchor(0, 1), None),
				DispatchError::BadOrigin
			);
		});
	}

	#[test]
	fn anchor_fails_with_another_keys_signature() {
		let device = thermometer();
		let impostor = TestDevice::sr(10, "//impostor");
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_noop!(submit(&OWNER, impostor.anchor(0, 1)), Error::<Test>::BadSignature);
		});
	}

	#[test]
	fn anchor_fails_when_the_statement_was_altered_after_signing() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let mut altered_root = device.anchor(0, 2);
			altered_root.statement.root = device.reading(9).leaf();
			assert_noop!(submit(&OWNER, altered_root), Error::<Test>::BadSignature);

			let mut altered_count = device.anchor(0, 2);
			altered_count.statement.count = 3;
			assert_noop!(submit(&OWNER, altered_count), Error::<Test>::BadSignature);

			let mut altered_values = device.anchor_with_values(0, &[("temp_c", 4_000)]);
			altered_values.statement.values[0].value = 20_000;
			assert_noop!(submit(&OWNER, altered_values), Error::<Test>::BadSignature);
		});
	}

	#[test]
	fn anchor_fails_when_signed_for_another_chain() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let statement = device.statement(0, 1);
			let TestDevice::Sr(_, pair) = &device else { unreachable!() };
			let other_chain = statement.signing_hash(&H256::repeat_byte(0xaa));
			let anchor =
				Anchor { statement, signature: MultiSignature::Sr25519(pair.sign(&other_chain)) };
			assert_noop!(submit(&OWNER, anchor), Error::<Test>::BadSignature);
		});
	}

	#[test]
	fn a_signature_of_the_wrong_scheme_is_refused() {
		let device = monitor();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let statement = device.statement(0, 1);
			let TestDevice::Ed(_, pair) = &device else { unreachable!() };
			let signature = pair.sign(&statement.signing_hash(&genesis_hash()));
			// The same 64 bytes presented as an sr25519 signature.
			let anchor = Anchor {
				statement,
				signature: MultiSignature::Sr25519(sp_core::sr25519::Signature::from_raw(
					signature.0,
				)),
			};
			assert_noop!(submit(&OWNER, anchor), Error::<Test>::BadSignature);
		});
	}

	#[test]
	fn after_a_key_rotation_the_old_key_is_refused_and_the_new_accepted() {
		let device = thermometer();
		let replacement = TestDevice::sr(10, "//thermometer//replacement");
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(submit(&OWNER, device.anchor(0, 1)));
			Directory::rotate_key(device.id(), replacement.key());

			assert_noop!(submit(&OWNER, device.anchor(1, 1)), Error::<Test>::BadSignature);
			assert_ok!(submit(&OWNER, replacement.anchor(1, 1)));
			// The anchor signed with the old key stays on record.
			assert_eq!(DeviceStates::<Test>::get(device.id()).unwrap().anchors, 2);
		});
	}

	#[test]
	fn anchor_fails_while_the_device_is_suspended_and_works_once_resumed() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			Directory::set_status(device.id(), DeviceStatus::Suspended);
			assert_noop!(submit(&OWNER, device.anchor(0, 1)), Error::<Test>::NotActive);
			assert_noop!(submit(&device.account(), device.anchor(0, 1)), Error::<Test>::NotActive);

			Directory::set_status(device.id(), DeviceStatus::Active);
			assert_ok!(submit(&OWNER, device.anchor(0, 1)));
		});
	}

	#[test]
	fn anchor_fails_for_a_decommissioned_device() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(submit(&OWNER, device.anchor(0, 1)));
			Directory::set_status(device.id(), DeviceStatus::Decommissioned);
			assert_noop!(submit(&OWNER, device.anchor(1, 1)), Error::<Test>::NotActive);
		});
	}

	#[test]
	fn a_replayed_anchor_is_refused() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let anchor = device.anchor(0, 3);
			assert_ok!(submit(&OWNER, anchor.clone()));
			assert_noop!(submit(&OWNER, anchor), Error::<Test>::StaleSequence);
		});
	}

	#[test]
	fn a_reordered_anchor_is_refused() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let late = device.anchor(5, 1);
			let early = device.anchor(3, 1);
			assert_ok!(submit(&OWNER, late));
			assert_noop!(submit(&OWNER, early), Error::<Test>::StaleSequence);
			// An anchor overlapping the last one is refused as well.
			assert_noop!(submit(&OWNER, device.anchor(5, 2)), Error::<Test>::StaleSequence);
		});
	}

	#[test]
	fn a_jump_emits_a_gap_with_the_missing_range() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(submit(&OWNER, device.anchor(0, 3)));
			assert_ok!(submit(&OWNER, device.anchor(7, 2)));

			let events = telemetry_events();
			assert!(events.contains(&Event::SequenceGap { device: device.id(), from: 3, to: 6 }));
			assert_eq!(events.iter().filter(|e| matches!(e, Event::SequenceGap { .. })).count(), 1);
			let state = DeviceStates::<Test>::get(device.id()).unwrap();
			assert_eq!((state.next_seq, state.readings, state.missing), (9, 5, 4));
		});
	}

	#[test]
	fn a_first_anchor_above_zero_reports_the_readings_before_it() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(submit(&OWNER, device.anchor(2, 1)));
			assert!(telemetry_events().contains(&Event::SequenceGap {
				device: device.id(),
				from: 0,
				to: 1
			}));
		});
	}

	#[test]
	fn consecutive_anchors_emit_no_gap() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(submit(&OWNER, device.anchor(0, 2)));
			assert_ok!(submit(&OWNER, device.anchor(2, 2)));
			assert!(!telemetry_events().iter().any(|e| matches!(e, Event::SequenceGap { .. })));
		});
	}

	#[test]
	fn anchor_fails_when_readings_claim_a_future_time() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let mut statement = device.statement(0, 1);
			statement.time =
				TimeRange { first_ms: NOW_MS, last_ms: NOW_MS + MaxClockDrift::get() + 1 };
			assert_noop!(
				submit(&OWNER, device.signed(statement.clone())),
				Error::<Test>::FutureTimestamp
			);

			// Exactly the allowed drift is fine.
			statement.time.last_ms = NOW_MS + MaxClockDrift::get();
			assert_ok!(submit(&OWNER, device.signed(statement)));
		});
	}

	#[test]
	fn anchor_fails_when_its_time_range_is_inverted() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let mut statement = device.statement(0, 2);
			statement.time = TimeRange { first_ms: NOW_MS, last_ms: NOW_MS - 1 };
			assert_noop!(submit(&OWNER, device.signed(statement)), Error::<Test>::BadTimeRange);
		});
	}

	#[test]
	fn anchor_fails_when_it_commits_no_readings() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let mut statement = device.statement(0, 1);
			statement.count = 0;
			assert_noop!(submit(&OWNER, device.signed(statement)), Error::<Test>::EmptyAnchor);
		});
	}

	#[test]
	fn anchor_fails_when_its_range_overflows() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let mut statement = device.statement(0, 1);
			statement.first_seq = u64::MAX;
			assert_noop!(
				submit(&OWNER, device.signed(statement.clone())),
				Error::<Test>::SequenceOverflow
			);
			statement.first_seq = u64::MAX - 1;
			statement.count = 3;
			assert_noop!(submit(&OWNER, device.signed(statement)), Error::<Test>::SequenceOverflow);
		});
	}

	#[test]
	fn anchor_fails_when_a_public_value_is_outside_its_range() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let mut statement = device.statement(4, 2);
			statement.values = vec![PublicValue { seq: 6, metric: metric("temp_c"), value: 1 }]
				.try_into()
				.unwrap();
			assert_noop!(
				submit(&OWNER, device.signed(statement)),
				Error::<Test>::ValueOutsideAnchor
			);
		});
	}

	#[test]
	fn a_payload_travels_in_the_call_but_is_never_stored() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let payload: Vec<u8> = b"sealed:0123456789abcdef0123456789abcdef".to_vec();
			assert_ok!(Telemetry::anchor(
				RuntimeOrigin::signed(OWNER),
				device.anchor(0, 1),
				Some(payload.clone().try_into().unwrap()),
			));
			assert!(Anchors::<Test>::contains_key(device.id(), 0));

			// Walk all of storage: no value holds the payload.
			let mut key = Vec::new();
			while let Some(next) = sp_io::storage::next_key(&key) {
				let value = sp_io::storage::get(&next).unwrap_or_default();
				assert!(!value.windows(payload.len()).any(|window| window == &payload[..]));
				key = next;
			}
		});
	}
}

mod batch {
	use super::*;

	fn anchor_batch(
		who: &sp_runtime::AccountId32,
		items: Vec<Anchor<MaxPublicValues>>,
	) -> DispatchResult {
		Telemetry::anchor_batch(RuntimeOrigin::signed(who.clone()), batch(items))
	}

	#[test]
	fn a_gateway_batch_anchors_many_devices_at_once() {
		let (a, b) = (thermometer(), monitor());
		ExtBuilder::new().with_device(&a).with_device(&b).build_and_execute(|| {
			Directory::grant(GATEWAY, a.id(), Grant::Submit);
			Directory::grant(GATEWAY, b.id(), Grant::Submit);

			assert_ok!(anchor_batch(
				&GATEWAY,
				vec![a.anchor(0, 4), b.anchor(0, 1), a.anchor(4, 2)]
			));

			System::assert_last_event(
				Event::BatchProcessed { submitter: GATEWAY, accepted: 3, rejected: 0 }.into(),
			);
			assert_eq!(DeviceStates::<Test>::get(a.id()).unwrap().next_seq, 6);
			assert_eq!(DeviceStates::<Test>::get(b.id()).unwrap().next_seq, 1);
		});
	}

	#[test]
	fn one_bad_anchor_is_reported_and_the_good_ones_are_kept() {
		let (a, b) = (thermometer(), monitor());
		let impostor = TestDevice::ed(11, "//impostor");
		let unknown = TestDevice::sr(99, "//unknown");
		ExtBuilder::new().with_device(&a).with_device(&b).build_and_execute(|| {
			Directory::grant(GATEWAY, a.id(), Grant::Submit);
			Directory::grant(GATEWAY, b.id(), Grant::Submit);

			assert_ok!(anchor_batch(
				&GATEWAY,
				vec![a.anchor(0, 2), impostor.anchor(0, 1), unknown.anchor(0, 1), b.anchor(0, 1)],
			));

			let events = telemetry_events();
			assert!(events.contains(&Event::AnchorRejected {
				position: 1,
				device: b.id(),
				first_seq: 0,
				error: Error::<Test>::BadSignature.into(),
			}));
			assert!(events.contains(&Event::AnchorRejected {
				position: 2,
				device: unknown.id(),
				first_seq: 0,
				error: Error::<Test>::NotFound.into(),
			}));
			System::assert_last_event(
				Event::BatchProcessed { submitter: GATEWAY, accepted: 2, rejected: 2 }.into(),
			);
			// The good anchors are stored, the refused one left nothing behind.
			assert_eq!(DeviceStates::<Test>::get(a.id()).unwrap().next_seq, 2);
			assert_eq!(DeviceStates::<Test>::get(b.id()).unwrap().anchors, 1);
			assert_eq!(Anchors::<Test>::get(b.id(), 0).unwrap().count, 1);
			assert!(DeviceStates::<Test>::get(unknown.id()).is_none());
		});
	}

	#[test]
	fn a_refused_anchor_emits_none_of_its_events() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(Telemetry::set_alert_rule(
				RuntimeOrigin::signed(OWNER),
				device.id(),
				metric("temp_c"),
				Some(2_000),
				Some(8_000),
			));
			// A gap and an alert that would be raised, but the signature is bad.
			let mut bad = device.anchor_with_values(5, &[("temp_c", 30_000)]);
			bad.statement.root = H256::repeat_byte(1);
			System::reset_events();
			assert_ok!(anchor_batch(&OWNER, vec![bad]));
			let events = telemetry_events();
			assert_eq!(events.len(), 2, "{events:?}");
			assert!(matches!(events[0], Event::AnchorRejected { position: 0, .. }));
			assert!(DeviceStates::<Test>::get(device.id()).is_none());
		});
	}

	#[test]
	fn anchors_of_one_device_in_a_batch_are_checked_in_order() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(anchor_batch(&OWNER, vec![device.anchor(2, 1), device.anchor(0, 2)]));
			System::assert_last_event(
				Event::BatchProcessed { submitter: OWNER, accepted: 1, rejected: 1 }.into(),
			);
			assert!(telemetry_events().contains(&Event::AnchorRejected {
				position: 1,
				device: device.id(),
				first_seq: 0,
				error: Error::<Test>::StaleSequence.into(),
			}));
		});
	}

	#[test]
	fn a_gateway_without_grants_gets_every_anchor_rejected() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(anchor_batch(&GATEWAY, vec![device.anchor(0, 1)]));
			System::assert_last_event(
				Event::BatchProcessed { submitter: GATEWAY, accepted: 0, rejected: 1 }.into(),
			);
			assert!(DeviceStates::<Test>::get(device.id()).is_none());
		});
	}

	#[test]
	fn an_empty_batch_is_refused() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(anchor_batch(&OWNER, vec![]), Error::<Test>::EmptyBatch);
		});
	}

	#[test]
	fn anchor_batch_fails_when_unsigned() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_noop!(
				Telemetry::anchor_batch(RuntimeOrigin::none(), batch(vec![device.anchor(0, 1)])),
				DispatchError::BadOrigin
			);
		});
	}
}

mod alerts {
	use super::*;

	fn set(
		who: &sp_runtime::AccountId32,
		device: &TestDevice,
		min: Option<i64>,
		max: Option<i64>,
	) -> DispatchResult {
		Telemetry::set_alert_rule(
			RuntimeOrigin::signed(who.clone()),
			device.id(),
			metric("temp_c"),
			min,
			max,
		)
	}

	fn alerts() -> Vec<Event> {
		telemetry_events().into_iter().filter(|e| matches!(e, Event::AlertRaised { .. })).collect()
	}

	#[test]
	fn values_inside_the_bounds_raise_nothing() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(set(&OWNER, &device, Some(2_000), Some(8_000)));
			assert_ok!(submit(&OWNER, device.anchor_with_values(0, &[("temp_c", 2_000)])));
			assert_ok!(submit(&OWNER, device.anchor_with_values(1, &[("temp_c", 8_000)])));
			assert!(alerts().is_empty());
		});
	}

	#[test]
	fn a_value_outside_the_bounds_raises_an_alert() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(set(&OWNER, &device, Some(2_000), Some(8_000)));
			assert_ok!(submit(
				&OWNER,
				device.anchor_with_values(0, &[("temp_c", 8_001), ("humidity_pct", 99_000)]),
			));
			assert_ok!(submit(&OWNER, device.anchor_with_values(1, &[("temp_c", 1_999)])));

			assert_eq!(
				alerts(),
				vec![
					Event::AlertRaised {
						device: device.id(),
						seq: 0,
						metric: metric("temp_c"),
						value: 8_001,
						min: Some(2_000),
						max: Some(8_000),
					},
					Event::AlertRaised {
						device: device.id(),
						seq: 1,
						metric: metric("temp_c"),
						value: 1_999,
						min: Some(2_000),
						max: Some(8_000),
					},
				]
			);
		});
	}

	#[test]
	fn a_one_sided_rule_watches_one_side() {
		let device = monitor();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(set(&OWNER, &device, None, Some(8_000)));
			assert_ok!(submit(&OWNER, device.anchor_with_values(0, &[("temp_c", i64::MIN)])));
			assert!(alerts().is_empty());
			assert_ok!(submit(&OWNER, device.anchor_with_values(1, &[("temp_c", 8_001)])));
			assert_eq!(alerts().len(), 1);
		});
	}

	#[test]
	fn values_of_a_batch_are_checked_with_their_sequence_numbers() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(set(&OWNER, &device, Some(2_000), Some(8_000)));
			let mut statement = device.statement(10, 5);
			statement.values = vec![
				PublicValue { seq: 10, metric: metric("temp_c"), value: 4_000 },
				PublicValue { seq: 13, metric: metric("temp_c"), value: 9_500 },
			]
			.try_into()
			.unwrap();
			assert_ok!(submit(&OWNER, device.signed(statement)));
			assert_eq!(
				alerts(),
				vec![Event::AlertRaised {
					device: device.id(),
					seq: 13,
					metric: metric("temp_c"),
					value: 9_500,
					min: Some(2_000),
					max: Some(8_000),
				}]
			);
		});
	}

	#[test]
	fn setting_a_rule_again_replaces_it() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(set(&OWNER, &device, Some(2_000), Some(8_000)));
			assert_ok!(set(&OWNER, &device, Some(-20_000), Some(-15_000)));
			System::assert_last_event(
				Event::AlertRuleSet {
					device: device.id(),
					rule: AlertRule {
						metric: metric("temp_c"),
						min: Some(-20_000),
						max: Some(-15_000),
					},
				}
				.into(),
			);
			assert_eq!(AlertRules::<Test>::get(device.id()).len(), 1);
			assert_ok!(submit(&OWNER, device.anchor_with_values(0, &[("temp_c", 4_000)])));
			assert_eq!(alerts().len(), 1);
		});
	}

	#[test]
	fn a_manage_grantee_sets_and_clears_rules() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			Directory::grant(GATEWAY, device.id(), Grant::Manage);
			assert_ok!(set(&GATEWAY, &device, Some(2_000), None));
			assert_ok!(Telemetry::clear_alert_rule(
				RuntimeOrigin::signed(GATEWAY),
				device.id(),
				metric("temp_c")
			));
			System::assert_last_event(
				Event::AlertRuleCleared { device: device.id(), metric: metric("temp_c") }.into(),
			);
			assert!(!AlertRules::<Test>::contains_key(device.id()));
		});
	}

	#[test]
	fn clearing_one_rule_keeps_the_others() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(set(&OWNER, &device, Some(2_000), Some(8_000)));
			assert_ok!(Telemetry::set_alert_rule(
				RuntimeOrigin::signed(OWNER),
				device.id(),
				metric("humidity_pct"),
				None,
				Some(80_000),
			));
			assert_ok!(Telemetry::clear_alert_rule(
				RuntimeOrigin::signed(OWNER),
				device.id(),
				metric("temp_c")
			));
			let rules = AlertRules::<Test>::get(device.id());
			assert_eq!(rules.len(), 1);
			assert_eq!(rules[0].metric, metric("humidity_pct"));
		});
	}

	#[test]
	fn set_alert_rule_fails_for_an_unknown_device() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(set(&OWNER, &thermometer(), Some(1), None), Error::<Test>::NotFound);
		});
	}

	#[test]
	fn set_alert_rule_fails_for_a_decommissioned_device() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			Directory::set_status(device.id(), DeviceStatus::Decommissioned);
			assert_noop!(set(&OWNER, &device, Some(1), None), Error::<Test>::Decommissioned);
		});
	}

	#[test]
	fn set_alert_rule_fails_for_others_than_owner_and_manager() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_noop!(set(&STRANGER, &device, Some(1), None), Error::<Test>::NotAuthorized);
			// Neither the device itself nor a SUBMIT grantee manages it.
			Directory::grant(GATEWAY, device.id(), Grant::Submit);
			assert_noop!(set(&GATEWAY, &device, Some(1), None), Error::<Test>::NotAuthorized);
			assert_noop!(
				set(&device.account(), &device, Some(1), None),
				Error::<Test>::NotAuthorized
			);
		});
	}

	#[test]
	fn set_alert_rule_fails_without_bounds() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_noop!(set(&OWNER, &device, None, None), Error::<Test>::NoBounds);
		});
	}

	#[test]
	fn set_alert_rule_fails_with_inverted_bounds() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_noop!(
				set(&OWNER, &device, Some(8_000), Some(2_000)),
				Error::<Test>::InvertedBounds
			);
			assert_ok!(set(&OWNER, &device, Some(5_000), Some(5_000)));
		});
	}

	#[test]
	fn set_alert_rule_fails_beyond_the_rule_limit() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			for name in ["a", "b"] {
				assert_ok!(Telemetry::set_alert_rule(
					RuntimeOrigin::signed(OWNER),
					device.id(),
					metric(name),
					Some(0),
					None,
				));
			}
			assert_noop!(
				Telemetry::set_alert_rule(
					RuntimeOrigin::signed(OWNER),
					device.id(),
					metric("c"),
					Some(0),
					None
				),
				Error::<Test>::TooManyRules
			);
		});
	}

	#[test]
	fn set_alert_rule_fails_when_unsigned() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_noop!(
				Telemetry::set_alert_rule(
					RuntimeOrigin::none(),
					device.id(),
					metric("t"),
					Some(0),
					None
				),
				DispatchError::BadOrigin
			);
		});
	}

	#[test]
	fn clear_alert_rule_fails_without_such_a_rule() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_noop!(
				Telemetry::clear_alert_rule(
					RuntimeOrigin::signed(OWNER),
					device.id(),
					metric("temp_c")
				),
				Error::<Test>::RuleNotFound
			);
		});
	}

	#[test]
	fn clear_alert_rule_fails_for_an_unknown_device() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				Telemetry::clear_alert_rule(
					RuntimeOrigin::signed(OWNER),
					[42; 32],
					metric("temp_c")
				),
				Error::<Test>::NotFound
			);
		});
	}

	#[test]
	fn clear_alert_rule_fails_for_others_than_owner_and_manager() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(set(&OWNER, &device, Some(0), None));
			assert_noop!(
				Telemetry::clear_alert_rule(
					RuntimeOrigin::signed(STRANGER),
					device.id(),
					metric("temp_c")
				),
				Error::<Test>::NotAuthorized
			);
		});
	}

	#[test]
	fn clear_alert_rule_works_on_a_decommissioned_device() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(set(&OWNER, &device, Some(0), None));
			Directory::set_status(device.id(), DeviceStatus::Decommissioned);
			assert_ok!(Telemetry::clear_alert_rule(
				RuntimeOrigin::signed(OWNER),
				device.id(),
				metric("temp_c")
			));
		});
	}

	#[test]
	fn clear_alert_rule_fails_when_unsigned() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_noop!(
				Telemetry::clear_alert_rule(RuntimeOrigin::none(), device.id(), metric("temp_c")),
				DispatchError::BadOrigin
			);
		});
	}
}

mod queries {
	use super::*;

	/// Anchors 0..4 (index 0), a gap 4..10, 10 alone (index 1), 11..19 (index 2).
	fn anchor_history(device: &TestDevice) {
		assert_ok!(submit(&OWNER, device.anchor(0, 4)));
		assert_ok!(submit(&OWNER, device.anchor(10, 1)));
		assert_ok!(submit(&OWNER, device.anchor(11, 8)));
	}

	#[test]
	fn verify_reading_accepts_first_middle_and_last_leaf_of_a_batch() {
		let device = monitor();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			anchor_history(&device);
			let batch = leaves(&device, 11, 8);
			for position in [0u32, 3, 7] {
				let seq = 11 + u64::from(position);
				let proof = batch_proof(&batch, position).unwrap();
				let found =
					Telemetry::verify_reading(device.id(), seq, batch[position as usize], proof)
						.expect("anchored");
				assert_eq!(found.index, 2);
				assert_eq!((found.anchor.first_seq, found.anchor.count), (11, 8));
				assert_eq!(found.anchor.block, 1);
				assert_eq!(found.anchor.chain_time_ms, NOW_MS);
			}
		});
	}

	#[test]
	fn verify_reading_refuses_a_wrong_leaf_or_proof() {
		let device = monitor();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			anchor_history(&device);
			let batch = leaves(&device, 11, 8);
			let proof = batch_proof(&batch, 3).unwrap();

			// A tampered reading: same seq, another value.
			let mut tampered: Reading = device.reading(14);
			tampered.values[0].value += 1;
			assert_eq!(
				Telemetry::verify_reading(device.id(), 14, tampered.leaf(), proof.clone()),
				Err(VerifyError::ProofMismatch)
			);
			// The right leaf claimed at the wrong seq.
			assert_eq!(
				Telemetry::verify_reading(device.id(), 15, batch[3], proof.clone()),
				Err(VerifyError::ProofMismatch)
			);
			// A truncated proof.
			assert_eq!(
				Telemetry::verify_reading(device.id(), 14, batch[3], proof[1..].to_vec()),
				Err(VerifyError::ProofMismatch)
			);
		});
	}

	#[test]
	fn verify_reading_checks_single_reading_anchors_without_a_proof() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			anchor_history(&device);
			let found =
				Telemetry::verify_reading(device.id(), 10, device.reading(10).leaf(), vec![])
					.expect("anchored");
			assert_eq!(found.index, 1);
			assert_eq!(
				Telemetry::verify_reading(device.id(), 10, device.reading(11).leaf(), vec![]),
				Err(VerifyError::ProofMismatch)
			);
		});
	}

	#[test]
	fn verify_reading_says_what_was_never_anchored() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_eq!(
				Telemetry::verify_reading(device.id(), 0, device.reading(0).leaf(), vec![]),
				Err(VerifyError::UnknownDevice)
			);
			anchor_history(&device);
			for seq in [4, 9, 19, u64::MAX] {
				assert_eq!(
					Telemetry::verify_reading(device.id(), seq, device.reading(seq).leaf(), vec![]),
					Err(VerifyError::NotAnchored),
					"seq {seq}"
				);
			}
		});
	}

	#[test]
	fn anchors_lists_those_covering_a_range() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			anchor_history(&device);
			let indices = |from, to, limit| {
				Telemetry::anchors_between(device.id(), from, to, limit)
					.into_iter()
					.map(|found| found.index)
					.collect::<Vec<_>>()
			};
			assert_eq!(indices(0, u64::MAX, 100), vec![0, 1, 2]);
			assert_eq!(indices(3, 3, 100), vec![0]);
			assert_eq!(indices(4, 9, 100), Vec::<u64>::new());
			assert_eq!(indices(5, 10, 100), vec![1]);
			assert_eq!(indices(2, 12, 100), vec![0, 1, 2]);
			assert_eq!(indices(12, 40, 100), vec![2]);
			assert_eq!(indices(19, 40, 100), Vec::<u64>::new());
			assert_eq!(indices(0, u64::MAX, 2), vec![0, 1]);
			assert_eq!(indices(0, u64::MAX, 0), Vec::<u64>::new());
			assert!(Telemetry::anchors_between([0; 32], 0, u64::MAX, 10).is_empty());
		});
	}

	#[test]
	fn device_state_reports_counters_and_nothing_for_silent_devices() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_eq!(Telemetry::device_state(device.id()), None);
			anchor_history(&device);
			let state = Telemetry::device_state(device.id()).unwrap();
			assert_eq!(
				(state.next_seq, state.anchors, state.readings, state.missing),
				(19, 3, 13, 6)
			);
			assert_eq!(state.last_anchor_block, 1);
		});
	}
}

/// The pallet's side of the shared-encoding proof: the client (`client/tests/shared_encoding.rs`)
/// built and signed `fixtures/client-batch.hex`; the same bytes must anchor and verify here.
mod shared_encoding {
	use super::*;
	use codec::Decode;

	/// (genesis hash, device key, readings, signed anchor, proof of each reading).
	type Fixture = (H256, DeviceKey, Vec<Reading>, Anchor<MaxPublicValues>, Vec<Vec<H256>>);

	fn fixture() -> Fixture {
		let text = include_str!("../../../fixtures/client-batch.hex");
		let bytes = hex::decode(text.trim()).expect("the fixture is hex");
		Fixture::decode(&mut &bytes[..]).expect("the client's encoding decodes here")
	}

	#[test]
	fn a_batch_built_and_signed_by_the_client_anchors_and_every_reading_verifies() {
		let (genesis, key, readings, anchor, proofs) = fixture();
		let device = readings[0].device;
		ExtBuilder::new().build_and_execute(|| {
			frame_system::BlockHash::<Test>::insert(0, genesis);
			Directory::register(device, OWNER, key);
			assert_ok!(Telemetry::set_alert_rule(
				RuntimeOrigin::signed(OWNER),
				device,
				metric("heart_rate_bpm"),
				Some(40_000),
				Some(120_000),
			));

			assert_ok!(submit(&OWNER, anchor.clone()));

			assert_eq!(anchor.statement.count as usize, readings.len());
			for (reading, proof) in readings.iter().zip(proofs) {
				let found = Telemetry::verify_reading(device, reading.seq, reading.leaf(), proof)
					.unwrap_or_else(|e| panic!("reading {} does not verify: {e:?}", reading.seq));
				assert_eq!((found.index, found.anchor.first_seq), (0, 40));
			}
			// The gap before the first reading and the tachycardia are on-chain events.
			let events = telemetry_events();
			assert!(events.contains(&Event::SequenceGap { device, from: 0, to: 39 }));
			assert!(events.contains(&Event::AlertRaised {
				device,
				seq: 43,
				metric: metric("heart_rate_bpm"),
				value: 128_000,
				min: Some(40_000),
				max: Some(120_000),
			}));
		});
	}

	#[test]
	fn the_clients_anchor_is_refused_on_another_chain() {
		let (_, key, readings, anchor, _) = fixture();
		ExtBuilder::new().build_and_execute(|| {
			frame_system::BlockHash::<Test>::insert(0, H256::repeat_byte(0x99));
			Directory::register(readings[0].device, OWNER, key);
			assert_noop!(submit(&OWNER, anchor), Error::<Test>::BadSignature);
		});
	}
}
