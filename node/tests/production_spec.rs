//! The production chain spec (`--chain production:FILE`) and the guards around development
//! keys: a production spec holds none of the well-known development keys and no sudo key; two
//! deployments built from one file have different genesis hashes, so a device's signature for
//! one never verifies on the other; a validator refuses a development chain unless told it is a
//! test network; and a node serves only the safe RPC methods unless told otherwise.

use provena_test_utils::{free_port, http_with, node_binary, Node};
use serde_json::{json, Value};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use std::{
	path::Path,
	process::{Command, Output, Stdio},
	time::{Duration, Instant},
};

fn node(args: &[&str], base: &Path) -> Output {
	Command::new(node_binary())
		.args(args)
		.arg("--base-path")
		.arg(base)
		.stdin(Stdio::null())
		.output()
		.expect("run provena-node")
}

/// `provena-node key generate --scheme <scheme>`: a fresh key, as an operator makes one.
fn fresh_key(scheme: &str) -> String {
	let out = Command::new(node_binary())
		.args(["key", "generate", "--scheme", scheme, "--output-type", "json"])
		.stdin(Stdio::null())
		.output()
		.expect("run provena-node key generate");
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	let key: Value = serde_json::from_slice(&out.stdout).unwrap();
	key["ss58PublicKey"].as_str().unwrap().to_string()
}

fn rpc(port: u16, method: &str, params: Value) -> Value {
	let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
	let headers = [("Content-Type", "application/json")];
	let (status, reply) = http_with(port, "POST", "/", &headers, body.to_string().as_bytes())
		.unwrap_or_else(|e| panic!("{method}: {e}"));
	assert_eq!(status, 200, "{method}: {reply}");
	serde_json::from_str(&reply).unwrap()
}

/// The public keys of every well-known development account, as lower-case hex without 0x.
fn development_keys() -> Vec<(String, String)> {
	let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
	Sr25519Keyring::iter()
		.map(|k| (format!("sr25519 {k:?}"), hex(&k.public().0)))
		.chain(Ed25519Keyring::iter().map(|k| (format!("ed25519 {k:?}"), hex(&k.public().0))))
		.collect()
}

#[test]
fn a_production_spec_has_no_development_key_no_sudo_and_its_own_genesis() {
	let dir = tempfile::tempdir().unwrap();
	let base = dir.path().join("base");
	let validators: Vec<Value> = (1..=3)
		.map(|i| {
			json!({
				"name": format!("val-{i}"),
				"aura": fresh_key("sr25519"),
				"grandpa": fresh_key("ed25519"),
			})
		})
		.collect();
	let treasury = fresh_key("sr25519");
	let network = json!({
		"name": "Acme Cold Chain",
		"id": "acme_cold_chain",
		"validators": validators,
		"balances": [{ "account": treasury, "prv": "1000000" }],
		"bootnodes": ["/dns/val-1.example.org/tcp/30333/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp"],
	});
	let file = dir.path().join("network.json");
	std::fs::write(&file, network.to_string()).unwrap();
	let chain = format!("production:{}", file.display());

	// Two deployments built from the same file.
	let mut specs = Vec::new();
	for n in 0..2 {
		let out = node(&["build-spec", "--chain", &chain, "--raw"], &base);
		let stderr = String::from_utf8_lossy(&out.stderr);
		assert!(out.status.success(), "{stderr}");
		assert!(stderr.contains("Drew the deployment value"), "{stderr}");
		let text = String::from_utf8(out.stdout).unwrap();
		let path = dir.path().join(format!("spec-{n}.json"));
		std::fs::write(&path, &text).unwrap();
		specs.push((path, text));
	}
	let spec: Value = serde_json::from_str(&specs[0].1).unwrap();
	assert_eq!(spec["chainType"], "Live");
	assert_eq!(spec["id"], "acme_cold_chain");
	assert_eq!(spec["bootNodes"].as_array().unwrap().len(), 1);
	let top = spec["genesis"]["raw"]["top"].as_object().unwrap();

	// No sudo key: no value under Sudo::Key.
	let sudo_key = format!(
		"0x{}{}",
		hex(&sp_crypto_hashing::twox_128(b"Sudo")),
		hex(&sp_crypto_hashing::twox_128(b"Key"))
	);
	assert!(!top.contains_key(&sudo_key), "the production genesis has a sudo key");
	// Three validators in Aura's authorities, the key of each in the genesis.
	let aura = format!(
		"0x{}{}",
		hex(&sp_crypto_hashing::twox_128(b"Aura")),
		hex(&sp_crypto_hashing::twox_128(b"Authorities"))
	);
	assert_eq!(top[&aura].as_str().unwrap().len(), 2 + 2 * (1 + 3 * 32), "three Aura keys");
	// None of the development keys anywhere, in storage keys or values.
	let raw = serde_json::to_string(top).unwrap().to_lowercase();
	for (name, key) in development_keys() {
		assert!(!raw.contains(&key), "the production genesis holds the development key {name}");
	}

	// Each deployment has its own genesis hash, the signing domain of every device statement.
	let mut genesis = Vec::new();
	for (path, _) in &specs {
		let running = Node::start(&["--chain", path.to_str().unwrap(), "--tmp"]);
		let hash = rpc(running.rpc_port, "chain_getBlockHash", json!([0]))["result"].clone();
		assert!(hash.as_str().is_some_and(|h| h.len() == 66), "{hash}");
		genesis.push(hash);
	}
	assert_ne!(genesis[0], genesis[1], "two deployments of one file share a genesis hash");

	// A node cannot start from the file itself while it names no deployment value: each start
	// would make another genesis.
	let out = node(&["--chain", &chain], &base);
	assert!(!out.status.success());
	let stderr = String::from_utf8_lossy(&out.stderr);
	assert!(stderr.contains("names no deployment value"), "{stderr}");
}

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_network_file_with_a_development_key_is_refused() {
	let dir = tempfile::tempdir().unwrap();
	let base = dir.path().join("base");
	let network = json!({
		"name": "Careless",
		"id": "careless",
		"validators": [{
			"name": "val-1",
			"aura": Sr25519Keyring::Alice.to_account_id().to_string(),
			"grandpa": fresh_key("ed25519"),
		}],
	});
	let file = dir.path().join("network.json");
	std::fs::write(&file, network.to_string()).unwrap();
	let out = node(&["build-spec", "--chain", &format!("production:{}", file.display())], &base);
	assert!(!out.status.success());
	let stderr = String::from_utf8_lossy(&out.stderr);
	assert!(stderr.contains("development key `Alice`"), "{stderr}");
}

