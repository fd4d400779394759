//! Private readings that stay private: what an encrypted anchor shows the chain, and READ that
//! ends for good — by expiry, a manager's revoke, a group revoke, a transfer, or a revoke whose
//! re-sealing was killed halfway — while the remaining readers open old and new payloads.

use super::*;
use provena_client::{
	chain::{api, Bounded, Chain},
	crypto::EpochKey,
	gateway::{self, SealOptions},
	keys::{KeyFile, KeyPair, Scheme},
	store::Store,
};
use provena_primitives::telemetry::MetricName;
use provena_test_utils::Node;
use std::{
	collections::BTreeSet,
	io::{BufRead, BufReader},
	process::Child,
};

const DAVE: &str = "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy";
const EVE: &str = "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw";
const FERDIE: &str = "5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL";

/// Runs `block` on a fresh async runtime (the tests are synchronous, the client library async).
fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
	tokio::runtime::Runtime::new().expect("a runtime").block_on(future)
}

/// A command of `provena` in `home`, signed by `suri`.
fn as_account<'a>(url: &'a str, home: &'a Path, suri: &'a str) -> impl Fn(&[&str]) -> Command + 'a {
	move |args: &[&str]| {
		let mut c = provena(url, home);
		c.args(args).args(["--suri", suri]);
		c
	}
}

/// Publishes the encryption keys of `suris`, all at once (different accounts, no nonce to
/// share), and waits for each to be finalized.
fn publish_keys(url: &str, home: &Path, suris: &[&str]) {
	let children: Vec<Child> = suris
		.iter()
		.map(|suri| {
			provena(url, home)
				.args(["encryption-key", "publish", "--suri", suri])
				.stdout(Stdio::null())
				.stderr(Stdio::null())
				.spawn()
				.expect("spawn provena")
		})
		.collect();
	for (mut child, suri) in children.into_iter().zip(suris) {
		assert!(child.wait().unwrap().success(), "{suri} could not publish its key");
	}
}

/// `who` decrypts `device`'s reading `seq`: its temperature, or the error.
fn decrypt_as(url: &str, home: &Path, who: &str, device: &str, seq: u64) -> Result<f64, String> {
	let out = provena(url, home)
		.args(["decrypt", "--device", device, "--seq", &seq.to_string(), "--suri", who, "--json"])
		.output()
		.expect("run provena");
	if !out.status.success() {
		return Err(format!("{}{}", text(&out.stderr), text(&out.stdout)));
	}
	let value: Value = serde_json::from_str(text(&out.stdout).lines().last().unwrap()).unwrap();
	Ok(value["readings"][0]["values"]["temperature"].as_f64().expect("a temperature"))
}

/// Asserts `who` cannot open reading `seq` because its key is of an older epoch.
fn closed_to(url: &str, home: &Path, who: &str, device: &str, seq: u64) {
	let err = decrypt_as(url, home, who, device, seq).expect_err("the payload should not open");
	assert!(err.contains("is needed"), "{who} on reading {seq}: {err}");
}

/// The submit of one encrypted reading of `temperature` by `suri`, with `extra` arguments.
fn submit_one(
	url: &str,
	home: &Path,
	suri: &str,
	device: &str,
	key: &str,
	temperature: f64,
	extra: &[&str],
) {
	let value = format!("temperature={temperature}");
	let mut command = provena(url, home);
	command.args(["submit", "--device", device, "--device-key", key, "--suri", suri]);
	command.args(["--value", &value, "--value", "humidity=61", "--encrypt"]).args(extra);
	let out = json(&mut command);
	assert_eq!(out["anchored"], 1, "{out}");
}

/// The block holding `device`'s anchor of reading `seq`, from `provena history`.
fn anchor_block(url: &str, home: &Path, device: &str, seq: u64) -> u32 {
	let history = json(provena(url, home).args(["history", "--device", device]));
	let anchors = history["anchors"].as_array().unwrap();
	let anchor = anchors
		.iter()
		.find(|a| a["first_seq"].as_u64() == Some(seq))
		.unwrap_or_else(|| panic!("no anchor of reading {seq}: {history}"));
	anchor["block"].as_u64().unwrap() as u32
}

