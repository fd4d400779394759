//! A real `provena-node --dev` for the client's tests, and the `provena` binary to drive it.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use serde_json::Value;
use std::{
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Child, Command, Output, Stdio},
	time::{Duration, Instant},
};

/// The node binary: `PROVENA_NODE`, else the one cargo built next to these tests.
pub fn node_binary() -> PathBuf {
	if let Some(path) = std::env::var_os("PROVENA_NODE") {
		return PathBuf::from(path);
	}
	// Tests run from <target>/<profile>/deps/; the node binary sits in <target>/<profile>/.
	let exe = std::env::current_exe().expect("the test binary's path");
	let path =
		exe.parent().and_then(Path::parent).expect("<target>/<profile>").join("provena-node");
	assert!(
		path.exists(),
		"{} is missing: build the node first (`cargo build --release -p provena-node`) or set PROVENA_NODE",
		path.display()
	);
	path
}

/// A TCP port nobody listens on right now.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0")
		.and_then(|l| l.local_addr())
		.map(|a| a.port())
		.expect("a free port")
}

/// A running dev node; killed when dropped.
pub struct Node {
	child: Child,
	/// Its RPC port.
	pub rpc_port: u16,
	log: PathBuf,
}

impl Node {
	/// Starts `provena-node --dev` on `base` (a directory kept across restarts), or `--tmp`.
	pub fn start(base: Option<&Path>, log_dir: &Path) -> Node {
		let rpc_port = free_port();
		let log = log_dir.join(format!("node-{rpc_port}.log"));
		let mut command = Command::new(node_binary());
		command.arg("--dev");
		match base {
			Some(base) => command.arg("--base-path").arg(base),
			None => command.arg("--tmp"),
		};
		let child = command
			.args(["--rpc-port", &rpc_port.to_string()])
			.args(["--port", &free_port().to_string()])
			.args(["--prometheus-port", &free_port().to_string()])
			.arg("--no-telemetry")
			.stdin(Stdio::null())
			.stdout(Stdio::null())
			.stderr(std::fs::File::create(&log).expect("a log file"))
			.spawn()
			.expect("start provena-node");
		let mut node = Node { child, rpc_port, log };
		node.wait_ready();
		node
	}

	/// The node's process id.
	pub fn pid(&self) -> u32 {
		self.child.id()
	}

	/// The node's WebSocket URL.
	pub fn url(&self) -> String {
		format!("ws://127.0.0.1:{}", self.rpc_port)
	}

	/// The end of the node's log.
	pub fn log_tail(&self) -> String {
		let text = std::fs::read_to_string(&self.log).unwrap_or_default();
		let lines: Vec<&str> = text.lines().collect();
		lines[lines.len().saturating_sub(30)..].join("\n")
	}

	fn wait_ready(&mut self) {
		let start = Instant::now();
		// Ready when its RPC server listens.
		while start.elapsed() < Duration::from_secs(90) {
			if let Ok(Some(status)) = self.child.try_wait() {
				panic!("the node exited ({status}):\n{}", self.log_tail());
			}
			let log = std::fs::read_to_string(&self.log).unwrap_or_default();
			if log.contains("Running JSON-RPC server") {
				return;
			}
			std::thread::sleep(Duration::from_millis(250));
		}
		panic!("the node did not open its RPC port within 90 s:\n{}", self.log_tail());
	}

	/// Kills the node at once (SIGKILL), as a crash would.
	pub fn kill(mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		if let Ok(None) = self.child.try_wait() {
			let _ = self.child.kill();
			let _ = self.child.wait();
		}
	}
}

/// The `provena` binary, pointed at `url` with its own `PROVENA_HOME`.
pub fn provena(url: &str, home: &Path) -> Command {
	let mut command = Command::new(env!("CARGO_BIN_EXE_provena"));
	command
		.env("PROVENA_URL", url)
		.env("PROVENA_HOME", home)
		.env_remove("PROVENA_KEY")
		.env_remove("PROVENA_SURI")
		.env_remove("PROVENA_STORE")
		.current_dir(home)
		.stdin(Stdio::null());
	command
}

/// Runs a command, failing the test with its output unless it succeeds.
pub fn ok(command: &mut Command) -> String {
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
pub fn fails(command: &mut Command) -> (i32, String) {
	let out: Output = command.output().expect("run provena");
	assert!(!out.status.success(), "{command:?} should have failed:\n{}", text(&out.stdout));
	(out.status.code().unwrap_or(-1), format!("{}{}", text(&out.stderr), text(&out.stdout)))
}

/// Runs a `--json` command and parses its last line.
pub fn json(command: &mut Command) -> Value {
	let out = ok(command.arg("--json"));
	let last = out.lines().last().unwrap_or_default();
	serde_json::from_str(last).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn text(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}
