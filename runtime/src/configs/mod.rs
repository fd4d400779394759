//! The configuration of every pallet in the runtime: one `impl Config` each, overriding only
//! what differs from the pallet's default configuration.

use crate::weights::{
	block_weights::BlockExecutionWeight, extrinsic_weights::ExtrinsicBaseWeight,
	paritydb_weights::constants::ParityDbWeight,
};
use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{ConstBool, ConstU32, ConstU64, ConstU8, VariantCountOf},
	weights::{constants::WEIGHT_REF_TIME_PER_SECOND, ConstantMultiplier, IdentityFee, Weight},
};
use frame_system::limits::{BlockLength, BlockWeights};
use pallet_transaction_payment::{FungibleAdapter, Multiplier, TargetedFeeAdjustment};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_runtime::{
	traits::{Bounded, One},
	FixedPointNumber, Perbill, Perquintill,
};
use sp_version::RuntimeVersion;

use super::{
	AccessControl, AccountId, Aura, Balance, Balances, Block, BlockNumber, DeviceRegistry, Hash,
	Nonce, OriginCaller, PalletInfo, Runtime, RuntimeCall, RuntimeEvent, RuntimeFreezeReason,
	RuntimeHoldReason, RuntimeOrigin, RuntimeTask, System, Timestamp, EXISTENTIAL_DEPOSIT,
	MICRO_UNIT, MILLI_UNIT, SLOT_DURATION, SS58_PREFIX, VERSION,
};

/// Share of a block that normal (non-operational) extrinsics may fill.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// The share of `limit` normal extrinsics may use. A per-thing times a quantity rounds and
/// saturates, so it cannot overflow; clippy's arithmetic lint cannot see that through `*`.
#[allow(clippy::arithmetic_side_effects)]
fn normal_share<T>(limit: T) -> T
where
	Perbill: core::ops::Mul<T, Output = T>,
{
	NORMAL_DISPATCH_RATIO * limit
}

/// Two seconds of compute per six-second block; proof size is not limited on a solochain.
const MAXIMUM_BLOCK_WEIGHT: Weight =
	Weight::from_parts(2u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX);

parameter_types! {
	/// How many recent block hashes are kept (mortal transactions refer to them).
	pub const BlockHashCount: BlockNumber = 2400;
	/// The runtime version, as `frame_system` reports it.
	pub const Version: RuntimeVersion = VERSION;

	/// Block and extrinsic weight limits, with the base weights benchmarked for this runtime on
	/// ParityDB (`runtime/src/weights/`): normal extrinsics may use 75 % of a block, operational
	/// ones the rest, and a tenth is set aside for block initialization.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::builder()
		.base_block(BlockExecutionWeight::get())
		.for_class(DispatchClass::all(), |weights| {
			weights.base_extrinsic = ExtrinsicBaseWeight::get();
		})
		.for_class(DispatchClass::Normal, |weights| {
			weights.max_total = Some(normal_share(MAXIMUM_BLOCK_WEIGHT));
		})
		.for_class(DispatchClass::Operational, |weights| {
			weights.max_total = Some(MAXIMUM_BLOCK_WEIGHT);
			weights.reserved =
				Some(MAXIMUM_BLOCK_WEIGHT.saturating_sub(normal_share(MAXIMUM_BLOCK_WEIGHT)));
		})
		.avg_block_initialization(Perbill::from_percent(10))
		.build_or_panic();
	/// At most 5 MiB of extrinsics per block, of which normal extrinsics may fill 75 %.
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(DispatchClass::Normal, |max| *max = normal_share(*max))
		.build();
	/// The SS58 address format.
	pub const SS58Prefix: u16 = SS58_PREFIX;
}

/// The default types come from `SolochainDefaultConfig`; only what Provena fixes is named here.
#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	/// The block type for the runtime.
	type Block = Block;
	/// Block and extrinsic weights: base values and limits.
	type BlockWeights = RuntimeBlockWeights;
	/// The maximum length of a block (in bytes).
	type BlockLength = RuntimeBlockLength;
	/// The identifier used to distinguish between accounts.
	type AccountId = AccountId;
	/// The type for storing how many extrinsics an account has signed.
	type Nonce = Nonce;
	/// The type for hashing blocks and tries.
	type Hash = Hash;
	/// Maximum number of block number to block hash mappings to keep (oldest pruned first).
	type BlockHashCount = BlockHashCount;
	/// Database weights: the node stores state in ParityDB only; measured on this chain's state
	/// by `scripts/benchmark-weights.sh db`.
	type DbWeight = ParityDbWeight;
	/// Version of the runtime.
	type Version = Version;
	/// The data to be stored in an account.
	type AccountData = pallet_balances::AccountData<Balance>;
	/// The SS58 address format of this chain.
	type SS58Prefix = SS58Prefix;
	/// Weights of `frame_system`'s calls, benchmarked on this runtime.
	type SystemWeightInfo = crate::weights::frame_system::WeightInfo<Runtime>;
	/// Weights of the checks of every signed transaction, benchmarked on this runtime.
	type ExtensionsWeightInfo = crate::weights::frame_system_extensions::WeightInfo<Runtime>;
	/// Providers and consumers an account may have at most.
	type MaxConsumers = ConstU32<16>;
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<32>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<32>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_timestamp::Config for Runtime {
	/// A timestamp: milliseconds since the unix epoch.
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = crate::weights::pallet_timestamp::WeightInfo<Runtime>;
}