/// The metric names (and values) an anchor of `device` in `block` publishes in the clear,
/// decoded from the block's own extrinsics.
fn published(url: &str, device: &str, block: u32) -> Vec<(String, i64)> {
	let device = provena_client::parse_device(device).unwrap();
	block_on(async {
		let chain = Chain::connect(url).await.unwrap();
		let anchors = chain.anchors_in_block(block).await.unwrap();
		let (anchor, payload) = anchors
			.into_iter()
			.find(|(a, _)| a.statement.device == device)
			.expect("the block holds the device's anchor");
		assert!(payload.is_some(), "an encrypted anchor carries a payload");
		anchor
			.statement
			.values
			.iter()
			.map(|v| (String::from_utf8_lossy(&v.metric).into_owned(), v.value))
			.collect()
	})
}

#[test]
fn encrypted_readings_publish_only_what_is_chosen_and_a_decoy_hides_nothing() {
	let home = tempfile::tempdir().unwrap();
	let node = Node::dev();
	let url = node.url();
	let alice = as_account(&url, home.path(), "//Alice");
	let (key, device) = alices_device(&url, home.path(), "thermo.key");

	// No rule, no --public: nothing in the clear.
	submit_one(&url, home.path(), "//Alice", &device, &key, 4.5, &[]);
	assert_eq!(published(&url, &device, anchor_block(&url, home.path(), &device, 0)), vec![]);

	// A rule on temperature makes temperature public, and only it.
	let set = ["rule", "set", "--device", &device, "--metric", "temperature", "--min", "2"];
	let said = ok(&mut alice(&[&set[..], &["--max", "8"]].concat()));
	assert!(said.contains("in the clear"), "{said}");
	submit_one(&url, home.path(), "//Alice", &device, &key, 9.0, &[]);
	let block = anchor_block(&url, home.path(), &device, 1);
	assert_eq!(published(&url, &device, block), vec![("temperature".into(), 9_000)]);

	// --public adds what the user chooses.
	submit_one(&url, home.path(), "//Alice", &device, &key, 5.0, &["--public", "humidity"]);
	let block = anchor_block(&url, home.path(), &device, 2);
	let shown = published(&url, &device, block);
	assert_eq!(shown, vec![("humidity".into(), 61_000), ("temperature".into(), 5_000)]);
	assert_eq!(decrypt_as(&url, home.path(), "//Alice", &device, 2), Ok(5.0));

	// A decoy: Bob copies the device-signed anchor with another payload into the same block,
	// just ahead of the real one. His fails there; decrypt still finds the real payload. (Two
	// transactions sent 50 ms apart rarely straddle a block; if they do, try a new reading.)
	let mut seq = 3;
	let (block, temperature) = loop {
		let temperature = 6.5 + seq as f64;
		let same_block = block_on(decoy_and_anchor(&url, home.path(), &device, &key, temperature));
		if let Some(block) = same_block {
			break (block, temperature);
		}
		seq += 1;
		assert!(seq < 6, "three decoys in a row missed the anchor's block");
	};
	assert_eq!(anchor_block(&url, home.path(), &device, seq), block);
	assert_eq!(decrypt_as(&url, home.path(), "//Alice", &device, seq), Ok(temperature));

	// Keys of small order are refused before anything is sent.
	let zero = format!("0x{}", "00".repeat(32));
	let p_minus_one = format!("0xec{}7f", "ff".repeat(30));
	for weak in [zero, p_minus_one] {
		let (_, err) = fails(&mut as_account(&url, home.path(), "//Bob")(&[
			"encryption-key",
			"publish",
			"--key",
			&weak,
		]));
		assert!(err.contains("small order"), "{err}");
	}
	drop(node);
}

