//! Proof bundles from a real dev node: `provena proof` writes one, `provena verify --bundle`
//! checks it after the node is gone, and any part altered (a value, the seq, a Merkle or MMR
//! hash, a trie node, a header, a signature, the signers) fails with its own reason. Plain
//! `ws://` to another machine is refused unless `--insecure`.

use super::*;
use codec::{Decode, Encode};
use provena_client::bundle::{verify, Bundle, Header, Trust};
use provena_test_utils::Node;
use sp_consensus_grandpa::{AuthorityId, GrandpaJustification};
use sp_core::{crypto::Pair as _, ed25519};
use std::time::Duration;

/// Decodes a bundle's justification, lets `alter` change it, and encodes it back.
fn with_justification(
	bundle: &Bundle,
	alter: impl Fn(&mut GrandpaJustification<Header>),
) -> Bundle {
	let bytes = hex::decode(bundle.finality.justification.trim_start_matches("0x")).unwrap();
	let mut justification = GrandpaJustification::<Header>::decode(&mut &bytes[..]).unwrap();
	alter(&mut justification);
	let mut altered = bundle.clone();
	altered.finality.justification = format!("0x{}", hex::encode(justification.encode()));
	altered
}

/// Flips the last hex digit of a `0x`-hex string.
fn flip(text: &mut String) {
	let last = text.pop().unwrap();
	text.push(if last == '0' { '1' } else { '0' });
}

