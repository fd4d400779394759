//! Access control's behaviour: groups, grants, delegation, expiry, deposits, sealed keys.

use crate::{mock::*, *};
use frame_support::dispatch::DispatchResultWithPostInfo;
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{InspectHold, Mutate},
	BoundedVec,
};
use sp_runtime::{DispatchError, DispatchResult};

type Event = crate::Event<Test>;

const SUBMIT: Permissions = Permissions(Permissions::SUBMIT);
const READ: Permissions = Permissions(Permissions::READ);
const MANAGE: Permissions = Permissions(Permissions::MANAGE);
const MANAGE_DELEGATE: Permissions = Permissions(Permissions::MANAGE | Permissions::DELEGATE);

fn held(who: u64) -> u64 {
	Balances::balance_on_hold(&HoldReason::AccessDeposit.into(), &who)
}

fn grant(
	by: u64,
	scope: Scope,
	grantee: u64,
	permissions: Permissions,
	expires: Option<u64>,
) -> DispatchResult {
	AccessControl::grant(RuntimeOrigin::signed(by), scope, grantee, permissions, expires, None)
		.map(|_| ())
		.map_err(|e| e.error)
}

fn revoke(by: u64, scope: Scope, grantee: u64) -> DispatchResultWithPostInfo {
	AccessControl::revoke(RuntimeOrigin::signed(by), scope, grantee)
}

/// A sealed key of `len` bytes for `epoch` (what is inside does not matter to the chain).
fn epoch_key(epoch: u32, len: usize) -> EpochKeyOf<Test> {
	EpochKey { epoch, sealed: BoundedVec::truncate_from(vec![0x5a; len]) }
}

fn on(n: u8) -> Scope {
	Scope::Device(device(n))
}

fn create_group(owner: u64) -> GroupId {
	let id = NextGroupId::<Test>::get();
	assert_ok!(AccessControl::create_group(
		RuntimeOrigin::signed(owner),
		BoundedVec::truncate_from(b"ward 3".to_vec())
	));
	id
}

fn add(owner: u64, group: GroupId, n: u8) -> DispatchResult {
	AccessControl::add_to_group(RuntimeOrigin::signed(owner), group, device(n))
}

/// Where `who`'s SUBMIT right on device `n` was found, as telemetry asks it.
fn submit_path(who: u64, n: u8) -> Option<GrantPath> {
	let info = <Directory as InspectDevice<u64>>::device(&device(n))?;
	<AccessControl as DevicePermissions<u64>>::submit_path(&who, &device(n), &info)
}

fn may_submit(who: u64, n: u8) -> bool {
	submit_path(who, n).is_some()
}

fn may_manage(who: u64, n: u8) -> bool {
	<AccessControl as DevicePermissions<u64>>::may_manage(&who, &device(n))
}

mod groups {
	use super::*;

	#[test]
	fn creating_a_group_holds_its_deposit() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			System::assert_last_event(Event::GroupCreated { group, owner: OWNER }.into());
			assert_eq!(held(OWNER), GroupDeposit::get());
			assert_eq!(NextGroupId::<Test>::get(), group + 1);
			assert_eq!(Groups::<Test>::get(group).unwrap().name.to_vec(), b"ward 3".to_vec());
		});
	}

	#[test]
	fn create_group_fails_without_funds_for_the_deposit() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				AccessControl::create_group(RuntimeOrigin::signed(POOR), BoundedVec::new()),
				Error::<Test>::InsufficientBalance
			);
		});
	}

	#[test]
	fn create_group_fails_when_unsigned() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				AccessControl::create_group(RuntimeOrigin::none(), BoundedVec::new()),
				DispatchError::BadOrigin
			);
		});
	}

	#[test]
	fn adding_and_removing_a_member_moves_its_deposit() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			System::assert_last_event(
				Event::DeviceAddedToGroup { group, device: device(1) }.into(),
			);
			assert_eq!(held(OWNER), GroupDeposit::get() + 32);
			assert_eq!(
				DeviceGroups::<Test>::get(device(1)).to_vec(),
				vec![Membership { group, epoch: 0 }]
			);

			assert_ok!(AccessControl::remove_from_group(
				RuntimeOrigin::signed(OWNER),
				group,
				device(1)
			));
			System::assert_last_event(
				Event::DeviceRemovedFromGroup { group, device: device(1) }.into(),
			);
			assert_eq!(held(OWNER), GroupDeposit::get());
			assert!(!DeviceGroups::<Test>::contains_key(device(1)));
		});
	}

	#[test]
	fn add_to_group_fails_for_unknown_groups_and_devices() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(add(OWNER, 7, 1), Error::<Test>::GroupNotFound);
			let group = create_group(OWNER);
			assert_noop!(add(OWNER, group, 42), Error::<Test>::NotFound);
		});
	}

	#[test]
	fn add_to_group_fails_for_others_than_the_owner_of_both() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_noop!(add(OTHER_OWNER, group, 9), Error::<Test>::NotOwner);
			assert_noop!(add(OWNER, group, 9), Error::<Test>::NotDeviceOwner);
		});
	}

	#[test]
	fn add_to_group_fails_for_a_decommissioned_device() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			Directory::set_status(device(1), DeviceStatus::Decommissioned);
			assert_noop!(add(OWNER, group, 1), Error::<Test>::Decommissioned);
		});
	}

	#[test]
	fn add_to_group_fails_for_a_member() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			assert_noop!(add(OWNER, group, 1), Error::<Test>::AlreadyInGroup);
		});
	}

	#[test]
	fn add_to_group_fails_when_the_group_is_full() {
		ExtBuilder::new().build_and_execute(|| {
			for n in 3..=5 {
				Directory::register(device(n), OWNER);
			}
			let group = create_group(OWNER);
			for n in 3..=5 {
				assert_ok!(add(OWNER, group, n));
			}
			assert_noop!(add(OWNER, group, 1), Error::<Test>::GroupFull);
		});
	}

	#[test]
	fn add_to_group_fails_when_the_device_is_in_too_many_groups() {
		ExtBuilder::new().build_and_execute(|| {
			for _ in 0..MaxGroupsPerDevice::get() {
				let group = create_group(OWNER);
				assert_ok!(add(OWNER, group, 1));
			}
			let one_more = create_group(OWNER);
			assert_noop!(add(OWNER, one_more, 1), Error::<Test>::TooManyGroups);
		});
	}

	#[test]
	fn add_to_group_fails_without_funds_for_the_member_deposit() {
		ExtBuilder::new().build_and_execute(|| {
			Balances::set_balance(&OWNER, GroupDeposit::get() + 10);
			let group = create_group(OWNER);
			assert_noop!(add(OWNER, group, 1), Error::<Test>::InsufficientBalance);
		});
	}

	#[test]
	fn add_to_group_fails_when_unsigned() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_noop!(
				AccessControl::add_to_group(RuntimeOrigin::none(), group, device(1)),
				DispatchError::BadOrigin
			);
		});
	}

	#[test]
	fn remove_from_group_fails_for_strangers_and_non_members() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				AccessControl::remove_from_group(RuntimeOrigin::signed(OWNER), 7, device(1)),
				Error::<Test>::GroupNotFound
			);
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			assert_noop!(
				AccessControl::remove_from_group(
					RuntimeOrigin::signed(OTHER_OWNER),
					group,
					device(1)
				),
				Error::<Test>::NotOwner
			);
			assert_noop!(
				AccessControl::remove_from_group(RuntimeOrigin::signed(OWNER), group, device(2)),
				Error::<Test>::NotInGroup
			);
			assert_noop!(
				AccessControl::remove_from_group(RuntimeOrigin::none(), group, device(1)),
				DispatchError::BadOrigin
			);
		});
	}

	#[test]
	fn dissolving_a_group_releases_everything() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			assert_ok!(add(OWNER, group, 2));
			assert_ok!(AccessControl::dissolve_group(RuntimeOrigin::signed(OWNER), group));
			System::assert_last_event(Event::GroupDissolved { group }.into());
			assert_eq!(held(OWNER), 0);
			assert!(!Groups::<Test>::contains_key(group));
			assert!(!DeviceGroups::<Test>::contains_key(device(1)));
		});
	}

	#[test]
	fn dissolve_group_fails_while_it_has_grants() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(grant(OWNER, Scope::Group(group), GATEWAY, SUBMIT, None));
			assert_noop!(
				AccessControl::dissolve_group(RuntimeOrigin::signed(OWNER), group),
				Error::<Test>::GroupHasGrants
			);
			assert_ok!(revoke(OWNER, Scope::Group(group), GATEWAY));
			assert_ok!(AccessControl::dissolve_group(RuntimeOrigin::signed(OWNER), group));
		});
	}

	#[test]
	fn dissolve_group_fails_for_strangers_and_unknown_groups() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				AccessControl::dissolve_group(RuntimeOrigin::signed(OWNER), 7),
				Error::<Test>::GroupNotFound
			);
			let group = create_group(OWNER);
			assert_noop!(
				AccessControl::dissolve_group(RuntimeOrigin::signed(OTHER_OWNER), group),
				Error::<Test>::NotOwner
			);
			assert_noop!(
				AccessControl::dissolve_group(RuntimeOrigin::none(), group),
				DispatchError::BadOrigin
			);
		});
	}
}