/// Signs and stores the device's next reading (`temperature`) as the gateway does, sends Bob's
/// copy of its anchor with another payload, and 50 ms later Alice's real one. Returns the
/// block when both ended up in it (the decoy failed there), else `None`.
async fn decoy_and_anchor(
	url: &str,
	home: &Path,
	device: &str,
	key: &str,
	temperature: f64,
) -> Option<u32> {
	let chain = Chain::connect(url).await.unwrap();
	let device_id = provena_client::parse_device(device).unwrap();
	let (_, device_key) = KeyFile::read(Path::new(key)).unwrap();
	let alice = KeyPair::from_uri(Scheme::Sr25519, "//Alice").unwrap();
	let bob = KeyPair::from_uri(Scheme::Sr25519, "//Bob").unwrap();
	let data_key: EpochKey =
		provena_client::access::current_key(&chain, device_id, &alice).await.unwrap();
	let mut store = Store::open(&home.join("decoy.db"), chain.genesis_hash()).unwrap();
	let value = format!("temperature={temperature}");
	let input = provena_client::input::from_pairs(&[value], 1_000).unwrap();
	gateway::import(&chain, &mut store, device_id, &[input]).await.unwrap();
	let public: BTreeSet<MetricName> = BTreeSet::new();
	let options = SealOptions {
		batch_size: 1,
		data_key: Some(&data_key),
		public: &public,
		max_payload: 4096,
		keep_partial: false,
	};
	gateway::seal(&mut store, device_id, &device_key, chain.genesis_hash(), &options).unwrap();
	let stored = store.pending_anchors().unwrap().pop().expect("one signed anchor");
	let payload = stored.payload.clone().expect("encrypted");
	let mut other = payload.clone();
	*other.last_mut().unwrap() ^= 1;
	let tx = api::transactions().telemetry();
	let decoy = tx.anchor(subxt::utils::Static(stored.anchor.clone()), Some(Bounded(other)));
	let real = tx.anchor(subxt::utils::Static(stored.anchor.clone()), Some(Bounded(payload)));
	let (decoy, real) = tokio::join!(chain.submit(&decoy, &bob), async {
		tokio::time::sleep(std::time::Duration::from_millis(50)).await;
		chain.submit(&real, &alice).await
	});
	assert!(decoy.is_err(), "the decoy cannot succeed");
	let block = real.expect("the real anchor lands").block_number as u32;
	let copies = chain.anchors_in_block(block).await.unwrap();
	let same = copies.iter().filter(|(a, _)| a.statement == stored.anchor.statement).count();
	(same == 2).then_some(block)
}

