//! Benchmarks of every registry call, each in its worst case: metadata at its maximum size, a
//! deposit that grows, an open offer to clean up.

// Benchmarks never run in a block: they build their own inputs in a benchmark build, where a
// panic only stops the benchmark. The block code's bans (see lib.rs) do not apply here.
#![allow(clippy::arithmetic_side_effects, clippy::indexing_slicing, clippy::unwrap_used)]

use super::*;
use crate::pallet::{BalanceOf, Devices, PendingTransfers};
use alloc::vec;
use frame_benchmarking::v2::*;
use frame_support::traits::{
	fungible::{Inspect, Mutate},
	Get,
};
use frame_system::pallet_prelude::BlockNumberFor;
use frame_system::RawOrigin;
use sp_core::{crypto::KeyTypeId, sr25519, H256};
use sp_runtime::{
	traits::{Saturating, StaticLookup, Zero},
	MultiSignature,
};

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

/// A device key made of `seed`, for records set up without a proof.
fn key(seed: u8) -> DeviceKey {
	DeviceKey::Sr25519(sr25519::Public::from_raw([seed; 32]))
}

const KEY_TYPE: KeyTypeId = KeyTypeId(*b"prvn");

/// A fresh sr25519 key (the slower of the two schemes to verify) and its proof of possession
/// for `device` and `owner`.
fn proven_key<T: Config>(device: DeviceId, owner: &T::AccountId) -> (DeviceKey, MultiSignature) {
	let public = sp_io::crypto::sr25519_generate(KEY_TYPE, None);
	let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
	let message = provena_primitives::possession_hash(&genesis, &device, owner);
	let signature = sp_io::crypto::sr25519_sign(KEY_TYPE, &public, &message)
		.expect("the keystore holds the key it made");
	(DeviceKey::Sr25519(public), MultiSignature::Sr25519(signature))
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
	frame_system::Pallet::<T>::assert_last_event(<T as frame_system::Config>::RuntimeEvent::from(
		event,
	));
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register() {
		let owner = funded::<T>("owner");
		let metadata = largest_metadata::<T>();
		let (key, proof) = proven_key::<T>(DEVICE, &owner);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), DEVICE, key, metadata, proof);

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
		let (key, proof) = proven_key::<T>(DEVICE, &owner);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), DEVICE, key, proof);

		assert_last_event::<T>(Event::KeyRotated { device: DEVICE, key });
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

		assert_eq!(PendingTransfers::<T>::get(DEVICE).map(|offer| offer.to), Some(buyer));
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

		let (key, proof) = proven_key::<T>(DEVICE, &buyer);
		let deposit = Devices::<T>::get(DEVICE).map(|d| d.deposit).unwrap_or_default();

		#[extrinsic_call]
		_(RawOrigin::Signed(buyer.clone()), DEVICE, key, proof, deposit);

		let record = Devices::<T>::get(DEVICE).expect("the device stays registered");
		assert_eq!((record.owner, record.key, record.epoch), (buyer, key, 1));
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
