//! A test runtime: System, Balances, Timestamp and telemetry, with a device directory and grants
//! kept in test storage in place of the registry and access control (which the runtime's own
//! tests wire in for real).

use crate as pallet_telemetry;
use crate::{
	Anchor, AnchorStatement, DeviceId, DeviceInfo, DeviceKey, DevicePermissions, DeviceStatus,
	GrantPath, InspectDevice, MetricName, PublicValue, Seq, TimeRange,
};
use alloc::collections::{btree_map::BTreeMap, btree_set::BTreeSet};
use codec::Encode;
use frame_support::{derive_impl, parameter_types, storage::unhashed, weights::Weight, BoundedVec};
use provena_primitives::telemetry::{batch_root, Measurement, Reading};
use sp_core::{ed25519, sr25519, Pair, H256};
use sp_runtime::{traits::IdentityLookup, AccountId32, BuildStorage, MultiSignature};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Timestamp: pallet_timestamp,
		Telemetry: pallet_telemetry,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId32;
	type Lookup = IdentityLookup<AccountId32>;
	type AccountData = pallet_balances::AccountData<u64>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

#[derive_impl(pallet_timestamp::config_preludes::TestDefaultConfig)]
impl pallet_timestamp::Config for Test {}

parameter_types! {
	pub const MaxPublicValues: u32 = 4;
	pub const MaxPayloadLen: u32 = 64;
	pub static MaxBatchLen: u32 = 8;
	pub const MaxRulesPerDevice: u32 = 2;
	pub const MaxClockDrift: u64 = 60_000;
	pub const MaxSequenceGap: u64 = 100;
	pub static RuleDeposit: u64 = 5;
	pub const CreditPrice: u64 = 3;
	pub static MaxAnchorsPerBlock: u32 = 2;
	pub const MaxPooledAhead: u64 = 4;
	pub const AnchorLongevity: u64 = 32;
	pub const SenderWeight: Weight = Weight::from_parts(2_000_000, 0);
}

impl pallet_telemetry::Config for Test {
	type Devices = Directory;
	type Permissions = Directory;
	type UnixTime = Timestamp;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuleDeposit = RuleDeposit;
	type MaxPublicValues = MaxPublicValues;
	type MaxPayloadLen = MaxPayloadLen;
	type MaxBatchLen = MaxBatchLen;
	type MaxRulesPerDevice = MaxRulesPerDevice;
	type MaxClockDrift = MaxClockDrift;
	type MaxSequenceGap = MaxSequenceGap;
	type CreditPrice = CreditPrice;
	type MaxAnchorsPerBlock = MaxAnchorsPerBlock;
	type MaxPooledAhead = MaxPooledAhead;
	type AnchorLongevity = AnchorLongevity;
	type SenderWeight = SenderWeight;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Directory;
}

/// The devices and grants telemetry sees, kept in test storage.
pub struct Directory;

/// Permissions a test can grant.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Encode, codec::Decode)]
pub enum Grant {
	Submit,
	Manage,
}

const DEVICES_KEY: &[u8] = b"mock:devices";
const GRANTS_KEY: &[u8] = b"mock:grants";

type DeviceTable = BTreeMap<DeviceId, (AccountId32, DeviceKey, DeviceStatus, u32)>;

impl Directory {
	fn devices() -> DeviceTable {
		unhashed::get(DEVICES_KEY).unwrap_or_default()
	}

	fn grants() -> BTreeSet<(AccountId32, DeviceId, Grant)> {
		unhashed::get(GRANTS_KEY).unwrap_or_default()
	}

	/// Registers (or replaces) a device.
	pub fn register(device: DeviceId, owner: AccountId32, key: DeviceKey) {
		let mut devices = Self::devices();
		devices.insert(device, (owner, key, DeviceStatus::Active, 0));
		unhashed::put(DEVICES_KEY, &devices);
	}

	/// Hands a device to a new owner, in a new ownership epoch, as an accepted transfer does.
	pub fn transfer(device: DeviceId, to: AccountId32) {
		let mut devices = Self::devices();
		let record = devices.get_mut(&device).expect("registered");
		record.0 = to;
		record.3 += 1;
		unhashed::put(DEVICES_KEY, &devices);
	}

	/// Changes a registered device's key, as the registry's `rotate_key` does.
	pub fn rotate_key(device: DeviceId, key: DeviceKey) {
		let mut devices = Self::devices();
		devices.get_mut(&device).expect("registered").1 = key;
		unhashed::put(DEVICES_KEY, &devices);
	}

	/// Changes a registered device's status.
	pub fn set_status(device: DeviceId, status: DeviceStatus) {
		let mut devices = Self::devices();
		devices.get_mut(&device).expect("registered").2 = status;
		unhashed::put(DEVICES_KEY, &devices);
	}