#[test]
fn bundles_verify_offline_and_every_alteration_is_named() {
	let home = tempfile::tempdir().unwrap();
	let node = Node::dev();
	let url = node.url();
	let (key, device) = alices_device(&url, home.path(), "probe.key");
	// Three anchors of four readings, in three submits: the log has three records, so a
	// record's inclusion proof is not empty.
	for part in 0..3u64 {
		let file = home.path().join(format!("part{part}.jsonl"));
		readings(&file, part * 4..part * 4 + 4, |seq| 4.0 + seq as f64 / 10.0);
		alice_submits(&url, home.path(), &device, &key, &["--file", file.to_str().unwrap()]);
	}
	let bundle_path = home.path().join("readings-5-to-9.json");
	ok(provena(&url, home.path()).args([
		"proof",
		"--device",
		&device,
		"--seq",
		"5",
		"--to",
		"9",
		"--out",
		bundle_path.to_str().unwrap(),
	]));
	// Online verification takes its proofs from the node, and believes none of its words.
	let online =
		json(provena(&url, home.path()).args(["verify", "--device", &device, "--seq", "6"]));
	assert_eq!(online["verified"], true, "{online}");
	assert_eq!(online["readings"][0]["first_seq"], 4, "{online}");

	// No node from here on.
	node.stop(Duration::from_secs(30));
	let spec = dev_chain_spec(home.path());
	let offline = |path: &Path| {
		let mut command = provena("ws://127.0.0.1:1", home.path());
		command.args(["verify", "--bundle", path.to_str().unwrap(), "--chain-spec"]).arg(&spec);
		command
	};
	let verified = json(&mut offline(&bundle_path));
	assert_eq!(verified["verified"], true, "{verified}");
	assert_eq!(verified["set_id"], 0, "{verified}");
	assert_eq!(
		(verified["signers"].as_u64(), verified["authorities"].as_u64()),
		(Some(1), Some(1))
	);
	let seqs: Vec<u64> = verified["readings"]
		.as_array()
		.unwrap()
		.iter()
		.map(|r| r["seq"].as_u64().unwrap())
		.collect();
	assert_eq!(seqs, vec![5, 6, 7, 8, 9]);
	let text = ok(&mut offline(&bundle_path));
	assert!(text.contains("finality proven by 1 of 1 authorities of set 0 of chain"), "{text}");

	// The bundle matches the documented JSON Schema.
	let original = std::fs::read_to_string(&bundle_path).unwrap();
	let schema_path = provena_test_utils::in_checkout("../docs/proof-bundle.schema.json");
	let schema: Value =
		serde_json::from_str(&std::fs::read_to_string(&schema_path).unwrap()).unwrap();
	let instance: Value = serde_json::from_str(&original).unwrap();
	if let Err(error) = jsonschema::validator_for(&schema).unwrap().validate(&instance) {
		panic!("the bundle does not match docs/proof-bundle.schema.json: {error}");
	}

	// An altered value through the command: exit code 2 and the reason's name.
	let bundle: Bundle = serde_json::from_str(&original).unwrap();
	let mut altered = bundle.clone();
	altered.readings[1].values[0].milli += 1;
	let altered_path = home.path().join("altered.json");
	std::fs::write(&altered_path, serde_json::to_string(&altered).unwrap()).unwrap();
	let (code, out) = fails(&mut offline(&altered_path));
	assert_eq!(code, 2, "{out}");
	assert!(out.contains("NOT VERIFIED") && out.contains("(ProofMismatch)"), "{out}");
	// A file that is no bundle at all is named too.
	std::fs::write(&altered_path, original.replacen("\"readings\"", "\"readings_\"", 1)).unwrap();
	let (code, out) = fails(&mut offline(&altered_path));
	assert_eq!(code, 2, "{out}");
	assert!(out.contains("(Malformed)"), "{out}");

	// Every other part, in process.
	let trust = Trust::from_chain_spec(&String::from_utf8_lossy(dev_chain_spec_json())).unwrap();
	assert!(verify(&bundle, &trust).is_ok());
	let bob = ed25519::Pair::from_string("//Bob", None).unwrap();
	type Alter = Box<dyn Fn(&Bundle) -> Bundle>;
	let edit = |f: fn(&mut Bundle)| -> Alter {
		Box::new(move |b: &Bundle| {
			let mut b = b.clone();
			f(&mut b);
			b
		})
	};
	let cases: Vec<(&str, Alter, &[&str])> = vec![
		("a value", edit(|b| b.readings[0].values[1].milli -= 1), &["ProofMismatch"]),
		("a metric", edit(|b| b.readings[0].values[0].metric.push('x')), &["ProofMismatch"]),
		("the seq", edit(|b| b.readings[0].seq += 1), &["ProofMismatch"]),
		("a seq outside the anchor", edit(|b| b.readings[0].seq = 2), &["NotCovered"]),
		("a Merkle hash", edit(|b| flip(&mut b.readings[0].path[0])), &["ProofMismatch"]),
		("an MMR hash", edit(|b| flip(&mut b.records[0].log_proof[0])), &["NotInLog"]),
		("a record", edit(|b| flip(&mut b.records[0].encoded)), &["NotInLog"]),
		("a trie node", edit(|b| flip(&mut b.state.proof[0])), &["StateProof"]),
		(
			"the header",
			edit(|b| flip(&mut b.state.header)),
			&["HeaderChain", "JustificationTarget"],
		),
		("the genesis", edit(|b| flip(&mut b.genesis_hash)), &["GenesisMismatch"]),
		(
			"a signature",
			Box::new(|b: &Bundle| {
				with_justification(b, |j| {
					let precommit = &mut j.commit.precommits[0];
					let mut raw = precommit.signature.encode();
					raw[0] ^= 1;
					precommit.signature = Decode::decode(&mut &raw[..]).unwrap();
				})
			}),
			&["BadSignature"],
		),
		(
			"a signer outside the set",
			Box::new(move |b: &Bundle| {
				with_justification(b, move |j| {
					let precommit = &mut j.commit.precommits[0];
					let payload = (
						sp_consensus_grandpa::Message::<Header>::Precommit(
							precommit.precommit.clone(),
						),
						j.round,
						0u64,
					)
						.encode();
					precommit.signature = bob.sign(&payload).into();
					precommit.id = AuthorityId::from(bob.public());
				})
			}),
			&["UnknownAuthority"],
		),
		(
			"too few signers",
			Box::new(|b: &Bundle| with_justification(b, |j| j.commit.precommits.clear())),
			&["TooFewSignatures"],
		),
	];
	for (what, alter, reasons) in cases {
		let why = verify(&alter(&bundle), &trust).expect_err(what);
		assert!(reasons.contains(&why.name()), "{what}: {} ({why})", why.name());
	}

	// Another chain's spec is another trust root.
	let local = Command::new(provena_test_utils::node_binary())
		.args(["build-spec", "--chain", "local", "--raw"])
		.stderr(Stdio::null())
		.output()
		.unwrap();
	let local = Trust::from_chain_spec(&String::from_utf8_lossy(&local.stdout)).unwrap();
	assert_eq!(verify(&bundle, &local).unwrap_err().name(), "GenesisMismatch");
}

#[test]
fn plain_ws_to_another_machine_is_refused_unless_insecure() {
	let home = tempfile::tempdir().unwrap();
	let device = format!("0x{}", "11".repeat(32));
	// 0.0.0.0 is not a loopback address; nothing listens on port 1.
	let (code, out) =
		fails(provena("ws://0.0.0.0:1", home.path()).args(["device", "show", "--device", &device]));
	assert_eq!(code, 1, "{out}");
	assert!(out.contains("refusing ws://0.0.0.0:1") && out.contains("--insecure"), "{out}");
	// With --insecure it is tried (and found unreachable); wss:// is tried without the flag.
	for (url, insecure) in [("ws://0.0.0.0:1", true), ("wss://0.0.0.0:1", false)] {
		let mut command = provena(url, home.path());
		command.args(["device", "show", "--device", &device]);
		if insecure {
			command.arg("--insecure");
		}
		let (_, out) = fails(&mut command);
		assert!(out.contains("cannot reach the node"), "{url}: {out}");
		assert!(!out.contains("refusing"), "{url}: {out}");
	}
}
