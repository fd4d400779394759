//! What the runtime's integration tests share: the development chain at block 1, and the demo
//! thermometer's readings and device-signed anchors.

// Each test binary uses its own part of this.
#![allow(dead_code)]

use frame_support::BoundedVec;
use pallet_telemetry::{Anchor, AnchorStatement, TimeRange};
use provena_primitives::telemetry::{batch_root, Measurement, MetricName, Reading};
use provena_runtime::{
	genesis_config_presets::demo_device_id, Runtime, RuntimeGenesisConfig, System,
};
use sp_core::{sr25519, Pair, H256};
use sp_runtime::{BuildStorage, MultiSignature};

/// The most public values an anchor may carry, as the runtime says.
pub type MaxValues = <Runtime as pallet_telemetry::Config>::MaxPublicValues;

/// The chain's clock in the tests.
pub const NOW_MS: u64 = 1_795_305_600_000;

/// The development chain's genesis (Alice's demo devices included), at block 1.
pub fn dev_chain() -> sp_io::TestExternalities {
	let patch = provena_runtime::genesis_config_presets::get_preset(&"development".into())
		.expect("the development preset exists");
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	sc_chain_spec::json_merge(&mut config, serde_json::from_slice(&patch).unwrap());
	let config: RuntimeGenesisConfig = serde_json::from_value(config).unwrap();
	let mut ext = sp_io::TestExternalities::new(config.build_storage().unwrap());
	ext.execute_with(|| {
		System::set_block_number(1);
		// Set directly: `set_timestamp` would also move Aura to the matching slot.
		pallet_timestamp::Now::<Runtime>::put(NOW_MS);
	});
	ext
}

/// The demo cold-chain thermometer's device id.
pub fn thermometer_id() -> [u8; 32] {
	demo_device_id("provena-demo:cold-chain-thermometer-1")
}

/// The demo thermometer's key (the development preset registers it).
pub fn demo_key() -> sr25519::Pair {
	sr25519::Pair::from_string("//Alice//device/1", None).unwrap()
}

/// The demo thermometer's reading `seq`.
pub fn reading(seq: u64) -> Reading {
	Reading {
		device: thermometer_id(),
		seq,
		timestamp_ms: NOW_MS - 60_000 + seq,
		values: vec![Measurement {
			metric: MetricName::truncate_from(b"temp_c".to_vec()),
			value: 5_000,
		}],
		payload_hash: None,
	}
}

/// The leaves of readings `first..first + count`.
pub fn leaves(first: u64, count: u64) -> Vec<H256> {
	(first..first + count).map(|seq| reading(seq).leaf()).collect()
}

/// Readings `first..first + count` of the demo thermometer, anchored and signed by `key`.
pub fn anchor(key: &sr25519::Pair, first: u64, count: u64) -> Anchor<MaxValues> {
	let statement = AnchorStatement {
		device: thermometer_id(),
		first_seq: first,
		count: count as u32,
		root: batch_root(&leaves(first, count)),
		time: TimeRange {
			first_ms: reading(first).timestamp_ms,
			last_ms: reading(first + count - 1).timestamp_ms,
		},
		payload_hash: None,
		values: BoundedVec::new(),
	};
	let signature = key.sign(&statement.signing_hash(&System::block_hash(0)));
	Anchor { statement, signature: MultiSignature::Sr25519(signature) }
}

/// The transaction extensions as a client sends them with a general transaction: no account,
/// so nonce and tip are zero, and immortal.
pub fn general_extensions() -> provena_runtime::TxExtension {
	(
		frame_system::AuthorizeCall::new(),
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(sp_runtime::generic::Era::Immortal),
		frame_system::CheckNonce::from(0),
		frame_system::CheckWeight::new(),
		pallet_transaction_payment::ChargeTransactionPayment::from(0),
		frame_system::WeightReclaim::new(),
	)
}

/// `call` as a general transaction: the preamble names the extensions, no signature.
pub fn general(call: provena_runtime::RuntimeCall) -> provena_runtime::UncheckedExtrinsic {
	provena_runtime::UncheckedExtrinsic::new_transaction(call, general_extensions())
}