mod grants {
	use super::*;

	#[test]
	fn the_submit_path_stops_at_the_first_live_submit_grant() {
		ExtBuilder::new().build_and_execute(|| {
			let groups = [create_group(OWNER), create_group(OWNER)];
			for group in groups {
				assert_ok!(add(OWNER, group, 1));
			}
			assert_eq!(submit_path(GATEWAY, 1), None);
			// READ on the first group does not count; SUBMIT on the second is found there.
			assert_ok!(grant(OWNER, Scope::Group(groups[0]), GATEWAY, READ, None));
			assert_ok!(grant(OWNER, Scope::Group(groups[1]), GATEWAY, SUBMIT, None));
			assert_eq!(submit_path(GATEWAY, 1), Some(GrantPath::Group(2)));
			// A SUBMIT grant on the first group counts until it expires.
			assert_ok!(grant(OWNER, Scope::Group(groups[0]), GATEWAY, SUBMIT, Some(5)));
			assert_eq!(submit_path(GATEWAY, 1), Some(GrantPath::Group(1)));
			System::set_block_number(5);
			assert_eq!(submit_path(GATEWAY, 1), Some(GrantPath::Group(2)));
			// The device's own grant is looked at first.
			assert_ok!(grant(OWNER, on(1), GATEWAY, SUBMIT, None));
			assert_eq!(submit_path(GATEWAY, 1), Some(GrantPath::Direct));
			// What each path costs grows with the search, the failed one the longest.
			let weight = <AccessControl as DevicePermissions<u64>>::submit_path_weight;
			let most = weight(None);
			assert!(weight(Some(GrantPath::Direct)).all_lte(weight(Some(GrantPath::Group(1)))));
			assert!(
				weight(Some(GrantPath::Group(1))).ref_time()
					< weight(Some(GrantPath::Group(2))).ref_time()
			);
			assert!(weight(Some(GrantPath::Group(2))).all_lte(most));
		});
	}

	#[test]
	fn the_owner_grants_and_revokes() {
		ExtBuilder::new().build_and_execute(|| {
			assert!(!may_submit(GATEWAY, 1));
			assert_ok!(grant(OWNER, on(1), GATEWAY, SUBMIT, None));
			System::assert_last_event(
				Event::Granted {
					scope: on(1),
					grantee: GATEWAY,
					permissions: SUBMIT,
					expires: None,
					by: OWNER,
				}
				.into(),
			);
			assert!(may_submit(GATEWAY, 1));
			assert!(!may_submit(GATEWAY, 2));
			assert!(!may_manage(GATEWAY, 1));
			assert_eq!(held(OWNER), GrantDeposit::get());

			assert_ok!(revoke(OWNER, on(1), GATEWAY));
			System::assert_last_event(
				Event::Revoked { scope: on(1), grantee: GATEWAY, by: OWNER }.into(),
			);
			assert!(!may_submit(GATEWAY, 1));
			assert_eq!(held(OWNER), 0);
		});
	}

