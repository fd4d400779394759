//! # Provena test utilities
//!
//! The one harness the node's and the client's integration tests start the real `provena-node`
//! with (the Polkadot.js checks have a JavaScript starter with the same rules,
//! `polkadotjs/lib/node.mjs`):
//!
//! - every port is a free one the OS hands out, so tests run side by side;
//! - the node is ready when its own log says its JSON-RPC server is running;
//! - its log goes to a file; a test that fails while the node runs prints the log's tail;
//! - the node is killed when the [`Node`] is dropped, pass or fail.

use serde_json::{json, Value};
use std::{
	io::{Read, Write},
	net::{TcpListener, TcpStream},
	path::{Path, PathBuf},
	process::{Child, Command, ExitStatus, Stdio},
	time::{Duration, Instant},
};

/// What the node logs once its JSON-RPC server accepts connections.
pub const READY_LINE: &str = "Running JSON-RPC server";

/// How long a node may take to open its RPC server.
const READY_WITHIN: Duration = Duration::from_secs(90);

/// The node binary: `PROVENA_NODE`, else the `provena-node` cargo built next to the running
/// test (tests run from `<target>/<profile>/deps/`).
pub fn node_binary() -> PathBuf {
	if let Some(path) = std::env::var_os("PROVENA_NODE") {
		return PathBuf::from(path);
	}
	let exe = std::env::current_exe().expect("the test binary's path");
	let profile = exe.parent().and_then(Path::parent).expect("<target>/<profile>");
	let path = profile.join("provena-node");
	assert!(
		path.exists(),
		"{} is missing: build the node first (`cargo build --release -p provena-node`) or set \
		 PROVENA_NODE",
		path.display()
	);
	path
}

/// A path in this checkout, relative to the crate under test. `cargo test` sets
/// `CARGO_MANIFEST_DIR` when it runs a test too; read then, not at compile time, it names this
/// checkout even when the test binary was built from another one that shares the target
/// directory (CI's clone and a developer's tree do).
pub fn in_checkout(relative: &str) -> PathBuf {
	let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("run through cargo test");
	Path::new(&manifest).join(relative)
}

/// A TCP port nobody listens on right now (the OS picks it).
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0")
		.and_then(|listener| listener.local_addr())
		.map(|addr| addr.port())
		.expect("the OS hands out a free port")
}

/// A running `provena-node`; killed when dropped, so a failing test leaves nothing behind.
pub struct Node {
	child: Child,
	/// The RPC port (HTTP and WebSocket) on 127.0.0.1.
	pub rpc_port: u16,
	log: PathBuf,
	/// Holds the log file's folder for as long as the node lives.
	_log_dir: tempfile::TempDir,
}

impl Node {
	/// Starts `provena-node` with `args` on free RPC, P2P and Prometheus ports, serving only
	/// the safe RPC methods on loopback, and waits until
	/// it is ready (its log says the RPC server runs). Panics with the log's tail if it exits
	/// or is not ready within 90 s.
	pub fn start(args: &[&str]) -> Node {
		Node::start_on(args, free_port())
	}

	/// [`Node::start`] with the RPC server on `rpc_port`: a node restarted where its clients
	/// expect it.
	pub fn start_on(args: &[&str], rpc_port: u16) -> Node {
		let log_dir = tempfile::Builder::new()
			.prefix("provena-node-log")
			.tempdir()
			.expect("a folder for the node's log");
		let log = log_dir.path().join(format!("node-{rpc_port}.log"));
		let log_file = std::fs::File::create(&log).expect("a log file");
		let child = Command::new(node_binary())
			.args(args)
			.args(["--rpc-port", &rpc_port.to_string()])
			// What a public RPC node serves: the client and the tests need no more.
			.args(["--rpc-methods", "safe"])
			.args(["--port", &free_port().to_string()])
			.args(["--prometheus-port", &free_port().to_string()])
			.arg("--no-telemetry")
			.stdin(Stdio::null())
			.stdout(Stdio::null())
			.stderr(log_file)
			.spawn()
			.unwrap_or_else(|e| panic!("cannot start {}: {e}", node_binary().display()));
		let mut node = Node { child, rpc_port, log, _log_dir: log_dir };
		node.wait_ready();
		node
	}

	/// Starts a development node (`--dev`) on a temporary chain, indexing devices' logs
	/// (`--enable-offchain-indexing true`) as every node the project starts does.
	pub fn dev() -> Node {
		Node::start(&["--dev", "--tmp", "--enable-offchain-indexing", "true"])
	}

	/// Starts a development node keeping its chain in `base`, so it survives a restart.
	pub fn dev_at(base: &Path) -> Node {
		Node::dev_at_port(base, free_port())
	}