#[test]
fn an_expired_reader_and_a_killed_reseal_leave_the_next_payload_closed_to_whoever_lost_read() {
	let home = tempfile::tempdir().unwrap();
	let mut node = Node::dev();
	let url = node.url();
	let alice = as_account(&url, home.path(), "//Alice");
	let (key, device) = alices_device(&url, home.path(), "monitor.key");
	publish_keys(&url, home.path(), &["//Bob", "//Charlie", "//Dave", "//Eve"]);
	let submit = |temperature: f64| {
		submit_one(&url, home.path(), "//Alice", &device, &key, temperature, &[]);
	};
	let read = |who: &str, seq: u64| decrypt_as(&url, home.path(), who, &device, seq);

	// Bob reads until a block a few blocks ahead; Charlie for good; Dave is a gateway that
	// submits and reads (with its own store).
	let ends = node.finalized_number().expect("a finalized block") + 15;
	let ends = ends.to_string();
	ok(&mut alice(&[
		"grant",
		"add",
		"--device",
		&device,
		"--to",
		BOB,
		"--read",
		"--expires",
		&ends,
	]));
	ok(&mut alice(&["grant", "add", "--device", &device, "--to", CHARLIE, "--read"]));
	let gateway_home = tempfile::tempdir().unwrap();
	let dave = as_account(&url, gateway_home.path(), "//Dave");
	ok(&mut alice(&["grant", "add", "--device", &device, "--to", DAVE, "--submit", "--read"]));
	submit(3.0); // reading 0, epoch 0
	assert_eq!(read("//Bob", 0), Ok(3.0));
	assert_eq!(read("//Charlie", 0), Ok(3.0));

	// Bob's READ ends: the epoch in force moves on by itself. The gateway refuses to encrypt
	// under the key it holds, of the old epoch (its reading waits in its store); once the
	// owner gives the remaining readers the new key, it sends it under that key.
	let ends: u64 = ends.parse().unwrap();
	node.wait_for("Bob's expiry", std::time::Duration::from_secs(120), |node| {
		node.finalized_number().filter(|n| *n > ends)
	});
	let listed = json(provena(&url, home.path()).args(["grant", "list", "--device", &device]));
	assert_eq!(listed["key_epoch"], 1, "{listed}");
	let submit_as_dave = ["submit", "--device", &device, "--device-key", &key, "--encrypt"];
	let (_, err) = fails(&mut dave(&[&submit_as_dave[..], &["--value", "temperature=4"]].concat()));
	assert!(err.contains("epoch 0") && err.contains("epoch 1 is needed"), "{err}");
	assert!(err.contains("--resume"), "{err}");
	let resumed = json(&mut alice(&["rotate", "--device", &device, "--resume"]));
	assert_eq!(resumed["epoch"], 1, "{resumed}");
	assert_eq!(resumed["sealed"].as_array().unwrap().len(), 2, "{resumed}");
	let sent = json(&mut dave(&[&submit_as_dave[..], &["--resume"]].concat()));
	assert_eq!(sent["anchored"], 1, "{sent}"); // reading 1, epoch 1
	closed_to(&url, home.path(), "//Bob", &device, 1);
	assert_eq!(read("//Bob", 0), Ok(3.0), "what Bob was entitled to stays open to him");
	assert_eq!(read("//Charlie", 1), Ok(4.0));
	assert_eq!(read("//Charlie", 0), Ok(3.0));

	// Eve reads too. Revoking her re-seals the new key to Charlie and Dave, one at a time;
	// the process is killed as the first starts.
	ok(&mut alice(&["grant", "add", "--device", &device, "--to", EVE, "--read"]));
	let mut revoking = alice(&["revoke", "--device", &device, "--to", EVE])
		.stdout(Stdio::null())
		.stderr(Stdio::piped())
		.spawn()
		.expect("spawn provena revoke");
	let stderr = BufReader::new(revoking.stderr.take().unwrap());
	let mut seen = Vec::new();
	for line in stderr.lines() {
		let line = line.unwrap();
		let first = line.contains("(1 of 2)");
		seen.push(line);
		if first {
			break;
		}
	}
	revoking.kill().expect("kill provena revoke");
	let _ = revoking.wait();
	assert!(seen.iter().any(|l| l.contains("(1 of 2)")), "no re-sealing began: {seen:?}");

	// Not every remaining reader has the new key: the next payload is closed to one of them
	// (and to Eve), until `rotate --resume` finishes the job.
	submit(5.0); // reading 2, epoch 2
	closed_to(&url, home.path(), "//Eve", &device, 2);
	let opened = [read("//Charlie", 2), read("//Dave", 2)];
	assert!(opened.iter().any(Result::is_err), "the kill came too late: {opened:?}");
	let resumed = json(&mut alice(&["rotate", "--device", &device, "--resume"]));
	assert_eq!(resumed["epoch"], 2, "{resumed}");
	assert!(!resumed["sealed"].as_array().unwrap().is_empty(), "{resumed}");
	let again = json(&mut alice(&["rotate", "--device", &device, "--resume"]));
	assert!(again["sealed"].as_array().unwrap().is_empty(), "nothing twice: {again}");
	submit(6.0); // reading 3, epoch 2
	for who in ["//Charlie", "//Dave"] {
		assert_eq!(read(who, 3), Ok(6.0), "{who}");
		assert_eq!(read(who, 2), Ok(5.0), "{who}");
	}
	closed_to(&url, home.path(), "//Eve", &device, 3);
	drop(node);
}

