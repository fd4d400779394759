//! Anchor credits and device-authorized anchors against a real node: a device anchors through an
//! account that holds nothing and has no grant, the owner's credits pay, and the node's pool
//! refuses every device anchor that would fail, so none is ever included for free.

use super::*;
use provena_client::{
	chain::{api, tx::general_at, Chain},
	keys::{KeyPair, Scheme},
	readings::{Batch, SignedAnchor},
};
use provena_primitives::telemetry::{Measurement, MetricName, Reading};
use provena_test_utils::Node;
use subxt::utils::{Static, H256};

/// The credits `provena credits show` reports for `device`.
fn credits(url: &str, home: &Path, device: &str) -> u64 {
	let shown = json(provena(url, home).args(["credits", "show", "--device", device]));
	shown["credits"].as_u64().expect("credits")
}

#[test]
fn a_device_anchors_on_credits_through_an_account_that_holds_nothing() {
	let node = Node::dev();
	let url = node.url();
	let home = tempfile::tempdir().unwrap();
	let home = home.path();
	let (key, device) = alices_device(&url, home, "probe.key");
	assert_eq!(credits(&url, home, &device), 0);

	// A relay with no funds and no grant, asked to pay with credits the device lacks.
	let relay = ["--suri", "//an-unfunded-relay"];
	let submit = |args: &[&str]| {
		let mut command = provena(&url, home);
		command.args(["submit", "--device", &device, "--device-key", &key]).args(relay);
		command.args(args);
		command
	};
	let (_, said) = fails(&mut submit(&["--value", "temp_c=4.5", "--pay", "credits"]));
	assert!(said.contains("has 0 anchor credits for 1 anchors"), "{said}");
	assert!(said.contains("provena credits buy"), "{said}");

	let bought = json(
		provena(&url, home)
			.args(["credits", "buy", "--suri", "//Alice", "--device", &device, "--count", "3"]),
	);
	assert_eq!(bought["credits"], 3);
	assert_eq!(credits(&url, home, &device), 3);

	// The reading stored by the failed run goes now, with one more: two anchors on credits.
	let out = json(&mut submit(&["--value", "temp_c=4.7", "--pay", "credits"]));
	assert_eq!(out["anchored"], 2, "{out}");
	assert_eq!(credits(&url, home, &device), 1);

	// The log records the device itself as the submitter, not the relay.
	let history = json(provena(&url, home).args(["history", "--device", &device]));
	let anchors = history["anchors"].as_array().expect("anchors");
	assert_eq!(anchors.len(), 2);
	let device_account = json(provena(&url, home).args(["key", "inspect", &key]))["address"]
		.as_str()
		.expect("the key's account")
		.to_string();
	for anchor in anchors {
		assert_eq!(anchor["submitter"].as_str(), Some(device_account.as_str()), "{anchor}");
	}

	// `auto`: the last credit covers one pending anchor, so it pays, and Alice signs nothing.
	let nonce = |who: &str| node.rpc("system_accountNextIndex", serde_json::json!([who])).unwrap();
	let alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
	let before = nonce(alice);
	let alice_sends = |value: &str| {
		let out = alice_submits(&url, home, &device, &key, &["--value", value, "--json"]);
		let last = out.lines().last().unwrap_or_default().to_string();
		serde_json::from_str::<serde_json::Value>(&last).expect("JSON")
	};
	let out = alice_sends("temp_c=4.9");
	assert_eq!(out["anchored"], 1, "{out}");
	assert_eq!(credits(&url, home, &device), 0);
	assert_eq!(nonce(alice), before, "Alice signed nothing");

	// With no credits left, `auto` has the owner pay.
	let out = alice_sends("temp_c=5.1");
	assert_eq!(out["anchored"], 1, "{out}");
	assert_ne!(nonce(alice), before, "Alice paid this one");
}

/// A device registered by Alice with the sr25519 key of `uri`; returns its key.
fn registered(url: &str, home: &Path, uri: &str) -> KeyPair {
	ok(provena(url, home).args(["device", "register", "--suri", "//Alice", "--device-suri", uri]));
	KeyPair::from_uri(Scheme::Sr25519, uri).unwrap()
}

