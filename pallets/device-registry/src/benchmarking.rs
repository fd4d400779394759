//! Benchmarks of every registry call, each in its worst case: metadata at its maximum size, a
//! deposit that grows, an open offer to clean up.

use super::*;
use crate::pallet::{BalanceOf, Devices, PendingTransfers};
use alloc::vec;
use frame_benchmarking::v2::*;
use frame_support::traits::{
	fungible::{Inspect, Mutate},
	Get,
};
use frame_system::RawOrigin;
use sp_core::{sr25519, H256};
use sp_runtime::traits::{Saturating, StaticLookup};

/// Metadata with every field at `MaxFieldLength` and a firmware hash: the largest deposit.
fn largest_metadata<T: Config>() -> MetadataInput {
	let field = vec![b'x'; T::MaxFieldLength::get() as usize];
	MetadataInput {
		kind: field.clone(),
		model: field.clone(),
		firmware: Some(H256::repeat_byte(1)),
		location: field,
	}
}

/// A device key made of `seed` (the registry stores keys; it never verifies with them).
fn key(seed: u8) -> DeviceKey {
	DeviceKey::Sr25519(sr25519::Public::from_raw([seed; 32]))
}

/// An account that can pay many of the largest deposits.
fn funded<T: Config>(name: &'static str) -> T::AccountId {
	let who: T::AccountId = account(name, 0, 0);
	let bytes = 3 * T::MaxFieldLength::get() + 32;
	let deposit =
		T::DepositPerByte::get().saturating_mul(bytes.into()).saturating_add(T::DepositBase::get());
	let amount =
		deposit.saturating_mul(100u32.into()).saturating_add(T::Currency::minimum_balance());
	T::Currency::set_balance(&who, amount);
	who
}

/// The device every benchmark but `register` works on.
const DEVICE: DeviceId = [7; 32];

/// Registers `DEVICE` for `owner` with `metadata`.
fn registered<T: Config>(owner: &T::AccountId, metadata: MetadataInput) {
	Pallet::<T>::do_register(owner.clone(), DEVICE, key(1), metadata)
		.expect("a funded owner registers a fresh device");
}

fn assert_last_event<T: Config>(event: Event<T>) {
	frame_system::Pallet::<T>::assert_last_event(
		<T as frame_system::Config>::RuntimeEvent::from(event).into(),
	);
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register() {
		let owner = funded::<T>("owner");
		let metadata = largest_metadata::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), DEVICE, key(1), metadata);

		assert_eq!(Devices::<T>::get(DEVICE).map(|d| d.owner), Some(owner));
	}

	#[benchmark]
	fn update_metadata() {
		let owner = funded::<T>("owner");
		registered::<T>(&owner, MetadataInput::default());
		let metadata = largest_metadata::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), DEVICE, metadata);

		let deposit: BalanceOf<T> = Devices::<T>::get(DEVICE).expect("registered").deposit;
		assert_last_event::<T>(Event::MetadataUpdated { device: DEVICE, deposit });
	}

	#[benchmark]
	fn rotate_key() {
		let owner = funded::<T>("owner");
		registered::<T>(&owner, largest_metadata::<T>());

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), DEVICE, key(2));

		assert_last_event::<T>(Event::KeyRotated { device: DEVICE, key: key(2) });
	}

	#[benchmark]
	fn suspend() {
		let owner = funded::<T>("owner");
		registered::<T>(&owner, largest_metadata::<T>());

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), DEVICE);

		assert_last_event::<T>(Event::DeviceSuspended { device: DEVICE });
	}

	#[benchmark]
	fn resume() {
		let owner = funded::<T>("owner");
		registered::<T>(&owner, largest_metadata::<T>());
		Pallet::<T>::suspend(RawOrigin::Signed(owner.clone()).into(), DEVICE)
			.expect("the owner suspends an active device");

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), DEVICE);

		assert_last_event::<T>(Event::DeviceResumed { device: DEVICE });
	}

	#[benchmark]
	fn decommission() {
		let owner = funded::<T>("owner");
		registered::<T>(&owner, largest_metadata::<T>());
		// An open offer makes decommissioning clean it up too.
		let buyer = funded::<T>("buyer");
		Pallet::<T>::offer_transfer(
			RawOrigin::Signed(owner.clone()).into(),
			DEVICE,
			T::Lookup::unlookup(buyer),
		)
		.expect("the owner offers a live device");

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), DEVICE);

		assert!(!PendingTransfers::<T>::contains_key(DEVICE));
	}

	#[benchmark]
	fn offer_transfer() {
		let owner = funded::<T>("owner");
		registered::<T>(&owner, largest_metadata::<T>());
		let buyer = funded::<T>("buyer");

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), DEVICE, T::Lookup::unlookup(buyer.clone()));

		assert_eq!(PendingTransfers::<T>::get(DEVICE), Some(buyer));
	}

	#[benchmark]
	fn accept_transfer() {
		let owner = funded::<T>("owner");
		registered::<T>(&owner, largest_metadata::<T>());
		let buyer = funded::<T>("buyer");
		Pallet::<T>::offer_transfer(
			RawOrigin::Signed(owner).into(),
			DEVICE,
			T::Lookup::unlookup(buyer.clone()),
		)
		.expect("the owner offers a live device");

		#[extrinsic_call]
		_(RawOrigin::Signed(buyer.clone()), DEVICE);

		assert_eq!(Devices::<T>::get(DEVICE).map(|d| d.owner), Some(buyer));
	}

	#[benchmark]
	fn cancel_transfer() {
		let owner = funded::<T>("owner");
		registered::<T>(&owner, largest_metadata::<T>());
		let buyer = funded::<T>("buyer");
		Pallet::<T>::offer_transfer(
			RawOrigin::Signed(owner.clone()).into(),
			DEVICE,
			T::Lookup::unlookup(buyer),
		)
		.expect("the owner offers a live device");

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), DEVICE);

		assert_last_event::<T>(Event::TransferCancelled { device: DEVICE });
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::ExtBuilder::new().build(), crate::mock::Test);
}
