//! The real node on a real dev chain: it starts, produces blocks, GRANDPA finalizes them, it
//! reports the chain's token properties, and it stops cleanly on SIGTERM.

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

	let properties = node.rpc("system_properties", json!([])).expect("properties");
	assert_eq!(properties["tokenSymbol"], "PRV");
	assert_eq!(properties["tokenDecimals"], 12);
	assert_eq!(properties["ss58Format"], 42);

	let status = node.stop(Duration::from_secs(30));
	assert!(status.success(), "the node exited with {status} on SIGTERM");
}