	#[test]
	fn a_new_grant_replaces_the_old_and_its_deposit() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), MANAGER, MANAGE, None));
			assert_ok!(grant(MANAGER, on(1), READER, READ, None));
			assert_eq!(held(MANAGER), GrantDeposit::get());

			assert_ok!(AccessControl::grant(
				RuntimeOrigin::signed(OWNER),
				on(1),
				READER,
				Permissions(Permissions::READ | Permissions::SUBMIT),
				None,
				Some(epoch_key(0, 80)),
			));
			// The manager's deposit went back; the owner pays for the new grant and the key.
			assert_eq!(held(MANAGER), 0);
			let key = 80 + SEALED_KEY_ENTRY_BYTES as u64;
			assert_eq!(held(OWNER), 2 * GrantDeposit::get() + key);
			assert_eq!(GrantCount::<Test>::get(on(1)), 2);
		});
	}

	#[test]
	fn grant_fails_with_invalid_permissions() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				grant(OWNER, on(1), GATEWAY, Permissions(0), None),
				Error::<Test>::InvalidPermissions
			);
			assert_noop!(
				grant(OWNER, on(1), GATEWAY, Permissions(16), None),
				Error::<Test>::InvalidPermissions
			);
			// DELEGATE means something only beside MANAGE: alone it is refused, even from the
			// owner.
			for alone in [Permissions::DELEGATE, Permissions::DELEGATE | Permissions::SUBMIT] {
				assert_noop!(
					grant(OWNER, on(1), GATEWAY, Permissions(alone), None),
					Error::<Test>::InvalidPermissions
				);
			}
		});
	}

	#[test]
	fn grant_fails_when_already_expired() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				grant(OWNER, on(1), GATEWAY, SUBMIT, Some(1)),
				Error::<Test>::AlreadyExpired
			);
			assert_ok!(grant(OWNER, on(1), GATEWAY, SUBMIT, Some(2)));
		});
	}

	#[test]
	fn grant_fails_on_unknown_or_retired_scopes() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(grant(OWNER, on(42), GATEWAY, SUBMIT, None), Error::<Test>::NotFound);
			assert_noop!(
				grant(OWNER, Scope::Group(7), GATEWAY, SUBMIT, None),
				Error::<Test>::GroupNotFound
			);
			Directory::set_status(device(1), DeviceStatus::Decommissioned);
			assert_noop!(grant(OWNER, on(1), GATEWAY, SUBMIT, None), Error::<Test>::Decommissioned);
		});
	}

	#[test]
	fn grant_fails_for_strangers_and_mere_submitters() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				grant(OTHER_OWNER, on(1), GATEWAY, SUBMIT, None),
				Error::<Test>::NotAuthorized
			);
			assert_ok!(grant(
				OWNER,
				on(1),
				GATEWAY,
				Permissions(Permissions::SUBMIT | Permissions::READ),
				None
			));
			assert_noop!(grant(GATEWAY, on(1), READER, SUBMIT, None), Error::<Test>::NotAuthorized);
		});
	}

	#[test]
	fn grant_fails_without_funds_for_the_deposit() {
		ExtBuilder::new().build_and_execute(|| {
			Directory::register(device(6), POOR);
			assert_noop!(
				grant(POOR, Scope::Device(device(6)), GATEWAY, SUBMIT, None),
				Error::<Test>::InsufficientBalance
			);
		});
	}

	#[test]
	fn grant_fails_when_unsigned() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				AccessControl::grant(RuntimeOrigin::none(), on(1), GATEWAY, SUBMIT, None, None),
				DispatchError::BadOrigin
			);
		});
	}

	#[test]
	fn revoke_fails_without_a_grant_or_authority() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(revoke(OWNER, on(1), GATEWAY), Error::<Test>::GrantNotFound);
			assert_ok!(grant(OWNER, on(1), GATEWAY, SUBMIT, None));
			assert_noop!(revoke(OTHER_OWNER, on(1), GATEWAY), Error::<Test>::NotAuthorized);
			assert_noop!(revoke(GATEWAY, on(1), GATEWAY), Error::<Test>::NotAuthorized);
			assert_noop!(
				AccessControl::revoke(RuntimeOrigin::none(), on(1), GATEWAY),
				DispatchError::BadOrigin
			);
		});
	}

	#[test]
	fn a_transferred_devices_old_grants_count_for_nothing() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), GATEWAY, SUBMIT, None));
			Directory::transfer(device(1), OTHER_OWNER);
			assert!(!may_submit(GATEWAY, 1));
			// The new owner's own grant does count.
			assert_ok!(grant(OTHER_OWNER, on(1), GATEWAY, SUBMIT, None));
			assert!(may_submit(GATEWAY, 1));
		});
	}

	#[test]
	fn grants_stay_dead_when_a_device_comes_back() {
		// OWNER sells device 1 and buys it back: the grants OWNER gave before the sale, on the
		// device and through a group, do not come back with it.
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			assert_ok!(grant(OWNER, on(1), GATEWAY, SUBMIT, None));
			assert_ok!(grant(OWNER, Scope::Group(group), READER, SUBMIT, None));
			Directory::transfer(device(1), OTHER_OWNER);
			Directory::transfer(device(1), OWNER);
			assert!(!may_submit(GATEWAY, 1));
			assert!(!may_submit(READER, 1));
			// Device 2, never sold, still counts through the same group.
			assert_ok!(add(OWNER, group, 2));
			assert!(may_submit(READER, 2));
		});
	}

	#[test]
	fn the_sellers_groups_do_not_block_the_buyers() {
		// MaxGroupsPerDevice is 2: the seller's two groups must not keep the buyer out.
		ExtBuilder::new().build_and_execute(|| {
			let (first, second) = (create_group(OWNER), create_group(OWNER));
			assert_ok!(add(OWNER, first, 1));
			assert_ok!(add(OWNER, second, 1));
			let seller_held = held(OWNER);
			Directory::transfer(device(1), OTHER_OWNER);

			let mine = create_group(OTHER_OWNER);
			assert_ok!(add(OTHER_OWNER, mine, 1));
			assert_eq!(DeviceGroups::<Test>::get(device(1)).len(), 1);
			// The seller's groups no longer list it, and the seller has its member deposit back.
			assert!(!Groups::<Test>::get(first).unwrap().members.contains(&device(1)));
			assert_eq!(held(OWNER), seller_held - 2 * AccessControl::member_deposit());
		});
	}

	#[test]
	fn a_device_back_with_its_old_owner_takes_its_old_place_in_a_group() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			let before = held(OWNER);
			Directory::transfer(device(1), OTHER_OWNER);
			Directory::transfer(device(1), OWNER);
			assert_ok!(add(OWNER, group, 1));
			// One place, one member deposit, and it counts again.
			assert_eq!(Groups::<Test>::get(group).unwrap().members.to_vec(), vec![device(1)]);
			assert_eq!(held(OWNER), before);
			assert_ok!(grant(OWNER, Scope::Group(group), GATEWAY, SUBMIT, None));
			assert!(may_submit(GATEWAY, 1));
			assert_noop!(add(OWNER, group, 1), Error::<Test>::AlreadyInGroup);
		});
	}

	#[test]
	fn the_seller_may_still_take_a_sold_device_out_of_its_group() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			Directory::transfer(device(1), OTHER_OWNER);
			assert_ok!(AccessControl::remove_from_group(
				RuntimeOrigin::signed(OWNER),
				group,
				device(1)
			));
			assert_eq!(held(OWNER), GroupDeposit::get());
			assert!(DeviceGroups::<Test>::get(device(1)).is_empty());
		});
	}

	#[test]
	fn the_sellers_grants_can_be_removed_by_anyone() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), GATEWAY, SUBMIT, None));
			Directory::transfer(device(1), OTHER_OWNER);
			assert_ok!(AccessControl::remove_stale(RuntimeOrigin::signed(READER), on(1), GATEWAY));
			assert_eq!(held(OWNER), 0);
			assert_eq!(GrantCount::<Test>::get(on(1)), 0);
		});
	}

	#[test]
	fn grants_on_a_decommissioned_device_can_be_removed_by_anyone() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), GATEWAY, SUBMIT, None));
			Directory::set_status(device(1), DeviceStatus::Decommissioned);
			assert_ok!(AccessControl::remove_stale(RuntimeOrigin::signed(READER), on(1), GATEWAY));
			assert_eq!(held(OWNER), 0);
		});
	}
}

mod delegation {
	use super::*;

