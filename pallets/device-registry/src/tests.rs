//! Tests of every registry call: success paths with their events and exact deposits, and every
//! error path with `assert_noop!`.

use crate::{
	mock::*, Deployment, DeviceInfo, DeviceKey, DeviceStatus, Devices, DevicesByOwner, Error,
	Event, HoldReason, InspectDevice, MetadataInput, PendingTransfers, TransferOffer,
};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use sp_core::H256;
use sp_runtime::{DispatchError, DispatchResult};

/// What the registry holds from `who`.
fn held(who: u64) -> u64 {
	<Balances as InspectHold<u64>>::balance_on_hold(&HoldReason::DeviceDeposit.into(), &who)
}

/// `who`'s balance that is not on hold.
fn free(who: u64) -> u64 {
	<Balances as Inspect<u64>>::balance(&who)
}

fn register(owner: u64, device: u8, key: DeviceKey) {
	assert_ok!(try_register(owner, device, key, thermometer()));
}

/// `owner` registers device `device` with `key`, proving possession for `owner`.
fn try_register(owner: u64, device: u8, key: DeviceKey, metadata: MetadataInput) -> DispatchResult {
	let proof = proof(&key, device_id(device), owner);
	DeviceRegistry::register(RuntimeOrigin::signed(owner), device_id(device), key, metadata, proof)
}

/// The key buyers install when they accept a transfer.
fn buyer_key() -> DeviceKey {
	sr_key("//buyer//device")
}

/// `who` accepts device `n` with `buyer_key()`, agreeing to the deposit of a thermometer.
fn accept(who: u64, n: u8) -> DispatchResult {
	accept_with(who, n, buyer_key(), THERMOMETER_DEPOSIT)
}

/// `who` accepts device `n` with `key` (and its proof for `who`), agreeing to `max_deposit`.
fn accept_with(who: u64, n: u8, key: DeviceKey, max_deposit: u64) -> DispatchResult {
	let proof = proof(&key, device_id(n), who);
	DeviceRegistry::accept_transfer(
		RuntimeOrigin::signed(who),
		device_id(n),
		key,
		proof,
		max_deposit,
	)
}

fn offer(owner: u64, n: u8, to: u64) -> DispatchResult {
	DeviceRegistry::offer_transfer(RuntimeOrigin::signed(owner), device_id(n), to)
}

fn status(device: u8) -> DeviceStatus {
	Devices::<Test>::get(device_id(device)).expect("registered").status
}

mod register {
	use super::*;

	#[test]
	fn holds_the_deposit_records_the_device_and_emits_an_event() {
		ExtBuilder::new().build_and_execute(|| {
			System::set_block_number(7);
			let key = sr_key("//Alice//device/1");
			register(ALICE, 1, key);

			let record = Devices::<Test>::get(device_id(1)).unwrap();
			assert_eq!(record.owner, ALICE);
			assert_eq!(record.key, key);
			assert_eq!(record.status, DeviceStatus::Active);
			assert_eq!(record.registered_at, 7);
			assert_eq!(record.deposit, THERMOMETER_DEPOSIT);
			assert_eq!(&record.metadata.kind[..], b"thermometer");
			assert_eq!(held(ALICE), THERMOMETER_DEPOSIT);
			assert_eq!(free(ALICE), RICH - THERMOMETER_DEPOSIT);
			assert!(DevicesByOwner::<Test>::contains_key(ALICE, device_id(1)));
			System::assert_last_event(
				Event::DeviceRegistered {
					device: device_id(1),
					owner: ALICE,
					key,
					deposit: THERMOMETER_DEPOSIT,
				}
				.into(),
			);
		});
	}

	#[test]
	fn charges_for_every_metadata_byte_and_the_firmware_hash() {
		ExtBuilder::new().build_and_execute(|| {
			let mut meta = metadata("ecg", "", "ward 3");
			meta.firmware = Some(H256::repeat_byte(7));
			assert_ok!(try_register(ALICE, 1, ed_key("//ecg"), meta));
			// 100 + 2 × (3 + 0 + 6 + 32)
			assert_eq!(held(ALICE), 182);
		});
	}

	#[test]
	fn accepts_fields_of_exactly_the_maximum_length() {
		ExtBuilder::new().build_and_execute(|| {
			let sixteen = "0123456789abcdef";
			assert_ok!(try_register(ALICE, 1, sr_key("//d"), metadata(sixteen, sixteen, sixteen)));
		});
	}

