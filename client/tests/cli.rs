//! The `provena` command against a real `provena-node --dev`: the user journeys, resuming after
//! a node crash, and the errors bad input gets.

mod common;

use common::{fails, json, ok, provena, Node};
use std::{
	path::Path,
	time::{Duration, Instant},
};

const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
const CHARLIE: &str = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";

/// A device key file in `dir`; returns (path, device id).
fn device_key(url: &str, dir: &Path, name: &str) -> (String, String) {
	let path = dir.join(name);
	ok(provena(url, dir).args(["key", "generate", "--scheme", "ed25519", "--out"]).arg(&path));
	let inspected = json(provena(url, dir).args(["key", "inspect"]).arg(&path));
	(path.display().to_string(), inspected["device_id"].as_str().unwrap().to_string())
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

#[test]
fn owner_gateway_and_reader_journey() {
	let owner_home = tempfile::tempdir().unwrap();
	let bob_home = tempfile::tempdir().unwrap();
	let node = Node::start(None, owner_home.path());
	let url = node.url();
	let alice = |args: &[&str]| {
		let mut c = provena(&url, owner_home.path());
		c.args(args).args(["--suri", "//Alice"]);
		c
	};
	let bob = |args: &[&str]| {
		let mut c = provena(&url, bob_home.path());
		c.args(args).args(["--suri", "//Bob"]);
		c
	};

	// The owner registers a cold-chain thermometer and sets its alert rule.
	let (key, device) = device_key(&url, owner_home.path(), "thermo.key");
	let bob_submits = |args: &[&str]| {
		let mut c = bob(&["submit", "--device", &device, "--device-key", &key]);
		c.args(args);
		c
	};
	let registered =
		json(&mut alice(&["device", "register", "--device-key", &key, "--kind", "thermometer"]));
	assert_eq!(registered["device"], device.as_str());
	let shown = json(provena(&url, owner_home.path()).args(["device", "show", &device]));
	assert_eq!(shown["status"], "Active");
	assert_eq!(shown["kind"], "thermometer");
	ok(&mut alice(&[
		"rule",
		"set",
		"--device",
		&device,
		"--metric",
		"temperature",
		"--min",
		"2",
		"--max",
		"8",
	]));
	let rules = json(provena(&url, owner_home.path()).args(["rule", "list", "--device", &device]));
	assert_eq!(rules["rules"][0]["max"], 8_000);

	// Bob, a gateway, may not submit before he holds a grant.
	let (_, err) = fails(&mut bob_submits(&["--value", "temperature=4"]));
	assert!(err.contains("may not submit") && err.contains("grant add"), "{err}");

	// Bob publishes his encryption key; Alice grants him SUBMIT and READ.
	ok(&mut bob(&["encryption-key", "publish"]));
	ok(&mut alice(&["grant", "add", "--device", &device, "--to", BOB, "--submit", "--read"]));
	let grants =
		json(provena(&url, owner_home.path()).args(["grant", "list", "--device", &device]));
	assert_eq!(grants["grants"][0]["permissions"], "SUBMIT|READ");
	assert_eq!(grants["grants"][0]["sealed_key"], true);

	// A single reading through the gateway, encrypted with the key Bob's grant holds.
	let single = json(&mut bob(&[
		"submit",
		"--device",
		&device,
		"--device-key",
		&key,
		"--value",
		"temperature=4.2",
		"--encrypt",
	]));
	assert_eq!(single["anchored"], 1);
	assert_eq!(single["readings_anchored"], 1);

	// A file with a gap (1..=4 never sent) and one reading out of bounds, as Merkle batches.
	let file = owner_home.path().join("readings.jsonl");
	readings(&file, 5..45, |seq| if seq == 18 { 9.5 } else { 4.0 });
	let batch = json(&mut bob(&[
		"submit",
		"--device",
		&device,
		"--device-key",
		&key,
		"--file",
		file.to_str().unwrap(),
		"--batch-size",
		"8",
		"--anchors-per-tx",
		"2",
		"--encrypt",
	]));
	assert_eq!(batch["anchored"], 5, "{batch}");
	assert_eq!(batch["readings_anchored"], 40);
	let events = batch["events"].as_array().unwrap();
	assert!(
		events.iter().any(|e| e["event"] == "sequence_gap" && e["from"] == 1 && e["to"] == 4),
		"{batch}"
	);
	assert!(
		events
			.iter()
			.any(|e| e["event"] == "alert_raised" && e["seq"] == 18 && e["value"] == 9_500),
		"{batch}"
	);

	// The same file again stores and sends nothing.
	let again = json(&mut bob(&[
		"submit",
		"--device",
		&device,
		"--device-key",
		&key,
		"--file",
		file.to_str().unwrap(),
		"--encrypt",
	]));
	assert_eq!(again["stored"], 0);
	assert_eq!(again["skipped"], 40);
	assert_eq!(again["transactions"], 0);

	// Verify a reading from the store and from a receipt; a tampered receipt fails.
	let verified =
		json(provena(&url, bob_home.path()).args(["verify", "--device", &device, "--seq", "20"]));
	assert_eq!(verified["verified"], true);
	assert_eq!(verified["first_seq"], 13);
	let receipt =
		ok(provena(&url, bob_home.path()).args(["proof", "--device", &device, "--seq", "20"]));
	let good = owner_home.path().join("good.json");
	std::fs::write(&good, &receipt).unwrap();
	let audited = json(provena(&url, owner_home.path()).args([
		"verify",
		"--receipt",
		good.to_str().unwrap(),
	]));
	assert_eq!(audited["verified"], true);
	let tampered = owner_home.path().join("tampered.json");
	std::fs::write(&tampered, receipt.replace("\"temperature\":4.0", "\"temperature\":3.0"))
		.unwrap();
	assert_ne!(std::fs::read_to_string(&tampered).unwrap(), receipt, "the receipt changed");
	let (code, out) = fails(provena(&url, owner_home.path()).args([
		"verify",
		"--receipt",
		tampered.to_str().unwrap(),
	]));
	assert_eq!(code, 2);
	assert!(out.contains("ProofMismatch"), "{out}");

	// History shows the anchors in order.
	let history = json(provena(&url, owner_home.path()).args(["history", "--device", &device]));
	let firsts = first_seqs(&history);
	assert_eq!(firsts, vec![0, 5, 13, 21, 29, 37]);
	// Over a sequence range, and over device time (reading 20 is at +20 s).
	let ranged = json(provena(&url, owner_home.path()).args([
		"history",
		"--device",
		&device,
		"--from-seq",
		"15",
		"--to-seq",
		"22",
	]));
	let firsts = first_seqs(&ranged);
	assert_eq!(firsts, vec![13, 21]);
	let timed = json(provena(&url, owner_home.path()).args([
		"history",
		"--device",
		&device,
		"--since-ms",
		"1700000020000",
		"--until-ms",
		"1700000020000",
	]));
	let firsts = first_seqs(&timed);
	assert_eq!(firsts, vec![13]);

	// A reader with a fresh store decrypts with the key sealed in his grant.
	let reader_home = tempfile::tempdir().unwrap();
	let opened = json(
		provena(&url, reader_home.path())
			.args(["decrypt", "--device", &device, "--seq", "18", "--suri", "//Bob"]),
	);
	let rows = opened["readings"].as_array().unwrap();
	assert_eq!(rows.len(), 8);
	assert_eq!(rows[5]["seq"], 18);
	assert_eq!(rows[5]["values"]["temperature"], 9.5);
	// Charlie holds no grant: nothing to open with.
	let (_, err) = fails(provena(&url, reader_home.path()).args([
		"decrypt",
		"--device",
		&device,
		"--seq",
		"18",
		"--suri",
		"//Charlie",
	]));
	assert!(err.contains("no READ grant"), "{err}");

	// Charlie becomes a reader too. Revoking Bob rotates the device's data key and re-seals
	// the new one for Charlie only.
	let charlie = |args: &[&str]| {
		let mut c = provena(&url, reader_home.path());
		c.args(args).args(["--suri", "//Charlie"]);
		c
	};
	ok(&mut charlie(&["encryption-key", "publish"]));
	ok(&mut alice(&["grant", "add", "--device", &device, "--to", CHARLIE, "--read"]));
	let revoked = json(&mut alice(&["revoke", "--device", &device, "--to", BOB]));
	assert_eq!(revoked["rotated_for"], 1, "{revoked}");
	let (_, err) = fails(&mut bob_submits(&["--value", "temperature=4"]));
	assert!(err.contains("may not submit"), "{err}");

	// The owner's next payload uses the new key: Charlie opens it, Bob cannot, and Charlie's
	// new key does not open the payloads from before the rotation.
	let after = json(&mut alice(&[
		"submit",
		"--device",
		&device,
		"--device-key",
		&key,
		"--value",
		"temperature=5.5",
		"--encrypt",
	]));
	assert_eq!(after["anchored"], 1, "{after}");
	let opened = json(&mut charlie(&["decrypt", "--device", &device, "--seq", "45"]));
	assert_eq!(opened["readings"][0]["values"]["temperature"], 5.5);
	let (_, err) = fails(&mut charlie(&["decrypt", "--device", &device, "--seq", "18"]));
	assert!(err.contains("rotated"), "{err}");
	let fresh = tempfile::tempdir().unwrap();
	let (_, err) = fails(
		provena(&url, fresh.path())
			.args(["decrypt", "--device", &device, "--seq", "45", "--suri", "//Bob"]),
	);
	assert!(err.contains("no READ grant"), "{err}");
	drop(node);
}

#[test]
fn a_submit_interrupted_by_a_node_crash_resumes_without_gaps_or_duplicates() {
	let home = tempfile::tempdir().unwrap();
	let base = home.path().join("chain");
	let node = Node::start(Some(&base), home.path());
	let (key, device) = device_key(&node.url(), home.path(), "meter.key");
	ok(provena(&node.url(), home.path()).args([
		"device",
		"register",
		"--suri",
		"//Alice",
		"--device-key",
		&key,
	]));

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
	let running = submit(&node.url())
		.stdout(std::process::Stdio::piped())
		.stderr(std::process::Stdio::piped())
		.spawn()
		.unwrap();

	// Kill the node once some anchors are final and others are not.
	let store = home.path().to_path_buf();
	let started = Instant::now();
	loop {
		let finalized = count_finalized(&store);
		if finalized >= 2 {
			assert!(finalized < 30, "the submit finished before the node could be killed");
			break;
		}
		assert!(
			started.elapsed() < Duration::from_secs(180),
			"nothing was finalized:\n{}",
			node.log_tail()
		);
		std::thread::sleep(Duration::from_millis(200));
	}
	node.kill();
	let output = running.wait_with_output().unwrap();
	assert!(!output.status.success(), "submit should fail when the node dies");
	let err = String::from_utf8_lossy(&output.stderr);
	assert!(err.contains("cannot reach the node") && err.contains("again"), "{err}");

	// Restart on the same base path; the same command finishes the job.
	let node = Node::start(Some(&base), home.path());
	let done = json(&mut submit(&node.url()));
	assert_eq!(done["stored"], 0, "{done}");
	assert_eq!(done["rejected"], 0, "{done}");
	let anchored_before =
		30 - done["anchored"].as_u64().unwrap() - done["already_anchored"].as_u64().unwrap();
	assert!(anchored_before >= 2, "{done}");

	// The chain holds each of the 120 readings exactly once, in 30 anchors, with no gap.
	let state = json(provena(&node.url(), home.path()).args(["device", "show", &device]));
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

#[test]
fn bad_input_gets_a_clear_error_and_a_non_zero_exit() {
	let home = tempfile::tempdir().unwrap();
	let node = Node::start(None, home.path());
	let url = node.url();
	let (key, device) = device_key(&url, home.path(), "d.key");
	ok(provena(&url, home.path()).args([
		"device",
		"register",
		"--suri",
		"//Alice",
		"--device-key",
		&key,
	]));
	let submit = |extra: &[&str]| {
		let mut c = provena(&url, home.path());
		c.args(["submit", "--suri", "//Alice", "--device-key", &key]).args(extra);
		c
	};

	// A bad JSON line: its line number, and nothing stored or sent.
	let file = home.path().join("bad.jsonl");
	std::fs::write(&file, "{\"timestamp_ms\": 1, \"values\": {\"t\": 1}}\n{\"timestamp_ms\": 2, \"values\": {\"t\": }\n").unwrap();
	let (_, err) = fails(&mut submit(&["--device", &device, "--file", file.to_str().unwrap()]));
	assert!(err.contains("bad.jsonl:2: not a reading"), "{err}");
	let state = json(provena(&url, home.path()).args(["device", "show", &device]));
	assert_eq!(state["readings"], 0);

	// A CSV cell that is not a number.
	let csv = home.path().join("bad.csv");
	std::fs::write(&csv, "timestamp_ms,temperature\n1,4.5\n2,warm\n").unwrap();
	let (_, err) = fails(&mut submit(&["--device", &device, "--file", csv.to_str().unwrap()]));
	assert!(err.contains("bad.csv:3: temperature `warm` is not a number"), "{err}");

	// An unknown device.
	let unknown = format!("0x{}", "ab".repeat(32));
	let (_, err) = fails(&mut submit(&["--device", &unknown, "--value", "t=1"]));
	assert!(err.contains("is not registered on this chain"), "{err}");
	let (_, err) = fails(provena(&url, home.path()).args(["device", "show", &unknown]));
	assert!(err.contains("is not registered"), "{err}");

	// The wrong key file for the device: another key, a damaged file, a file others can read.
	let (other, _) = device_key(&url, home.path(), "other.key");
	let (_, err) = fails(provena(&url, home.path()).args([
		"submit",
		"--suri",
		"//Alice",
		"--device-key",
		&other,
		"--device",
		&device,
		"--value",
		"t=1",
	]));
	assert!(err.contains("not the one registered"), "{err}");
	let damaged = home.path().join("damaged.key");
	std::fs::write(&damaged, "not a key").unwrap();
	std::fs::set_permissions(&damaged, std::os::unix::fs::PermissionsExt::from_mode(0o600))
		.unwrap();
	let (_, err) = fails(
		provena(&url, home.path())
			.args([
				"submit",
				"--suri",
				"//Alice",
				"--device",
				&device,
				"--value",
				"t=1",
				"--device-key",
			])
			.arg(&damaged),
	);
	assert!(err.contains("is not a Provena key file"), "{err}");
	std::fs::set_permissions(&other, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
	let (_, err) = fails(provena(&url, home.path()).args(["key", "inspect", &other]));
	assert!(err.contains("chmod 600"), "{err}");

	// A value that is not a number, and a device id that is not one.
	let (_, err) = fails(&mut submit(&["--device", &device, "--value", "t=hot"]));
	assert!(err.contains("`hot` is not a number"), "{err}");
	let (_, err) = fails(&mut submit(&["--device", "0x1234", "--value", "t=1"]));
	assert!(err.contains("needs 32 bytes"), "{err}");

	// A dispatch error comes back by name: Bob cannot suspend Alice's device.
	let (_, err) =
		fails(provena(&url, home.path()).args(["device", "suspend", &device, "--suri", "//Bob"]));
	assert!(err.contains("DeviceRegistry.NotOwner"), "{err}");

	// A dead node: what to do.
	let dead = format!("ws://127.0.0.1:{}", common::free_port());
	let (_, err) = fails(provena(&dead, home.path()).args(["device", "show", &device]));
	assert!(err.contains("cannot reach the node") && err.contains("scripts/start.sh"), "{err}");
}

#[test]
fn devices_groups_rules_watch_and_simulate() {
	let home = tempfile::tempdir().unwrap();
	let node = Node::start(None, home.path());
	let url = node.url();
	let run = |args: &[&str], suri: &str| {
		let mut c = provena(&url, home.path());
		c.args(args).args(["--suri", suri]);
		c
	};
	let (key, device) = device_key(&url, home.path(), "pump.key");
	ok(&mut run(&["device", "register", "--device-key", &key, "--kind", "pump"], "//Alice"));
	let listed = json(&mut run(&["device", "list"], "//Alice"));
	assert!(listed["devices"].as_array().unwrap().iter().any(|d| d == device.as_str()), "{listed}");
	ok(&mut run(
		&["device", "update", &device, "--kind", "infusion-pump", "--location", "Ward 3"],
		"//Alice",
	));
	let shown = json(provena(&url, home.path()).args(["device", "show", &device]));
	assert_eq!(shown["kind"], "infusion-pump");
	assert_eq!(shown["location"], "Ward 3");

	// Watch finalized blocks while a rule is set and cleared.
	let watcher = provena(&url, home.path())
		.args(["watch", "--blocks", "8", "--json"])
		.stdout(std::process::Stdio::piped())
		.spawn()
		.unwrap();
	ok(&mut run(
		&["rule", "set", "--device", &device, "--metric", "flow", "--max", "120"],
		"//Alice",
	));
	let rules = json(provena(&url, home.path()).args(["rule", "list", "--device", &device]));
	assert_eq!(rules["rules"][0]["metric"], "flow");
	ok(&mut run(&["rule", "clear", "--device", &device, "--metric", "flow"], "//Alice"));
	let rules = json(provena(&url, home.path()).args(["rule", "list", "--device", &device]));
	assert_eq!(rules["rules"].as_array().unwrap().len(), 0);
	let watched = String::from_utf8(watcher.wait_with_output().unwrap().stdout).unwrap();
	let set = watched
		.lines()
		.map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
		.find(|e| e["event"] == "AlertRuleSet")
		.unwrap_or_else(|| panic!("no AlertRuleSet in:\n{watched}"));
	assert_eq!(set["fields"]["device"], device.as_str());
	assert_eq!(set["fields"]["rule"]["metric"], "flow");

	// A group grant lets Dave submit until the device leaves the group.
	const DAVE: &str = "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy";
	let created = json(&mut run(&["group", "create", "ward-3"], "//Alice"));
	let group = created["group"].to_string();
	ok(&mut run(&["group", "add", &group, &device], "//Alice"));
	ok(&mut run(&["grant", "add", "--group", &group, "--to", DAVE, "--submit"], "//Alice"));
	let submit = |suri: &str, key: &str| {
		let mut c = run(&["submit", "--device", &device, "--value", "flow=80"], suri);
		c.args(["--device-key", key]);
		c
	};
	ok(&mut submit("//Dave", &key));
	ok(&mut run(&["group", "remove", &group, &device], "//Alice"));
	let (_, err) = fails(&mut submit("//Dave", &key));
	assert!(err.contains("may not submit"), "{err}");

	// A rotated key: the old key file is refused, the new one anchors.
	let (new_key, _) = device_key(&url, home.path(), "pump-2.key");
	ok(&mut run(&["device", "rotate-key", &device, "--device-key", &new_key], "//Alice"));
	let (_, err) = fails(&mut submit("//Alice", &key));
	assert!(err.contains("not the one registered"), "{err}");
	ok(&mut submit("//Alice", &new_key));

	// Suspended devices do not anchor; resumed ones do.
	ok(&mut run(&["device", "suspend", &device], "//Alice"));
	let (_, err) = fails(&mut submit("//Alice", &new_key));
	assert!(err.contains("Suspended"), "{err}");
	ok(&mut run(&["device", "resume", &device], "//Alice"));
	ok(&mut submit("//Alice", &new_key));

	// A transfer needs the new owner's acceptance.
	ok(&mut run(&["device", "transfer", &device, "--to", BOB], "//Alice"));
	ok(&mut run(&["device", "accept", &device], "//Bob"));
	let shown = json(provena(&url, home.path()).args(["device", "show", &device]));
	assert_eq!(shown["owner"], BOB);
	let bobs = json(provena(&url, home.path()).args(["device", "list", "--owner", BOB]));
	assert!(bobs["devices"].as_array().unwrap().iter().any(|d| d == device.as_str()));
	ok(&mut run(&["device", "decommission", &device], "//Bob"));
	let shown = json(provena(&url, home.path()).args(["device", "show", &device]));
	assert_eq!(shown["status"], "Decommissioned");

	// The simulator registers its devices and gets every reading it made finalized.
	let report = json(&mut run(
		&["simulate", "--devices", "3", "--rate", "3", "--duration", "6", "--batch-size", "2"],
		"//Ferdie",
	));
	assert!(report["readings_generated"].as_u64().unwrap() >= 15, "{report}");
	assert_eq!(report["readings_finalized"], report["readings_generated"], "{report}");
	assert_eq!(report["anchors_rejected"], 0, "{report}");
}

#[test]
fn bench_measures_the_baseline_and_every_anchor_scenario() {
	let home = tempfile::tempdir().unwrap();
	let node = Node::start(None, home.path());
	let report = json(provena(&node.url(), home.path()).args([
		"bench",
		"--warmup",
		"6",
		"--duration",
		"18",
		"--accounts",
		"24",
		"--gateway-batch",
		"4",
		"--merkle-readings",
		"50",
		"--node-pid",
		&node.pid().to_string(),
	]));
	let results = report["results"].as_array().unwrap();
	let names: Vec<&str> = results.iter().map(|r| r["scenario"].as_str().unwrap()).collect();
	assert_eq!(names, ["remark", "single", "gateway", "merkle"], "{report}");
	let number = |r: &serde_json::Value, key: &str| {
		r[key].as_f64().unwrap_or_else(|| panic!("no {key} in {r}"))
	};
	for r in results {
		// Everything sent while measuring was finalized; nothing refused or lost.
		assert!(number(r, "measured_sent") > 0.0, "{r}");
		assert_eq!(r["measured_finalized"], r["measured_sent"], "{r}");
		assert_eq!(r["refused_at_submit"], 0, "{r}");
		assert_eq!(r["dropped"], 0, "{r}");
		assert!(number(r, "finalized_readings_per_s") > 0.0, "{r}");
		assert!(number(r, "submit_to_block_p50_s") <= number(r, "submit_to_block_p99_s"), "{r}");
		assert!(number(r, "submit_to_block_p99_s") <= number(r, "submit_to_final_p99_s"), "{r}");
		let weight = number(r, "block_weight_share_mean");
		assert!(weight > 0.0 && weight <= 1.0, "{r}");
		assert!(number(r, "node_rss_max_bytes") > 10e6, "{r}");
	}
	assert_eq!(results[2]["readings_per_extrinsic"], 4);
	assert_eq!(results[3]["readings_per_extrinsic"], 50);
	// 50 readings per extrinsic carry more readings than one.
	assert!(
		number(&results[3], "finalized_readings_per_s")
			> number(&results[1], "finalized_readings_per_s"),
		"{report}"
	);
	let ratios = &report["ratios_to_remark"];
	for name in ["single", "gateway", "merkle"] {
		assert!(ratios[name].as_f64().is_some_and(|v| v > 0.0), "{report}");
	}
	assert!(report["table"].as_str().unwrap().contains("(4) Merkle batches"), "{report}");
}
