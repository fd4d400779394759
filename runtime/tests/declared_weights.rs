//! No anchoring call is charged less than its benchmarks say: the weight a call declares
//! before dispatch covers its costliest case, and the weight it reports after dispatch (its
//! refund) never drops below the benchmarked weight of what it really did: the log's peaks,
//! the search for the submitter's right by the path it took, the device's authorization.
//! These are the runtime's generated weights, not a test double's.

use frame_support::{
	assert_ok,
	dispatch::GetDispatchInfo,
	traits::{Get, UnfilteredDispatchable},
	weights::Weight,
	BoundedVec,
};
use pallet_access_control::{NextGroupId, Permissions, Scope, WeightInfo as _};
use pallet_telemetry::{WeightInfo as _, MAX_LOG_PEAKS};
use provena_primitives::DevicePermissions;
use provena_runtime::{AccessControl, Runtime, RuntimeCall, RuntimeOrigin, Telemetry};
use sp_keyring::Sr25519Keyring;
use sp_runtime::AccountId32;

mod common;
use common::{anchor, demo_key, dev_chain, general, thermometer_id};

type TelemetryWeights = <Runtime as pallet_telemetry::Config>::WeightInfo;
type AccessWeights = <Runtime as pallet_access_control::Config>::WeightInfo;

fn alice() -> AccountId32 {
	Sr25519Keyring::Alice.to_account_id()
}

/// The peaks of the demo thermometer's log now.
fn peaks() -> u32 {
	Telemetry::device_state(thermometer_id()).map_or(0, |state| state.peaks.len() as u32)
}

/// `who` anchors the demo thermometer's reading `seq`: checks the declared weight against the
/// costliest case, and the reported one against the benchmarks of this case, whose right was
/// found at `search`.
fn anchors_within_its_weights(who: &AccountId32, seq: u64, search: Weight) {
	let longest = AccessWeights::submit_path_through_groups(
		<Runtime as pallet_access_control::Config>::MaxGroupsPerDevice::get(),
	);
	let call = pallet_telemetry::Call::<Runtime>::anchor {
		anchor: anchor(&demo_key(), seq, 1),
		payload: None,
	};
	let declared = RuntimeCall::Telemetry(call.clone()).get_dispatch_info().call_weight;
	let costliest = TelemetryWeights::anchor(0, MAX_LOG_PEAKS).saturating_add(longest);
	assert!(declared.all_gte(costliest), "declared {declared:?} < the costliest {costliest:?}");

	let used = TelemetryWeights::anchor(0, peaks()).saturating_add(search);
	let post = call.dispatch_bypass_filter(RuntimeOrigin::signed(who.clone())).expect("anchored");
	let reported = post.actual_weight.expect("an anchor reports what it used");
	assert!(reported.all_gte(used), "reading {seq}: reported {reported:?} < benchmarked {used:?}");
	assert!(reported.all_lte(declared), "reading {seq}: reported more than declared");
}

#[test]
fn a_signed_anchor_pays_at_least_the_benchmarks_of_the_path_it_took() {
	dev_chain().execute_with(|| {
		let most = <Runtime as pallet_access_control::Config>::MaxGroupsPerDevice::get();
		let owner = RuntimeOrigin::signed(alice());
		let submit = Permissions(Permissions::SUBMIT);
		let mut groups = Vec::new();
		for _ in 0..most {
			let group = NextGroupId::<Runtime>::get();
			assert_ok!(AccessControl::create_group(owner.clone(), BoundedVec::new()));
			assert_ok!(AccessControl::add_to_group(owner.clone(), group, thermometer_id()));
			groups.push(group);
		}

		// The owner needs no search at all.
		anchors_within_its_weights(&alice(), 0, Weight::zero());
		// A grant on the device itself.
		let direct = AccountId32::new([0xd1; 32]);
		let scope = Scope::Device(thermometer_id());
		assert_ok!(AccessControl::grant(owner.clone(), scope, direct.clone(), submit, None, None));
		anchors_within_its_weights(&direct, 1, AccessWeights::submit_path_direct());
		// A grant on the n-th group, found after missing on the device and the groups before.
		for (n, group) in (1..=most).zip(groups) {
			let gateway = AccountId32::new([n as u8; 32]);
			let scope = Scope::Group(group);
			assert_ok!(AccessControl::grant(
				owner.clone(),
				scope,
				gateway.clone(),
				submit,
				None,
				None
			));
			let search = AccessWeights::submit_path_through_groups(n);
			anchors_within_its_weights(&gateway, 1 + u64::from(n), search);
		}
	});
}