	/// [`Node::dev_at`] with the RPC server on `rpc_port`.
	pub fn dev_at_port(base: &Path, rpc_port: u16) -> Node {
		let base = base.to_str().expect("a UTF-8 base path");
		Node::start_on(
			&["--dev", "--base-path", base, "--enable-offchain-indexing", "true"],
			rpc_port,
		)
	}

	/// The node's process id.
	pub fn pid(&self) -> u32 {
		self.child.id()
	}

	/// The node's WebSocket URL.
	pub fn url(&self) -> String {
		format!("ws://127.0.0.1:{}", self.rpc_port)
	}

	/// The last `n` lines the node logged.
	pub fn log_tail(&self, n: usize) -> String {
		let text = std::fs::read_to_string(&self.log).unwrap_or_default();
		let lines: Vec<&str> = text.lines().collect();
		lines[lines.len().saturating_sub(n)..].join("\n")
	}

	fn wait_ready(&mut self) {
		let start = Instant::now();
		while start.elapsed() < READY_WITHIN {
			if let Ok(Some(status)) = self.child.try_wait() {
				panic!("the node exited ({status}):\n{}", self.log_tail(30));
			}
			let log = std::fs::read_to_string(&self.log).unwrap_or_default();
			if log.contains(READY_LINE) {
				return;
			}
			std::thread::sleep(Duration::from_millis(250));
		}
		panic!(
			"the node did not open its RPC port within {READY_WITHIN:?}:\n{}",
			self.log_tail(30)
		);
	}

	/// Calls an RPC method over HTTP; `Err` while the node does not answer or returns an error.
	pub fn rpc(&self, method: &str, params: Value) -> Result<Value, String> {
		rpc_call(self.rpc_port, method, params)
	}

	/// Polls `check` until it returns `Some`, failing the test with the node's log after
	/// `timeout` or when the node exits.
	pub fn wait_for<T>(
		&mut self,
		what: &str,
		timeout: Duration,
		mut check: impl FnMut(&Node) -> Option<T>,
	) -> T {
		let start = Instant::now();
		loop {
			if let Some(value) = check(self) {
				return value;
			}
			if let Ok(Some(status)) = self.child.try_wait() {
				panic!(
					"the node exited ({status}) while waiting for {what}:\n{}",
					self.log_tail(40)
				);
			}
			if start.elapsed() > timeout {
				panic!("no {what} after {timeout:?}; node log:\n{}", self.log_tail(40));
			}
			std::thread::sleep(Duration::from_millis(250));
		}
	}

	/// The number of the latest finalized block, if the node answers.
	pub fn finalized_number(&self) -> Option<u64> {
		let hash = self.rpc("chain_getFinalizedHead", json!([])).ok()?;
		let header = self.rpc("chain_getHeader", json!([hash])).ok()?;
		parse_hex_u64(header.get("number")?.as_str()?)
	}

	/// Stops the node the way an operator does (SIGTERM) and returns its exit status.
	pub fn stop(mut self, timeout: Duration) -> ExitStatus {
		let pid = self.child.id().to_string();
		let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
		assert!(sent.success(), "kill -TERM {pid} failed");
		let start = Instant::now();
		loop {
			if let Some(status) = self.child.try_wait().expect("wait for the node") {
				return status;
			}
			if start.elapsed() > timeout {
				panic!(
					"the node did not stop within {timeout:?} of SIGTERM:\n{}",
					self.log_tail(20)
				);
			}
			std::thread::sleep(Duration::from_millis(100));
		}
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
		if std::thread::panicking() {
			eprintln!("--- the last lines provena-node logged ---\n{}", self.log_tail(40));
		}
	}
}

/// A `0x…` hex quantity as a number.
pub fn parse_hex_u64(hex: &str) -> Option<u64> {
	u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok()
}

/// One JSON-RPC call over HTTP/1.1 to 127.0.0.1:`port`: the `result`, or the error as text.
pub fn rpc_call(port: u16, method: &str, params: Value) -> Result<Value, String> {
	let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
	let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
	stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
	let request = format!(
		"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
		 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	);
	stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
	let mut response = String::new();
	stream.read_to_string(&mut response).map_err(|e| e.to_string())?;
	// The body is one JSON object; taking it from the first `{` to the last `}` also skips the
	// size lines of a chunked response.
	let (start, end) = (response.find('{'), response.rfind('}'));
	let (Some(start), Some(end)) = (start, end) else {
		return Err(format!("no JSON in the response to {method}: {response:?}"));
	};
	let reply: Value = serde_json::from_str(&response[start..=end]).map_err(|e| e.to_string())?;
	match reply.get("result") {
		Some(result) => Ok(result.clone()),
		None => Err(format!("{method} failed: {}", reply.get("error").unwrap_or(&reply))),
	}
}

