//! `provena_finalityProof` on a real dev chain: a justification for a final block, with or
//! without the headers up to the justified block, and a named refusal for a block that is not
//! final. Upstream `grandpa_proveFinality` refuses the same request on a chain whose authority
//! set never changed, which is why the node serves its own method.

use codec::Decode;
use provena_runtime::opaque::Block;
use provena_test_utils::Node;
use serde_json::json;
use sp_runtime::traits::Block as BlockT;
use std::time::Duration;

type Header = <Block as BlockT>::Header;

/// `provena_finalityProof`'s answer, decoded: the justified block, the justification, headers.
fn proof(node: &Node, params: serde_json::Value) -> (sp_core::H256, Vec<u8>, Vec<Header>) {
	let answer = node.rpc("provena_finalityProof", params).expect("a finality proof");
	let bytes = hex_bytes(answer.as_str().expect("hex"));
	Decode::decode(&mut &bytes[..]).expect("(hash, justification, headers)")
}

fn hex_bytes(text: &str) -> Vec<u8> {
	let digits = text.trim_start_matches("0x");
	(0..digits.len())
		.step_by(2)
		.map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
		.collect()
}

#[test]
fn final_blocks_are_proven_and_others_refused() {
	let mut node = Node::dev();
	let finalized = node.wait_for("4 finalized blocks", Duration::from_secs(120), |node| {
		node.finalized_number().filter(|number| *number >= 4)
	});

	// Block 1, with the headers from block 2 up to the justified block, each the child of the
	// one before.
	let (justified, justification, headers) = proof(&node, json!([1]));
	assert!(!justification.is_empty());
	let numbers: Vec<u32> = headers.iter().map(|h| h.number).collect();
	let last = *numbers.last().expect("headers after block 1");
	assert_eq!(numbers, (2..=last).collect::<Vec<u32>>());
	assert!(u64::from(last) >= finalized);
	assert_eq!(headers.last().unwrap().hash(), justified);
	for pair in headers.windows(2) {
		assert_eq!(pair[1].parent_hash, pair[0].hash());
	}
	// Without headers: the same kind of answer, no headers.
	let (_, _, none) = proof(&node, json!([1, false]));
	assert!(none.is_empty());

	// Upstream's method refuses on this chain; a block far ahead is refused by name.
	let upstream = node.rpc("grandpa_proveFinality", json!([1]));
	assert!(upstream.is_err(), "grandpa_proveFinality answered: {upstream:?}");
	let ahead = node.rpc("provena_finalityProof", json!([1_000_000])).unwrap_err();
	assert!(ahead.contains("7101") && ahead.contains("not final"), "{ahead}");

	let status = node.stop(Duration::from_secs(30));
	assert!(status.success(), "the node exited with {status} on SIGTERM");
}