	#[test]
	fn fails_when_a_field_is_too_long() {
		ExtBuilder::new().build_and_execute(|| {
			let seventeen = "0123456789abcdefX";
			for meta in [
				metadata(seventeen, "", ""),
				metadata("", seventeen, ""),
				metadata("", "", seventeen),
			] {
				assert_noop!(
					try_register(ALICE, 1, sr_key("//d"), meta),
					Error::<Test>::FieldTooLong
				);
			}
		});
	}

	#[test]
	fn fails_when_the_id_is_taken() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d1"));
			assert_noop!(
				try_register(BOB, 1, sr_key("//d2"), thermometer()),
				Error::<Test>::AlreadyExists
			);
		});
	}

	#[test]
	fn fails_for_a_decommissioned_id_even_for_its_owner() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d1"));
			assert_ok!(DeviceRegistry::decommission(RuntimeOrigin::signed(ALICE), device_id(1)));
			assert_noop!(
				try_register(ALICE, 1, sr_key("//d1"), thermometer()),
				Error::<Test>::Decommissioned
			);
		});
	}

	#[test]
	fn fails_when_the_owner_cannot_pay_the_deposit() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				try_register(POOR, 1, sr_key("//d"), thermometer()),
				Error::<Test>::InsufficientBalance
			);
		});
	}

	#[test]
	fn fails_unsigned() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				DeviceRegistry::register(
					RuntimeOrigin::none(),
					device_id(1),
					sr_key("//d"),
					thermometer(),
					proof(&sr_key("//d"), device_id(1), ALICE)
				),
				DispatchError::BadOrigin
			);
		});
	}

	#[test]
	fn lists_each_owners_devices() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d1"));
			register(ALICE, 2, ed_key("//d2"));
			register(BOB, 3, sr_key("//d3"));
			let mut alices: Vec<_> = DevicesByOwner::<Test>::iter_key_prefix(ALICE).collect();
			alices.sort();
			assert_eq!(alices, vec![device_id(1), device_id(2)]);
			assert_eq!(
				DevicesByOwner::<Test>::iter_key_prefix(BOB).collect::<Vec<_>>(),
				vec![device_id(3)]
			);
			assert_eq!(held(ALICE), 2 * THERMOMETER_DEPOSIT);
		});
	}
}

mod update_metadata {
	use super::*;

	#[test]
	fn holds_more_for_larger_metadata_and_releases_for_smaller() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));

			// 100 + 2 × (11 + 6 + 16) = 166: 22 more than before.
			let larger = metadata("thermometer", "TX-200", "reefer-container");
			assert_ok!(DeviceRegistry::update_metadata(
				RuntimeOrigin::signed(ALICE),
				device_id(1),
				larger
			));
			assert_eq!(held(ALICE), 166);
			assert_eq!(free(ALICE), RICH - 166);
			System::assert_last_event(
				Event::MetadataUpdated { device: device_id(1), deposit: 166 }.into(),
			);

			assert_ok!(DeviceRegistry::update_metadata(
				RuntimeOrigin::signed(ALICE),
				device_id(1),
				metadata("", "", "")
			));
			assert_eq!(held(ALICE), 100);
			assert_eq!(free(ALICE), RICH - 100);
			assert_eq!(Devices::<Test>::get(device_id(1)).unwrap().deposit, 100);
		});
	}

	#[test]
	fn same_size_metadata_keeps_the_deposit_without_touching_the_hold() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			let events_before = System::events().len();
			// Same 22 bytes, other text.
			assert_ok!(DeviceRegistry::update_metadata(
				RuntimeOrigin::signed(ALICE),
				device_id(1),
				metadata("thermometer", "TX-300", "dock2")
			));
			assert_eq!(held(ALICE), THERMOMETER_DEPOSIT);
			assert_eq!(&Devices::<Test>::get(device_id(1)).unwrap().metadata.model[..], b"TX-300");
			// Only the registry's own event: no zero-amount hold or release from Balances.
			assert_eq!(System::events().len(), events_before + 1);
			System::assert_last_event(
				Event::MetadataUpdated { device: device_id(1), deposit: THERMOMETER_DEPOSIT }
					.into(),
			);
		});
	}

	#[test]
	fn fails_for_an_unknown_device() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				DeviceRegistry::update_metadata(
					RuntimeOrigin::signed(ALICE),
					device_id(9),
					thermometer()
				),
				Error::<Test>::NotFound
			);
		});
	}

	#[test]
	fn fails_for_anyone_but_the_owner() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			assert_noop!(
				DeviceRegistry::update_metadata(
					RuntimeOrigin::signed(BOB),
					device_id(1),
					thermometer()
				),
				Error::<Test>::NotOwner
			);
		});
	}

	#[test]
	fn fails_for_a_decommissioned_device() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			assert_ok!(DeviceRegistry::decommission(RuntimeOrigin::signed(ALICE), device_id(1)));
			assert_noop!(
				DeviceRegistry::update_metadata(
					RuntimeOrigin::signed(ALICE),
					device_id(1),
					thermometer()
				),
				Error::<Test>::Decommissioned
			);
		});
	}

	#[test]
	fn fails_when_a_field_is_too_long() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			assert_noop!(
				DeviceRegistry::update_metadata(
					RuntimeOrigin::signed(ALICE),
					device_id(1),
					metadata("0123456789abcdefX", "", "")
				),
				Error::<Test>::FieldTooLong
			);
		});
	}

	#[test]
	fn fails_when_the_owner_cannot_pay_the_larger_deposit() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			// Leave ALICE exactly the existential deposit.
			let spare = free(ALICE) - 1;
			assert_ok!(Balances::transfer_allow_death(RuntimeOrigin::signed(ALICE), BOB, spare));
			assert_noop!(
				DeviceRegistry::update_metadata(
					RuntimeOrigin::signed(ALICE),
					device_id(1),
					metadata("thermometer", "TX-200", "reefer-container")
				),
				Error::<Test>::InsufficientBalance
			);
		});
	}
}