	/// Grants `who` a permission on `device`.
	pub fn grant(who: AccountId32, device: DeviceId, grant: Grant) {
		let mut grants = Self::grants();
		grants.insert((who, device, grant));
		unhashed::put(GRANTS_KEY, &grants);
	}

	/// Takes a permission back.
	pub fn revoke(who: AccountId32, device: DeviceId, grant: Grant) {
		let mut grants = Self::grants();
		grants.remove(&(who, device, grant));
		unhashed::put(GRANTS_KEY, &grants);
	}
}

impl InspectDevice<AccountId32> for Directory {
	fn device(id: &DeviceId) -> Option<DeviceInfo<AccountId32>> {
		Self::devices().remove(id).map(|(owner, key, status, epoch)| DeviceInfo {
			owner,
			key,
			status,
			epoch,
		})
	}
}

/// What the mock's search for a SUBMIT grant weighs: found on the device, or not found.
pub const DIRECT_SEARCH: Weight = Weight::from_parts(1_000_000, 100);
/// See [`DIRECT_SEARCH`].
pub const LONGEST_SEARCH: Weight = Weight::from_parts(7_000_000, 700);

impl DevicePermissions<AccountId32> for Directory {
	fn submit_path(
		who: &AccountId32,
		device: &DeviceId,
		_: &DeviceInfo<AccountId32>,
	) -> Option<GrantPath> {
		Self::grants().contains(&(who.clone(), *device, Grant::Submit)).then_some(GrantPath::Direct)
	}
	fn may_manage(who: &AccountId32, device: &DeviceId) -> bool {
		Self::grants().contains(&(who.clone(), *device, Grant::Manage))
	}
	fn submit_path_weight(path: Option<GrantPath>) -> Weight {
		match path {
			Some(GrantPath::Direct) => DIRECT_SEARCH,
			Some(GrantPath::Group(_)) | None => LONGEST_SEARCH,
		}
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId32> for Directory {
	fn register_device(owner: &AccountId32, device: DeviceId, key: DeviceKey) {
		Self::register(device, owner.clone(), key);
	}

	fn manager(_owner: &AccountId32, device: DeviceId) -> Option<AccountId32> {
		Self::grant(GATEWAY, device, Grant::Manage);
		Some(GATEWAY)
	}

	fn transfer_device(device: DeviceId, to: &AccountId32) {
		Self::transfer(device, to.clone());
	}

	fn read_by_authorization(_device: DeviceId) -> Vec<Vec<u8>> {
		vec![DEVICES_KEY.to_vec()]
	}
}

/// The owner of the test devices.
pub const OWNER: AccountId32 = AccountId32::new([1; 32]);
/// A gateway that relays readings when granted.
pub const GATEWAY: AccountId32 = AccountId32::new([2; 32]);
/// An account with no rights at all.
pub const STRANGER: AccountId32 = AccountId32::new([3; 32]);
/// Another owner, who buys devices.
pub const BUYER: AccountId32 = AccountId32::new([4; 32]);
/// An account that cannot pay a deposit.
pub const POOR: AccountId32 = AccountId32::new([5; 32]);
/// What every named account but POOR holds at genesis.
pub const RICH: u64 = 10_000;

/// The chain's time in the tests: 2026-11-22T00:00:00Z.
pub const NOW_MS: u64 = 1_795_305_600_000;

/// The genesis hash test devices sign for (frame-system's placeholder at genesis).
pub fn genesis_hash() -> H256 {
	frame_system::Pallet::<Test>::block_hash(0)
}

/// A device of the tests: an id and the key pair that signs its readings.
// An sr25519 pair is larger than an ed25519 one; a few test devices are no reason to box it.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum TestDevice {
	Sr(DeviceId, sr25519::Pair),
	Ed(DeviceId, ed25519::Pair),
}

impl TestDevice {
	/// An sr25519 device whose key derives from `uri`.
	pub fn sr(n: u8, uri: &str) -> Self {
		TestDevice::Sr([n; 32], sr25519::Pair::from_string(uri, None).expect("valid uri"))
	}

	/// An ed25519 device whose key derives from `uri`.
	pub fn ed(n: u8, uri: &str) -> Self {
		TestDevice::Ed([n; 32], ed25519::Pair::from_string(uri, None).expect("valid uri"))
	}

	/// The device's id.
	pub fn id(&self) -> DeviceId {
		match self {
			TestDevice::Sr(id, _) | TestDevice::Ed(id, _) => *id,
		}
	}

	/// The device's public key.
	pub fn key(&self) -> DeviceKey {
		match self {
			TestDevice::Sr(_, pair) => DeviceKey::Sr25519(pair.public()),
			TestDevice::Ed(_, pair) => DeviceKey::Ed25519(pair.public()),
		}
	}

	/// The device's own account.
	pub fn account(&self) -> AccountId32 {
		self.key().account()
	}

