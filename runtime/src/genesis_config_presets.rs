//! Genesis presets: the starting state of each chain the node knows.
//!
//! | preset | validators (Aura + GRANDPA) | node chain spec |
//! |---|---|---|
//! | `development` | Alice | `dev` |
//! | `local_testnet` | Alice, Bob | `local` |
//! | `testnet` | Alice, Bob, Charlie, Dave | `testnet` |
//!
//! Every preset funds all well-known development accounts (Alice..Ferdie and their `//stash`
//! accounts) with [`DEV_ENDOWMENT`], and makes Alice the sudo key, so clients,
//! scripts and load tests work out of the box. These keys are public: never use these presets
//! for a network that holds anything of value.
//!
//! The `development` preset also registers two demo devices owned by Alice (see
//! [`demo_devices`]): a cold-chain thermometer signing with the sr25519 key of
//! `//Alice//device/1`, and a ward ECG signing with the ed25519 key of `//Alice//device//2`
//! (ed25519 keys derive only through hard `//` junctions).

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_core::{ed25519, hex2array, sr25519};
use sp_crypto_hashing::blake2_256;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::{
	AccountId, AuraConfig, Balance, BalancesConfig, DeviceRegistryConfig, GrandpaConfig,
	RuntimeGenesisConfig, SudoConfig, UNIT,
};
use pallet_device_registry::MetadataInput;
use provena_primitives::{DeviceId, DeviceKey};

/// The name of the four-validator preset (Alice, Bob, Charlie, Dave).
pub const TESTNET_RUNTIME_PRESET: &str = "testnet";

/// What every well-known development account holds at genesis: one million PRV.
pub const DEV_ENDOWMENT: Balance = 1_000_000 * UNIT;

/// A development validator: its Aura (sr25519) and GRANDPA (ed25519) keys, both derived from
/// the same well-known seed (`//Alice` and so on).
type DevValidator = (Sr25519Keyring, Ed25519Keyring);

/// A device registered at genesis: id, owner, key, metadata.
type GenesisDevice = (DeviceId, AccountId, DeviceKey, MetadataInput);

/// The public key of `//Alice//device/1` (sr25519). The runtime cannot derive keys (no_std),
/// so it is written out here; a test derives it again and compares.
const DEMO_THERMOMETER_KEY: [u8; 32] =
	hex2array!("d6a89d439837797cfae57c0a7dad7825ad8a26165e258cd20c9054ee4ab34e62");
/// The public key of `//Alice//device//2` (ed25519).
const DEMO_ECG_KEY: [u8; 32] =
	hex2array!("8d49ade0e7424913cd2c7f4c2be5ac87babb9f17d5c2747c9125390b6f225127");

/// The id of a demo device: the blake2-256 hash of its name, as an owner would hash a serial.
pub fn demo_device_id(name: &str) -> DeviceId {
	blake2_256(name.as_bytes())
}

/// Alice's two demo devices on the `development` chain:
/// - `provena-demo:cold-chain-thermometer-1`, sr25519 key of `//Alice//device/1`;
/// - `provena-demo:ward-3-ecg-1`, ed25519 key of `//Alice//device//2`.
pub fn demo_devices() -> Vec<GenesisDevice> {
	let alice = Sr25519Keyring::Alice.to_account_id();
	let describe = |kind: &str, model: &str, location: &str| MetadataInput {
		kind: kind.as_bytes().to_vec(),
		model: model.as_bytes().to_vec(),
		firmware: None,
		location: location.as_bytes().to_vec(),
	};
	vec![
		(
			demo_device_id("provena-demo:cold-chain-thermometer-1"),
			alice.clone(),
			DeviceKey::Sr25519(sr25519::Public::from_raw(DEMO_THERMOMETER_KEY)),
			describe("thermometer", "Provena demo TX-1", "reefer container 1"),
		),
		(
			demo_device_id("provena-demo:ward-3-ecg-1"),
			alice,
			DeviceKey::Ed25519(ed25519::Public::from_raw(DEMO_ECG_KEY)),
			describe("ecg", "Provena demo ECG-2", "ward 3, bed 12"),
		),
	]
}

/// A genesis state with the given validators, endowed accounts, sudo key and devices.
fn genesis(
	validators: &[DevValidator],
	endowed: Vec<AccountId>,
	root: AccountId,
	devices: Vec<GenesisDevice>,
) -> Value {
	let aura: Vec<AuraId> = validators.iter().map(|(aura, _)| aura.public().into()).collect();
	let grandpa: Vec<(GrandpaId, u64)> =
		validators.iter().map(|(_, grandpa)| (grandpa.public().into(), 1)).collect();
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed.into_iter().map(|who| (who, DEV_ENDOWMENT)).collect(),
		},
		aura: AuraConfig { authorities: aura },
		grandpa: GrandpaConfig { authorities: grandpa },
		sudo: SudoConfig { key: Some(root) },
		device_registry: DeviceRegistryConfig { devices },
	})
}

/// Every well-known development account.
fn dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect()
}

/// The genesis patch of a named preset, as JSON bytes; `None` for an unknown name.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	const ALL: [DevValidator; 4] = [
		(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
		(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
		(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
		(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
	];
	let (validators, devices) = match id.as_str() {
		DEV_RUNTIME_PRESET => (ALL.get(..1)?, demo_devices()),
		LOCAL_TESTNET_RUNTIME_PRESET => (ALL.get(..2)?, vec![]),
		TESTNET_RUNTIME_PRESET => (&ALL[..], vec![]),
		_ => return None,
	};
	let alice = Sr25519Keyring::Alice.to_account_id();
	let patch = genesis(validators, dev_accounts(), alice, devices);
	// Serializing a JSON value cannot fail.
	serde_json::to_string(&patch).ok().map(|json| json.into_bytes())
}

/// The names of all presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(DEV_RUNTIME_PRESET),
		PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET),
		PresetId::from(TESTNET_RUNTIME_PRESET),
	]
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::Pair;

	#[test]
	fn demo_device_keys_are_the_documented_derivations() {
		let thermometer = sr25519::Pair::from_string("//Alice//device/1", None).unwrap();
		let ecg = ed25519::Pair::from_string("//Alice//device//2", None).unwrap();
		assert_eq!(thermometer.public().0, DEMO_THERMOMETER_KEY);
		assert_eq!(ecg.public().0, DEMO_ECG_KEY);
	}

	#[test]
	fn every_preset_builds_a_valid_genesis_state() {
		for name in preset_names() {
			let patch = get_preset(&name).expect("a listed preset exists");
			let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
			let patch: Value = serde_json::from_slice(&patch).unwrap();
			// Applied exactly as the node applies a preset to a chain spec.
			sc_chain_spec::json_merge(&mut config, patch);
			let config: RuntimeGenesisConfig = serde_json::from_value(config).unwrap();
			// Building the state runs every pallet's genesis: holds the demo devices'
			// deposits, sets the authorities.
			let storage = sp_runtime::BuildStorage::build_storage(&config);
			assert!(storage.is_ok(), "preset {name}: {:?}", storage.err());
		}
		assert!(get_preset(&"no-such-preset".into()).is_none());
	}
}
