//! A submit interrupted by a node crash resumes without gaps or duplicates: run again, or on its
//! own when the node comes back while it waits.

use super::*;
use provena_test_utils::Node;
use std::time::{Duration, Instant};

#[test]
fn a_submit_interrupted_by_a_node_crash_resumes_without_gaps_or_duplicates() {
	let home = tempfile::tempdir().unwrap();
	let base = home.path().join("chain");
	let node = Node::dev_at(&base);
	let (key, device) = alices_device(&node.url(), home.path(), "meter.key");

	// 120 readings, 4 per anchor, one anchor per transaction, two in flight: many blocks' work.
	let file = home.path().join("meter.jsonl");
	readings(&file, 0..120, |seq| 20.0 + seq as f64 / 100.0);
	let submit = |url: &str| {
		let mut c = provena(url, home.path());
		c.args(["submit", "--suri", "//Alice", "--device", &device, "--device-key", &key]).args([
			"--file",
			file.to_str().unwrap(),
			"--batch-size",
			"4",
			"--anchors-per-tx",
			"1",
			"--max-in-flight",
			"2",
		]);
		c
	};
	let spawn = |command: &mut std::process::Command| {
		command
			.stdout(std::process::Stdio::piped())
			.stderr(std::process::Stdio::piped())
			.spawn()
			.unwrap()
	};
	let store = home.path().to_path_buf();
	// Waits until `more` anchors beyond `from` are final, and some are not yet.
	let until_final = |node: &Node, from: i64, more: i64| {
		let started = Instant::now();
		loop {
			let finalized = count_finalized(&store);
			if finalized >= from + more {
				assert!(finalized < 30, "the submit finished before the node could be killed");
				return finalized;
			}
			assert!(
				started.elapsed() < Duration::from_secs(180),
				"nothing was finalized:\n{}",
				node.log_tail(30)
			);
			std::thread::sleep(Duration::from_millis(200));
		}
	};

	// A submit told not to wait gives up when the node dies, saying how to go on.
	let running = spawn(submit(&node.url()).args(["--reconnect-for", "0"]));
	let first = until_final(&node, 0, 2);
	node.kill();
	let output = running.wait_with_output().unwrap();
	assert!(!output.status.success(), "submit should fail when the node dies");
	let err = String::from_utf8_lossy(&output.stderr);
	assert!(err.contains("cannot reach the node") && err.contains("again"), "{err}");

	// Restart on the same base path and port; the same command carries on. This time the node
	// dies again under it and comes back while it waits: it reaches it again and finishes.
	let port = provena_test_utils::free_port();
	let node = Node::dev_at_port(&base, port);
	let running = spawn(submit(&node.url()).arg("--json"));
	until_final(&node, first, 2);
	node.kill();
	std::thread::sleep(Duration::from_secs(2));
	let node = Node::dev_at_port(&base, port);
	let output = running.wait_with_output().unwrap();
	let err = String::from_utf8_lossy(&output.stderr);
	assert!(output.status.success(), "the submit did not ride out the restart:\n{err}");
	assert!(err.contains("lost the node") && err.contains("reached"), "{err}");
	let out = String::from_utf8_lossy(&output.stdout);
	let done: serde_json::Value = serde_json::from_str(out.lines().last().unwrap_or_default())
		.unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
	assert_eq!(done["stored"], 0, "{done}");
	assert_eq!(done["rejected"], 0, "{done}");
	let this_run = done["anchored"].as_u64().unwrap() + done["already_anchored"].as_u64().unwrap();
	assert_eq!(this_run, 30 - first as u64, "{done}");

	// The chain holds each of the 120 readings exactly once, in 30 anchors, with no gap.
	let state =
		json(provena(&node.url(), home.path()).args(["device", "show", "--device", &device]));
	assert_eq!(state["readings"], 120, "{state}");
	assert_eq!(state["anchors"], 30, "{state}");
	assert_eq!(state["missing"], 0, "{state}");
	assert_eq!(state["next_seq"], 120, "{state}");
	for seq in [0u64, 1, 57, 119] {
		let verified = json(provena(&node.url(), home.path()).args([
			"verify",
			"--device",
			&device,
			"--seq",
			&seq.to_string(),
		]));
		assert_eq!(verified["verified"], true, "{verified}");
	}
	// The restarted node still serves the whole log from its offchain storage.
	let history = json(provena(&node.url(), home.path()).args(["history", "--device", &device]));
	assert_eq!(first_seqs(&history), (0..30).map(|k| k * 4).collect::<Vec<u64>>(), "{history}");
	let status = json(provena(&node.url(), home.path()).args(["status"]));
	assert_eq!(status["finalized"], 30, "{status}");
	assert_eq!(status["pending"], 0);
}

/// Finalized anchors in the store under `home` (any `.db` file in it).
fn count_finalized(home: &Path) -> i64 {
	let Some(db) = std::fs::read_dir(home)
		.ok()
		.into_iter()
		.flatten()
		.filter_map(Result::ok)
		.map(|e| e.path())
		.find(|p| p.extension().is_some_and(|x| x == "db"))
	else {
		return 0;
	};
	rusqlite::Connection::open(db)
		.and_then(|c| {
			c.query_row("SELECT COUNT(*) FROM anchors WHERE status = 'finalized'", [], |r| r.get(0))
		})
		.unwrap_or(0)
}
