//! Devices through their life, groups, rules, `watch` and `simulate`.

use super::*;
use provena_test_utils::Node;
use sp_core::{crypto::Ss58Codec, Pair as _};

#[test]
fn devices_groups_rules_watch_and_simulate() {
	let home = tempfile::tempdir().unwrap();
	let node = Node::dev();
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
		&[
			"device",
			"update",
			"--device",
			&device,
			"--kind",
			"infusion-pump",
			"--location",
			"Ward 3",
		],
		"//Alice",
	));
	let shown = json(provena(&url, home.path()).args(["device", "show", "--device", &device]));
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
	assert_eq!(rules["rules"][0]["set_by"], "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
	assert_eq!(rules["rules"][0]["current"], true);
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
	ok(&mut run(&["group", "add", "--group", &group, "--device", &device], "//Alice"));
	ok(&mut run(&["grant", "add", "--group", &group, "--to", DAVE, "--submit"], "//Alice"));
	let submit = |suri: &str, key: &str| {
		let mut c = run(&["submit", "--device", &device, "--value", "flow=80"], suri);
		c.args(["--device-key", key]);
		c
	};
	ok(&mut submit("//Dave", &key));
	ok(&mut run(&["group", "remove", "--group", &group, "--device", &device], "//Alice"));
	let (_, err) = fails(&mut submit("//Dave", &key));
	assert!(err.contains("may not submit"), "{err}");

	// A rotated key: the old key file is refused, the new one anchors.
	let (new_key, _) = device_key(&url, home.path(), "pump-2.key");
	ok(&mut run(
		&["device", "rotate-key", "--device", &device, "--device-key", &new_key],
		"//Alice",
	));
	let (_, err) = fails(&mut submit("//Alice", &key));
	assert!(err.contains("not the one registered"), "{err}");
	ok(&mut submit("//Alice", &new_key));

	// A proof of possession made for registering elsewhere (Polkadot.js Apps): the chain's
	// genesis from the node, and a signature the key's public key verifies.
	let alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
	let proved =
		json(provena(&url, home.path()).args(["key", "prove", &new_key, "--owner", alice]));
	let genesis: [u8; 32] =
		hex::decode(proved["genesis"].as_str().unwrap().trim_start_matches("0x"))
			.unwrap()
			.try_into()
			.unwrap();
	let signature: [u8; 64] =
		hex::decode(proved["proof"]["Ed25519"].as_str().unwrap().trim_start_matches("0x"))
			.unwrap()
			.try_into()
			.unwrap();
	let public: [u8; 32] = hex::decode(proved["device"].as_str().unwrap().trim_start_matches("0x"))
		.unwrap()
		.try_into()
		.unwrap();
	let alice_id = sp_core::crypto::AccountId32::from_ss58check(alice).unwrap();
	let message = provena_primitives::possession_hash(&genesis.into(), &public, &alice_id);
	assert!(sp_core::ed25519::Pair::verify(
		&sp_core::ed25519::Signature::from_raw(signature),
		message,
		&sp_core::ed25519::Public::from_raw(public)
	));
	// Another owner's proof differs.
	let bobs = json(provena(&url, home.path()).args([
		"key",
		"prove",
		&new_key,
		"--owner",
		"5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty",
	]));
	assert_ne!(bobs["proof"], proved["proof"]);

	// Suspended devices do not anchor; resumed ones do.
	ok(&mut run(&["device", "suspend", "--device", &device], "//Alice"));
	let (_, err) = fails(&mut submit("//Alice", &new_key));
	assert!(err.contains("Suspended"), "{err}");
	ok(&mut run(&["device", "resume", "--device", &device], "//Alice"));
	ok(&mut submit("//Alice", &new_key));

	// A transfer needs the new owner's acceptance, which installs the key the new owner holds:
	// the seller's key file stops anchoring at once.
	ok(&mut run(&["device", "transfer", "--device", &device, "--to", BOB], "//Alice"));
	let (bobs_key, bobs_public) = device_key(&url, home.path(), "pump-bob.key");
	ok(&mut run(&["device", "accept", "--device", &device, "--device-key", &bobs_key], "//Bob"));
	let shown = json(provena(&url, home.path()).args(["device", "show", "--device", &device]));
	assert_eq!(shown["owner"], BOB);
	assert!(shown["key"].as_str().unwrap().ends_with(bobs_public.trim_start_matches("0x")));
	let (_, err) = fails(&mut submit("//Bob", &new_key));
	assert!(err.contains("not the one registered"), "{err}");
	ok(&mut submit("//Bob", &bobs_key));
	let bobs = json(provena(&url, home.path()).args(["device", "list", "--owner", BOB]));
	assert!(bobs["devices"].as_array().unwrap().iter().any(|d| d == device.as_str()));
	ok(&mut run(&["device", "decommission", "--device", &device], "//Bob"));
	let shown = json(provena(&url, home.path()).args(["device", "show", "--device", &device]));
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
