//! # Provena runtime
//!
//! The state transition function of the Provena chain: an application-specific blockchain that
//! makes IoT data tamper-evident, traceable and privately shareable.
//!
//! This file holds the types the whole chain agrees on (accounts, balances, blocks), the runtime
//! version, and the list of pallets with their fixed indices. Each pallet's configuration lives in
//! [`configs`], the runtime APIs in [`apis`], and the genesis presets the node's chain specs pick
//! from in [`genesis_config_presets`].

#![cfg_attr(not(feature = "std"), no_std)]
// Code that runs in a block must never panic (STYLE.md 12): outside tests, clippy refuses
// unwrap, unchecked indexing and overflowing arithmetic; scripts/check-panics.py refuses expect.
#![cfg_attr(
	not(test),
	deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]
// `construct_runtime` / `#[runtime]` expand to deeply nested types.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

// Declared before `apis`: it defines the `list_benchmarks!` / `add_benchmarks!` macros used there.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
pub mod apis;
pub mod configs;
pub mod genesis_config_presets;
pub mod weights;

use alloc::{borrow::Cow, vec::Vec};
use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Types the node needs without knowing the runtime's extrinsic format.
///
/// The node syncs and imports blocks through these, so it keeps working across runtime upgrades
/// that change the extrinsic format.
pub mod opaque {
	use super::*;
	use sp_runtime::traits::Hash as HashT;

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as HashT>::Output;
}

impl_opaque_keys! {
	/// The session keys a validator holds: one for block authoring, one for finality.
	pub struct SessionKeys {
		pub aura: Aura,
		pub grandpa: Grandpa,
	}
}

/// The runtime's identity. Bump `spec_version` with every change to the runtime's logic, and
/// `transaction_version` with every change to call indices or argument encodings.
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: Cow::Borrowed("provena"),
	impl_name: Cow::Borrowed("provena-node"),
	authoring_version: 1,
	spec_version: 112,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 5,
	system_version: 1,
};

/// Target block time. Aura slots are this long; changing it on a live chain halts it.
pub const MILLI_SECS_PER_BLOCK: u64 = 6000;
/// Aura slot duration, equal to the block time.
pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

/// Blocks per minute, hour and day, for expressing durations (grant expiry, for example).
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
/// Blocks per hour.
pub const HOURS: BlockNumber = MINUTES * 60;
/// Blocks per day.
pub const DAYS: BlockNumber = HOURS * 24;

/// Token symbol shown by wallets and explorers.
pub const TOKEN_SYMBOL: &str = "PRV";
/// Decimal places of one PRV.
pub const TOKEN_DECIMALS: u8 = 12;
/// The SS58 address format (42: the generic Substrate prefix).
pub const SS58_PREFIX: u16 = 42;

/// One PRV in plancks (the smallest unit).
pub const UNIT: Balance = 1_000_000_000_000;
/// A thousandth of a PRV.
pub const MILLI_UNIT: Balance = UNIT / 1_000;
/// A millionth of a PRV.
pub const MICRO_UNIT: Balance = UNIT / 1_000_000;

/// The smallest balance an account may hold; below it the account is reaped.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// A block number.
pub type BlockNumber = u32;

/// The signature of a transaction: sr25519, ed25519 or ecdsa.
pub type Signature = MultiSignature;

/// An account id: the public key of the transaction signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;

/// A balance, in plancks.
pub type Balance = u128;

/// The number of transactions an account has sent.
pub type Nonce = u32;

/// A hash of some data used by the chain.
pub type Hash = sp_core::H256;

/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;

/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;

/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// The checks every transaction goes through, in order.
///
/// Kept lean on purpose: each extension costs reads and writes on every extrinsic, and
/// throughput of small device anchors depends on it.
///
/// - `AuthorizeCall` comes first: for a general transaction of a call that authorizes itself
///   (telemetry's `device_anchor`, by the device's signature) it runs the call's own check and
///   makes the origin `Authorized`; for every other transaction it does nothing.
/// - Nonce and fee apply to signed transactions only; for an authorized one they give their
///   weight back.
/// - `WeightReclaim` comes last, so that what every extension before it gave back, and what a
///   call reports it did not use, is returned to the block's weight.
pub type TxExtension = (
	frame_system::AuthorizeCall<Runtime>,
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Migrations to run on runtime upgrade, besides the pallets' own.
#[allow(unused_parens)]
type Migrations = ();

/// Executive: dispatches calls to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

/// The pallets of the runtime, with fixed indices: clients and call encodings depend on them, so
/// an index is never reused.
#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;

	#[runtime::pallet_index(7)]
	pub type Utility = pallet_utility;

	// Provena's own pallets start at 10.
	#[runtime::pallet_index(10)]
	pub type DeviceRegistry = pallet_device_registry;

	#[runtime::pallet_index(11)]
	pub type Telemetry = pallet_telemetry;

	#[runtime::pallet_index(12)]
	pub type AccessControl = pallet_access_control;
}
