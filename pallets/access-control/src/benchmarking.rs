//! Benchmarks of every access-control call, each in its worst case: a manager acting through
//! the most groups, the largest sealed key, a full group; and of the search for a SUBMIT right
//! that telemetry makes for every anchor a gateway sends, by each path it can take.

// Benchmarks never run in a block: they build their own inputs in a benchmark build, where a
// panic only stops the benchmark. The block code's bans (see lib.rs) do not apply here.
#![allow(clippy::arithmetic_side_effects, clippy::indexing_slicing, clippy::unwrap_used)]

use super::*;
use crate::pallet::{DeviceGroups, Grants, Groups, KeyEpochs, SealedKeys};
use alloc::vec;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_runtime::traits::Saturating;

/// An account with plenty of funds for deposits.
fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	let per_grant = T::DepositPerByte::get()
		.saturating_mul(T::MaxSealedKeyLen::get().into())
		.saturating_add(T::GrantDeposit::get())
		.saturating_add(T::GroupDeposit::get());
	T::Currency::set_balance(&who, per_grant.saturating_mul(1_000u32.into()));
	who
}

/// Device number `n`.
fn device(n: u32) -> DeviceId {
	let mut id = [0xac; 32];
	id[..4].copy_from_slice(&n.to_le_bytes());
	id
}

/// A group of `owner` holding `members` devices, all registered to `owner`; returns its id.
fn group_of<T: Config>(owner: &T::AccountId, members: u32, first_device: u32) -> GroupId {
	let group = NextGroupId::<T>::get();
	Pallet::<T>::create_group(RawOrigin::Signed(owner.clone()).into(), BoundedVec::new())
		.expect("a funded owner creates a group");
	for n in first_device..first_device + members {
		T::BenchmarkHelper::register_device(owner, device(n));
		Pallet::<T>::add_to_group(RawOrigin::Signed(owner.clone()).into(), group, device(n))
			.expect("the owner adds their device");
	}
	group
}

/// Fills `group` to `MaxGroupSize` with ids of unregistered devices (setup only: no deposit).
fn fill<T: Config>(group: GroupId) {
	Groups::<T>::mutate(group, |record| {
		let record = record.as_mut().expect("the group exists");
		let mut n = 1_000_000;
		while record.members.try_push(device(n)).is_ok() {
			n += 1;
		}
	});
}

/// Device 0 of `owner`, in `MaxGroupsPerDevice` of the owner's groups, with `manager` holding
/// MANAGE | DELEGATE through the last group: the longest path to authority.
fn managed_device<T: Config>(owner: &T::AccountId, manager: &T::AccountId) {
	T::BenchmarkHelper::register_device(owner, device(0));
	let mut last = 0;
	for _ in 0..T::MaxGroupsPerDevice::get() {
		last = group_of::<T>(owner, 0, 0);
		Pallet::<T>::add_to_group(RawOrigin::Signed(owner.clone()).into(), last, device(0))
			.expect("the owner adds their device");
	}
	Pallet::<T>::grant(
		RawOrigin::Signed(owner.clone()).into(),
		Scope::Group(last),
		manager.clone(),
		Permissions(Permissions::MANAGE | Permissions::DELEGATE),
		None,
		None,
	)
	.expect("the owner grants");
}

/// Device 0 of an owner, in `groups` of the owner's groups, and a gateway holding SUBMIT on the
/// last of them (on the device itself when `groups` is 0); gives the gateway and the device's
/// record.
fn submitting_gateway<T: Config>(groups: u32) -> (T::AccountId, DeviceInfo<T::AccountId>) {
	let owner = funded::<T>("owner", 0);
	let gateway = funded::<T>("gateway", 0);
	T::BenchmarkHelper::register_device(&owner, device(0));
	let mut scope = Scope::Device(device(0));
	for _ in 0..groups {
		let group = group_of::<T>(&owner, 0, 0);
		Pallet::<T>::add_to_group(RawOrigin::Signed(owner.clone()).into(), group, device(0))
			.expect("the owner adds their device");
		scope = Scope::Group(group);
	}
	let submit = Permissions(Permissions::SUBMIT);
	Pallet::<T>::grant(RawOrigin::Signed(owner).into(), scope, gateway.clone(), submit, None, None)
		.expect("the owner grants");
	(gateway, T::Devices::device(&device(0)).expect("registered"))
}

