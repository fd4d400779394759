//! A node that lies. A proxy in front of a real dev node answers the runtime API
//! `TelemetryApi_verify_reading` with "verified" and serves, through `provena_proof`, a forged
//! log record that commits a reading altered in the gateway's store. `provena verify` builds
//! its bundle from what this node says, but checks every proof against the chain spec's
//! authorities and the state root they finalize: NOT VERIFIED.

use super::*;
use codec::{Decode, Encode};
use futures::{SinkExt, StreamExt};
use provena_client::readings::Record;
use provena_primitives::telemetry::Reading;
use provena_test_utils::Node;
use serde_json::json;
use std::sync::{
	atomic::{AtomicUsize, Ordering},
	Arc,
};
use tokio_tungstenite::tungstenite::Message;

/// What the lying proxy forges, and how often it did.
#[derive(Clone)]
struct Lies {
	/// `0x`-hex of `Ok(record)`, the runtime API's "verified".
	verified: String,
	/// `0x`-hex of the forged record `provena_proof` serves.
	record: String,
	/// How many answers it forged.
	told: Arc<AtomicUsize>,
}

/// Serves one client connection: forwards to `upstream`, forging what `lies` says.
async fn serve(tcp: tokio::net::TcpStream, upstream: String, lies: Lies) {
	let Ok(client) = tokio_tungstenite::accept_async(tcp).await else { return };
	let Ok((node, _)) = tokio_tungstenite::connect_async(upstream.as_str()).await else { return };
	let (mut to_client, mut from_client) = client.split();
	let (mut to_node, mut from_node) = node.split();
	let mut proof_ids = Vec::new();
	loop {
		tokio::select! {
			message = from_client.next() => {
				let Some(Ok(message)) = message else { return };
				if let Message::Text(text) = &message {
					let request: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
					let method = request["method"].as_str().unwrap_or_default();
					if method == "state_call" && request["params"][0] == "TelemetryApi_verify_reading" {
						lies.told.fetch_add(1, Ordering::SeqCst);
						let answer = json!({ "jsonrpc": "2.0", "id": request["id"], "result": lies.verified });
						if to_client.send(Message::text(answer.to_string())).await.is_err() {
							return;
						}
						continue;
					}
					if method == "provena_proof" {
						proof_ids.push(request["id"].clone());
					}
				}
				if to_node.send(message).await.is_err() {
					return;
				}
			}
			message = from_node.next() => {
				let Some(Ok(mut message)) = message else { return };
				if let Message::Text(text) = &message {
					let mut answer: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
					if proof_ids.contains(&answer["id"]) && answer["result"]["record"].is_object() {
						answer["result"]["record"]["encoded"] = json!(lies.record);
						lies.told.fetch_add(1, Ordering::SeqCst);
						message = Message::text(answer.to_string());
					}
				}
				if to_client.send(message).await.is_err() {
					return;
				}
			}
		}
	}
}

#[test]
fn a_node_that_lies_cannot_make_verify_say_verified() {
	let home = tempfile::tempdir().unwrap();
	let node = Node::dev();
	let url = node.url();
	let (key, device) = alices_device(&url, home.path(), "probe.key");
	alice_submits(&url, home.path(), &device, &key, &["--value", "temperature=4.5"]);
	let honest =
		json(provena(&url, home.path()).args(["verify", "--device", &device, "--seq", "0"]));
	assert_eq!(honest["verified"], true, "{honest}");

	// Someone with the store's file changes 4.5 °C into 9.9 °C.
	let store = std::fs::read_dir(home.path())
		.unwrap()
		.map(|e| e.unwrap().path())
		.find(|p| p.extension().is_some_and(|x| x == "db"))
		.expect("the store");
	let db = rusqlite::Connection::open(&store).unwrap();
	let device_bytes = hex::decode(device.trim_start_matches("0x")).unwrap();
	let stored: Vec<u8> = db
		.query_row(
			"SELECT reading FROM readings WHERE device = ?1 AND seq = 0",
			[&device_bytes],
			|r| r.get(0),
		)
		.unwrap();
	let mut forged = Reading::decode(&mut &stored[..]).unwrap();
	assert_eq!(forged.values[0].value, 4_500);
	forged.values[0].value = 9_900;
	db.execute(
		"UPDATE readings SET reading = ?1, leaf = ?2 WHERE device = ?3 AND seq = 0",
		rusqlite::params![forged.encode(), forged.leaf().as_bytes(), &device_bytes],
	)
	.unwrap();
	drop(db);

	// The node's own record of reading 0, made to commit the forged reading instead.
	let proof = node.rpc("provena_proof", json!([device, 0])).unwrap();
	let encoded = proof["record"]["encoded"].as_str().unwrap();
	let mut record = Record::decode(&mut &hex::decode(&encoded[2..]).unwrap()[..]).unwrap();
	assert_eq!(record.count, 1);
	record.root = forged.leaf();
	let ok_record: Result<Record, ()> = Ok(record.clone());
	let lies = Lies {
		verified: format!("0x{}", hex::encode(ok_record.encode())),
		record: format!("0x{}", hex::encode(record.encode())),
		told: Arc::new(AtomicUsize::new(0)),
	};

	let runtime = tokio::runtime::Runtime::new().unwrap();
	let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
	let proxy = format!("ws://{}", listener.local_addr().unwrap());
	let (upstream, told) = (url.clone(), lies.clone());
	runtime.spawn(async move {
		while let Ok((tcp, _)) = listener.accept().await {
			tokio::spawn(serve(tcp, upstream.clone(), told.clone()));
		}
	});

	let (code, out) = fails(
		provena(&proxy, home.path()).args(["--json", "verify", "--device", &device, "--seq", "0"]),
	);
	assert_eq!(code, 2, "{out}");
	let answer: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
	assert_eq!(answer["verified"], false, "{out}");
	assert_eq!(answer["reason"], "NotInLog", "{out}");
	assert!(lies.told.load(Ordering::SeqCst) >= 1, "the proxy forged nothing: {out}");
	// Through the honest node, the altered store is caught just the same.
	let (code, out) =
		fails(provena(&url, home.path()).args(["verify", "--device", &device, "--seq", "0"]));
	assert_eq!(code, 2, "{out}");
	assert!(out.contains("(ProofMismatch)"), "{out}");
	runtime.shutdown_background();
}