parameter_types! {
	/// The existential deposit, as a runtime constant.
	pub const ExistentialDeposit: Balance = EXISTENTIAL_DEPOSIT;
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	/// The type for recording an account's balance.
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ExistentialDeposit;
	type AccountStore = System;
	type WeightInfo = crate::weights::pallet_balances::WeightInfo<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	/// Deposits (devices, grants, groups) are holds with a reason per pallet.
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

parameter_types! {
	/// Block space is priced: a millionth of a PRV per byte of an extrinsic (a single anchor of
	/// about 300 bytes pays 0.0003 PRV for its bytes, a full 5 MiB block about 5 PRV).
	pub const TransactionByteFee: Balance = MICRO_UNIT;
	/// The weight fee follows congestion: it rises while blocks are more than a quarter full...
	pub const TargetBlockFullness: Perquintill = Perquintill::from_percent(25);
	/// ... by about 0.0056 % per full block (some 3.4 % over an hour of full blocks; Polkadot's
	/// setting) ...
	pub AdjustmentVariable: Multiplier = Multiplier::saturating_from_rational(75, 1_000_000);
	/// ... and falls back as they empty, never below the nominal fee.
	pub MinimumMultiplier: Multiplier = Multiplier::one();
	pub MaximumMultiplier: Multiplier = Bounded::max_value();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = ConstantMultiplier<Balance, TransactionByteFee>;
	type FeeMultiplierUpdate = TargetedFeeAdjustment<
		Self,
		TargetBlockFullness,
		AdjustmentVariable,
		MinimumMultiplier,
		MaximumMultiplier,
	>;
	type WeightInfo = crate::weights::pallet_transaction_payment::WeightInfo<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = crate::weights::pallet_sudo::WeightInfo<Runtime>;
}

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = OriginCaller;
	type WeightInfo = crate::weights::pallet_utility::WeightInfo<Runtime>;
}

parameter_types! {
	/// Every device record holds a tenth of a PRV, whatever its metadata.
	pub const DeviceDepositBase: Balance = 100 * MILLI_UNIT;
	/// And a thousandth of a PRV per metadata byte.
	pub const DeviceDepositPerByte: Balance = MILLI_UNIT;
}

impl pallet_device_registry::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = DeviceDepositBase;
	type DepositPerByte = DeviceDepositPerByte;
	/// Kind, model and location labels of up to 64 bytes each.
	type MaxFieldLength = ConstU32<64>;
	/// A week for the buyer to accept.
	type TransferOfferLifetime = ConstU32<{ 7 * crate::DAYS }>;
	type WeightInfo = pallet_device_registry::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Chain time lags wall time by up to a slot, and device clocks drift: two minutes ahead of
	/// the chain is still believable, more is a clock to fix.
	pub const MaxClockDrift: u64 = 120_000;
	/// A device that takes a reading every second may be cut off for about 3 years and still
	/// anchor on; a device can never be pushed past the end of its sequence by one anchor.
	pub const MaxSequenceGap: u64 = 100_000_000;
	/// An alert rule holds a hundredth of a PRV from whoever set it (about 100 bytes stored).
	pub const RuleDeposit: Balance = 10 * MILLI_UNIT;
	/// An anchor credit costs a thousandth of a PRV: about the fee of a signed single anchor
	/// (its weight at one unit per picosecond, plus its bytes).
	pub const AnchorCreditPrice: Balance = MILLI_UNIT;
}