	#[test]
	fn a_manager_grants_and_revokes_submit_and_read() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), MANAGER, MANAGE, None));
			assert!(may_manage(MANAGER, 1));
			assert_ok!(grant(MANAGER, on(1), GATEWAY, SUBMIT, None));
			assert_ok!(grant(MANAGER, on(1), READER, READ, Some(100)));
			assert!(may_submit(GATEWAY, 1));
			assert_eq!(held(MANAGER), 2 * GrantDeposit::get());

			assert_ok!(revoke(MANAGER, on(1), GATEWAY));
			assert!(!may_submit(GATEWAY, 1));
		});
	}

	#[test]
	fn a_manager_cannot_pass_on_manage_without_delegate() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), MANAGER, MANAGE, None));
			assert_noop!(grant(MANAGER, on(1), GATEWAY, MANAGE, None), Error::<Test>::Escalation);
			assert_noop!(
				grant(
					MANAGER,
					on(1),
					GATEWAY,
					Permissions(Permissions::MANAGE | Permissions::SUBMIT),
					None
				),
				Error::<Test>::Escalation
			);
			// Nor raise itself.
			assert_noop!(
				grant(MANAGER, on(1), MANAGER, MANAGE_DELEGATE, None),
				Error::<Test>::Escalation
			);
		});
	}

	#[test]
	fn delegate_lets_a_manager_pass_on_manage_but_never_delegate() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), MANAGER, MANAGE_DELEGATE, None));
			assert_ok!(grant(MANAGER, on(1), GATEWAY, MANAGE, None));
			assert_noop!(
				grant(MANAGER, on(1), READER, MANAGE_DELEGATE, None),
				Error::<Test>::Escalation
			);
			// DELEGATE alone is no permission at all.
			assert_noop!(
				grant(MANAGER, on(1), READER, Permissions(Permissions::DELEGATE), None),
				Error::<Test>::InvalidPermissions
			);
		});
	}

	#[test]
	fn a_managers_grants_end_by_its_own() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), MANAGER, MANAGE, Some(50)));
			assert_noop!(grant(MANAGER, on(1), GATEWAY, SUBMIT, None), Error::<Test>::Escalation);
			assert_noop!(
				grant(MANAGER, on(1), GATEWAY, SUBMIT, Some(51)),
				Error::<Test>::Escalation
			);
			assert_ok!(grant(MANAGER, on(1), GATEWAY, SUBMIT, Some(50)));
		});
	}

	#[test]
	fn only_manage_grants_set_a_managers_reach() {
		// A MANAGE grant ending at 50 and an unrelated SUBMIT grant with no end (through a
		// group): the manager's grants still end by 50.
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			assert_ok!(grant(OWNER, on(1), MANAGER, MANAGE, Some(50)));
			assert_ok!(grant(OWNER, Scope::Group(group), MANAGER, SUBMIT, None));
			assert_noop!(grant(MANAGER, on(1), GATEWAY, SUBMIT, None), Error::<Test>::Escalation);
			assert_noop!(
				grant(MANAGER, on(1), GATEWAY, SUBMIT, Some(51)),
				Error::<Test>::Escalation
			);
			assert_ok!(grant(MANAGER, on(1), GATEWAY, SUBMIT, Some(50)));
			// Nor may it revoke a grant with no end it could not have given.
			assert_ok!(grant(OWNER, on(1), READER, READ, None));
			assert_noop!(revoke(MANAGER, on(1), READER), Error::<Test>::Escalation);
		});
	}

	#[test]
	fn delegate_counts_only_in_the_same_grant_as_manage() {
		// DELEGATE and MANAGE on different scopes of the manager do not add up to passing on
		// MANAGE. (The DELEGATE-only grant is stored directly, with its deposit held as
		// `grant` would: it can no longer be given.)
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			assert_ok!(grant(OWNER, on(1), MANAGER, MANAGE, None));
			let deposit = GrantDeposit::get();
			assert_ok!(<Balances as frame_support::traits::fungible::MutateHold<_>>::hold(
				&HoldReason::AccessDeposit.into(),
				&OWNER,
				deposit
			));
			Grants::<Test>::insert(
				Scope::Group(group),
				MANAGER,
				Grant {
					permissions: Permissions(Permissions::DELEGATE | Permissions::SUBMIT),
					expires: None,
					owner: OWNER,
					epoch: 0,
					granted_by: OWNER,
					deposit,
				},
			);
			GrantCount::<Test>::insert(Scope::Group(group), 1);
			assert_noop!(grant(MANAGER, on(1), GATEWAY, MANAGE, None), Error::<Test>::Escalation);
			assert_ok!(grant(MANAGER, on(1), GATEWAY, SUBMIT, None));
		});
	}

	#[test]
	fn each_of_a_managers_grants_is_a_limit_of_its_own() {
		// MANAGE + DELEGATE until 50 on the device, MANAGE alone until 100 through a group:
		// MANAGE may be passed on until 50, SUBMIT until 100, MANAGE until 100 never.
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			assert_ok!(grant(OWNER, on(1), MANAGER, MANAGE_DELEGATE, Some(50)));
			assert_ok!(grant(OWNER, Scope::Group(group), MANAGER, MANAGE, Some(100)));
			assert_noop!(
				grant(MANAGER, on(1), GATEWAY, MANAGE, Some(100)),
				Error::<Test>::Escalation
			);
			assert_ok!(grant(MANAGER, on(1), GATEWAY, MANAGE, Some(50)));
			assert_ok!(grant(MANAGER, on(1), READER, SUBMIT, Some(100)));
			assert_noop!(
				grant(MANAGER, on(1), READER, SUBMIT, Some(101)),
				Error::<Test>::Escalation
			);
			// Once the DELEGATE grant has ended, MANAGE can no longer be passed on, nor the
			// MANAGE grant it gave be replaced; SUBMIT still can, through the group.
			System::set_block_number(50);
			assert_noop!(
				grant(MANAGER, on(1), READER, MANAGE, Some(60)),
				Error::<Test>::Escalation
			);
			assert_noop!(
				grant(MANAGER, on(1), GATEWAY, SUBMIT, Some(60)),
				Error::<Test>::Escalation
			);
			assert_ok!(grant(MANAGER, on(1), READER, SUBMIT, Some(60)));
		});
	}

	#[test]
	fn a_manager_cannot_replace_or_revoke_what_it_could_not_give() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), MANAGER, MANAGE, None));
			assert_ok!(grant(OWNER, on(1), READER, MANAGE, None));
			assert_noop!(grant(MANAGER, on(1), READER, SUBMIT, None), Error::<Test>::Escalation);
			assert_noop!(revoke(MANAGER, on(1), READER), Error::<Test>::Escalation);
			// The owner revokes anything, the manager's own grant included.
			assert_ok!(revoke(OWNER, on(1), MANAGER));
			assert_noop!(
				grant(MANAGER, on(1), GATEWAY, SUBMIT, None),
				Error::<Test>::NotAuthorized
			);
		});
	}

	#[test]
	fn a_manager_of_a_group_manages_its_devices() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			assert_ok!(grant(OWNER, Scope::Group(group), MANAGER, MANAGE, None));
			assert!(may_manage(MANAGER, 1));
			assert_ok!(grant(MANAGER, on(1), GATEWAY, SUBMIT, None));
			assert_ok!(grant(MANAGER, Scope::Group(group), READER, READ, None));
			assert_noop!(
				grant(MANAGER, on(2), GATEWAY, SUBMIT, None),
				Error::<Test>::NotAuthorized
			);
		});
	}
}

mod membership_and_expiry {
	use super::*;