/// The largest sealed key, for `epoch`.
fn sealed_key<T: Config>(epoch: u32) -> EpochKeyOf<T> {
	let sealed =
		BoundedVec::try_from(vec![0x5e; T::MaxSealedKeyLen::get() as usize]).expect("the bound");
	EpochKey { epoch, sealed }
}

/// Gives `reader` READ on device 0 through the last of its groups (the longest search for it)
/// and has `owner` seal the device's current key to it.
fn reader_through_last_group<T: Config>(owner: &T::AccountId, reader: &T::AccountId) {
	let last = DeviceGroups::<T>::get(device(0)).last().expect("in groups").group;
	Pallet::<T>::grant(
		RawOrigin::Signed(owner.clone()).into(),
		Scope::Group(last),
		reader.clone(),
		Permissions(Permissions::READ),
		None,
		None,
	)
	.expect("the owner grants");
	let epoch = Pallet::<T>::key_epoch(&device(0)).expect("registered");
	Pallet::<T>::seal_key(
		RawOrigin::Signed(owner.clone()).into(),
		device(0),
		reader.clone(),
		sealed_key::<T>(epoch),
	)
	.expect("the owner seals");
}

/// A group of `owner` with `m` registered members and `reader` holding READ on it.
fn read_group<T: Config>(owner: &T::AccountId, reader: &T::AccountId, m: u32) -> Scope {
	let scope = Scope::Group(group_of::<T>(owner, m, 0));
	Pallet::<T>::grant(
		RawOrigin::Signed(owner.clone()).into(),
		scope,
		reader.clone(),
		Permissions(Permissions::READ),
		None,
		None,
	)
	.expect("the owner grants");
	scope
}