#[test]
fn a_managers_revoke_a_group_revoke_and_a_transfer_close_the_next_payload() {
	let home = tempfile::tempdir().unwrap();
	let node = Node::dev();
	let url = node.url();
	let alice = as_account(&url, home.path(), "//Alice");
	let dave = as_account(&url, home.path(), "//Dave");
	let (key, device) = alices_device(&url, home.path(), "freezer.key");
	publish_keys(&url, home.path(), &["//Bob", "//Charlie", "//Dave", "//Eve"]);
	let submit = |suri: &str, key: &str, temperature: f64| {
		submit_one(&url, home.path(), suri, &device, key, temperature, &[]);
	};
	let read = |who: &str, seq: u64| decrypt_as(&url, home.path(), who, &device, seq);
	ok(&mut alice(&["grant", "add", "--device", &device, "--to", CHARLIE, "--read"]));
	ok(&mut alice(&["grant", "add", "--device", &device, "--to", DAVE, "--manage", "--read"]));

	// A manager who can read gives Eve READ, with the key; then takes it back. Dave cannot
	// give the new epoch's key (he has only the old one): the owner does.
	ok(&mut dave(&["grant", "add", "--device", &device, "--to", EVE, "--read"]));
	submit("//Alice", &key, 2.0); // reading 0
	assert_eq!(read("//Eve", 0), Ok(2.0));
	let revoked = json(&mut dave(&["revoke", "--device", &device, "--to", EVE]));
	assert_eq!(revoked["not_resealed"].as_array().unwrap().len(), 1, "{revoked}");
	ok(&mut alice(&["rotate", "--device", &device, "--resume"]));
	submit("//Alice", &key, 3.0); // reading 1
	closed_to(&url, home.path(), "//Eve", &device, 1);
	assert_eq!(read("//Charlie", 1), Ok(3.0));
	assert_eq!(read("//Charlie", 0), Ok(2.0));
	assert_eq!(read("//Dave", 1), Ok(3.0));

	// Bob reads through a group the device is in; revoking the group's grant closes the next
	// payload to him, and the owner's revoke gives the new key to the others at once.
	let created = json(&mut alice(&["group", "create", "ward 3"]));
	let group = created["group"].to_string();
	ok(&mut alice(&["group", "add", "--group", &group, "--device", &device]));
	let granted = json(&mut alice(&["grant", "add", "--group", &group, "--to", BOB, "--read"]));
	assert_eq!(granted["keyed_devices"].as_array().unwrap().len(), 1, "{granted}");
	submit("//Alice", &key, 4.0); // reading 2
	assert_eq!(read("//Bob", 2), Ok(4.0));
	let revoked = json(&mut alice(&["revoke", "--group", &group, "--to", BOB]));
	assert_eq!(revoked["rotated_for"], 2, "{revoked}");
	submit("//Alice", &key, 5.0); // reading 3
	closed_to(&url, home.path(), "//Bob", &device, 3);
	assert_eq!(read("//Charlie", 3), Ok(5.0));
	assert_eq!(read("//Charlie", 2), Ok(4.0));

	// The device changes hands. The old owner's readers lose READ; the new owner's reader
	// opens the new payloads with the new owner's key, and still opens the old ones with the
	// key it kept (the chain now holds the new owner's).
	ok(&mut alice(&["device", "transfer", "--device", &device, "--to", FERDIE]));
	let (ferdies_key, _) = device_key(&url, home.path(), "freezer-ferdie.key");
	let ferdie = as_account(&url, home.path(), "//Ferdie");
	ok(&mut ferdie(&["device", "accept", "--device", &device, "--device-key", &ferdies_key]));
	ok(&mut ferdie(&["grant", "add", "--device", &device, "--to", CHARLIE, "--read"]));
	submit("//Ferdie", &ferdies_key, 6.0); // reading 4
	assert_eq!(read("//Charlie", 4), Ok(6.0));
	assert_eq!(read("//Charlie", 3), Ok(5.0));
	closed_to(&url, home.path(), "//Dave", &device, 4);
	drop(node);
}