/// One HTTP/1.1 request to 127.0.0.1:`port`: (status code, body). For the gateway's HTTP
/// server in tests; no chunked bodies (the gateway sends lengths).
pub fn http(port: u16, method: &str, path: &str, body: &[u8]) -> Result<(u16, String), String> {
	http_with(port, method, path, &[], body)
}

/// [`http`] with extra request `headers` (name, value); a `Host` among them replaces
/// `127.0.0.1:<port>`.
pub fn http_with(
	port: u16,
	method: &str,
	path: &str,
	headers: &[(&str, &str)],
	body: &[u8],
) -> Result<(u16, String), String> {
	let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
	stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| e.to_string())?;
	let extra: String =
		headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
	// A `Host` among `headers` replaces the address's own.
	let host = match headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
		true => String::new(),
		false => format!("Host: 127.0.0.1:{port}\r\n"),
	};
	let head = format!(
		"{method} {path} HTTP/1.1\r\n{host}Content-Length: {}\r\n{extra}Connection: \
		 close\r\n\r\n",
		body.len()
	);
	stream.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
	stream.write_all(body).map_err(|e| e.to_string())?;
	let mut response = String::new();
	stream.read_to_string(&mut response).map_err(|e| e.to_string())?;
	let status = response
		.split(' ')
		.nth(1)
		.and_then(|code| code.parse().ok())
		.ok_or_else(|| format!("not an HTTP response: {response:?}"))?;
	let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
	Ok((status, body))
}

/// The Mosquitto broker: `PROVENA_MOSQUITTO`, else `mosquitto` on the PATH or in /usr/sbin
/// (Debian's package `mosquitto`; `scripts/test.sh` installs it).
pub fn mosquitto_binary() -> PathBuf {
	if let Some(path) = std::env::var_os("PROVENA_MOSQUITTO") {
		return PathBuf::from(path);
	}
	let on_path: Vec<PathBuf> = std::env::var_os("PATH")
		.map(|paths| std::env::split_paths(&paths).map(|dir| dir.join("mosquitto")).collect())
		.unwrap_or_default();
	on_path
		.into_iter()
		.chain([PathBuf::from("/usr/sbin/mosquitto")])
		.find(|path| path.exists())
		.expect("mosquitto is missing: install Debian's package `mosquitto` (scripts/test.sh does)")
}

/// A running Mosquitto broker on a free port of 127.0.0.1, anonymous, keeping sessions and
/// their queued QoS 1 messages in memory; killed when dropped.
pub struct Broker {
	child: Child,
	/// The port it listens on.
	pub port: u16,
	log: PathBuf,
	_dir: tempfile::TempDir,
}

impl Broker {
	/// Starts the broker and waits until it accepts connections (20 s at most).
	pub fn start() -> Broker {
		let dir = tempfile::Builder::new().prefix("provena-mqtt").tempdir().expect("a folder");
		let port = free_port();
		let config = dir.path().join("mosquitto.conf");
		let log = dir.path().join("mosquitto.log");
		// Enough room for a gateway that is away for a while: every QoS 1 message for its
		// session is kept until it comes back.
		std::fs::write(
			&config,
			format!(
				"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
				 max_queued_messages 1000000\nmax_inflight_messages 1000\n\
				 log_dest file {}\n",
				log.display()
			),
		)
		.expect("write the broker's config");
		let child = Command::new(mosquitto_binary())
			.arg("-c")
			.arg(&config)
			.stdin(Stdio::null())
			.stdout(Stdio::null())
			.stderr(Stdio::null())
			.spawn()
			.unwrap_or_else(|e| panic!("cannot start {}: {e}", mosquitto_binary().display()));
		let mut broker = Broker { child, port, log, _dir: dir };
		let started = Instant::now();
		while TcpStream::connect(("127.0.0.1", port)).is_err() {
			if let Ok(Some(status)) = broker.child.try_wait() {
				panic!("mosquitto exited ({status}):\n{}", broker.log_tail(20));
			}
			assert!(started.elapsed() < Duration::from_secs(20), "mosquitto did not start");
			std::thread::sleep(Duration::from_millis(50));
		}
		broker
	}

	/// The last `n` lines the broker logged.
	pub fn log_tail(&self, n: usize) -> String {
		let text = std::fs::read_to_string(&self.log).unwrap_or_default();
		let lines: Vec<&str> = text.lines().collect();
		lines[lines.len().saturating_sub(n)..].join("\n")
	}
}

impl Drop for Broker {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
		if std::thread::panicking() {
			eprintln!("--- the last lines mosquitto logged ---\n{}", self.log_tail(20));
		}
	}
}
