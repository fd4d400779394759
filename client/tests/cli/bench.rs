//! `provena-bench` runs every scenario, small, and its figures hold together.

use super::*;
use provena_test_utils::Node;

#[test]
fn bench_measures_the_baseline_and_every_anchor_scenario() {
	let home = tempfile::tempdir().unwrap();
	let node = Node::dev();
	let report = json(provena_bench(&node.url(), home.path()).args([
		"--funder",
		"//Alice",
		"--gateways",
		"//Bob,//Charlie,//Dave,//Eve",
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