	#[test]
	fn a_group_grant_covers_its_members_only_while_they_are_members() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			assert_ok!(grant(OWNER, Scope::Group(group), GATEWAY, SUBMIT, None));
			assert!(may_submit(GATEWAY, 1));
			assert!(!may_submit(GATEWAY, 2));

			assert_ok!(add(OWNER, group, 2));
			assert!(may_submit(GATEWAY, 2));

			assert_ok!(AccessControl::remove_from_group(
				RuntimeOrigin::signed(OWNER),
				group,
				device(1)
			));
			assert!(!may_submit(GATEWAY, 1));
			assert!(may_submit(GATEWAY, 2));
		});
	}

	#[test]
	fn a_group_grant_stops_when_its_member_changes_owner() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			assert_ok!(grant(OWNER, Scope::Group(group), GATEWAY, SUBMIT, None));
			Directory::transfer(device(1), OTHER_OWNER);
			assert!(!may_submit(GATEWAY, 1));
		});
	}

	#[test]
	fn a_grant_expires_at_the_exact_block() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), GATEWAY, SUBMIT, Some(10)));
			System::set_block_number(9);
			assert!(may_submit(GATEWAY, 1));
			System::set_block_number(10);
			assert!(!may_submit(GATEWAY, 1));
			// Still stored, and still counting for nothing.
			assert!(Grants::<Test>::contains_key(on(1), GATEWAY));
			assert_eq!(AccessControl::permissions_on(&GATEWAY, &device(1)), Permissions::none());
		});
	}

	#[test]
	fn an_expired_manager_can_do_nothing() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), MANAGER, MANAGE, Some(5)));
			System::set_block_number(5);
			assert_noop!(
				grant(MANAGER, on(1), GATEWAY, SUBMIT, Some(5)),
				Error::<Test>::AlreadyExpired
			);
			assert_noop!(
				grant(MANAGER, on(1), GATEWAY, SUBMIT, Some(6)),
				Error::<Test>::NotAuthorized
			);
		});
	}

	#[test]
	fn anyone_removes_an_expired_grant_and_the_payer_gets_the_deposit() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), MANAGER, MANAGE, Some(20)));
			assert_ok!(grant(MANAGER, on(1), GATEWAY, SUBMIT, Some(10)));
			assert_noop!(
				AccessControl::remove_stale(RuntimeOrigin::signed(READER), on(1), GATEWAY),
				Error::<Test>::NotStale
			);

			System::set_block_number(10);
			assert_ok!(AccessControl::remove_stale(RuntimeOrigin::signed(READER), on(1), GATEWAY));
			System::assert_last_event(
				Event::StaleGrantRemoved { scope: on(1), grantee: GATEWAY, by: READER }.into(),
			);
			assert_eq!(held(MANAGER), 0);
			assert_eq!(held(READER), 0);
			assert!(!Grants::<Test>::contains_key(on(1), GATEWAY));
		});
	}

	#[test]
	fn remove_stale_fails_without_a_grant_or_origin() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				AccessControl::remove_stale(RuntimeOrigin::signed(READER), on(1), GATEWAY),
				Error::<Test>::GrantNotFound
			);
			assert_noop!(
				AccessControl::remove_stale(RuntimeOrigin::none(), on(1), GATEWAY),
				DispatchError::BadOrigin
			);
		});
	}

	#[test]
	fn grants_on_lists_direct_and_group_grants() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			assert_ok!(grant(OWNER, on(1), GATEWAY, SUBMIT, None));
			assert_ok!(grant(OWNER, Scope::Group(group), READER, READ, Some(9)));
			assert_ok!(grant(OWNER, on(2), MANAGER, MANAGE, None));
			let mut listed: Vec<(Scope, u64)> = AccessControl::grants_on(&device(1), None, 10)
				.grants
				.into_iter()
				.map(|(s, who, _)| (s, who))
				.collect();
			listed.sort();
			assert_eq!(listed, vec![(on(1), GATEWAY), (Scope::Group(group), READER)]);
			assert_eq!(AccessControl::permissions_on(&READER, &device(1)), READ);
		});
	}
}

mod encryption {
	use super::*;
	use crypto_box::{aead::OsRng, PublicKey, SecretKey};

