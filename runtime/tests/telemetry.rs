//! Telemetry wired to the real device registry in the real runtime: what the registry says about
//! a device (its key, its status) is what telemetry enforces.

use frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold, BoundedVec};
use pallet_telemetry::runtime_api::runtime_decl_for_telemetry_api::TelemetryApiV1;
use pallet_telemetry::VerifyError;
use provena_primitives::{
	telemetry::{batch_proof, MetricName},
	DeviceKey,
};
use provena_runtime::{
	AccountId, Balances, Block, BlockNumber, DeviceRegistry, Runtime, RuntimeHoldReason,
	RuntimeOrigin, System, Telemetry,
};
use sp_core::{sr25519, Pair, H256};
use sp_keyring::Sr25519Keyring;
use sp_runtime::MultiSignature;

mod common;
use common::{anchor, demo_key, dev_chain, reading, thermometer_id, NOW_MS};

fn alice() -> RuntimeOrigin {
	RuntimeOrigin::signed(Sr25519Keyring::Alice.to_account_id())
}

#[test]
fn the_demo_thermometer_anchors_and_its_readings_verify() {
	dev_chain().execute_with(|| {
		assert_ok!(Telemetry::anchor(alice(), anchor(&demo_key(), 0, 16), None));

		let record = System::events()
			.into_iter()
			.find_map(|r| match r.event {
				provena_runtime::RuntimeEvent::Telemetry(pallet_telemetry::Event::Anchored {
					record,
				}) => Some(record),
				_ => None,
			})
			.expect("anchored");
		let leaves: Vec<H256> = (0..16).map(|seq| reading(seq).leaf()).collect();
		let verify = |seq: u64, leaf: H256, position: u32| {
			<Runtime as TelemetryApiV1<Block, AccountId, BlockNumber>>::verify_reading(
				thermometer_id(),
				seq,
				leaf,
				batch_proof(&leaves, position).unwrap(),
				record.clone(),
				// The log's only entry: no inclusion proof needed.
				vec![],
			)
		};
		let found = verify(5, leaves[5], 5).expect("reading 5 is anchored");
		assert_eq!((found.index, found.first_seq, found.count), (0, 0, 16));
		assert_eq!(found.chain_time_ms, NOW_MS);
		assert_eq!(verify(5, leaves[6], 5), Err(VerifyError::ProofMismatch));
		assert_eq!(verify(6, leaves[5], 5), Err(VerifyError::ProofMismatch));
		assert_eq!(
			<Runtime as TelemetryApiV1<Block, AccountId, BlockNumber>>::device_state(
				thermometer_id()
			)
			.unwrap()
			.next_seq,
			16
		);
	});
}

#[test]
fn the_device_account_itself_may_anchor() {
	dev_chain().execute_with(|| {
		let device_account: AccountId = DeviceKey::Sr25519(demo_key().public()).account();
		assert_ok!(Telemetry::anchor(
			RuntimeOrigin::signed(device_account),
			anchor(&demo_key(), 0, 1),
			None
		));
		assert_noop!(
			Telemetry::anchor(
				RuntimeOrigin::signed(Sr25519Keyring::Bob.to_account_id()),
				anchor(&demo_key(), 1, 1),
				None
			),
			pallet_telemetry::Error::<Runtime>::NotAuthorized
		);
	});
}

#[test]
fn a_key_rotated_in_the_registry_is_enforced_by_telemetry() {
	dev_chain().execute_with(|| {
		let replacement =
			sr25519::Pair::from_string("//Alice//device/1//replacement", None).unwrap();
		assert_ok!(Telemetry::anchor(alice(), anchor(&demo_key(), 0, 1), None));
		let genesis = frame_system::Pallet::<Runtime>::block_hash(0);
		let owner = Sr25519Keyring::Alice.to_account_id();
		let proof = replacement.sign(&provena_primitives::possession_hash(
			&genesis,
			&thermometer_id(),
			&owner,
		));
		assert_ok!(DeviceRegistry::rotate_key(
			alice(),
			thermometer_id(),
			DeviceKey::Sr25519(replacement.public()),
			MultiSignature::Sr25519(proof)
		));

		assert_noop!(
			Telemetry::anchor(alice(), anchor(&demo_key(), 1, 1), None),
			pallet_telemetry::Error::<Runtime>::BadSignature
		);
		assert_ok!(Telemetry::anchor(alice(), anchor(&replacement, 1, 1), None));
	});
}