#[test]
fn a_device_anchor_pays_at_least_its_authorization_and_dispatch_benchmarks() {
	dev_chain().execute_with(|| {
		let count = 20u32;
		assert_ok!(Telemetry::buy_credits(RuntimeOrigin::signed(alice()), thermometer_id(), count));
		for seq in 0..u64::from(count) {
			let call = pallet_telemetry::Call::<Runtime>::device_anchor {
				anchor: anchor(&demo_key(), seq, 1),
				payload: None,
			};
			let xt = general(RuntimeCall::Telemetry(call.clone()));
			// The authorization (signature included) is paid through the extensions.
			let authorize = TelemetryWeights::authorize_device_anchor(0, 0);
			let extension = xt.extension_weight();
			assert!(extension.all_gte(authorize), "extensions {extension:?} < {authorize:?}");
			let declared = xt.get_dispatch_info().call_weight;
			let costliest = TelemetryWeights::device_anchor(0, MAX_LOG_PEAKS);
			assert!(declared.all_gte(costliest), "declared {declared:?} < {costliest:?}");

			let used = TelemetryWeights::device_anchor(0, peaks());
			let origin = frame_system::RawOrigin::Authorized.into();
			let post = call.dispatch_bypass_filter(origin).expect("anchored");
			let reported = post.actual_weight.expect("an anchor reports what it used");
			assert!(reported.all_gte(used), "reading {seq}: {reported:?} < {used:?}");
			frame_system::Pallet::<Runtime>::set_block_number(
				frame_system::Pallet::<Runtime>::block_number() + 1,
			);
		}
	});
}

/// A READ grant on a group, revoked or narrowed, moves each member's data key to a new epoch:
/// the call declares a full group's weight and reports the benchmarked weight of the members
/// it walked, never less.
#[test]
fn a_group_grant_losing_read_pays_for_each_member_it_walked() {
	dev_chain().execute_with(|| {
		let owner = RuntimeOrigin::signed(alice());
		let reader = AccountId32::new([0x4e; 32]);
		let group = NextGroupId::<Runtime>::get();
		assert_ok!(AccessControl::create_group(owner.clone(), BoundedVec::new()));
		assert_ok!(AccessControl::add_to_group(owner.clone(), group, thermometer_id()));
		let scope = Scope::Group(group);
		let read = Permissions(Permissions::READ);
		let full = <Runtime as pallet_access_control::Config>::MaxGroupSize::get();
		let epoch = || AccessControl::key_epoch(&thermometer_id()).expect("registered");

		// Narrowed: READ replaced by SUBMIT.
		assert_ok!(AccessControl::grant(owner.clone(), scope, reader.clone(), read, None, None));
		let narrow = pallet_access_control::Call::<Runtime>::grant {
			scope,
			grantee: reader.clone(),
			permissions: Permissions(Permissions::SUBMIT),
			expires: None,
			sealed_key: None,
		};
		let declared = RuntimeCall::AccessControl(narrow.clone()).get_dispatch_info().call_weight;
		assert!(declared.all_gte(AccessWeights::grant_group(full)));
		let before = epoch();
		let post = narrow.dispatch_bypass_filter(owner.clone()).expect("granted");
		let reported = post.actual_weight.expect("a group grant reports what it used");
		assert!(reported.all_gte(AccessWeights::grant_group(1)), "{reported:?}");
		assert!(reported.all_lte(declared));
		assert_eq!(epoch(), before + 1);

		// Revoked.
		assert_ok!(AccessControl::grant(owner.clone(), scope, reader.clone(), read, None, None));
		let revoke = pallet_access_control::Call::<Runtime>::revoke { scope, grantee: reader };
		let declared = RuntimeCall::AccessControl(revoke.clone()).get_dispatch_info().call_weight;
		assert!(declared.all_gte(AccessWeights::revoke_group(full)));
		let post = revoke.dispatch_bypass_filter(owner).expect("revoked");
		let reported = post.actual_weight.expect("a group revoke reports what it used");
		assert!(reported.all_gte(AccessWeights::revoke_group(1)), "{reported:?}");
		assert!(reported.all_lte(declared));
		assert_eq!(epoch(), before + 2);
	});
}

/// A gateway's batch is charged from the benchmarks of its least items, with what each item
/// carries added from others. For a batch of the costliest items (the most public values, the
/// largest payloads, logs of the most peaks) that sum must cover the benchmark of that very
/// batch, at one item and at the most.
#[test]
fn a_batch_of_the_costliest_items_declares_at_least_their_benchmark() {
	let payload: u32 = <Runtime as pallet_telemetry::Config>::MaxPayloadLen::get();
	let most: u32 = <Runtime as pallet_telemetry::Config>::MaxBatchLen::get();
	// Less the searches for the right to submit: the benchmark's owner needs none.
	let searches = <AccessControl as DevicePermissions<AccountId32>>::submit_path_weight(None);
	for n in [1, most / 2, most] {
		let declared = Telemetry::batch_weight_of(n, n, payload * n)
			.saturating_sub(searches.saturating_mul(n.into()));
		let measured = TelemetryWeights::anchor_batch_costliest(n);
		assert!(declared.all_gte(measured), "{n} items: declared {declared:?} < {measured:?}");
	}
}
