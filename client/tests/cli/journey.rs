//! An owner, a gateway and readers: registration, grants, encrypted submits, proofs,
//! history, decryption and a revocation that moves the data key to a new epoch.

use super::*;
use provena_test_utils::Node;

#[test]
fn owner_gateway_and_reader_journey() {
	let owner_home = tempfile::tempdir().unwrap();
	let bob_home = tempfile::tempdir().unwrap();
	let node = Node::dev();
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
	let shown =
		json(provena(&url, owner_home.path()).args(["device", "show", "--device", &device]));
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
	assert_eq!(grants["grants"][0]["key_epoch"], 0, "{grants}");
	assert_eq!(grants["key_epoch"], 0, "{grants}");

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

	// Verify a reading from the store (its proofs from the node) and from a proof bundle,
	// offline; an altered bundle fails.
	let verified =
		json(provena(&url, bob_home.path()).args(["verify", "--device", &device, "--seq", "20"]));
	assert_eq!(verified["verified"], true, "{verified}");
	assert_eq!(verified["readings"][0]["first_seq"], 13, "{verified}");
	let bundle_at = |seq: &str, name: &str| {
		let path = owner_home.path().join(name);
		ok(provena(&url, bob_home.path())
			.args(["proof", "--device", &device, "--seq", seq, "--out"])
			.arg(&path));
		let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
		(path, bundle)
	};
	let verify_file = |path: &Path| {
		let mut command = provena(&url, owner_home.path());
		command.args(["verify", "--bundle", path.to_str().unwrap()]);
		command
	};
	let (good, bundle) = bundle_at("20", "good.json");
	assert_eq!(bundle["format"], "provena-proof-bundle", "{bundle}");
	let audited = json(&mut verify_file(&good));
	assert_eq!(audited["verified"], true, "{audited}");
	// Reading 20 said 4.0 °C; a bundle that says 3.0 does not verify.
	let mut tampered = bundle.clone();
	let values = tampered["readings"][0]["values"].as_array_mut().unwrap();
	let temperature = values.iter_mut().find(|v| v["metric"] == "temperature").unwrap();
	assert_eq!(temperature["milli"], 4000, "{bundle}");
	temperature["milli"] = 3000.into();
	let tampered_path = owner_home.path().join("tampered.json");
	std::fs::write(&tampered_path, tampered.to_string()).unwrap();
	let (code, out) = fails(&mut verify_file(&tampered_path));
	assert_eq!(code, 2);
	assert!(out.contains("ProofMismatch"), "{out}");
	// Another anchor's record in its place is not what the device's log holds there.
	let (_, other) = bundle_at("30", "other.json");
	let mut swapped = bundle.clone();
	swapped["records"][0]["encoded"] = other["records"][0]["encoded"].clone();
	let swapped_path = owner_home.path().join("swapped.json");
	std::fs::write(&swapped_path, swapped.to_string()).unwrap();
	let (code, out) = fails(&mut verify_file(&swapped_path));
	assert_eq!(code, 2);
	assert!(out.contains("NotInLog"), "{out}");

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
	// Over the chain's time: everything was anchored between the epoch and now.
	let anchored = json(provena(&url, owner_home.path()).args([
		"history",
		"--device",
		&device,
		"--anchored-from-ms",
		"0",
		"--limit",
		"4",
	]));
	assert_eq!(first_seqs(&anchored), vec![0, 5, 13, 21]);
	assert_eq!(anchored["log_size"], 6, "{anchored}");

	// A reader with a fresh store decrypts with the key sealed to him.
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
	assert!(err.contains("no data key") && err.contains("--read"), "{err}");

	// Charlie becomes a reader too. Revoking Bob moves the device's data key to a new epoch,
	// whose key is sealed to Charlie only.
	let charlie = |args: &[&str]| {
		let mut c = provena(&url, reader_home.path());
		c.args(args).args(["--suri", "//Charlie"]);
		c
	};
	ok(&mut charlie(&["encryption-key", "publish"]));
	ok(&mut alice(&["grant", "add", "--device", &device, "--to", CHARLIE, "--read"]));
	let revoked = json(&mut alice(&["grant", "revoke", "--device", &device, "--to", BOB]));
	assert_eq!(revoked["rotated_for"], 1, "{revoked}");
	let (_, err) = fails(&mut bob_submits(&["--value", "temperature=4"]));
	assert!(err.contains("may not submit"), "{err}");

	// The owner's next payload uses the new epoch's key: Charlie opens it, Bob cannot, and
	// Charlie's new key also opens the payloads from before the new epoch.
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
	let old = json(&mut charlie(&["decrypt", "--device", &device, "--seq", "18"]));
	assert_eq!(old["readings"][5]["values"]["temperature"], 9.5, "{old}");
	let fresh = tempfile::tempdir().unwrap();
	let (_, err) = fails(
		provena(&url, fresh.path())
			.args(["decrypt", "--device", &device, "--seq", "45", "--suri", "//Bob"]),
	);
	assert!(err.contains("epoch 0") && err.contains("epoch 1"), "{err}");
	// Bob still opens what he could read before.
	let before = json(
		provena(&url, fresh.path())
			.args(["decrypt", "--device", &device, "--seq", "18", "--suri", "//Bob"]),
	);
	assert_eq!(before["readings"][5]["seq"], 18, "{before}");

	// Bob withdraws his encryption key (its deposit goes back): nothing can be sealed to him.
	ok(&mut bob(&["encryption-key", "withdraw"]));
	let (_, err) = fails(&mut alice(&["grant", "add", "--device", &device, "--to", BOB, "--read"]));
	assert!(err.contains("has not published an encryption key"), "{err}");
	let (_, err) = fails(&mut bob(&["encryption-key", "withdraw"]));
	assert!(err.contains("NoEncryptionKey"), "{err}");
	drop(node);
}
