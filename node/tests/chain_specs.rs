//! The chain specs the node ships: the right validators in each, every well-known development
//! account funded, and the token properties wallets read.

use serde_json::Value;
use std::process::Command;

/// `provena-node build-spec --chain <chain>` as JSON. Each call gets its own base path (the
/// command creates one), so parallel tests neither collide nor write to the home directory.
fn build_spec(chain: &str) -> Value {
	let base = std::env::temp_dir().join(format!(
		"provena-spec-{}-{chain}-{:?}",
		std::process::id(),
		std::thread::current().id()
	));
	let output = Command::new(provena_test_utils::node_binary())
		.args(["build-spec", "--chain", chain, "--base-path"])
		.arg(&base)
		.output()
		.expect("run provena-node build-spec");
	let _ = std::fs::remove_dir_all(&base);
	assert!(
		output.status.success(),
		"build-spec --chain {chain} failed: {}",
		String::from_utf8_lossy(&output.stderr)
	);
	serde_json::from_slice(&output.stdout).expect("build-spec prints JSON")
}

/// The genesis patch of a spec built from a runtime preset.
fn patch(spec: &Value) -> &Value {
	&spec["genesis"]["runtimeGenesis"]["patch"]
}

fn count(value: &Value) -> usize {
	value.as_array().map_or(0, Vec::len)
}

#[test]
fn each_chain_has_its_validators() {
	for (chain, validators) in [("dev", 1), ("local", 2), ("testnet", 4)] {
		let spec = build_spec(chain);
		let genesis = patch(&spec);
		assert_eq!(count(&genesis["aura"]["authorities"]), validators, "{chain}: Aura authorities");
		assert_eq!(
			count(&genesis["grandpa"]["authorities"]),
			validators,
			"{chain}: GRANDPA authorities"
		);
	}
}

#[test]
fn every_chain_funds_the_dev_accounts_and_names_the_token() {
	for chain in ["dev", "local", "testnet"] {
		let spec = build_spec(chain);
		assert_eq!(spec["properties"]["tokenSymbol"], "PRV", "{chain}");
		assert_eq!(spec["properties"]["tokenDecimals"], 12, "{chain}");
		assert_eq!(spec["properties"]["ss58Format"], 42, "{chain}");

		// Alice..Ferdie and their stash accounts.
		let balances = &patch(&spec)["balances"]["balances"];
		assert_eq!(count(balances), 12, "{chain}: endowed accounts");
		// Alice's well-known address.
		let alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
		assert!(
			balances.as_array().into_iter().flatten().any(|entry| entry[0] == alice),
			"{chain}: Alice is not endowed"
		);
		assert_eq!(patch(&spec)["sudo"]["key"], alice, "{chain}: sudo key");
	}
}
