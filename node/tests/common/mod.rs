//! Helpers for tests that run the real `provena-node` binary: free ports, a node process that is
//! always stopped, and a minimal JSON-RPC client over HTTP.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::{
	io::{BufRead, BufReader, Read, Write},
	net::{TcpListener, TcpStream},
	process::{Child, Command, ExitStatus, Stdio},
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

/// The node binary cargo built for these tests.
pub const NODE: &str = env!("CARGO_BIN_EXE_provena-node");

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
	/// Everything the node logged so far, for failure messages.
	log: Arc<Mutex<Vec<String>>>,
}

impl Node {
	/// Starts `provena-node` with `args`, on free RPC, P2P and Prometheus ports.
	pub fn start(args: &[&str]) -> Node {
		let rpc_port = free_port();
		let (p2p_port, prometheus_port) = (free_port(), free_port());
		let mut child = Command::new(NODE)
			.args(args)
			.args(["--rpc-port", &rpc_port.to_string()])
			.args(["--port", &p2p_port.to_string()])
			.args(["--prometheus-port", &prometheus_port.to_string()])
			.arg("--no-telemetry")
			.stdin(Stdio::null())
			.stdout(Stdio::null())
			.stderr(Stdio::piped())
			.spawn()
			.unwrap_or_else(|e| panic!("cannot start {NODE}: {e}"));

		let log = Arc::new(Mutex::new(Vec::new()));
		let stderr = child.stderr.take().expect("stderr is piped");
		let sink = log.clone();
		std::thread::spawn(move || {
			for line in BufReader::new(stderr).lines().map_while(Result::ok) {
				sink.lock().expect("log lock").push(line);
			}
		});
		Node { child, rpc_port, log }
	}

	/// The last `n` lines the node logged.
	pub fn log_tail(&self, n: usize) -> String {
		let log = self.log.lock().expect("log lock");
		log[log.len().saturating_sub(n)..].join("\n")
	}

	/// Calls an RPC method; `Err` while the node is not (yet) answering or returns an error.
	pub fn rpc(&self, method: &str, params: Value) -> Result<Value, String> {
		rpc_call(self.rpc_port, method, params)
	}

	/// Polls `check` until it returns `Some`, failing the test with the node's log after `timeout`.
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
}

impl Drop for Node {
	fn drop(&mut self) {
		if let Ok(None) = self.child.try_wait() {
			let _ = self.child.kill();
			let _ = self.child.wait();
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