fn assert_last_event<T: Config>(event: Event<T>) {
	frame_system::Pallet::<T>::assert_last_event(<T as frame_system::Config>::RuntimeEvent::from(
		event,
	));
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Telemetry's search for a gateway's SUBMIT right, found on the device itself (the device's
	/// record is the caller's: it read it before asking).
	#[benchmark]
	fn submit_path_direct() {
		let (gateway, info) = submitting_gateway::<T>(0);
		let path;

		#[block]
		{
			path = Pallet::<T>::submit_path(&gateway, &device(0), &info);
		}

		assert_eq!(path, Some(GrantPath::Direct));
	}

	/// The same search finding the right on the `g`-th of the device's groups, after missing on
	/// the device itself and on each group before it.
	#[benchmark]
	fn submit_path_through_groups(g: Linear<1, { T::MaxGroupsPerDevice::get() }>) {
		let (gateway, info) = submitting_gateway::<T>(g);
		let path;

		#[block]
		{
			path = Pallet::<T>::submit_path(&gateway, &device(0), &info);
		}

		assert_eq!(path, Some(GrantPath::Group(g)));
	}

	#[benchmark]
	fn create_group() {
		let owner = funded::<T>("owner", 0);
		let name = BoundedVec::try_from(vec![b'g'; T::MaxGroupNameLen::get() as usize]).unwrap();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), name);

		assert_last_event::<T>(Event::GroupCreated { group: 0, owner });
	}

	/// Adds a device to an almost full group after it changed owner while in the most groups
	/// it may join, each of them full: every old membership is dropped on the way.
	#[benchmark]
	fn add_to_group() {
		let seller = funded::<T>("seller", 0);
		let owner = funded::<T>("owner", 0);
		T::BenchmarkHelper::register_device(&seller, device(0));
		for _ in 0..T::MaxGroupsPerDevice::get() {
			let old = group_of::<T>(&seller, 0, 0);
			Pallet::<T>::add_to_group(RawOrigin::Signed(seller.clone()).into(), old, device(0))
				.unwrap();
			fill::<T>(old);
		}
		T::BenchmarkHelper::transfer_device(device(0), &owner);
		let size = T::MaxGroupSize::get().saturating_sub(1);
		let group = group_of::<T>(&owner, size, 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), group, device(0));

		assert!(Groups::<T>::get(group).unwrap().members.contains(&device(0)));
		assert_eq!(DeviceGroups::<T>::get(device(0)).len(), 1);
	}

	/// Removes the last member of a full group with a grant (so the device's key moves to a
	/// new epoch) from a device in the most groups.
	#[benchmark]
	fn remove_from_group() {
		let owner = funded::<T>("owner", 0);
		let reader = funded::<T>("reader", 0);
		let size = T::MaxGroupSize::get();
		let Scope::Group(group) = read_group::<T>(&owner, &reader, size) else { unreachable!() };
		let last = device(size.saturating_sub(1));

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), group, last);

		assert!(!DeviceGroups::<T>::get(last).iter().any(|m| m.group == group));
	}

	/// Dissolves a group of `m` members.
	#[benchmark]
	fn dissolve_group(m: Linear<0, { T::MaxGroupSize::get() }>) {
		let owner = funded::<T>("owner", 0);
		let group = group_of::<T>(&owner, m, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), group);

		assert!(!Groups::<T>::contains_key(group));
	}

	/// A manager (through the device's last group) replaces a READ grant on a device with one
	/// that also carries MANAGE and ends sooner (so the key's epoch ends sooner), with the
	/// largest sealed key, replacing the grantee's key sealed by the owner.
	#[benchmark]
	fn grant() {
		let owner = funded::<T>("owner", 0);
		let manager = funded::<T>("manager", 0);
		let grantee = funded::<T>("grantee", 0);
		managed_device::<T>(&owner, &manager);
		let scope = Scope::Device(device(0));
		Pallet::<T>::grant(
			RawOrigin::Signed(owner.clone()).into(),
			scope,
			grantee.clone(),
			Permissions(Permissions::READ),
			None,
			Some(sealed_key::<T>(0)),
		)
		.unwrap();
		let permissions =
			Permissions(Permissions::MANAGE | Permissions::READ | Permissions::SUBMIT);
		let ends = frame_system::Pallet::<T>::block_number().saturating_add(1_000u32.into());

		#[extrinsic_call]
		_(
			RawOrigin::Signed(manager.clone()),
			scope,
			grantee.clone(),
			permissions,
			Some(ends),
			Some(sealed_key::<T>(0)),
		);

		assert_eq!(
			Grants::<T>::get(scope, grantee.clone()).map(|g| g.permissions),
			Some(permissions)
		);
		assert_eq!(KeyEpochs::<T>::get(device(0)).ends, Some(ends));
		assert_eq!(SealedKeys::<T>::get(device(0), grantee).map(|k| k.sealed_by), Some(manager));
	}

	/// The owner takes READ out of a grant on a group of `m` devices: each starts a new epoch.
	#[benchmark]
	fn grant_group(m: Linear<0, { T::MaxGroupSize::get() }>) {
		let owner = funded::<T>("owner", 0);
		let reader = funded::<T>("reader", 0);
		let scope = read_group::<T>(&owner, &reader, m);
		let submit = Permissions(Permissions::SUBMIT);

		#[extrinsic_call]
		grant(RawOrigin::Signed(owner), scope, reader, submit, None, None);

		if m > 0 {
			assert_eq!(KeyEpochs::<T>::get(device(m - 1)).epoch, 1);
		}
	}

	/// A manager (through the device's last group) revokes a READ grant on the device: the
	/// device's key starts a new epoch.
	#[benchmark]
	fn revoke() {
		let owner = funded::<T>("owner", 0);
		let manager = funded::<T>("manager", 0);
		let grantee = funded::<T>("grantee", 0);
		managed_device::<T>(&owner, &manager);
		let scope = Scope::Device(device(0));
		Pallet::<T>::grant(
			RawOrigin::Signed(owner).into(),
			scope,
			grantee.clone(),
			Permissions(Permissions::READ),
			None,
			Some(sealed_key::<T>(0)),
		)
		.unwrap();

		#[extrinsic_call]
		_(RawOrigin::Signed(manager), scope, grantee.clone());

		assert!(!Grants::<T>::contains_key(scope, grantee));
		assert_eq!(Pallet::<T>::key_epoch(&device(0)), Some(1));
	}

	/// The owner revokes a READ grant on a group of `m` devices: each starts a new epoch.
	#[benchmark]
	fn revoke_group(m: Linear<0, { T::MaxGroupSize::get() }>) {
		let owner = funded::<T>("owner", 0);
		let reader = funded::<T>("reader", 0);
		let scope = read_group::<T>(&owner, &reader, m);

		#[extrinsic_call]
		revoke(RawOrigin::Signed(owner), scope, reader.clone());

		assert!(!Grants::<T>::contains_key(scope, reader));
		if m > 0 {
			assert_eq!(KeyEpochs::<T>::get(device(m - 1)).epoch, 1);
		}
	}

	/// A manager (through the device's last group) seals a key of a new epoch (the old one
	/// ended with a reader's READ) to a reader who reads through the device's last group,
	/// replacing the key the owner sealed to it.
	#[benchmark]
	fn seal_key() {
		let owner = funded::<T>("owner", 0);
		let manager = funded::<T>("manager", 0);
		let reader = funded::<T>("reader", 0);
		let leaving = funded::<T>("leaving", 0);
		managed_device::<T>(&owner, &manager);
		reader_through_last_group::<T>(&owner, &reader);
		let now = frame_system::Pallet::<T>::block_number();
		Pallet::<T>::grant(
			RawOrigin::Signed(owner.clone()).into(),
			Scope::Device(device(0)),
			leaving.clone(),
			Permissions(Permissions::READ),
			Some(now.saturating_add(1u32.into())),
			Some(sealed_key::<T>(0)),
		)
		.unwrap();
		frame_system::Pallet::<T>::set_block_number(now.saturating_add(1u32.into()));
		assert_eq!(Pallet::<T>::key_epoch(&device(0)), Some(1));

		#[extrinsic_call]
		_(RawOrigin::Signed(manager.clone()), device(0), reader.clone(), sealed_key::<T>(1));

		assert_eq!(KeyEpochs::<T>::get(device(0)).epoch, 1);
		assert_eq!(SealedKeys::<T>::get(device(0), reader).map(|k| k.sealed_by), Some(manager));
	}

	/// A manager (through the device's last group) starts a new epoch.
	#[benchmark]
	fn rotate_data_key() {
		let owner = funded::<T>("owner", 0);
		let manager = funded::<T>("manager", 0);
		managed_device::<T>(&owner, &manager);

		#[extrinsic_call]
		_(RawOrigin::Signed(manager), device(0));

		assert_eq!(Pallet::<T>::key_epoch(&device(0)), Some(1));
	}

	/// Removes the key of a former reader who still holds grants without READ on the device
	/// and on each of its groups: the search for READ looks everywhere.
	#[benchmark]
	fn remove_sealed_key() {
		let owner = funded::<T>("owner", 0);
		let manager = funded::<T>("manager", 0);
		let reader = funded::<T>("reader", 0);
		let caller = funded::<T>("caller", 0);
		managed_device::<T>(&owner, &manager);
		reader_through_last_group::<T>(&owner, &reader);
		let submit = Permissions(Permissions::SUBMIT);
		let mut scopes = vec![Scope::Device(device(0))];
		scopes.extend(DeviceGroups::<T>::get(device(0)).iter().map(|m| Scope::Group(m.group)));
		for scope in scopes {
			Pallet::<T>::grant(
				RawOrigin::Signed(owner.clone()).into(),
				scope,
				reader.clone(),
				submit,
				None,
				None,
			)
			.unwrap();
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), device(0), reader.clone());

		assert!(!SealedKeys::<T>::contains_key(device(0), reader));
	}

	/// Removes a grant that has not expired but is stale because its device changed owner:
	/// the check reads the device as well as the grant.
	#[benchmark]
	fn remove_stale() {
		let owner = funded::<T>("owner", 0);
		let buyer = funded::<T>("buyer", 0);
		let grantee = funded::<T>("grantee", 0);
		let caller = funded::<T>("caller", 0);
		T::BenchmarkHelper::register_device(&owner, device(0));
		let scope = Scope::Device(device(0));
		Pallet::<T>::grant(
			RawOrigin::Signed(owner).into(),
			scope,
			grantee.clone(),
			Permissions(Permissions::SUBMIT),
			None,
			None,
		)
		.unwrap();
		T::BenchmarkHelper::transfer_device(device(0), &buyer);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), scope, grantee.clone());

		assert!(!Grants::<T>::contains_key(scope, grantee));
	}

	#[benchmark]
	fn publish_encryption_key() {
		let who = funded::<T>("reader", 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), [7u8; 32]);

		assert_last_event::<T>(Event::EncryptionKeyPublished { who: who.clone(), key: [7u8; 32] });
		assert_eq!(EncryptionKeys::<T>::get(&who).map(|p| p.deposit), Some(T::KeyDeposit::get()));
	}

	#[benchmark]
	fn withdraw_encryption_key() {
		let who = funded::<T>("reader", 0);
		Pallet::<T>::publish_encryption_key(RawOrigin::Signed(who.clone()).into(), [7u8; 32])
			.expect("a funded account publishes");

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(!EncryptionKeys::<T>::contains_key(&who));
		assert_last_event::<T>(Event::EncryptionKeyWithdrawn { who });
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::ExtBuilder::new().build(), crate::mock::Test);
}