	#[test]
	fn an_account_publishes_its_encryption_key() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(AccessControl::publish_encryption_key(
				RuntimeOrigin::signed(READER),
				[9; 32]
			));
			System::assert_last_event(
				Event::EncryptionKeyPublished { who: READER, key: [9; 32] }.into(),
			);
			let deposit = KeyDeposit::get();
			assert_eq!(
				EncryptionKeys::<Test>::get(READER),
				Some(PublishedKey { key: [9; 32], deposit })
			);
			assert_eq!(held(READER), deposit);
			assert_noop!(
				AccessControl::publish_encryption_key(RuntimeOrigin::none(), [9; 32]),
				DispatchError::BadOrigin
			);
		});
	}

	#[test]
	fn a_published_key_holds_a_deposit_once_and_withdrawing_returns_it() {
		ExtBuilder::new().build_and_execute(|| {
			let publish =
				|key| AccessControl::publish_encryption_key(RuntimeOrigin::signed(READER), key);
			assert_ok!(publish([1; 32]));
			// Replacing the key holds nothing more.
			assert_ok!(publish([2; 32]));
			assert_eq!(held(READER), KeyDeposit::get());
			assert_eq!(EncryptionKeys::<Test>::get(READER).map(|p| p.key), Some([2; 32]));

			assert_ok!(AccessControl::withdraw_encryption_key(RuntimeOrigin::signed(READER)));
			System::assert_last_event(Event::EncryptionKeyWithdrawn { who: READER }.into());
			assert_eq!(held(READER), 0);
			assert_eq!(Balances::free_balance(READER), RICH);
			assert!(!EncryptionKeys::<Test>::contains_key(READER));
		});
	}

	#[test]
	fn a_replacement_settles_a_changed_deposit() {
		ExtBuilder::new().build_and_execute(|| {
			let publish =
				|key| AccessControl::publish_encryption_key(RuntimeOrigin::signed(READER), key);
			assert_ok!(publish([1; 32]));
			KeyDeposit::set(12);
			assert_ok!(publish([2; 32]));
			assert_eq!(held(READER), 12);
			KeyDeposit::set(3);
			assert_ok!(publish([3; 32]));
			assert_eq!(held(READER), 3);
			assert_eq!(EncryptionKeys::<Test>::get(READER).map(|p| p.deposit), Some(3));
		});
	}

	#[test]
	fn a_key_without_its_deposit_is_refused() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				AccessControl::publish_encryption_key(RuntimeOrigin::signed(POOR), [9; 32]),
				Error::<Test>::InsufficientBalance
			);
		});
	}

	#[test]
	fn only_a_published_key_can_be_withdrawn() {
		ExtBuilder::new().build_and_execute(|| {
			assert_noop!(
				AccessControl::withdraw_encryption_key(RuntimeOrigin::signed(READER)),
				Error::<Test>::NoEncryptionKey
			);
			assert_ok!(AccessControl::publish_encryption_key(
				RuntimeOrigin::signed(READER),
				[9; 32]
			));
			// Nobody withdraws another account's key: each withdraws its own, if any.
			assert_noop!(
				AccessControl::withdraw_encryption_key(RuntimeOrigin::signed(OWNER)),
				Error::<Test>::NoEncryptionKey
			);
			assert_noop!(
				AccessControl::withdraw_encryption_key(RuntimeOrigin::none()),
				DispatchError::BadOrigin
			);
		});
	}

	/// Built with `try-runtime`, the pallet's `try_state` hook runs the same checks.
	#[cfg(feature = "try-runtime")]
	#[test]
	fn the_try_state_hook_runs_the_checks() {
		use frame_support::traits::{TryState, TryStateSelect};
		ExtBuilder::new().build().execute_with(|| {
			let all = || AllPalletsWithSystem::try_state(1, TryStateSelect::All);
			assert!(all().is_ok());
			EncryptionKeys::<Test>::insert(
				READER,
				PublishedKey { key: [9; 32], deposit: KeyDeposit::get() },
			);
			assert!(all().is_err());
		});
	}

	#[test]
	fn try_state_catches_a_key_whose_deposit_was_not_held() {
		ExtBuilder::new().build().execute_with(|| {
			EncryptionKeys::<Test>::insert(
				READER,
				PublishedKey { key: [9; 32], deposit: KeyDeposit::get() },
			);
			assert!(AccessControl::do_try_state().is_err());
		});
	}

	#[test]
	fn a_data_key_sealed_to_the_grantee_opens_with_its_secret_only() {
		ExtBuilder::new().build_and_execute(|| {
			// The reader publishes its x25519 key.
			let reader_secret = SecretKey::from([0x42; 32]);
			let published = *reader_secret.public_key().as_bytes();
			assert_ok!(AccessControl::publish_encryption_key(
				RuntimeOrigin::signed(READER),
				published
			));

			// The owner seals the device's data key to what the chain says is the reader's key.
			let data_key = [0x5a; 32];
			let on_chain = PublicKey::from(EncryptionKeys::<Test>::get(READER).unwrap().key);
			let sealed = on_chain.seal(&mut OsRng, &data_key).unwrap();
			let key = EpochKey { epoch: 0, sealed: BoundedVec::try_from(sealed.clone()).unwrap() };
			assert_ok!(AccessControl::grant(
				RuntimeOrigin::signed(OWNER),
				on(1),
				READER,
				READ,
				None,
				Some(key),
			));
			let key_deposit = sealed.len() as u64 + SEALED_KEY_ENTRY_BYTES as u64;
			assert_eq!(held(OWNER), GrantDeposit::get() + key_deposit);
			System::assert_last_event(
				Event::KeySealed { device: device(1), reader: READER, epoch: 0, by: OWNER }.into(),
			);

			// The reader opens the sealed key stored for it and the device.
			let stored = SealedKeys::<Test>::get(device(1), READER).unwrap();
			assert_eq!((stored.key.epoch, stored.sealed_by), (0, OWNER));
			let stored = stored.key.sealed;
			assert_eq!(reader_secret.unseal(&stored).unwrap(), data_key.to_vec());
			// Nobody else can.
			let other = SecretKey::from([0x43; 32]);
			assert!(other.unseal(&stored).is_err());
		});
	}
}

mod key_epochs {
	//! Data-key epochs: every loss of READ makes the next payload need a key the lost reader
	//! is never given.
	use super::*;

	fn epoch(n: u8) -> u32 {
		AccessControl::key_epoch(&device(n)).expect("a registered device")
	}

	fn seal(by: u64, n: u8, reader: u64, epoch: u32) -> DispatchResult {
		AccessControl::seal_key(RuntimeOrigin::signed(by), device(n), reader, epoch_key(epoch, 80))
	}

	fn rotate(by: u64, n: u8) -> DispatchResult {
		AccessControl::rotate_data_key(RuntimeOrigin::signed(by), device(n))
	}

	fn remove_key(by: u64, n: u8, reader: u64) -> DispatchResult {
		AccessControl::remove_sealed_key(RuntimeOrigin::signed(by), device(n), reader)
	}

	fn ends(n: u8) -> Option<u64> {
		KeyEpochs::<Test>::get(device(n)).ends
	}

	fn key_deposit() -> u64 {
		80 + SEALED_KEY_ENTRY_BYTES as u64
	}

	#[test]
	fn a_device_starts_in_epoch_zero_and_an_unknown_one_has_none() {
		ExtBuilder::new().build_and_execute(|| {
			assert_eq!(epoch(1), 0);
			assert_eq!(AccessControl::key_epoch(&device(77)), None);
		});
	}