mod proof_of_possession {
	use super::*;
	use sp_core::{sr25519, Pair};
	use sp_runtime::MultiSignature;

	fn register_with(
		owner: u64,
		key: DeviceKey,
		proof: MultiSignature,
	) -> sp_runtime::DispatchResult {
		DeviceRegistry::register(
			RuntimeOrigin::signed(owner),
			device_id(1),
			key,
			thermometer(),
			proof,
		)
	}

	#[test]
	fn register_fails_without_the_keys_own_proof() {
		ExtBuilder::new().build_and_execute(|| {
			let key = sr_key("//device");
			// Another key's proof, a proof for another device, and garbage.
			let other = sr_key("//other");
			assert_noop!(
				register_with(ALICE, key, proof(&other, device_id(1), ALICE)),
				Error::<Test>::PossessionUnproven
			);
			assert_noop!(
				register_with(ALICE, key, proof(&key, device_id(2), ALICE)),
				Error::<Test>::PossessionUnproven
			);
			assert_noop!(
				register_with(
					ALICE,
					key,
					MultiSignature::Sr25519(sr25519::Signature::from_raw([0; 64]))
				),
				Error::<Test>::PossessionUnproven
			);
			// A signature of the right scheme over another chain's genesis.
			let pair = sr25519::Pair::from_string("//device", None).unwrap();
			let elsewhere =
				provena_primitives::possession_hash(&H256::repeat_byte(9), &device_id(1), &ALICE);
			assert_noop!(
				register_with(ALICE, key, MultiSignature::Sr25519(pair.sign(&elsewhere))),
				Error::<Test>::PossessionUnproven
			);
			// An ed25519 proof for an sr25519 key with the same bytes.
			let ed = ed_key("//device");
			assert_noop!(
				register_with(ALICE, key, proof(&ed, device_id(1), ALICE)),
				Error::<Test>::PossessionUnproven
			);
		});
	}

	#[test]
	fn a_pending_registration_cannot_be_front_run_by_another_owner() {
		// Bob sees Alice's registration in the pool and sends it as his own first: the proof
		// names Alice, so it is worth nothing to him.
		ExtBuilder::new().build_and_execute(|| {
			let key = sr_key("//device");
			let alices = proof(&key, device_id(1), ALICE);
			assert_noop!(
				register_with(BOB, key, alices.clone()),
				Error::<Test>::PossessionUnproven
			);
			assert_ok!(register_with(ALICE, key, alices));
		});
	}

	#[test]
	fn rotate_key_fails_without_the_new_keys_proof() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//old"));
			let new = ed_key("//new");
			// The old key's proof, and the new key's proof for another owner.
			assert_noop!(
				DeviceRegistry::rotate_key(
					RuntimeOrigin::signed(ALICE),
					device_id(1),
					new,
					proof(&sr_key("//old"), device_id(1), ALICE)
				),
				Error::<Test>::PossessionUnproven
			);
			assert_noop!(
				DeviceRegistry::rotate_key(
					RuntimeOrigin::signed(ALICE),
					device_id(1),
					new,
					proof(&new, device_id(1), BOB)
				),
				Error::<Test>::PossessionUnproven
			);
		});
	}
}