/// The anchor of readings `first .. first + count` of the device of `key`, signed by `signer`.
fn anchor(key: &KeyPair, signer: &KeyPair, genesis: &H256, first: u64, count: u64) -> SignedAnchor {
	let readings: Vec<Reading> = (first..first + count)
		.map(|seq| Reading {
			device: key.public(),
			seq,
			timestamp_ms: 1_700_000_000_000 + seq,
			values: vec![Measurement {
				metric: MetricName::truncate_from(b"temp_c".to_vec()),
				value: 4_000,
			}],
			payload_hash: None,
		})
		.collect();
	Batch::new(readings).unwrap().sign(signer, genesis, None, &Default::default())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pool_refuses_device_anchors_that_would_fail_and_none_is_included() {
	let node = Node::dev();
	let url = node.url();
	let home = tempfile::tempdir().unwrap();
	let home = home.path();
	let key = registered(&url, home, "//Alice//pool-probe");
	let device = format!("0x{}", hex::encode(key.public()));
	let chain = Chain::connect(&url).await.unwrap();
	let genesis = chain.genesis_hash();

	// Submits the device-authorized anchor as raw bytes, as any client would.
	let send = |anchor: SignedAnchor| {
		let chain = chain.clone();
		async move {
			let at = chain.signing_block().await.unwrap();
			let call = api::transactions().telemetry().device_anchor(Static(anchor), None);
			let tx = general_at(&at, &call).unwrap();
			let hex = format!("0x{}", hex::encode(tx.encoded()));
			node_rpc(&chain, "author_submitExtrinsic", serde_json::json!([hex]))
		}
	};
	let refused = |result: Result<serde_json::Value, String>, why: &str| {
		let error = result.expect_err("the pool refuses it");
		assert!(error.contains("1010") && error.contains(why), "expected {why}: {error}");
	};

	// Without a credit.
	refused(send(anchor(&key, &key, &genesis, 0, 1)).await, "Inability to pay some fees");

	ok(provena(&url, home)
		.args(["credits", "buy", "--suri", "//Alice", "--device", &device, "--count", "2"]));

	// With another key's signature.
	let stranger = KeyPair::from_uri(Scheme::Sr25519, "//a-stranger").unwrap();
	refused(send(anchor(&key, &stranger, &genesis, 0, 1)).await, "bad signature");
	// Further ahead of the device's log than the pool holds (`MaxPooledAhead` anchors of its
	// size).
	let ahead = chain.max_pooled_ahead().await.expect("the constant");
	refused(send(anchor(&key, &key, &genesis, ahead + 1, 1)).await, "valid in the future");

	// A good one is taken, and included.
	send(anchor(&key, &key, &genesis, 0, 2)).await.expect("a paid anchor at the next sequence");
	let mut node = node;
	let spent = |_: &Node| (credits(&url, home, &device) == 1).then_some(());
	node.wait_for("the anchor final", std::time::Duration::from_secs(60), spent);

	// Replayed: the slot is taken.
	refused(send(anchor(&key, &key, &genesis, 0, 2)).await, "outdated");

	// A suspended device: the pallet's NotActive, by its index in the metadata.
	ok(provena(&url, home).args(["device", "suspend", "--suri", "//Alice", "--device", &device]));
	let metadata = chain.finalized().await.unwrap().metadata();
	let telemetry = metadata.pallet_by_name("Telemetry").unwrap();
	let not_active = (0..=u8::MAX)
		.find(|i| telemetry.error_variant_by_index(*i).is_some_and(|v| v.name == "NotActive"))
		.unwrap();
	refused(send(anchor(&key, &key, &genesis, 2, 1)).await, &format!("Custom error: {not_active}"));

	// After all that, the chain holds exactly the one good anchor, paid by one credit.
	let history = json(provena(&url, home).args(["history", "--device", &device]));
	assert_eq!(first_seqs(&history), vec![0]);
	assert_eq!(credits(&url, home, &device), 1);
}

/// One JSON-RPC call to the node `chain` is connected to.
fn node_rpc(
	chain: &Chain,
	method: &str,
	params: serde_json::Value,
) -> Result<serde_json::Value, String> {
	let port: u16 = chain.url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port");
	provena_test_utils::rpc_call(port, method, params)
}