impl pallet_telemetry::Config for Runtime {
	type Devices = DeviceRegistry;
	/// SUBMIT and MANAGE grants from access control.
	type Permissions = AccessControl;
	type UnixTime = Timestamp;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuleDeposit = RuleDeposit;
	/// Enough for every measurement of a multi-sensor reading, or a batch's extremes.
	type MaxPublicValues = provena_primitives::telemetry::MaxPublicValues;
	/// 4 KiB of sealed data per anchor.
	type MaxPayloadLen = ConstU32<4_096>;
	/// A gateway's batch: up to 256 devices' anchors in one extrinsic.
	type MaxBatchLen = ConstU32<256>;
	type MaxRulesPerDevice = ConstU32<16>;
	type MaxClockDrift = MaxClockDrift;
	type MaxSequenceGap = MaxSequenceGap;
	type CreditPrice = AnchorCreditPrice;
	/// A device sampling every second and anchoring each reading makes six anchors a block;
	/// sixteen leaves room to catch up, and no device takes a block for itself.
	type MaxAnchorsPerBlock = ConstU32<16>;
	/// The pool holds up to 32 of a device's anchors ahead of its log: the most a device may
	/// have in the next block, and as many again, because the pool checks a new anchor against
	/// the best block it has caught up with, which under load can be a block behind the one
	/// the sender has seen included.
	type MaxPooledAhead = ConstU64<32>;
	/// A device-authorized anchor waits at most 64 blocks (6.4 minutes) in the pool.
	type AnchorLongevity = ConstU64<64>;
	type SenderWeight = SenderWeight;
	type WeightInfo = pallet_telemetry::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = TelemetryBenchmarkHelper;
}

parameter_types! {
	/// What `ExtrinsicBaseWeight` spends on a sender, which a device-authorized anchor does
	/// not have and gives back. `benchmark overhead` measures the base on blocks of
	/// sr25519-signed remarks, so it includes each remark's sender signature check and the
	/// work of the nonce and fee extensions on the sender's account. Each is benchmarked
	/// alone: [`sender_signature_check`], and [`sender_extensions_compute`].
	pub SenderWeight: Weight = sender_signature_check().saturating_add(sender_extensions_compute());
}

/// One sr25519 signature check (telemetry's `account_signature_check` benchmark).
pub fn sender_signature_check() -> Weight {
	use pallet_telemetry::WeightInfo as _;
	<Runtime as pallet_telemetry::Config>::WeightInfo::account_signature_check()
}

/// The compute of the nonce and fee extensions, from their benchmarks (`check_nonce`,
/// `charge_transaction_payment`): their weights without the one read and one write of the
/// sender's account each charges (the generated files' `System::Account (r:1 w:1)`), which
/// stay in those extensions' own weights. `WeightReclaim` already returns those whole weights
/// for a transaction without a sender; what this adds back is the same work inside the base.
pub fn sender_extensions_compute() -> Weight {
	use frame_system::ExtensionsWeightInfo as _;
	use pallet_transaction_payment::WeightInfo as _;
	let account = <Runtime as frame_system::Config>::DbWeight::get().reads_writes(1, 1);
	let nonce = <Runtime as frame_system::Config>::ExtensionsWeightInfo::check_nonce();
	let fee =
		<Runtime as pallet_transaction_payment::Config>::WeightInfo::charge_transaction_payment();
	let compute = |weight: Weight| Weight::from_parts(weight.saturating_sub(account).ref_time(), 0);
	compute(nonce).saturating_add(compute(fee))
}

/// Registers benchmark devices in the real device registry, funding their owner first.
#[cfg(feature = "runtime-benchmarks")]
pub struct TelemetryBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_telemetry::BenchmarkHelper<AccountId> for TelemetryBenchmarkHelper {
	fn register_device(
		owner: &AccountId,
		device: provena_primitives::DeviceId,
		key: provena_primitives::DeviceKey,
	) {
		use frame_support::traits::fungible::Mutate;
		let funds = 1_000 * super::UNIT;
		if Balances::free_balance(owner) < funds {
			let _ = Balances::set_balance(owner, funds);
		}
		let metadata = pallet_device_registry::MetadataInput {
			kind: b"bench".to_vec(),
			model: b"bench".to_vec(),
			firmware: None,
			location: b"bench".to_vec(),
		};
		DeviceRegistry::do_register(owner.clone(), device, key, metadata)
			.expect("a funded owner registers a fresh device");
	}

	fn manager(owner: &AccountId, device: provena_primitives::DeviceId) -> Option<AccountId> {
		Some(grant_through_groups(owner, device, pallet_access_control::Permissions::MANAGE))
	}

	fn transfer_device(device: provena_primitives::DeviceId, to: &AccountId) {
		<AccessControlBenchmarkHelper as pallet_access_control::BenchmarkHelper<AccountId>>::transfer_device(
			device, to,
		);
	}