#[test]
fn a_validator_refuses_a_development_chain_unless_told_it_is_a_test() {
	let dir = tempfile::tempdir().unwrap();
	// A validator of a chain that is not `--dev` needs a network key of its own.
	let key = "0000000000000000000000000000000000000000000000000000000000000001";
	let port = free_port().to_string();
	let out =
		node(&["--chain", "local", "--alice", "--node-key", key, "--port", &port], dir.path());
	assert!(!out.status.success());
	let stderr = String::from_utf8_lossy(&out.stderr);
	assert!(stderr.contains("--test-network"), "{stderr}");
	// Told, it validates.
	let running =
		Node::start(&["--chain", "local", "--alice", "--node-key", key, "--tmp", "--test-network"]);
	let roles = rpc(running.rpc_port, "system_nodeRoles", json!([]));
	assert_eq!(roles["result"], json!(["Authority"]), "{roles}");
}

#[test]
fn a_node_serves_only_safe_rpc_methods_by_default() {
	let port = free_port();
	let mut child = Command::new(node_binary())
		.args(["--dev", "--tmp", "--no-telemetry", "--rpc-port", &port.to_string()])
		.args(["--port", &free_port().to_string(), "--prometheus-port", &free_port().to_string()])
		.stdin(Stdio::null())
		.stdout(Stdio::null())
		.stderr(Stdio::null())
		.spawn()
		.unwrap();
	let started = Instant::now();
	let answered = loop {
		let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "system_chain", "params": [] });
		let headers = [("Content-Type", "application/json")];
		if let Ok((200, reply)) =
			http_with(port, "POST", "/", &headers, body.to_string().as_bytes())
		{
			break reply;
		}
		if started.elapsed() > Duration::from_secs(90) {
			let _ = child.kill();
			panic!("the node's RPC did not answer within 90 s");
		}
		std::thread::sleep(Duration::from_millis(200));
	};
	let unsafe_call = rpc(port, "author_rotateKeys", json!([]));
	let _ = child.kill();
	let _ = child.wait();
	assert!(answered.contains("Development"), "{answered}");
	let message = unsafe_call["error"]["message"].as_str().unwrap_or_default();
	assert!(message.contains("unsafe"), "author_rotateKeys was not refused: {unsafe_call}");
}