#[test]
fn suspending_or_decommissioning_in_the_registry_stops_anchoring() {
	dev_chain().execute_with(|| {
		assert_ok!(DeviceRegistry::suspend(alice(), thermometer_id()));
		assert_noop!(
			Telemetry::anchor(alice(), anchor(&demo_key(), 0, 1), None),
			pallet_telemetry::Error::<Runtime>::NotActive
		);
		assert_ok!(DeviceRegistry::resume(alice(), thermometer_id()));
		assert_ok!(Telemetry::anchor(alice(), anchor(&demo_key(), 0, 1), None));

		assert_ok!(DeviceRegistry::decommission(alice(), thermometer_id()));
		assert_noop!(
			Telemetry::anchor(alice(), anchor(&demo_key(), 1, 1), None),
			pallet_telemetry::Error::<Runtime>::NotActive
		);
	});
}

mod with_access_control {
	use super::*;
	use pallet_access_control::{Permissions, Scope};
	use provena_runtime::AccessControl;

	fn bob() -> AccountId {
		Sr25519Keyring::Bob.to_account_id()
	}

	fn as_bob(first: u64) -> frame_support::dispatch::DispatchResult {
		Telemetry::anchor(RuntimeOrigin::signed(bob()), anchor(&demo_key(), first, 1), None)
			.map(|_| ())
			.map_err(|e| e.error)
	}

	fn grant_bob(scope: Scope, permissions: u8, expires: Option<BlockNumber>) {
		assert_ok!(AccessControl::grant(
			alice(),
			scope,
			bob(),
			Permissions(permissions),
			expires,
			None
		));
	}

	#[test]
	fn a_gateway_with_a_submit_grant_anchors_until_revoked() {
		dev_chain().execute_with(|| {
			let scope = Scope::Device(thermometer_id());
			assert_noop!(as_bob(0), pallet_telemetry::Error::<Runtime>::NotAuthorized);

			grant_bob(scope, Permissions::SUBMIT, None);
			assert_ok!(as_bob(0));

			assert_ok!(AccessControl::revoke(alice(), scope, bob()));
			assert_noop!(as_bob(1), pallet_telemetry::Error::<Runtime>::NotAuthorized);
		});
	}

	#[test]
	fn a_gateways_grant_stops_at_its_expiry_block() {
		dev_chain().execute_with(|| {
			grant_bob(Scope::Device(thermometer_id()), Permissions::SUBMIT, Some(10));
			System::set_block_number(9);
			assert_ok!(as_bob(0));
			System::set_block_number(10);
			assert_noop!(as_bob(1), pallet_telemetry::Error::<Runtime>::NotAuthorized);
		});
	}

	#[test]
	fn a_group_grant_covers_the_group_s_devices() {
		dev_chain().execute_with(|| {
			assert_ok!(AccessControl::create_group(
				alice(),
				BoundedVec::truncate_from(b"reefer 1".to_vec())
			));
			assert_ok!(AccessControl::add_to_group(alice(), 0, thermometer_id()));
			grant_bob(Scope::Group(0), Permissions::SUBMIT, None);
			assert_ok!(as_bob(0));

			assert_ok!(AccessControl::remove_from_group(alice(), 0, thermometer_id()));
			assert_noop!(as_bob(1), pallet_telemetry::Error::<Runtime>::NotAuthorized);
		});
	}

	#[test]
	fn a_manage_grantee_sets_alert_rules() {
		dev_chain().execute_with(|| {
			let rule = |origin| {
				Telemetry::set_alert_rule(
					origin,
					thermometer_id(),
					MetricName::truncate_from(b"temp_c".to_vec()),
					Some(2_000),
					Some(8_000),
				)
			};
			assert_noop!(
				rule(RuntimeOrigin::signed(bob())),
				pallet_telemetry::Error::<Runtime>::NotAuthorized
			);
			grant_bob(Scope::Device(thermometer_id()), Permissions::MANAGE, None);
			assert_ok!(rule(RuntimeOrigin::signed(bob())));
			// The rule's deposit is held from Bob, under telemetry's own hold reason.
			let reason = RuntimeHoldReason::Telemetry(pallet_telemetry::HoldReason::RuleDeposit);
			assert_eq!(
				Balances::balance_on_hold(&reason, &bob()),
				<Runtime as pallet_telemetry::Config>::RuleDeposit::get()
			);
		});
	}
}