mod rotate_key {
	use super::*;

	#[test]
	fn replaces_the_key() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//old"));
			let new = ed_key("//new");
			assert_ok!(DeviceRegistry::rotate_key(
				RuntimeOrigin::signed(ALICE),
				device_id(1),
				new,
				proof(&new, device_id(1), ALICE)
			));
			assert_eq!(Devices::<Test>::get(device_id(1)).unwrap().key, new);
			System::assert_last_event(Event::KeyRotated { device: device_id(1), key: new }.into());
		});
	}

	#[test]
	fn works_for_a_suspended_device() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//old"));
			assert_ok!(DeviceRegistry::suspend(RuntimeOrigin::signed(ALICE), device_id(1)));
			assert_ok!(DeviceRegistry::rotate_key(
				RuntimeOrigin::signed(ALICE),
				device_id(1),
				sr_key("//new"),
				proof(&sr_key("//new"), device_id(1), ALICE)
			));
			assert_eq!(status(1), DeviceStatus::Suspended);
		});
	}

	#[test]
	fn fails_when_the_key_is_unchanged() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//old"));
			assert_noop!(
				DeviceRegistry::rotate_key(
					RuntimeOrigin::signed(ALICE),
					device_id(1),
					sr_key("//old"),
					proof(&sr_key("//old"), device_id(1), ALICE)
				),
				Error::<Test>::KeyUnchanged
			);
		});
	}

	#[test]
	fn fails_for_an_unknown_device_another_owner_or_a_retired_device() {
		ExtBuilder::new().build_and_execute(|| {
			let new = sr_key("//new");
			assert_noop!(
				DeviceRegistry::rotate_key(
					RuntimeOrigin::signed(ALICE),
					device_id(1),
					new,
					proof(&new, device_id(1), ALICE)
				),
				Error::<Test>::NotFound
			);
			register(ALICE, 1, sr_key("//old"));
			assert_noop!(
				DeviceRegistry::rotate_key(
					RuntimeOrigin::signed(BOB),
					device_id(1),
					new,
					proof(&new, device_id(1), BOB)
				),
				Error::<Test>::NotOwner
			);
			assert_ok!(DeviceRegistry::decommission(RuntimeOrigin::signed(ALICE), device_id(1)));
			assert_noop!(
				DeviceRegistry::rotate_key(
					RuntimeOrigin::signed(ALICE),
					device_id(1),
					new,
					proof(&new, device_id(1), ALICE)
				),
				Error::<Test>::Decommissioned
			);
		});
	}
}

mod suspend_and_resume {
	use super::*;

	#[test]
	fn suspend_then_resume() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			assert_ok!(DeviceRegistry::suspend(RuntimeOrigin::signed(ALICE), device_id(1)));
			assert_eq!(status(1), DeviceStatus::Suspended);
			System::assert_last_event(Event::DeviceSuspended { device: device_id(1) }.into());

			assert_ok!(DeviceRegistry::resume(RuntimeOrigin::signed(ALICE), device_id(1)));
			assert_eq!(status(1), DeviceStatus::Active);
			System::assert_last_event(Event::DeviceResumed { device: device_id(1) }.into());
			// The deposit stays held throughout.
			assert_eq!(held(ALICE), THERMOMETER_DEPOSIT);
		});
	}

	#[test]
	fn suspend_fails_unless_active() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			assert_ok!(DeviceRegistry::suspend(RuntimeOrigin::signed(ALICE), device_id(1)));
			assert_noop!(
				DeviceRegistry::suspend(RuntimeOrigin::signed(ALICE), device_id(1)),
				Error::<Test>::NotActive
			);
			assert_ok!(DeviceRegistry::decommission(RuntimeOrigin::signed(ALICE), device_id(1)));
			assert_noop!(
				DeviceRegistry::suspend(RuntimeOrigin::signed(ALICE), device_id(1)),
				Error::<Test>::Decommissioned
			);
		});
	}

	#[test]
	fn resume_fails_unless_suspended() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			assert_noop!(
				DeviceRegistry::resume(RuntimeOrigin::signed(ALICE), device_id(1)),
				Error::<Test>::NotSuspended
			);
			assert_ok!(DeviceRegistry::decommission(RuntimeOrigin::signed(ALICE), device_id(1)));
			assert_noop!(
				DeviceRegistry::resume(RuntimeOrigin::signed(ALICE), device_id(1)),
				Error::<Test>::Decommissioned
			);
		});
	}

	#[test]
	fn only_the_owner_may_suspend_or_resume_a_known_device() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				DeviceRegistry::suspend(RuntimeOrigin::signed(ALICE), device_id(1)),
				Error::<Test>::NotFound
			);
			assert_noop!(
				DeviceRegistry::resume(RuntimeOrigin::signed(ALICE), device_id(1)),
				Error::<Test>::NotFound
			);
			register(ALICE, 1, sr_key("//d"));
			assert_noop!(
				DeviceRegistry::suspend(RuntimeOrigin::signed(BOB), device_id(1)),
				Error::<Test>::NotOwner
			);
			assert_ok!(DeviceRegistry::suspend(RuntimeOrigin::signed(ALICE), device_id(1)));
			assert_noop!(
				DeviceRegistry::resume(RuntimeOrigin::signed(BOB), device_id(1)),
				Error::<Test>::NotOwner
			);
		});
	}
}

