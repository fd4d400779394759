//! The pallets whose benchmarks the node's `benchmark pallet` command can run
//! (only with the `runtime-benchmarks` feature).

pub use frame_benchmarking::baseline::Pallet as BaselineBench;
pub use frame_system_benchmarking::{
	extensions::Pallet as SystemExtensionsBench, Pallet as SystemBench,
};

use super::*;

impl frame_benchmarking::baseline::Config for Runtime {}
impl frame_system_benchmarking::Config for Runtime {}
impl pallet_transaction_payment::BenchmarkConfig for Runtime {}

frame_benchmarking::define_benchmarks!(
	[frame_benchmarking, BaselineBench::<Runtime>]
	[frame_system, SystemBench::<Runtime>]
	[frame_system_extensions, SystemExtensionsBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_sudo, Sudo]
	[pallet_utility, Utility]
	[pallet_transaction_payment, TransactionPayment]
	[pallet_device_registry, DeviceRegistry]
	[pallet_telemetry, Telemetry]
	[pallet_access_control, AccessControl]
);
