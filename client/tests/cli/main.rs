//! The `provena` and `provena-bench` commands against a real `provena-node --dev`: the user
//! journeys, resuming after a node crash, the errors bad input gets, the device lifecycle, proof
//! bundles verified offline, a node that lies, and the throughput benchmark. One test binary, so the tests run side by side, each on its own
//! node.

mod bad_input;
mod bench;
mod bundle;
mod crash;
mod credits;
mod gateway;
mod journey;
mod lifecycle;
mod log;
mod lying_node;
mod privacy;

use provena_test_utils::free_port;
use serde_json::Value;
use std::{
	path::{Path, PathBuf},
	process::{Command, Output, Stdio},
	sync::OnceLock,
};

const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
const CHARLIE: &str = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";

/// The dev chain's raw chain spec, as `provena-node build-spec --chain dev --raw` prints it.
fn dev_chain_spec_json() -> &'static [u8] {
	static SPEC: OnceLock<Vec<u8>> = OnceLock::new();
	SPEC.get_or_init(|| {
		let out = Command::new(provena_test_utils::node_binary())
			.args(["build-spec", "--chain", "dev", "--raw"])
			.stderr(Stdio::null())
			.output()
			.expect("run provena-node build-spec");
		assert!(out.status.success(), "build-spec failed");
		out.stdout
	})
}

/// The dev chain's raw chain spec in `home` (written on first use): what `verify` trusts.
fn dev_chain_spec(home: &Path) -> PathBuf {
	let path = home.join("dev-chain-spec.json");
	if !path.exists() {
		std::fs::write(&path, dev_chain_spec_json()).expect("write the chain spec");
	}
	path
}

/// A command of this package's binary `exe`, pointed at `url` with its own `PROVENA_HOME`, and
/// trusting the dev chain's spec (`PROVENA_CHAIN_SPEC`).
fn command(exe: &str, url: &str, home: &Path) -> Command {
	let mut command = Command::new(exe);
	command
		.env("PROVENA_URL", url)
		.env("PROVENA_HOME", home)
		.env("PROVENA_CHAIN_SPEC", dev_chain_spec(home))
		.env_remove("PROVENA_KEY")
		.env_remove("PROVENA_SURI")
		.env_remove("PROVENA_STORE")
		.env_remove("PROVENA_PASSWORD_FILE")
		.current_dir(home)
		.stdin(Stdio::null());
	command
}

/// The `provena` binary.
fn provena(url: &str, home: &Path) -> Command {
	command(env!("CARGO_BIN_EXE_provena"), url, home)
}

/// The `provena-bench` binary.
fn provena_bench(url: &str, home: &Path) -> Command {
	command(env!("CARGO_BIN_EXE_provena-bench"), url, home)
}

/// Runs a command, failing the test with its output unless it succeeds.
fn ok(command: &mut Command) -> String {
	let out = command.output().expect("run provena");
	assert!(
		out.status.success(),
		"{command:?} failed ({}):\n{}\n{}",
		out.status,
		text(&out.stdout),
		text(&out.stderr)
	);
	text(&out.stdout)
}

/// Runs a command that must fail; returns its exit code and stderr (+ stdout).
fn fails(command: &mut Command) -> (i32, String) {
	let out: Output = command.output().expect("run provena");
	assert!(!out.status.success(), "{command:?} should have failed:\n{}", text(&out.stdout));
	(out.status.code().unwrap_or(-1), format!("{}{}", text(&out.stderr), text(&out.stdout)))
}

/// Runs a `--json` command and parses its last line.
fn json(command: &mut Command) -> Value {
	let out = ok(command.arg("--json"));
	let last = out.lines().last().unwrap_or_default();
	serde_json::from_str(last).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn text(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

/// A device key file in `dir`; returns (path, device id).
fn device_key(url: &str, dir: &Path, name: &str) -> (String, String) {
	let path = dir.join(name);
	ok(provena(url, dir).args(["key", "generate", "--scheme", "ed25519", "--out"]).arg(&path));
	let inspected = json(provena(url, dir).args(["key", "inspect"]).arg(&path));
	(path.display().to_string(), inspected["device_id"].as_str().unwrap().to_string())
}

/// A device key file in `dir`, registered on the chain with Alice as owner; returns (path,
/// device id).
fn alices_device(url: &str, dir: &Path, name: &str) -> (String, String) {
	let (key, device) = device_key(url, dir, name);
	ok(provena(url, dir).args(["device", "register", "--suri", "//Alice", "--device-key", &key]));
	(key, device)
}

/// Alice (the owner) submits `device`'s readings signed with `key`, with `args` (`--file …` or
/// `--value …`); returns the command's output.
fn alice_submits(url: &str, home: &Path, device: &str, key: &str, args: &[&str]) -> String {
	let mut command = provena(url, home);
	command.args(["submit", "--device", device, "--device-key", key, "--suri", "//Alice"]);
	ok(command.args(args))
}

/// JSON Lines readings with sequence numbers `seqs` and temperature `temp(seq)`.
fn readings(path: &Path, seqs: impl Iterator<Item = u64>, temp: impl Fn(u64) -> f64) {
	let lines: Vec<String> = seqs
		.map(|seq| {
			serde_json::json!({
				"seq": seq,
				"timestamp_ms": 1_700_000_000_000u64 + seq * 1_000,
				"values": { "temperature": temp(seq), "humidity": 61.5 },
			})
			.to_string()
		})
		.collect();
	std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// The `first_seq` of each anchor in `provena --json history` output, in order.
fn first_seqs(history: &serde_json::Value) -> Vec<u64> {
	let anchors = history["anchors"].as_array().expect("history lists anchors");
	anchors.iter().map(|a| a["first_seq"].as_u64().expect("a first_seq")).collect()
}