mod decommission {
	use super::*;

	#[test]
	fn releases_the_deposit_and_keeps_the_record() {
		ExtBuilder::new().build_and_execute(|| {
			let key = sr_key("//d");
			register(ALICE, 1, key);
			assert_ok!(DeviceRegistry::decommission(RuntimeOrigin::signed(ALICE), device_id(1)));

			assert_eq!(held(ALICE), 0);
			assert_eq!(free(ALICE), RICH);
			let record = Devices::<Test>::get(device_id(1)).unwrap();
			assert_eq!(record.status, DeviceStatus::Decommissioned);
			assert_eq!(record.deposit, 0);
			// Past readings stay attributable: owner and key are kept.
			assert_eq!(record.owner, ALICE);
			assert_eq!(record.key, key);
			System::assert_last_event(
				Event::DeviceDecommissioned {
					device: device_id(1),
					owner: ALICE,
					released: THERMOMETER_DEPOSIT,
				}
				.into(),
			);
		});
	}

	#[test]
	fn shrinks_the_record_to_a_tombstone() {
		// No deposit pays for a decommissioned record, so it keeps only what attributes past
		// readings (owner, key, status, epoch); its description goes.
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			let size = |r: &crate::pallet::DeviceOf<Test>| codec::Encode::encoded_size(r);
			let before = size(&Devices::<Test>::get(device_id(1)).unwrap());
			assert_ok!(DeviceRegistry::decommission(RuntimeOrigin::signed(ALICE), device_id(1)));

			let record = Devices::<Test>::get(device_id(1)).unwrap();
			assert_eq!(record.metadata.charged_bytes(), 0);
			assert_eq!(size(&record), before - 22);
		});
	}

	#[test]
	fn works_for_a_suspended_device_and_withdraws_an_offer() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			assert_ok!(DeviceRegistry::suspend(RuntimeOrigin::signed(ALICE), device_id(1)));
			assert_ok!(DeviceRegistry::offer_transfer(
				RuntimeOrigin::signed(ALICE),
				device_id(1),
				BOB
			));
			assert_ok!(DeviceRegistry::decommission(RuntimeOrigin::signed(ALICE), device_id(1)));
			assert!(!PendingTransfers::<Test>::contains_key(device_id(1)));
			assert_noop!(accept(BOB, 1), Error::<Test>::NoTransferOffered);
		});
	}

	#[test]
	fn fails_twice_for_others_and_for_unknown_devices() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				DeviceRegistry::decommission(RuntimeOrigin::signed(ALICE), device_id(1)),
				Error::<Test>::NotFound
			);
			register(ALICE, 1, sr_key("//d"));
			assert_noop!(
				DeviceRegistry::decommission(RuntimeOrigin::signed(BOB), device_id(1)),
				Error::<Test>::NotOwner
			);
			assert_ok!(DeviceRegistry::decommission(RuntimeOrigin::signed(ALICE), device_id(1)));
			assert_noop!(
				DeviceRegistry::decommission(RuntimeOrigin::signed(ALICE), device_id(1)),
				Error::<Test>::Decommissioned
			);
		});
	}
}

mod transfer {
	use super::*;