	#[test]
	fn revoking_a_reader_starts_a_new_epoch_and_revoking_a_gateway_does_not() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), READER, READ, None));
			assert_ok!(seal(OWNER, 1, READER, 0));
			assert_ok!(grant(OWNER, on(1), GATEWAY, SUBMIT, None));

			assert_ok!(revoke(OWNER, on(1), GATEWAY));
			assert_eq!(epoch(1), 0);

			assert_ok!(revoke(OWNER, on(1), READER));
			System::assert_last_event(
				Event::Revoked { scope: on(1), grantee: READER, by: OWNER }.into(),
			);
			System::assert_has_event(Event::KeyEpochStarted { device: device(1), epoch: 1 }.into());
			assert_eq!(epoch(1), 1);
			// The other device keeps its epoch.
			assert_eq!(epoch(2), 0);
		});
	}

	#[test]
	fn a_managers_revoke_starts_a_new_epoch_too() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), MANAGER, MANAGE, None));
			assert_ok!(grant(MANAGER, on(1), READER, READ, None));
			assert_ok!(seal(MANAGER, 1, READER, 0));
			assert_ok!(revoke(MANAGER, on(1), READER));
			assert_eq!(epoch(1), 1);
		});
	}

	#[test]
	fn revoking_a_group_reader_starts_a_new_epoch_on_each_member_its_owner_still_owns() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			assert_ok!(add(OWNER, group, 2));
			assert_ok!(grant(OWNER, Scope::Group(group), READER, READ, None));
			assert_ok!(seal(OWNER, 1, READER, 0));
			// Device 2 is sold: the group's owner no longer decides its keys.
			Directory::transfer(device(2), OTHER_OWNER);
			assert_eq!(epoch(2), 1, "a transfer starts a new epoch by itself");

			assert_ok!(revoke(OWNER, Scope::Group(group), READER));
			assert_eq!(epoch(1), 1);
			assert_eq!(epoch(2), 1, "the sold device is left alone");
			assert_eq!(KeyEpochs::<Test>::get(device(2)).epoch, 0);
		});
	}

	#[test]
	fn a_read_grant_ending_ends_the_epoch_sealed_under_it() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), READER, READ, Some(10)));
			assert_ok!(grant(OWNER, on(1), MANAGER, READ, None));
			assert_ok!(seal(OWNER, 1, MANAGER, 0));
			assert_eq!(ends(1), None, "a reader without an end ends nothing");
			assert_ok!(seal(OWNER, 1, READER, 0));
			assert_eq!(ends(1), Some(10));

			System::set_block_number(9);
			assert_eq!(epoch(1), 0);
			System::set_block_number(10);
			assert_eq!(epoch(1), 1);
			// A key of the ended epoch is refused; the new epoch's key starts it for good.
			assert_noop!(seal(OWNER, 1, MANAGER, 0), Error::<Test>::StaleKeyEpoch);
			assert_ok!(seal(OWNER, 1, MANAGER, 1));
			assert_eq!(
				KeyEpochs::<Test>::get(device(1)),
				KeyEpoch { epoch: 1, owner_epoch: 0, ends: None }
			);
			assert_eq!(epoch(1), 1);
		});
	}

	#[test]
	fn a_reader_through_a_group_and_directly_ends_when_its_last_read_does() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			assert_ok!(grant(OWNER, on(1), READER, READ, Some(10)));
			assert_ok!(grant(OWNER, Scope::Group(group), READER, READ, Some(30)));
			assert_ok!(seal(OWNER, 1, READER, 0));
			assert_eq!(ends(1), Some(30));
		});
	}

	#[test]
	fn narrowing_a_read_grant_ends_or_moves_the_epoch() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), READER, READ, None));
			assert_ok!(seal(OWNER, 1, READER, 0));
			// A later end, then an earlier one: the epoch ends with the earlier.
			assert_ok!(grant(OWNER, on(1), READER, READ, Some(40)));
			assert_eq!(ends(1), Some(40));
			assert_ok!(grant(OWNER, on(1), READER, READ, Some(50)));
			assert_eq!(ends(1), Some(40));
			assert_ok!(grant(OWNER, on(1), READER, READ, Some(20)));
			assert_eq!(ends(1), Some(20));
			assert_eq!(epoch(1), 0);
			// READ taken out of the grant: a new epoch at once.
			assert_ok!(grant(OWNER, on(1), READER, SUBMIT, None));
			assert_eq!(epoch(1), 1);
		});
	}

	#[test]
	fn a_transfer_starts_a_new_epoch_for_the_new_owner() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), READER, READ, None));
			assert_ok!(seal(OWNER, 1, READER, 0));
			Directory::transfer(device(1), OTHER_OWNER);
			assert_eq!(epoch(1), 1);
			// The old owner can no longer seal; the new owner seals epoch 1 to its reader.
			assert_noop!(seal(OWNER, 1, READER, 1), Error::<Test>::NotAuthorized);
			assert_ok!(grant(OTHER_OWNER, on(1), MANAGER, READ, None));
			assert_ok!(seal(OTHER_OWNER, 1, MANAGER, 1));
			assert_eq!(
				KeyEpochs::<Test>::get(device(1)),
				KeyEpoch { epoch: 1, owner_epoch: 1, ends: None }
			);
			assert_eq!(epoch(1), 1);
		});
	}

	#[test]
	fn leaving_a_group_with_grants_starts_a_new_epoch() {
		ExtBuilder::new().build_and_execute(|| {
			let with_grants = create_group(OWNER);
			let without = create_group(OWNER);
			for group in [with_grants, without] {
				assert_ok!(add(OWNER, group, 1));
			}
			assert_ok!(grant(OWNER, Scope::Group(with_grants), READER, READ, None));
			let leave = |group| {
				AccessControl::remove_from_group(RuntimeOrigin::signed(OWNER), group, device(1))
			};
			assert_ok!(leave(without));
			assert_eq!(epoch(1), 0);
			assert_ok!(leave(with_grants));
			System::assert_last_event(
				Event::KeyEpochStarted { device: device(1), epoch: 1 }.into(),
			);
			assert_eq!(epoch(1), 1);
		});
	}

	#[test]
	fn an_owner_or_manager_rotates_a_key_and_nobody_else() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(rotate(OWNER, 1));
			System::assert_last_event(
				Event::KeyEpochStarted { device: device(1), epoch: 1 }.into(),
			);
			assert_ok!(grant(OWNER, on(1), MANAGER, MANAGE, None));
			assert_ok!(rotate(MANAGER, 1));
			assert_eq!(epoch(1), 2);

			assert_noop!(rotate(READER, 1), Error::<Test>::NotAuthorized);
			assert_noop!(rotate(OWNER, 77), Error::<Test>::NotFound);
			assert_noop!(
				AccessControl::rotate_data_key(RuntimeOrigin::none(), device(1)),
				DispatchError::BadOrigin
			);
			Directory::set_status(device(1), DeviceStatus::Decommissioned);
			assert_noop!(rotate(OWNER, 1), Error::<Test>::Decommissioned);
		});
	}

	#[test]
	fn a_new_key_replaces_the_readers_older_one_and_its_deposit() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), MANAGER, MANAGE, None));
			assert_ok!(grant(OWNER, on(1), READER, READ, None));
			assert_ok!(seal(MANAGER, 1, READER, 0));
			assert_eq!(held(MANAGER), key_deposit());
			assert_ok!(rotate(OWNER, 1));
			assert_ok!(seal(OWNER, 1, READER, 1));
			assert_eq!(held(MANAGER), 0);
			assert_eq!(held(OWNER), 2 * GrantDeposit::get() + key_deposit());
			let stored = SealedKeys::<Test>::get(device(1), READER).unwrap();
			assert_eq!((stored.key.epoch, stored.sealed_by), (1, OWNER));
		});
	}

	#[test]
	fn seal_key_fails_for_whoever_may_not_and_for_wrong_keys() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), READER, READ, None));
			assert_ok!(grant(OWNER, on(1), GATEWAY, SUBMIT, None));
			assert_noop!(
				AccessControl::seal_key(RuntimeOrigin::none(), device(1), READER, epoch_key(0, 80)),
				DispatchError::BadOrigin
			);
			assert_noop!(seal(OWNER, 77, READER, 0), Error::<Test>::NotFound);
			// Neither a reader nor a gateway manages the device.
			assert_noop!(seal(READER, 1, READER, 0), Error::<Test>::NotAuthorized);
			assert_noop!(seal(GATEWAY, 1, READER, 0), Error::<Test>::NotAuthorized);
			assert_noop!(seal(OWNER, 1, READER, 1), Error::<Test>::StaleKeyEpoch);
			assert_noop!(seal(OWNER, 1, GATEWAY, 0), Error::<Test>::NotAReader);
			assert_noop!(seal(OWNER, 1, OTHER_OWNER, 0), Error::<Test>::NotAReader);
			// A manager who cannot pay the deposit.
			assert_ok!(grant(OWNER, on(1), POOR, MANAGE, None));
			assert_noop!(seal(POOR, 1, READER, 0), Error::<Test>::InsufficientBalance);
			Directory::set_status(device(1), DeviceStatus::Decommissioned);
			assert_noop!(seal(OWNER, 1, READER, 0), Error::<Test>::Decommissioned);
		});
	}

	#[test]
	fn a_grant_carries_a_key_only_with_read_on_one_device_of_the_current_epoch() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			let with_key = |scope, permissions, key| {
				AccessControl::grant(
					RuntimeOrigin::signed(OWNER),
					scope,
					READER,
					permissions,
					None,
					Some(key),
				)
			};
			assert_noop!(
				with_key(Scope::Group(group), READ, epoch_key(0, 80)),
				Error::<Test>::KeyNeedsDeviceRead
			);
			assert_noop!(
				with_key(on(1), SUBMIT, epoch_key(0, 80)),
				Error::<Test>::KeyNeedsDeviceRead
			);
			assert_noop!(with_key(on(1), READ, epoch_key(3, 80)), Error::<Test>::StaleKeyEpoch);
			assert_ok!(with_key(on(1), READ, epoch_key(0, 80)));
		});
	}

	#[test]
	fn a_former_readers_key_is_removed_by_anyone_and_a_readers_by_nobody() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), READER, READ, Some(10)));
			assert_ok!(seal(OWNER, 1, READER, 0));
			assert_noop!(remove_key(GATEWAY, 1, MANAGER), Error::<Test>::SealedKeyNotFound);
			assert_noop!(remove_key(GATEWAY, 1, READER), Error::<Test>::StillAReader);
			assert_noop!(
				AccessControl::remove_sealed_key(RuntimeOrigin::none(), device(1), READER),
				DispatchError::BadOrigin
			);

			System::set_block_number(10);
			assert_ok!(remove_key(GATEWAY, 1, READER));
			System::assert_last_event(
				Event::SealedKeyRemoved { device: device(1), reader: READER, by: GATEWAY }.into(),
			);
			assert!(!SealedKeys::<Test>::contains_key(device(1), READER));
			// Only the (expired) grant's deposit is still held.
			assert_eq!(held(OWNER), GrantDeposit::get());
		});
	}

	#[test]
	fn a_decommissioned_devices_keys_can_be_removed() {
		ExtBuilder::new().build_and_execute(|| {
			assert_ok!(grant(OWNER, on(1), READER, READ, None));
			assert_ok!(seal(OWNER, 1, READER, 0));
			Directory::set_status(device(1), DeviceStatus::Decommissioned);
			assert_ok!(remove_key(GATEWAY, 1, READER));
		});
	}

	#[test]
	fn small_order_encryption_keys_are_refused() {
		ExtBuilder::new().build_and_execute(|| {
			let p_minus_1 = {
				let mut k = [0xff; 32];
				k[0] = 0xec;
				k[31] = 0x7f;
				k
			};
			let mut order_1 = [0; 32];
			order_1[0] = 1;
			let mut high_bit_zero = [0; 32];
			high_bit_zero[31] = 0x80;
			for weak in [[0; 32], order_1, p_minus_1, high_bit_zero] {
				assert_noop!(
					AccessControl::publish_encryption_key(RuntimeOrigin::signed(READER), weak),
					Error::<Test>::WeakEncryptionKey
				);
			}
		});
	}

	#[test]
	fn try_state_catches_a_sealed_key_whose_deposit_is_wrong() {
		ExtBuilder::new().build().execute_with(|| {
			assert_ok!(grant(OWNER, on(1), READER, READ, None));
			assert_ok!(seal(OWNER, 1, READER, 0));
			assert!(AccessControl::do_try_state().is_ok());
			SealedKeys::<Test>::mutate(device(1), READER, |k| k.as_mut().unwrap().deposit = 1);
			assert!(AccessControl::do_try_state().is_err());
		});
	}
}

