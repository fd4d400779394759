//! A test runtime: System, Balances and access control, with a device directory kept in test
//! storage in place of the registry (the runtime's own tests wire the real one).

use crate as pallet_access_control;
use crate::{DeviceId, DeviceInfo, DeviceStatus, InspectDevice};
use alloc::collections::btree_map::BTreeMap;
use frame_support::{derive_impl, parameter_types, storage::unhashed};
use provena_primitives::DeviceKey;
use sp_core::sr25519;
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		AccessControl: pallet_access_control,
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
	pub static GrantDeposit: u64 = 10;
	pub const GroupDeposit: u64 = 50;
	pub const DepositPerByte: u64 = 1;
	pub static KeyDeposit: u64 = 7;
	pub const MaxGroupSize: u32 = 3;
	pub const MaxGroupsPerDevice: u32 = 2;
	pub const MaxGroupNameLen: u32 = 16;
	pub const MaxSealedKeyLen: u32 = 128;
}

impl pallet_access_control::Config for Test {
	type Devices = Directory;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type GrantDeposit = GrantDeposit;
	type GroupDeposit = GroupDeposit;
	type DepositPerByte = DepositPerByte;
	type KeyDeposit = KeyDeposit;
	type MaxGroupSize = MaxGroupSize;
	type MaxGroupsPerDevice = MaxGroupsPerDevice;
	type MaxGroupNameLen = MaxGroupNameLen;
	type MaxSealedKeyLen = MaxSealedKeyLen;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Directory;
}

/// The devices access control sees, kept in test storage.
pub struct Directory;

const DEVICES_KEY: &[u8] = b"mock:devices";

impl Directory {
	fn devices() -> BTreeMap<DeviceId, (u64, DeviceStatus, u32)> {
		unhashed::get(DEVICES_KEY).unwrap_or_default()
	}

	/// Registers a device.
	pub fn register(device: DeviceId, owner: u64) {
		let mut devices = Self::devices();
		devices.insert(device, (owner, DeviceStatus::Active, 0));
		unhashed::put(DEVICES_KEY, &devices);
	}

	/// Hands a device to a new owner, in a new ownership epoch, as an accepted transfer does.
	pub fn transfer(device: DeviceId, to: u64) {
		let mut devices = Self::devices();
		let record = devices.get_mut(&device).expect("registered");
		record.0 = to;
		record.2 += 1;
		unhashed::put(DEVICES_KEY, &devices);
	}

	/// Changes a device's status.
	pub fn set_status(device: DeviceId, status: DeviceStatus) {
		let mut devices = Self::devices();
		devices.get_mut(&device).expect("registered").1 = status;
		unhashed::put(DEVICES_KEY, &devices);
	}
}

impl InspectDevice<u64> for Directory {
	fn device(id: &DeviceId) -> Option<DeviceInfo<u64>> {
		Self::devices().remove(id).map(|(owner, status, epoch)| DeviceInfo {
			owner,
			key: DeviceKey::Sr25519(sr25519::Public::from_raw([0; 32])),
			status,
			epoch,
		})
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64> for Directory {
	fn register_device(owner: &u64, device: DeviceId) {
		use frame_support::traits::fungible::Mutate;
		let _ = Balances::set_balance(owner, 1_000_000);
		Self::register(device, *owner);
	}

	fn transfer_device(device: DeviceId, to: &u64) {
		use frame_support::traits::fungible::Mutate;
		let _ = Balances::set_balance(to, 1_000_000);
		Self::transfer(device, *to);
	}
}

/// A device owner.
pub const OWNER: u64 = 1;
/// A hospital administrator or logistics manager the owner delegates to.
pub const MANAGER: u64 = 2;
/// A gateway that submits readings.
pub const GATEWAY: u64 = 3;
/// A doctor or customer who reads data.
pub const READER: u64 = 4;
/// Another device owner.
pub const OTHER_OWNER: u64 = 5;
/// An account that cannot pay a deposit.
pub const POOR: u64 = 6;
/// What every account but POOR holds at genesis.
pub const RICH: u64 = 10_000;

/// Device number `n`.
pub fn device(n: u8) -> DeviceId {
	[n; 32]
}

/// Builds test state.
pub struct ExtBuilder {
	devices: Vec<(DeviceId, u64)>,
}

impl ExtBuilder {
	/// Devices 1 and 2 of OWNER, device 9 of OTHER_OWNER.
	pub fn new() -> Self {
		Self { devices: vec![(device(1), OWNER), (device(2), OWNER), (device(9), OTHER_OWNER)] }
	}

	/// The externalities at block 1.
	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: [OWNER, MANAGER, GATEWAY, READER, OTHER_OWNER]
				.into_iter()
				.map(|who| (who, RICH))
				.chain([(POOR, 5)])
				.collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| {
			System::set_block_number(1);
			for (id, owner) in &self.devices {
				Directory::register(*id, *owner);
			}
		});
		ext
	}

	/// Runs `test`, then checks access control's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			// Built with `try-runtime`, the checks run through the pallets' `try_state` hooks,
			// as try-runtime runs them on a chain; else directly.
			#[cfg(not(feature = "try-runtime"))]
			AccessControl::do_try_state().expect("access-control invariants hold");
			#[cfg(feature = "try-runtime")]
			{
				use frame_support::traits::{TryState, TryStateSelect};
				AllPalletsWithSystem::try_state(System::block_number(), TryStateSelect::All)
					.expect("every pallet's try_state hook holds");
			}
		});
	}
}