	#[test]
	fn offer_and_accept_moves_the_device_its_deposit_and_its_key() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			System::set_block_number(5);
			assert_ok!(offer(ALICE, 1, BOB));
			let expires = 5 + TransferOfferLifetime::get();
			System::assert_last_event(
				Event::TransferOffered { device: device_id(1), from: ALICE, to: BOB, expires }
					.into(),
			);
			assert_eq!(
				PendingTransfers::<Test>::get(device_id(1)),
				Some(TransferOffer { to: BOB, expires })
			);

			assert_ok!(accept(BOB, 1));
			let key = buyer_key();
			System::assert_last_event(
				Event::DeviceTransferred {
					device: device_id(1),
					from: ALICE,
					to: BOB,
					key,
					epoch: 1,
				}
				.into(),
			);
			let record = Devices::<Test>::get(device_id(1)).unwrap();
			assert_eq!((record.owner, record.key, record.epoch), (BOB, key, 1));
			assert!(!DevicesByOwner::<Test>::contains_key(ALICE, device_id(1)));
			assert!(DevicesByOwner::<Test>::contains_key(BOB, device_id(1)));
			assert!(!PendingTransfers::<Test>::contains_key(device_id(1)));
			assert_eq!((held(ALICE), free(ALICE)), (0, RICH));
			assert_eq!((held(BOB), free(BOB)), (THERMOMETER_DEPOSIT, RICH - THERMOMETER_DEPOSIT));

