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
		.map(|_| ())
		.map_err(|e| e.error)
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

/// The anchor of reading `seq` with `payload`, whose hash the device signed.
fn with_payload(device: &TestDevice, seq: Seq, payload: &[u8]) -> Anchor<MaxPublicValues> {
	let mut statement = device.statement(seq, 1);
	statement.payload_hash = Some(H256(sp_io::hashing::blake2_256(payload)));
	device.signed(statement)
}

/// OWNER anchors `anchor` with `payload`.
fn anchor_with(anchor: Anchor<MaxPublicValues>, payload: Option<&[u8]>) -> DispatchResult {
	let payload = payload.map(|p| p.to_vec().try_into().expect("within MaxPayloadLen"));
	Telemetry::anchor(RuntimeOrigin::signed(OWNER), anchor, payload)
		.map(|_| ())
		.map_err(|e| e.error)
}

/// The records of `device`'s anchors, as the `Anchored` events told them, in log order.
fn records_of(device: &TestDevice) -> Vec<AnchorRecordOf<Test>> {
	telemetry_events()
		.into_iter()
		.filter_map(|event| match event {
			Event::Anchored { record } if record.device == device.id() => Some(record),
			_ => None,
		})
		.collect()
}

/// The only record of `device` anchored so far.
fn only_record(device: &TestDevice) -> AnchorRecordOf<Test> {
	let records = records_of(device);
	assert_eq!(records.len(), 1, "{records:?}");
	records[0].clone()
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

			let record = AnchorRecord {
				device: device.id(),
				index: 0,
				first_seq: 0,
				count: 1,
				root: anchor.statement.root,
				device_time: anchor.statement.time,
				payload_hash: None,
				block: 1,
				chain_time_ms: NOW_MS,
				submitter: OWNER,
			};
			System::assert_last_event(Event::Anchored { record: record.clone() }.into());
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
			// The log holds the record alone: its one peak is the record's leaf.
			assert_eq!(state.peaks.to_vec(), vec![record.leaf()]);
			assert_eq!(state.log_root(), Some(record.leaf()));
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
			let record = only_record(&device);
			assert_eq!((record.index, record.first_seq, record.count), (0, 0, 8));
			assert_eq!(record.root, anchor.statement.root);
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
			let records = records_of(&device);
			assert_eq!(
				records.iter().map(|r| (r.index, r.first_seq)).collect::<Vec<_>>(),
				[(0, 0), (1, 4)]
			);
			// Two leaves make one mountain: the peak is the node over both records' leaves.
			assert_eq!(
				state.peaks.to_vec(),
				vec![provena_primitives::device_log::node(&records[0].leaf(), &records[1].leaf())]
			);
		});
	}

	#[test]
	fn the_device_itself_may_anchor() {
		let device = monitor();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(submit(&device.account(), device.anchor(0, 1)));
			assert_eq!(only_record(&device).submitter, device.account());
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
			assert_ok!(anchor_with(with_payload(&device, 0, &payload), Some(&payload)));
			let record = only_record(&device);
			assert_eq!(record.payload_hash, Some(H256(sp_io::hashing::blake2_256(&payload))));

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

mod payload_and_gaps {
	use super::*;

	#[test]
	fn anchor_fails_when_a_relayer_strips_the_signed_payload() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_noop!(
				anchor_with(with_payload(&device, 0, b"sealed readings"), None),
				Error::<Test>::PayloadMismatch
			);
		});
	}

	#[test]
	fn anchor_fails_when_a_relayer_swaps_the_payload() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_noop!(
				anchor_with(with_payload(&device, 0, b"sealed readings"), Some(b"other bytes")),
				Error::<Test>::PayloadMismatch
			);
			assert_ok!(anchor_with(
				with_payload(&device, 0, b"sealed readings"),
				Some(b"sealed readings")
			));
		});
	}

	#[test]
	fn anchor_fails_when_a_relayer_adds_a_payload_the_device_did_not_sign() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_noop!(
				anchor_with(device.anchor(0, 1), Some(b"injected")),
				Error::<Test>::PayloadMismatch
			);
		});
	}

	#[test]
	fn anchor_fails_when_it_skips_more_than_the_largest_gap() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(submit(&OWNER, device.anchor(0, 1)));
			let too_far = 1 + MaxSequenceGap::get() + 1;
			assert_noop!(
				submit(&OWNER, device.anchor(too_far, 1)),
				Error::<Test>::SequenceGapTooLarge
			);
			// The largest gap is allowed, and the device goes on from there.
			assert_ok!(submit(&OWNER, device.anchor(too_far - 1, 1)));
			assert_eq!(
				DeviceStates::<Test>::get(device.id()).unwrap().missing,
				MaxSequenceGap::get()
			);
		});
	}

	#[test]
	fn anchor_fails_when_the_devices_log_commitment_is_corrupt() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build().execute_with(|| {
			assert_ok!(submit(&OWNER, device.anchor(0, 1)));
			// Three anchors need two peaks; a state claiming three with one cannot grow.
			DeviceStates::<Test>::mutate(device.id(), |state| {
				state.as_mut().unwrap().anchors = 3;
			});
			assert_noop!(submit(&OWNER, device.anchor(1, 1)), Error::<Test>::LogFull);
		});
	}

	#[test]
	fn one_anchor_near_the_end_of_the_sequence_cannot_brick_a_device() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let mut statement = device.statement(0, 1);
			statement.first_seq = u64::MAX - 1;
			assert_noop!(
				submit(&OWNER, device.signed(statement)),
				Error::<Test>::SequenceGapTooLarge
			);
			assert_ok!(submit(&OWNER, device.anchor(0, 1)));
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
			.map(|_| ())
			.map_err(|e| e.error)
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
				vec![a.anchor(0, 2), b.anchor(0, 1), impostor.anchor(1, 1), unknown.anchor(0, 1)],
			));

			let events = telemetry_events();
			assert!(events.contains(&Event::AnchorRejected {
				position: 2,
				device: b.id(),
				first_seq: 1,
				error: Error::<Test>::BadSignature.into(),
			}));
			assert!(events.contains(&Event::AnchorRejected {
				position: 3,
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
			assert_eq!(only_record(&b).count, 1);
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
	fn after_a_refusal_the_same_devices_later_anchors_are_refused_too() {
		let (a, b) = (thermometer(), monitor());
		ExtBuilder::new().with_device(&a).with_device(&b).build_and_execute(|| {
			let mut bad = a.anchor(0, 2);
			bad.statement.count = 3; // the signature no longer matches
			assert_ok!(anchor_batch(
				&OWNER,
				vec![bad, b.anchor(0, 1), a.anchor(2, 1), a.anchor(3, 1)]
			));
			let events = telemetry_events();
			for (position, first_seq) in [(2, 2), (3, 3)] {
				assert!(
					events.contains(&Event::AnchorRejected {
						position,
						device: a.id(),
						first_seq,
						error: Error::<Test>::EarlierAnchorRefused.into(),
					}),
					"{events:?}"
				);
			}
			System::assert_last_event(
				Event::BatchProcessed { submitter: OWNER, accepted: 1, rejected: 3 }.into(),
			);
			// No hole: the device has anchored nothing, and all of it can be sent again.
			assert!(DeviceStates::<Test>::get(a.id()).is_none());
			assert_ok!(anchor_batch(&OWNER, vec![a.anchor(0, 2), a.anchor(2, 1), a.anchor(3, 1)]));
			assert_eq!(DeviceStates::<Test>::get(a.id()).unwrap().next_seq, 4);
		});
	}

	#[test]
	fn a_refusal_in_a_batch_checks_the_signed_payload() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			let mut statement = device.statement(0, 1);
			statement.payload_hash = Some(H256(sp_io::hashing::blake2_256(b"signed")));
			let item = BatchItem {
				anchor: device.signed(statement),
				payload: Some(b"swapped".to_vec().try_into().unwrap()),
			};
			assert_ok!(Telemetry::anchor_batch(
				RuntimeOrigin::signed(OWNER),
				vec![item].try_into().unwrap()
			));
			assert!(telemetry_events().contains(&Event::AnchorRejected {
				position: 0,
				device: device.id(),
				first_seq: 0,
				error: Error::<Test>::PayloadMismatch.into(),
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
				Event::AlertRuleCleared {
					device: device.id(),
					metric: metric("temp_c"),
					payer: GATEWAY,
				}
				.into(),
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
			assert_eq!(rules[0].rule.metric, metric("humidity_pct"));
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

	fn held(who: &sp_runtime::AccountId32) -> u64 {
		use frame_support::traits::fungible::InspectHold;
		Balances::balance_on_hold(&HoldReason::RuleDeposit.into(), who)
	}

	fn clear(who: &sp_runtime::AccountId32, device: &TestDevice) -> DispatchResult {
		Telemetry::clear_alert_rule(
			RuntimeOrigin::signed(who.clone()),
			device.id(),
			metric("temp_c"),
		)
	}

	#[test]
	fn a_rule_holds_a_deposit_from_whoever_set_it_until_cleared() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(set(&OWNER, &device, Some(2_000), Some(8_000)));
			assert_eq!(held(&OWNER), RuleDeposit::get());
			// Replacing one's own rule holds nothing more.
			assert_ok!(set(&OWNER, &device, Some(1_000), Some(8_000)));
			assert_eq!(held(&OWNER), RuleDeposit::get());

			// A manager's replacement moves the deposit: the owner's goes back.
			Directory::grant(GATEWAY, device.id(), Grant::Manage);
			assert_ok!(set(&GATEWAY, &device, Some(0), None));
			assert_eq!((held(&OWNER), held(&GATEWAY)), (0, RuleDeposit::get()));
			assert_eq!(AlertRules::<Test>::get(device.id())[0].payer, GATEWAY);

			// The owner clears it; the deposit goes back to the manager who paid it.
			assert_ok!(clear(&OWNER, &device));
			System::assert_last_event(
				Event::AlertRuleCleared {
					device: device.id(),
					metric: metric("temp_c"),
					payer: GATEWAY,
				}
				.into(),
			);
			assert_eq!((held(&OWNER), held(&GATEWAY)), (0, 0));
			assert_eq!(Balances::free_balance(GATEWAY), RICH);
		});
	}

	#[test]
	fn set_alert_rule_fails_without_the_deposit() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			Directory::grant(POOR, device.id(), Grant::Manage);
			assert_noop!(set(&POOR, &device, Some(0), None), Error::<Test>::InsufficientBalance);
		});
	}

	#[test]
	fn a_previous_owners_rules_raise_nothing_and_anyone_may_clear_them() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(set(&OWNER, &device, None, Some(8_000)));
			Directory::transfer(device.id(), BUYER);

			assert_ok!(submit(&BUYER, device.anchor_with_values(0, &[("temp_c", 30_000)])));
			assert!(alerts().is_empty(), "the seller's rule still raised: {:?}", alerts());

			// A stranger tidies it up; the seller gets its deposit back.
			assert_ok!(clear(&STRANGER, &device));
			assert_eq!(held(&OWNER), 0);
			assert_eq!(Balances::free_balance(OWNER), RICH);
			assert!(!AlertRules::<Test>::contains_key(device.id()));
		});
	}

	#[test]
	fn a_buyers_first_rule_sweeps_the_sellers_even_when_they_fill_the_list() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			Directory::grant(GATEWAY, device.id(), Grant::Manage);
			assert_ok!(set(&OWNER, &device, None, Some(8_000)));
			assert_ok!(Telemetry::set_alert_rule(
				RuntimeOrigin::signed(GATEWAY),
				device.id(),
				metric("humidity_pct"),
				None,
				Some(80_000),
			));
			Directory::transfer(device.id(), BUYER);

			assert_ok!(Telemetry::set_alert_rule(
				RuntimeOrigin::signed(BUYER),
				device.id(),
				metric("door_open"),
				None,
				Some(0),
			));
			let rules = AlertRules::<Test>::get(device.id());
			assert_eq!(rules.len(), 1);
			assert_eq!((rules[0].payer.clone(), rules[0].epoch), (BUYER, 1));
			assert_eq!((held(&OWNER), held(&GATEWAY), held(&BUYER)), (0, 0, RuleDeposit::get()));
			let swept: Vec<_> = telemetry_events()
				.into_iter()
				.filter_map(|e| match e {
					Event::AlertRuleCleared { metric, payer, .. } => Some((metric, payer)),
					_ => None,
				})
				.collect();
			assert_eq!(swept, vec![(metric("temp_c"), OWNER), (metric("humidity_pct"), GATEWAY)]);
			// The buyer's own rule counts.
			assert_ok!(submit(&BUYER, device.anchor_with_values(0, &[("door_open", 1_000)])));
			assert_eq!(alerts().len(), 1);
		});
	}

	#[test]
	fn a_current_rule_is_cleared_only_by_owner_or_manager() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(set(&OWNER, &device, Some(0), None));
			// The rule's own payer, once no longer a manager, has no say either.
			Directory::grant(GATEWAY, device.id(), Grant::Manage);
			assert_ok!(set(&GATEWAY, &device, Some(0), None));
			Directory::revoke(GATEWAY, device.id(), Grant::Manage);
			assert_noop!(clear(&GATEWAY, &device), Error::<Test>::NotAuthorized);
		});
	}

	#[test]
	fn try_state_catches_a_rule_whose_deposit_was_not_held() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build().execute_with(|| {
			let record = RuleRecord {
				rule: AlertRule { metric: metric("temp_c"), min: Some(0), max: None },
				epoch: 0,
				payer: OWNER,
				deposit: RuleDeposit::get(),
			};
			AlertRules::<Test>::insert(device.id(), BoundedVec::truncate_from(vec![record]));
			assert!(Telemetry::do_try_state().is_err());
		});
	}

	/// Built with `try-runtime`, the pallet's `try_state` hook runs the same checks.
	#[cfg(feature = "try-runtime")]
	#[test]
	fn the_try_state_hook_runs_the_checks() {
		use frame_support::traits::{TryState, TryStateSelect};
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build().execute_with(|| {
			let all = || AllPalletsWithSystem::try_state(1, TryStateSelect::All);
			assert!(all().is_ok());
			let record = RuleRecord {
				rule: AlertRule { metric: metric("temp_c"), min: Some(0), max: None },
				epoch: 0,
				payer: OWNER,
				deposit: RuleDeposit::get(),
			};
			AlertRules::<Test>::insert(device.id(), BoundedVec::truncate_from(vec![record]));
			assert!(all().is_err());
		});
	}

	#[test]
	#[should_panic(expected = "an alert rule must hold a deposit")]
	fn free_rules_fail_the_integrity_test() {
		RuleDeposit::set(0);
		<Telemetry as frame_support::traits::IntegrityTest>::integrity_test();
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
	use codec::{Decode, Encode};
	use provena_primitives::device_log::{append, find_leaf, offchain_key, LogEntry};
	use std::collections::BTreeMap;

	/// Anchors 0..4 (index 0), a gap 4..10, 10 alone (index 1), 11..19 (index 2).
	fn anchor_history(device: &TestDevice) {
		assert_ok!(submit(&OWNER, device.anchor(0, 4)));
		assert_ok!(submit(&OWNER, device.anchor(10, 1)));
		assert_ok!(submit(&OWNER, device.anchor(11, 8)));
	}

	/// Record `index` of `device`'s log and its inclusion proof against the current state,
	/// from a copy of the log rebuilt out of the `Anchored` events (as a node would hold it).
	fn from_log(device: &TestDevice, index: u64) -> (AnchorRecordOf<Test>, Vec<H256>) {
		let (mut store, mut leaves, mut peaks) = (BTreeMap::new(), 0u64, Vec::new());
		for record in records_of(device) {
			let entry = LogEntry::Leaf(record.encode());
			let appended = append(leaves, &peaks, entry.hash()).unwrap();
			store.insert(offchain_key(&entry.hash()), entry.encode());
			for (hash, left, right) in appended.nodes {
				store.insert(offchain_key(&hash), LogEntry::Node(left, right).encode());
			}
			(leaves, peaks) = (leaves + 1, appended.peaks);
		}
		let state = DeviceStates::<Test>::get(device.id()).unwrap();
		assert_eq!((state.anchors, state.peaks.to_vec()), (leaves, peaks), "events match state");
		let (bytes, proof) =
			find_leaf(state.anchors, &state.peaks, index, |key| store.get(key).cloned()).unwrap();
		(AnchorRecordOf::<Test>::decode(&mut &bytes[..]).unwrap(), proof)
	}

	fn verify(
		device: &TestDevice,
		seq: Seq,
		leaf: H256,
		path: Vec<H256>,
		index: u64,
	) -> Result<AnchorRecordOf<Test>, VerifyError> {
		let (record, log_proof) = from_log(device, index);
		Telemetry::verify_reading(device.id(), seq, leaf, path, record, log_proof)
	}

	#[test]
	fn verify_reading_accepts_first_middle_and_last_leaf_of_a_batch() {
		let device = monitor();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			anchor_history(&device);
			let batch = leaves(&device, 11, 8);
			for position in [0u32, 3, 7] {
				let seq = 11 + u64::from(position);
				let path = batch_proof(&batch, position).unwrap();
				let found =
					verify(&device, seq, batch[position as usize], path, 2).expect("anchored");
				assert_eq!(found.index, 2);
				assert_eq!((found.first_seq, found.count), (11, 8));
				assert_eq!(found.block, 1);
				assert_eq!(found.chain_time_ms, NOW_MS);
			}
		});
	}

	#[test]
	fn verify_reading_refuses_a_wrong_leaf_or_path() {
		let device = monitor();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			anchor_history(&device);
			let batch = leaves(&device, 11, 8);
			let path = batch_proof(&batch, 3).unwrap();

			// A tampered reading: same seq, another value.
			let mut tampered: Reading = device.reading(14);
			tampered.values[0].value += 1;
			assert_eq!(
				verify(&device, 14, tampered.leaf(), path.clone(), 2),
				Err(VerifyError::ProofMismatch)
			);
			// The right leaf claimed at the wrong seq.
			assert_eq!(
				verify(&device, 15, batch[3], path.clone(), 2),
				Err(VerifyError::ProofMismatch)
			);
			// A truncated path, and a padded one.
			assert_eq!(
				verify(&device, 14, batch[3], path[1..].to_vec(), 2),
				Err(VerifyError::ProofMismatch)
			);
			let mut padded = path.clone();
			padded.push(H256::zero());
			assert_eq!(verify(&device, 14, batch[3], padded, 2), Err(VerifyError::ProofMismatch));
		});
	}

	#[test]
	fn verify_reading_refuses_overlong_proofs_before_hashing() {
		let device = monitor();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			anchor_history(&device);
			let batch = leaves(&device, 11, 8);
			let path = batch_proof(&batch, 3).unwrap();
			let (record, log_proof) = from_log(&device, 2);
			let check = |path: Vec<H256>, log_proof: Vec<H256>| {
				Telemetry::verify_reading(
					device.id(),
					14,
					batch[3],
					path,
					record.clone(),
					log_proof,
				)
			};
			let long_path = vec![H256::zero(); crate::MAX_PATH_LEN + 1];
			assert_eq!(check(long_path, log_proof.clone()), Err(VerifyError::ProofTooLong));
			let mut long_proof = log_proof.clone();
			long_proof.resize(provena_primitives::device_log::MAX_PROOF_LEN + 1, H256::zero());
			assert_eq!(check(path.clone(), long_proof), Err(VerifyError::ProofTooLong));
			assert!(check(path, log_proof).is_ok());
		});
	}

	#[test]
	fn verify_reading_pins_the_exact_position_in_an_odd_batch() {
		// Version 1 accepted reading 2 of a 3-batch, with its own path, as reading 1.
		let device = monitor();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			assert_ok!(submit(&OWNER, device.anchor(0, 3)));
			let batch = leaves(&device, 0, 3);
			let path = batch_proof(&batch, 2).unwrap();
			assert!(verify(&device, 2, batch[2], path.clone(), 0).is_ok());
			assert_eq!(verify(&device, 1, batch[2], path, 0), Err(VerifyError::ProofMismatch));
		});
	}

	#[test]
	fn verify_reading_checks_single_reading_anchors_without_a_path() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			anchor_history(&device);
			let found =
				verify(&device, 10, device.reading(10).leaf(), vec![], 1).expect("anchored");
			assert_eq!(found.index, 1);
			assert_eq!(
				verify(&device, 10, device.reading(11).leaf(), vec![], 1),
				Err(VerifyError::ProofMismatch)
			);
		});
	}

	#[test]
	fn verify_reading_refuses_a_record_outside_the_log() {
		let (device, other) = (thermometer(), monitor());
		ExtBuilder::new().with_device(&device).with_device(&other).build_and_execute(|| {
			assert_eq!(
				Telemetry::verify_reading(
					device.id(),
					0,
					device.reading(0).leaf(),
					vec![],
					AnchorRecord {
						device: device.id(),
						index: 0,
						first_seq: 0,
						count: 1,
						root: device.reading(0).leaf(),
						device_time: Default::default(),
						payload_hash: None,
						block: 1,
						chain_time_ms: NOW_MS,
						submitter: OWNER,
					},
					vec![],
				),
				Err(VerifyError::UnknownDevice)
			);
			anchor_history(&device);
			anchor_history(&other);
			let (record, proof) = from_log(&device, 1);
			let leaf = device.reading(10).leaf();
			// An altered record: another block, another submitter.
			let mut altered = record.clone();
			altered.block = 2;
			assert_eq!(
				Telemetry::verify_reading(device.id(), 10, leaf, vec![], altered, proof.clone()),
				Err(VerifyError::NotInLog)
			);
			// Another device's record, or this record claimed for another device.
			let (theirs, their_proof) = from_log(&other, 1);
			assert_eq!(
				Telemetry::verify_reading(device.id(), 10, leaf, vec![], theirs, their_proof),
				Err(VerifyError::NotInLog)
			);
			assert_eq!(
				Telemetry::verify_reading(
					other.id(),
					10,
					leaf,
					vec![],
					record.clone(),
					proof.clone()
				),
				Err(VerifyError::NotInLog)
			);
			// A proof made before the log grew no longer holds.
			assert_ok!(submit(&OWNER, device.anchor(19, 1)));
			assert_eq!(
				Telemetry::verify_reading(device.id(), 10, leaf, vec![], record.clone(), proof),
				Err(VerifyError::NotInLog)
			);
			// A record in the log that does not cover the sequence number.
			let (record, proof) = from_log(&device, 1);
			assert_eq!(
				Telemetry::verify_reading(
					device.id(),
					11,
					device.reading(11).leaf(),
					vec![],
					record,
					proof
				),
				Err(VerifyError::NotCovered)
			);
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
			assert_eq!(state.peaks.len(), 2, "3 anchors: mountains of 2 and 1");
		});
	}

	/// The keys and bytes stored under the Telemetry pallet's prefix.
	fn telemetry_storage() -> (usize, usize) {
		let prefix = sp_io::hashing::twox_128(b"Telemetry");
		let (mut keys, mut bytes) = (0, 0);
		let mut key = prefix.to_vec();
		while let Some(next) = sp_io::storage::next_key(&key) {
			if !next.starts_with(&prefix) {
				break;
			}
			keys += 1;
			bytes += next.len() + sp_io::storage::get(&next).map_or(0, |v| v.len());
			key = next;
		}
		(keys, bytes)
	}

	#[test]
	fn state_does_not_grow_with_anchors() {
		let device = thermometer();
		ExtBuilder::new().with_device(&device).build_and_execute(|| {
			// Readings are a second apart: let the chain's clock be past the last one.
			Timestamp::set_timestamp(NOW_MS + 10_000_000);
			assert_ok!(submit(&OWNER, device.anchor(0, 1)));
			let (keys, bytes) = telemetry_storage();
			for seq in 1..10_000u64 {
				assert_ok!(submit(&OWNER, device.anchor(seq, 1)));
				if seq % 1_000 == 0 {
					System::reset_events();
				}
			}
			let state = DeviceStates::<Test>::get(device.id()).unwrap();
			assert_eq!(state.anchors, 10_000);
			// The same keys; the bytes differ by the peaks alone (one per set bit of the count).
			assert_eq!(
				telemetry_storage(),
				(keys, bytes + 32 * (10_000u64.count_ones() as usize - 1))
			);
		});
	}

	#[test]
	fn the_runtime_writes_the_log_to_offchain_storage_and_a_fork_is_never_served() {
		let device = thermometer();
		// Two nodes' views of one chain: the same three blocks, then each its own fourth.
		let build = || {
			let mut ext = ExtBuilder::new().with_device(&device).build();
			ext.execute_with(|| {
				for seq in 0..3 {
					System::set_block_number(seq + 1);
					assert_ok!(submit(&OWNER, device.anchor(seq, 1)));
				}
			});
			ext
		};
		let (mut canonical, mut fork) = (build(), build());
		canonical.execute_with(|| {
			assert_ok!(submit(&OWNER, device.anchor(3, 2)));
		});
		fork.execute_with(|| {
			assert_ok!(submit(&OWNER, device.anchor(3, 1)));
		});
		canonical.persist_offchain_overlay();
		fork.persist_offchain_overlay();
		// One offchain store holding what both branches wrote, as a node that imported both.
		let (ours, theirs) = (canonical.offchain_db(), fork.offchain_db());
		let get = |key: &[u8]| ours.get(key).or_else(|| theirs.get(key));
		let served = |ext: &mut sp_io::TestExternalities| {
			ext.execute_with(|| {
				let state = DeviceStates::<Test>::get(device.id()).unwrap();
				(0..state.anchors)
					.map(|index| {
						let (bytes, _) =
							find_leaf(state.anchors, &state.peaks, index, get).unwrap();
						AnchorRecordOf::<Test>::decode(&mut &bytes[..]).unwrap()
					})
					.collect::<Vec<_>>()
			})
		};
		let on_chain = served(&mut canonical);
		assert_eq!(on_chain.len(), 4);
		assert_eq!((on_chain[3].first_seq, on_chain[3].count), (3, 2));
		assert_eq!(on_chain[..3].iter().map(|r| r.block).collect::<Vec<_>>(), [1, 2, 3]);
		// The fork's record is in the store, yet only its own peaks lead to it.
		assert_eq!(served(&mut fork)[3].count, 1);
		canonical.execute_with(|| assert_eq!(records_of(&device), on_chain));
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
			let record = telemetry_events()
				.into_iter()
				.find_map(|event| match event {
					Event::Anchored { record } => Some(record),
					_ => None,
				})
				.expect("anchored");
			for (reading, proof) in readings.iter().zip(proofs) {
				// A one-entry log: its inclusion proof is empty.
				let found = Telemetry::verify_reading(
					device,
					reading.seq,
					reading.leaf(),
					proof,
					record.clone(),
					vec![],
				)
				.unwrap_or_else(|e| panic!("reading {} does not verify: {e:?}", reading.seq));
				assert_eq!((found.index, found.first_seq), (0, 40));
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

/// The integrity test catches limits that do not fit together: a batch the types admit but no
/// block could carry.
#[test]
#[should_panic(expected = "a full anchor_batch weighs")]
fn a_batch_limit_no_block_can_carry_fails_the_integrity_test() {
	MaxBatchLen::set(1_000_000);
	<Telemetry as frame_support::traits::IntegrityTest>::integrity_test();
}