	/// Registers the device for OWNER in the directory.
	pub fn register(&self) -> &Self {
		Directory::register(self.id(), OWNER, self.key());
		self
	}

	/// The device's signature of `statement` on the test chain.
	pub fn sign(&self, statement: &AnchorStatement<MaxPublicValues>) -> MultiSignature {
		let hash = statement.signing_hash(&genesis_hash());
		match self {
			TestDevice::Sr(_, pair) => MultiSignature::Sr25519(pair.sign(&hash)),
			TestDevice::Ed(_, pair) => MultiSignature::Ed25519(pair.sign(&hash)),
		}
	}

	/// Reading `seq` of this device: temperature `4.000 + seq/1000` °C, one second apart.
	pub fn reading(&self, seq: Seq) -> Reading {
		Reading {
			device: self.id(),
			seq,
			timestamp_ms: (NOW_MS - 600_000).saturating_add(seq.saturating_mul(1_000)),
			values: vec![Measurement { metric: metric("temp_c"), value: 4_000 + seq as i64 }],
			payload_hash: None,
		}
	}

	/// The statement of readings `first_seq .. first_seq + count`, with no public values.
	pub fn statement(&self, first_seq: Seq, count: u32) -> AnchorStatement<MaxPublicValues> {
		let readings: Vec<Reading> =
			// Wrapping, so that a test can sign a statement that runs past `u64::MAX`.
			(0..u64::from(count)).map(|i| self.reading(first_seq.wrapping_add(i))).collect();
		let leaves: Vec<H256> = readings.iter().map(Reading::leaf).collect();
		AnchorStatement {
			device: self.id(),
			first_seq,
			count,
			root: batch_root(&leaves),
			time: TimeRange {
				first_ms: readings.first().map_or(0, |r| r.timestamp_ms),
				last_ms: readings.last().map_or(0, |r| r.timestamp_ms),
			},
			payload_hash: None,
			values: BoundedVec::new(),
		}
	}

	/// The signed anchor of readings `first_seq .. first_seq + count`.
	pub fn anchor(&self, first_seq: Seq, count: u32) -> Anchor<MaxPublicValues> {
		self.signed(self.statement(first_seq, count))
	}

	/// `statement`, signed by this device.
	pub fn signed(&self, statement: AnchorStatement<MaxPublicValues>) -> Anchor<MaxPublicValues> {
		let signature = self.sign(&statement);
		Anchor { statement, signature }
	}

	/// The signed anchor of reading `seq` alone, with `values` made public.
	pub fn anchor_with_values(&self, seq: Seq, values: &[(&str, i64)]) -> Anchor<MaxPublicValues> {
		let mut statement = self.statement(seq, 1);
		statement.values = values
			.iter()
			.map(|(name, value)| PublicValue { seq, metric: metric(name), value: *value })
			.collect::<Vec<_>>()
			.try_into()
			.expect("within MaxPublicValues");
		self.signed(statement)
	}
}

/// Telemetry's events so far, in order.
pub fn telemetry_events() -> Vec<crate::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Telemetry(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// A metric name.
pub fn metric(name: &str) -> MetricName {
	MetricName::try_from(name.as_bytes().to_vec()).expect("short name")
}

/// Builds test state.
#[derive(Default)]
pub struct ExtBuilder {
	devices: Vec<TestDevice>,
}

impl ExtBuilder {
	/// No devices.
	pub fn new() -> Self {
		Self::default()
	}

	/// Registers `device` for OWNER before the test.
	pub fn with_device(mut self, device: &TestDevice) -> Self {
		self.devices.push(device.clone());
		self
	}

	/// The externalities at block 1 and time NOW_MS, with an in-memory keystore.
	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: [OWNER, GATEWAY, STRANGER, BUYER]
				.into_iter()
				.map(|who| (who, RICH))
				.chain([(POOR, 3)])
				.collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.register_extension(sp_keystore::KeystoreExt::new(
			sp_keystore::testing::MemoryKeystore::new(),
		));
		ext.execute_with(|| {
			System::set_block_number(1);
			Timestamp::set_timestamp(NOW_MS);
			for device in &self.devices {
				device.register();
			}
		});
		ext
	}

	/// Runs `test`, then checks telemetry's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			// Built with `try-runtime`, the checks run through the pallets' `try_state` hooks,
			// as try-runtime runs them on a chain; else directly.
			#[cfg(not(feature = "try-runtime"))]
			Telemetry::do_try_state().expect("telemetry invariants hold");
			#[cfg(feature = "try-runtime")]
			{
				use frame_support::traits::{TryState, TryStateSelect};
				AllPalletsWithSystem::try_state(System::block_number(), TryStateSelect::All)
					.expect("every pallet's try_state hook holds");
			}
		});
	}
}