			// The new owner manages it; the old one no longer can.
			assert_noop!(
				DeviceRegistry::suspend(RuntimeOrigin::signed(ALICE), device_id(1)),
				Error::<Test>::NotOwner
			);
			assert_ok!(DeviceRegistry::suspend(RuntimeOrigin::signed(BOB), device_id(1)));
		});
	}

	#[test]
	fn the_device_may_keep_its_key_if_its_holder_proves_it_for_the_buyer() {
		// The device changes hands with its secure element: the key stays, and only the
		// device itself can sign the proof for its new owner.
		ExtBuilder::new().build_and_execute(|| {
			let key = sr_key("//d");
			register(ALICE, 1, key);
			assert_ok!(offer(ALICE, 1, BOB));
			assert_ok!(accept_with(BOB, 1, key, THERMOMETER_DEPOSIT));
			let record = Devices::<Test>::get(device_id(1)).unwrap();
			assert_eq!((record.owner, record.key, record.epoch), (BOB, key, 1));
		});
	}

	#[test]
	fn accept_refuses_a_key_the_buyer_cannot_prove() {
		ExtBuilder::new().build_and_execute(|| {
			let key = sr_key("//d");
			register(ALICE, 1, key);
			register(ALICE, 2, sr_key("//d2"));
			assert_ok!(offer(ALICE, 1, BOB));
			let new = buyer_key();
			let try_accept = |key, proof| {
				DeviceRegistry::accept_transfer(
					RuntimeOrigin::signed(BOB),
					device_id(1),
					key,
					proof,
					THERMOMETER_DEPOSIT,
				)
			};
			// The seller's own registration proof, replayed.
			assert_noop!(
				try_accept(key, proof(&key, device_id(1), ALICE)),
				Error::<Test>::PossessionUnproven
			);
			// A proof for another device, or signed by another key.
			assert_noop!(
				try_accept(new, proof(&new, device_id(2), BOB)),
				Error::<Test>::PossessionUnproven
			);
			assert_noop!(
				try_accept(new, proof(&sr_key("//other"), device_id(1), BOB)),
				Error::<Test>::PossessionUnproven
			);
		});
	}

	#[test]
	fn accept_refuses_a_deposit_above_the_buyers_limit() {
		// The seller makes the deposit grow after the offer: the buyer's limit holds.
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			assert_ok!(offer(ALICE, 1, BOB));
			assert_ok!(DeviceRegistry::update_metadata(
				RuntimeOrigin::signed(ALICE),
				device_id(1),
				metadata("thermometer", "TX-200", "dock 1, bay 12"),
			));
			assert_noop!(accept(BOB, 1), Error::<Test>::DepositAboveLimit);
			let deposit = Devices::<Test>::get(device_id(1)).unwrap().deposit;
			let key = buyer_key();
			assert_ok!(accept_with(BOB, 1, key, deposit));
		});
	}

	#[test]
	fn an_offer_expires() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			register(ALICE, 2, sr_key("//d2"));
			assert_ok!(offer(ALICE, 1, BOB));
			assert_ok!(offer(ALICE, 2, BOB));
			let expires = 1 + TransferOfferLifetime::get();
			System::set_block_number(expires - 1);
			assert_ok!(accept(BOB, 2));
			System::set_block_number(expires);
			assert_noop!(accept(BOB, 1), Error::<Test>::OfferExpired);
			// A fresh offer opens it again.
			assert_ok!(offer(ALICE, 1, BOB));
			assert_ok!(accept(BOB, 1));
		});
	}

	#[test]
	fn each_transfer_starts_a_new_epoch_even_back_to_an_old_owner() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			assert_ok!(offer(ALICE, 1, BOB));
			assert_ok!(accept(BOB, 1));
			assert_ok!(offer(BOB, 1, ALICE));
			assert_ok!(accept(ALICE, 1));
			let info = <DeviceRegistry as InspectDevice<u64>>::device(&device_id(1)).unwrap();
			assert_eq!((info.owner, info.epoch), (ALICE, 2));
		});
	}

	#[test]
	fn accept_refuses_when_the_epoch_would_overflow() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			Devices::<Test>::mutate(device_id(1), |record| {
				record.as_mut().unwrap().epoch = u32::MAX
			});
			assert_ok!(offer(ALICE, 1, BOB));
			assert_noop!(accept(BOB, 1), sp_runtime::ArithmeticError::Overflow);
		});
	}

	#[test]
	fn a_new_offer_replaces_the_open_one() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			assert_ok!(DeviceRegistry::offer_transfer(
				RuntimeOrigin::signed(ALICE),
				device_id(1),
				POOR
			));
			assert_ok!(DeviceRegistry::offer_transfer(
				RuntimeOrigin::signed(ALICE),
				device_id(1),
				BOB
			));
			assert_noop!(accept(POOR, 1), Error::<Test>::NotOfferedToYou);
			assert_ok!(accept(BOB, 1));
		});
	}

	#[test]
	fn offer_fails_for_unknown_devices_others_self_and_retired_devices() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				DeviceRegistry::offer_transfer(RuntimeOrigin::signed(ALICE), device_id(1), BOB),
				Error::<Test>::NotFound
			);
			register(ALICE, 1, sr_key("//d"));
			assert_noop!(
				DeviceRegistry::offer_transfer(RuntimeOrigin::signed(BOB), device_id(1), BOB),
				Error::<Test>::NotOwner
			);
			assert_noop!(
				DeviceRegistry::offer_transfer(RuntimeOrigin::signed(ALICE), device_id(1), ALICE),
				Error::<Test>::AlreadyOwner
			);
			assert_ok!(DeviceRegistry::decommission(RuntimeOrigin::signed(ALICE), device_id(1)));
			assert_noop!(
				DeviceRegistry::offer_transfer(RuntimeOrigin::signed(ALICE), device_id(1), BOB),
				Error::<Test>::Decommissioned
			);
		});
	}

	#[test]
	fn accept_fails_without_an_offer_for_the_caller() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(accept(BOB, 1), Error::<Test>::NotFound);
			register(ALICE, 1, sr_key("//d"));
			assert_noop!(accept(BOB, 1), Error::<Test>::NoTransferOffered);
			assert_ok!(DeviceRegistry::offer_transfer(
				RuntimeOrigin::signed(ALICE),
				device_id(1),
				BOB
			));
			assert_noop!(accept(POOR, 1), Error::<Test>::NotOfferedToYou);
		});
	}

	#[test]
	fn accept_fails_when_the_new_owner_cannot_pay_the_deposit() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			assert_ok!(DeviceRegistry::offer_transfer(
				RuntimeOrigin::signed(ALICE),
				device_id(1),
				POOR
			));
			assert_noop!(accept(POOR, 1), Error::<Test>::InsufficientBalance);
			assert_eq!(held(ALICE), THERMOMETER_DEPOSIT);
		});
	}

	#[test]
	fn accept_refuses_a_retired_device_even_if_an_offer_survived() {
		// Decommissioning withdraws offers, so no call sequence gets here; the check guards
		// against a state written some other way (a migration, say). The state is invalid,
		// so this test skips the invariant check that would reject it.
		ExtBuilder::new().build().execute_with(|| {
			register(ALICE, 1, sr_key("//d"));
			assert_ok!(DeviceRegistry::decommission(RuntimeOrigin::signed(ALICE), device_id(1)));
			PendingTransfers::<Test>::insert(device_id(1), TransferOffer { to: BOB, expires: 100 });
			assert_noop!(accept(BOB, 1), Error::<Test>::Decommissioned);
		});
	}

	#[test]
	fn cancel_withdraws_the_offer() {
		ExtBuilder::new().build_and_execute(|| {
			register(ALICE, 1, sr_key("//d"));
			assert_ok!(DeviceRegistry::offer_transfer(
				RuntimeOrigin::signed(ALICE),
				device_id(1),
				BOB
			));
			assert_ok!(DeviceRegistry::cancel_transfer(RuntimeOrigin::signed(ALICE), device_id(1)));
			System::assert_last_event(Event::TransferCancelled { device: device_id(1) }.into());
			assert_noop!(accept(BOB, 1), Error::<Test>::NoTransferOffered);
		});
	}

	#[test]
	fn cancel_fails_for_unknown_devices_others_and_without_an_offer() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				DeviceRegistry::cancel_transfer(RuntimeOrigin::signed(ALICE), device_id(1)),
				Error::<Test>::NotFound
			);
			register(ALICE, 1, sr_key("//d"));
			assert_noop!(
				DeviceRegistry::cancel_transfer(RuntimeOrigin::signed(ALICE), device_id(1)),
				Error::<Test>::NoTransferOffered
			);
			assert_ok!(DeviceRegistry::offer_transfer(
				RuntimeOrigin::signed(ALICE),
				device_id(1),
				BOB
			));
			assert_noop!(
				DeviceRegistry::cancel_transfer(RuntimeOrigin::signed(BOB), device_id(1)),
				Error::<Test>::NotOwner
			);
		});
	}
}

