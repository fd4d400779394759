//! Chain specifications: `dev`, `local` and `testnet` (development networks whose keys are
//! public; `production:FILE` is in [`crate::production`]), each picking a genesis preset of the
//! runtime (the runtime owns genesis; the node only names the preset and the chain's properties).

use provena_runtime::{
	genesis_config_presets::TESTNET_RUNTIME_PRESET, SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL,
	WASM_BINARY,
};
use sc_service::ChainType;
use sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};

/// A chain specification of the Provena runtime, without extensions.
pub type ChainSpec = sc_service::GenericChainSpec;

/// The token properties wallets and explorers read: PRV, 12 decimals, SS58 format 42.
pub(crate) fn properties() -> sc_chain_spec::Properties {
	let mut properties = sc_chain_spec::Properties::new();
	properties.insert("tokenSymbol".into(), TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), SS58_PREFIX.into());
	properties
}

/// A chain spec with the given name, id, type and runtime genesis preset.
fn spec(name: &str, id: &str, chain_type: ChainType, preset: &str) -> Result<ChainSpec, String> {
	let wasm = WASM_BINARY.ok_or_else(|| {
		"The runtime's WASM is not in this binary; rebuild without SKIP_WASM_BUILD".to_string()
	})?;
	Ok(ChainSpec::builder(wasm, None)
		.with_name(name)
		.with_id(id)
		.with_protocol_id("provena")
		.with_chain_type(chain_type)
		.with_genesis_config_preset_name(preset)
		.with_properties(properties())
		.build())
}

/// `dev`: Alice alone validates; for development and integration tests.
pub fn development() -> Result<ChainSpec, String> {
	spec("Provena Development", "provena_dev", ChainType::Development, DEV_RUNTIME_PRESET)
}

/// `local`: Alice and Bob validate.
pub fn local_testnet() -> Result<ChainSpec, String> {
	spec("Provena Local Testnet", "provena_local", ChainType::Local, LOCAL_TESTNET_RUNTIME_PRESET)
}

/// `testnet`: Alice, Bob, Charlie and Dave validate; the zombienet network runs this one.
pub fn testnet() -> Result<ChainSpec, String> {
	spec("Provena Testnet", "provena_testnet", ChainType::Local, TESTNET_RUNTIME_PRESET)
}