	fn read_by_authorization(
		device: provena_primitives::DeviceId,
	) -> alloc::vec::Vec<alloc::vec::Vec<u8>> {
		alloc::vec![
			pallet_device_registry::Devices::<Runtime>::hashed_key_for(device),
			pallet_timestamp::Now::<Runtime>::hashed_key().to_vec(),
		]
	}
}

/// Puts `device` in as many of `owner`'s groups as it may join and grants `permissions` on the
/// last one to a benchmark account: the longest path access control walks to authorize it.
#[cfg(feature = "runtime-benchmarks")]
fn grant_through_groups(
	owner: &AccountId,
	device: provena_primitives::DeviceId,
	permissions: u8,
) -> AccountId {
	use frame_support::traits::Get;
	use pallet_access_control::{NextGroupId, Permissions, Scope};
	let gateway: AccountId = frame_benchmarking::account("gateway", 0, 0);
	let origin = || RuntimeOrigin::signed(owner.clone());
	let mut last = 0;
	for _ in 0..<Runtime as pallet_access_control::Config>::MaxGroupsPerDevice::get() {
		last = NextGroupId::<Runtime>::get();
		AccessControl::create_group(origin(), Default::default()).expect("a funded owner");
		AccessControl::add_to_group(origin(), last, device).expect("the owner's device");
	}
	let permissions = Permissions(permissions);
	AccessControl::grant(origin(), Scope::Group(last), gateway.clone(), permissions, None, None)
		.expect("the owner grants");
	gateway
}

parameter_types! {
	pub const GrantDeposit: Balance = 10 * MILLI_UNIT;
	pub const GroupDeposit: Balance = 100 * MILLI_UNIT;
	pub const AccessDepositPerByte: Balance = MILLI_UNIT / 10;
	/// A published encryption key (32 bytes under a 32-byte account) holds as much as a grant.
	pub const KeyDeposit: Balance = 10 * MILLI_UNIT;
}

impl pallet_access_control::Config for Runtime {
	type Devices = DeviceRegistry;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type GrantDeposit = GrantDeposit;
	type GroupDeposit = GroupDeposit;
	type DepositPerByte = AccessDepositPerByte;
	type KeyDeposit = KeyDeposit;
	/// A ward or a shipment: up to 256 devices.
	type MaxGroupSize = ConstU32<256>;
	type MaxGroupsPerDevice = ConstU32<8>;
	type MaxGroupNameLen = ConstU32<64>;
	/// An x25519 sealed box of a 32-byte data key is 80 bytes; room for other key formats.
	type MaxSealedKeyLen = ConstU32<256>;
	type WeightInfo = pallet_access_control::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = AccessControlBenchmarkHelper;
}

/// Registers benchmark devices in the real device registry, with a throwaway key.
#[cfg(feature = "runtime-benchmarks")]
pub struct AccessControlBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_access_control::BenchmarkHelper<AccountId> for AccessControlBenchmarkHelper {
	fn register_device(owner: &AccountId, device: provena_primitives::DeviceId) {
		let key =
			provena_primitives::DeviceKey::Sr25519(sp_core::sr25519::Public::from_raw(device));
		<TelemetryBenchmarkHelper as pallet_telemetry::BenchmarkHelper<AccountId>>::register_device(
			owner, device, key,
		);
	}

	/// Offers the device to `to` and accepts it with a fresh key from the benchmark keystore:
	/// the registry's own calls, so the new ownership epoch is the real one.
	fn transfer_device(device: provena_primitives::DeviceId, to: &AccountId) {
		use frame_support::traits::fungible::Mutate;
		use provena_primitives::InspectDevice;
		let funds = 1_000 * super::UNIT;
		if Balances::free_balance(to) < funds {
			let _ = Balances::set_balance(to, funds);
		}
		let owner = DeviceRegistry::device(&device).expect("a registered device").owner;
		DeviceRegistry::offer_transfer(RuntimeOrigin::signed(owner), device, to.clone().into())
			.expect("the owner offers a live device");
		let public = sp_io::crypto::sr25519_generate(sp_core::crypto::KeyTypeId(*b"prvn"), None);
		let genesis = System::block_hash(0);
		let message = provena_primitives::possession_hash(&genesis, &device, to);
		let signature =
			sp_io::crypto::sr25519_sign(sp_core::crypto::KeyTypeId(*b"prvn"), &public, &message)
				.expect("the keystore holds the key it made");
		DeviceRegistry::accept_transfer(
			RuntimeOrigin::signed(to.clone()),
			device,
			provena_primitives::DeviceKey::Sr25519(public),
			sp_runtime::MultiSignature::Sr25519(signature),
			Balance::MAX,
		)
		.expect("the buyer accepts with a proven key");
	}
}