mod inspect_and_genesis {
	use super::*;

	#[test]
	fn other_pallets_see_owner_key_and_status() {
		ExtBuilder::new().build_and_execute(|| {
			assert_eq!(<DeviceRegistry as InspectDevice<u64>>::device(&device_id(1)), None);
			let key = ed_key("//d");
			register(ALICE, 1, key);
			let info = <DeviceRegistry as InspectDevice<u64>>::device(&device_id(1)).unwrap();
			assert_eq!(
				info,
				DeviceInfo { owner: ALICE, key, status: DeviceStatus::Active, epoch: 0 }
			);
			assert!(info.is_active());

			assert_ok!(DeviceRegistry::suspend(RuntimeOrigin::signed(ALICE), device_id(1)));
			let info = <DeviceRegistry as InspectDevice<u64>>::device(&device_id(1)).unwrap();
			assert!(!info.is_active());
		});
	}

	#[test]
	fn genesis_devices_are_registered_with_their_deposits() {
		let key = sr_key("//Alice//device/1");
		ExtBuilder::new()
			.with_device(device_id(1), ALICE, key)
			.with_device(device_id(2), BOB, ed_key("//Bob//device//1"))
			.build_and_execute(|| {
				let record = Devices::<Test>::get(device_id(1)).unwrap();
				assert_eq!(
					(record.owner, record.key, record.status),
					(ALICE, key, DeviceStatus::Active)
				);
				assert_eq!(held(ALICE), THERMOMETER_DEPOSIT);
				assert_eq!(held(BOB), THERMOMETER_DEPOSIT);
				assert!(DevicesByOwner::<Test>::contains_key(BOB, device_id(2)));
			});
	}

	#[test]
	fn the_deployment_is_what_genesis_says() {
		use sp_runtime::BuildStorage;
		ExtBuilder::new().build_and_execute(|| {
			assert_eq!(Deployment::<Test>::get(), sp_core::H256::zero());
		});
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		let deployment = sp_core::H256::repeat_byte(0x5a);
		crate::GenesisConfig::<Test> { devices: vec![], deployment }
			.assimilate_storage(&mut storage)
			.unwrap();
		sp_io::TestExternalities::new(storage).execute_with(|| {
			assert_eq!(Deployment::<Test>::get(), deployment);
		});
	}

	#[test]
	#[should_panic(expected = "a genesis device is valid")]
	fn genesis_refuses_a_device_whose_owner_cannot_pay() {
		ExtBuilder::new().with_device(device_id(1), POOR, sr_key("//d")).build();
	}
}

/// The integrity test catches transfer offers that expire as they are made.
#[test]
#[should_panic(expected = "a transfer offer must stay open")]
fn offers_that_never_open_fail_the_integrity_test() {
	TransferOfferLifetime::set(0);
	<DeviceRegistry as frame_support::traits::IntegrityTest>::integrity_test();
}