mod listing {
	use super::*;

	/// Every (scope, grantee) the `grants` runtime API lists for device `n`, asking `limit` at
	/// a time; and how many calls it took.
	fn all_pages(n: u8, limit: u32) -> (Vec<(Scope, u64)>, usize) {
		let (mut after, mut found, mut calls) = (None, Vec::new(), 0);
		loop {
			let page = AccessControl::grants_on(&device(n), after, limit);
			calls += 1;
			found.extend(page.grants.iter().map(|(scope, who, _)| (*scope, *who)));
			match page.next {
				Some(next) => after = Some(next),
				None => return (found, calls),
			}
		}
	}

	#[test]
	fn grants_come_a_page_at_a_time_each_exactly_once() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			for who in [MANAGER, GATEWAY, READER, OTHER_OWNER] {
				assert_ok!(grant(OWNER, on(1), who, SUBMIT, None));
			}
			assert_ok!(grant(OWNER, Scope::Group(group), GATEWAY, READ, None));

			let (whole, calls) = all_pages(1, 100);
			assert_eq!((whole.len(), calls), (5, 1));
			let (mut paged, calls) = all_pages(1, 2);
			assert_eq!(calls, 3);
			let mut whole = whole;
			whole.sort();
			paged.sort();
			assert_eq!(paged, whole);
			assert!(whole.contains(&(Scope::Group(group), GATEWAY)));
		});
	}

	#[test]
	fn a_page_looks_at_no_more_than_the_cap() {
		// Grants written straight to storage (no deposits: the invariants are not checked).
		ExtBuilder::new().build().execute_with(|| {
			for who in 0..(MAX_GRANTS_PAGE as u64 + 10) {
				let grant = Grant {
					permissions: SUBMIT,
					expires: None,
					owner: OWNER,
					epoch: 0,
					granted_by: OWNER,
					deposit: 0,
				};
				Grants::<Test>::insert(on(1), 1_000 + who, grant);
			}
			let page = AccessControl::grants_on(&device(1), None, u32::MAX);
			assert_eq!(page.grants.len(), MAX_GRANTS_PAGE as usize);
			assert!(page.next.is_some());
			// A limit of zero still moves on.
			assert_eq!(AccessControl::grants_on(&device(1), None, 0).grants.len(), 1);
			let (all, _) = all_pages(1, u32::MAX);
			assert_eq!(all.len(), MAX_GRANTS_PAGE as usize + 10);
		});
	}

	#[test]
	fn a_former_owners_grants_and_groups_are_left_out() {
		ExtBuilder::new().build_and_execute(|| {
			let group = create_group(OWNER);
			assert_ok!(add(OWNER, group, 1));
			assert_ok!(grant(OWNER, on(1), GATEWAY, SUBMIT, None));
			assert_ok!(grant(OWNER, Scope::Group(group), READER, READ, None));
			Directory::transfer(device(1), OTHER_OWNER);
			assert_eq!(all_pages(1, 10).0, vec![]);
			assert_ok!(grant(OTHER_OWNER, on(1), MANAGER, SUBMIT, None));
			assert_eq!(all_pages(1, 10).0, vec![(on(1), MANAGER)]);
			// An unknown device has none.
			assert_eq!(all_pages(7, 10).0, vec![]);
		});
	}
}

/// The integrity test catches a configuration that stores grants for free.
#[test]
#[should_panic(expected = "a grant must hold a deposit")]
fn free_grants_fail_the_integrity_test() {
	GrantDeposit::set(0);
	<AccessControl as frame_support::traits::IntegrityTest>::integrity_test();
}

/// The integrity test catches a configuration that stores encryption keys for free.
#[test]
#[should_panic(expected = "an encryption key must hold a deposit")]
fn free_encryption_keys_fail_the_integrity_test() {
	KeyDeposit::set(0);
	<AccessControl as frame_support::traits::IntegrityTest>::integrity_test();
}
