//! The real node on a real dev chain: it starts, produces blocks, GRANDPA finalizes them one
//! block behind the best, it reports the chain's token properties, and it stops cleanly on
//! SIGTERM.

use provena_test_utils::{parse_hex_u64, Node};
use serde_json::json;
use std::time::Duration;

#[test]
fn dev_node_finalizes_blocks_and_stops_cleanly() {
	let mut node = Node::dev();

	// Three finalized blocks take about 18 s of 6 s slots, plus start-up; two minutes leaves
	// room for a loaded CI machine.
	let finalized = node.wait_for("3 finalized blocks", Duration::from_secs(120), |node| {
		node.finalized_number().filter(|number| *number >= 3)
	});
	assert!(finalized >= 3);

	// The best block is never behind the finalized one, and the chain is the dev chain.
	let best = node.rpc("chain_getHeader", json!([])).expect("best header");
	let best = parse_hex_u64(best["number"].as_str().expect("number")).expect("hex");
	assert!(best >= finalized, "best #{best} is behind finalized #{finalized}");
	assert_eq!(node.rpc("system_chain", json!([])).expect("chain name"), "Provena Development");

	// GRANDPA votes one block behind the best, so finality catches up to the best block's
	// parent. Finalized first, then best: with votes two behind (the SDK's default rule) the
	// gap read this way is never under two.
	let gap = node.wait_for("finality one block behind", Duration::from_secs(60), |node| {
		let finalized = node.finalized_number()?;
		let best = node.rpc("chain_getHeader", json!([])).ok()?;
		let best = parse_hex_u64(best["number"].as_str()?)?;
		best.checked_sub(finalized).filter(|gap| *gap <= 1)
	});
	assert!(gap <= 1);

	let properties = node.rpc("system_properties", json!([])).expect("properties");
	assert_eq!(properties["tokenSymbol"], "PRV");
	assert_eq!(properties["tokenDecimals"], 12);
	assert_eq!(properties["ss58Format"], 42);

	let status = node.stop(Duration::from_secs(30));
	assert!(status.success(), "the node exited with {status} on SIGTERM");
}
