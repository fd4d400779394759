//! A test runtime: System, Balances and the registry, with small deposits and field bounds.

use crate as pallet_device_registry;
use crate::{DeviceId, DeviceKey, MetadataInput};
use frame_support::{derive_impl, parameter_types};
use sp_core::{ed25519, sr25519, Pair};
use sp_runtime::{BuildStorage, MultiSignature};
use std::collections::BTreeMap;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		DeviceRegistry: pallet_device_registry,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<u64>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

parameter_types! {
	pub const DepositBase: u64 = 100;
	pub const DepositPerByte: u64 = 2;
	pub const MaxFieldLength: u32 = 16;
	pub static TransferOfferLifetime: u64 = 10;
}

impl pallet_device_registry::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = DepositBase;
	type DepositPerByte = DepositPerByte;
	type MaxFieldLength = MaxFieldLength;
	type TransferOfferLifetime = TransferOfferLifetime;
	type WeightInfo = ();
}

/// A well-funded owner.
pub const ALICE: u64 = 1;
/// Another well-funded account.
pub const BOB: u64 = 2;
/// An account with less than one device deposit.
pub const POOR: u64 = 3;
/// What ALICE and BOB hold at genesis.
pub const RICH: u64 = 10_000;

/// A device id made from a small number.
pub fn device_id(n: u8) -> DeviceId {
	[n; 32]
}

thread_local! {
	/// The secret of every key the tests made, by its public bytes, so a test can have a key
	/// prove its possession knowing only the key.
	static SECRETS: core::cell::RefCell<BTreeMap<[u8; 32], String>> = Default::default();
}

/// The sr25519 key derived from `uri`.
pub fn sr_key(uri: &str) -> DeviceKey {
	let public = sr25519::Pair::from_string(uri, None).expect("valid uri").public();
	SECRETS.with(|s| s.borrow_mut().insert(public.0, uri.into()));
	DeviceKey::Sr25519(public)
}

/// The ed25519 key derived from `uri`.
pub fn ed_key(uri: &str) -> DeviceKey {
	let public = ed25519::Pair::from_string(uri, None).expect("valid uri").public();
	SECRETS.with(|s| s.borrow_mut().insert(public.0, uri.into()));
	DeviceKey::Ed25519(public)
}

/// `key`'s proof of possession letting `owner` register it as (or rotate to it) `device` on
/// the test chain. Call it inside the externalities: it reads the genesis hash.
pub fn proof(key: &DeviceKey, device: DeviceId, owner: u64) -> MultiSignature {
	let genesis = System::block_hash(0);
	let message = provena_primitives::possession_hash(&genesis, &device, &owner);
	let uri = |public: [u8; 32]| {
		SECRETS.with(|s| s.borrow().get(&public).cloned()).expect("a key the test made")
	};
	match key {
		DeviceKey::Sr25519(k) => MultiSignature::Sr25519(
			sr25519::Pair::from_string(&uri(k.0), None).expect("valid uri").sign(&message),
		),
		DeviceKey::Ed25519(k) => MultiSignature::Ed25519(
			ed25519::Pair::from_string(&uri(k.0), None).expect("valid uri").sign(&message),
		),
	}
}

/// Metadata with the given text fields and no firmware hash.
pub fn metadata(kind: &str, model: &str, location: &str) -> MetadataInput {
	MetadataInput {
		kind: kind.as_bytes().to_vec(),
		model: model.as_bytes().to_vec(),
		firmware: None,
		location: location.as_bytes().to_vec(),
	}
}

/// A thermometer: 11 + 6 + 5 = 22 bytes, so a deposit of 100 + 2 × 22 = 144.
pub fn thermometer() -> MetadataInput {
	metadata("thermometer", "TX-200", "dock1")
}

/// The deposit of [`thermometer`].
pub const THERMOMETER_DEPOSIT: u64 = 144;

/// Builds test state: balances and genesis devices.
#[derive(Default)]
pub struct ExtBuilder {
	balances: Vec<(u64, u64)>,
	devices: Vec<(DeviceId, u64, DeviceKey, MetadataInput)>,
}

impl ExtBuilder {
	/// ALICE and BOB rich, POOR with 50.
	pub fn new() -> Self {
		Self { balances: vec![(ALICE, RICH), (BOB, RICH), (POOR, 50)], devices: vec![] }
	}

	/// Registers `device` for `owner` at genesis.
	pub fn with_device(mut self, device: DeviceId, owner: u64, key: DeviceKey) -> Self {
		self.devices.push((device, owner, key, thermometer()));
		self
	}

	/// The externalities, at block 1 so events are recorded.
	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> { balances: self.balances, ..Default::default() }
			.assimilate_storage(&mut storage)
			.unwrap();
		pallet_device_registry::GenesisConfig::<Test> {
			devices: self.devices,
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		// The benchmarks make device keys and sign with them.
		ext.register_extension(sp_keystore::KeystoreExt::new(
			sp_keystore::testing::MemoryKeystore::new(),
		));
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Runs `test`, then checks the registry's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			// Built with `try-runtime`, the checks run through the pallets' `try_state` hooks,
			// as try-runtime runs them on a chain; else directly.
			#[cfg(not(feature = "try-runtime"))]
			DeviceRegistry::do_try_state().expect("registry invariants hold");
			#[cfg(feature = "try-runtime")]
			{
				use frame_support::traits::{TryState, TryStateSelect};
				AllPalletsWithSystem::try_state(System::block_number(), TryStateSelect::All)
					.expect("every pallet's try_state hook holds");
			}
		});
	}
}
