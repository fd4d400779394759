//! The benchmark's report: each scenario's figures from finalized blocks, the table with the
//! ratios to the baseline, and the run that produces them.

use crate::{
	args::{BenchArgs, Scenario},
	blocks::{dir_size, rate, Limits, Memory},
	cast::Cast,
	load::{run_scenario, Load},
};
use anyhow::{anyhow, Context, Result};
use provena_client::{
	chain::{api, Chain},
	report::percentile,
};
use serde_json::{json, Value};
use std::collections::HashMap;

/// A scenario's figures, from finalized blocks only (a block on a dropped fork counts for
/// nothing).
fn figures(
	load: &Load,
	cast: &Cast,
	args: &BenchArgs,
	scenario: Scenario,
	limits: Limits,
) -> Value {
	let (measure_from, measure_to) = (load.measure_from, load.measure_to);
	let window = (measure_from, measure_to);
	// Figures from finalized blocks only (a block on a dropped fork counts for nothing).
	let mut included = Vec::new();
	let mut finalized = Vec::new();
	let (mut to_block, mut to_final) = (Vec::new(), Vec::new());
	let (mut weight_shares, mut length_shares) = (Vec::new(), Vec::new());
	let mut measured_found = 0u64;
	let mut extrinsics_in_window = 0u64;
	// Blocks of the measured window full by weight: number, weight share, our extrinsics.
	let mut full_blocks = Vec::new();
	for seen in load.blocks.values() {
		let Some(final_at) = seen.finalized else { continue };
		let mut readings = 0u64;
		let mut ours = 0u64;
		for (tx, ok, refused) in &seen.extrinsics {
			let Some(s) = load.sent.get(tx) else { continue };
			ours += 1;
			if *ok {
				readings += u64::from(s.readings.saturating_sub(refused * s.per_anchor));
			}
			if s.at >= measure_from && s.at <= measure_to {
				measured_found += 1;
				to_block.push((seen.imported - s.at).as_secs_f64());
				to_final.push((final_at - s.at).as_secs_f64());
			}
		}
		included.push((seen.imported, readings));
		finalized.push((final_at, readings));
		if seen.imported >= measure_from && seen.imported <= measure_to {
			weight_shares.push(seen.weight_share);
			length_shares.push(seen.length_share);
			extrinsics_in_window += ours;
			if seen.weight_share >= 0.95 && ours > 0 {
				full_blocks.push((seen.number, seen.weight_share, ours));
			}
		}
	}
	let measured_sent =
		load.sent.values().filter(|s| s.at >= measure_from && s.at <= measure_to).count() as u64;
	let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
	let in_window: Vec<&(std::time::Instant, Memory)> =
		load.memory.iter().filter(|(t, _)| *t >= measure_from && *t <= measure_to).collect();
	// Memory over a long run: the first sample a minute into the measured window, the largest
	// after it, and the growth between them, for all resident memory and for its anonymous part
	// alone (the node's own heap, without the database files ParityDB maps).
	let minute_in = measure_from + std::time::Duration::from_secs(60);
	let after_minute: Vec<Memory> =
		in_window.iter().filter(|(t, _)| *t >= minute_in).map(|(_, m)| *m).collect();
	let growth = |part: fn(&Memory) -> u64| {
		let first = part(after_minute.first()?);
		let largest = after_minute.iter().map(part).max()?;
		Some(largest as f64 / first as f64 - 1.0)
	};
	// One sample per whole minute of the measured window, for the soak's table.
	let mut by_minute = Vec::new();
	for (at, m) in &in_window {
		let minute = (*at - measure_from).as_secs() / 60;
		if by_minute.len() as u64 == minute {
			by_minute.push(json!({
				"minute": minute,
				"total_bytes": m.total,
				"anon_bytes": m.anon,
				"file_bytes": m.file,
			}));
		}
	}
	// What one of the scenario's extrinsics weighs, and how long the node's proposer took
	// for one, in the full blocks of the measured window.
	let weight_us: Vec<f64> = full_blocks
		.iter()
		.map(|(_, share, ours)| share * limits.normal_ref_time as f64 / 1e6 / *ours as f64)
		.collect();
	let proposer_us: Vec<f64> = match args.node_log.as_deref().map(proposal_times) {
		Some(Ok(times)) => full_blocks
			.iter()
			.filter_map(|(number, _, ours)| Some(times.get(number)? * 1e3 / *ours as f64))
			.collect(),
		Some(Err(error)) => {
			eprintln!("  (not reading the node's log: {error})");
			Vec::new()
		},
		None => Vec::new(),
	};
	let readings_per_tx = match scenario {
		Scenario::Remark | Scenario::Single => 1,
		Scenario::Gateway => args.gateway_batch.min(cast.fleets[0].len() as u32),
		Scenario::Merkle => args.merkle_readings,
	};
	json!({
		"scenario": scenario.key(),
		"label": scenario.label(),
		"readings_per_extrinsic": readings_per_tx,
		"included_readings_per_s": rate(included, window),
		"finalized_readings_per_s": rate(finalized, window),
		"blocks_in_window": weight_shares.len(),
		"extrinsics_per_block": (!weight_shares.is_empty()).then(|| extrinsics_in_window as f64 / weight_shares.len() as f64),
		"submit_to_block_p50_s": percentile(&mut to_block, 50.0),
		"submit_to_block_p99_s": percentile(&mut to_block, 99.0),
		"submit_to_final_p50_s": percentile(&mut to_final, 50.0),
		"submit_to_final_p99_s": percentile(&mut to_final, 99.0),
		"block_weight_share_mean": mean(&weight_shares),
		"block_length_share_mean": mean(&length_shares),
		"full_blocks": full_blocks.len(),
		// Which blocks: `scripts/check-block-weights.sh` executes them again.
		"full_block_numbers": full_blocks.iter().map(|(number, _, _)| *number).collect::<Vec<u64>>(),
		"weight_us_per_extrinsic": mean(&weight_us),
		"proposer_us_per_extrinsic": mean(&proposer_us),
		"node_rss_max_bytes": in_window.iter().map(|(_, m)| m.total).max(),
		"node_rss_after_bytes": load.memory.last().map(|(_, m)| m.total),
		"node_rss_1min_bytes": after_minute.first().map(|m| m.total),
		"node_rss_growth_after_1min": growth(|m| m.total),
		"node_anon_1min_bytes": after_minute.first().map(|m| m.anon),
		"node_anon_growth_after_1min": growth(|m| m.anon),
		"node_file_after_bytes": load.memory.last().map(|(_, m)| m.file),
		"node_memory_by_minute": by_minute,
		"node_db_after_bytes": args.node_db.as_deref().and_then(dir_size),
		"measured_sent": measured_sent,
		"measured_finalized": measured_found,
		"dropped": load.dropped,
		"refused_at_submit": load.refused_submits,
		"first_refusal": load.first_refusal,
		"refusals": load.refusals,
	})
}

/// The time the node's proposer took to build each block, in ms by block number, from its
/// log's "Prepared block for proposing at N (T ms) …" lines.
fn proposal_times(log: &std::path::Path) -> Result<HashMap<u64, f64>> {
	let text = std::fs::read(log).with_context(|| format!("reading {}", log.display()))?;
	let mut times = HashMap::new();
	for line in String::from_utf8_lossy(&text).lines() {
		let Some((_, rest)) = line.split_once("Prepared block for proposing at ") else {
			continue;
		};
		let Some((number, rest)) = rest.split_once(" (") else { continue };
		let Some((ms, _)) = rest.split_once(" ms)") else { continue };
		if let (Ok(number), Ok(ms)) = (number.parse::<u64>(), ms.parse::<f64>()) {
			times.insert(number, ms);
		}
	}
	Ok(times)
}

fn cell(value: &Value, scale: f64, decimals: usize) -> String {
	value.as_f64().map(|v| format!("{:.*}", decimals, v * scale)).unwrap_or_else(|| "–".into())
}

/// The results as a Markdown table, with the ratios to the baseline.
fn table(results: &[Value]) -> String {
	let mut out = String::from(
		"| scenario | readings/tx | readings/s included | readings/s finalized | tx/block | submit→block p50 / p99 (s) | submit→final p50 / p99 (s) | block weight used | block length used | µs per tx: weight / proposer | node RSS max (MiB) | node RSS after (MiB) | node DB after (MiB) |\n\
		 |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
	);
	for r in results {
		out += &format!(
			"| {} | {} | {} | {} | {} | {} / {} | {} / {} | {} % | {} % | {} / {} | {} | {} | {} |\n",
			r["label"].as_str().unwrap_or_default(),
			r["readings_per_extrinsic"],
			cell(&r["included_readings_per_s"], 1.0, 0),
			cell(&r["finalized_readings_per_s"], 1.0, 0),
			cell(&r["extrinsics_per_block"], 1.0, 0),
			cell(&r["submit_to_block_p50_s"], 1.0, 1),
			cell(&r["submit_to_block_p99_s"], 1.0, 1),
			cell(&r["submit_to_final_p50_s"], 1.0, 1),
			cell(&r["submit_to_final_p99_s"], 1.0, 1),
			cell(&r["block_weight_share_mean"], 100.0, 0),
			cell(&r["block_length_share_mean"], 100.0, 0),
			cell(&r["weight_us_per_extrinsic"], 1.0, 1),
			cell(&r["proposer_us_per_extrinsic"], 1.0, 1),
			cell(&r["node_rss_max_bytes"], 1.0 / (1024.0 * 1024.0), 0),
			cell(&r["node_rss_after_bytes"], 1.0 / (1024.0 * 1024.0), 0),
			cell(&r["node_db_after_bytes"], 1.0 / (1024.0 * 1024.0), 0),
		);
	}
	out
}

/// Each scenario's finalized readings/s over the baseline's.
fn ratios(results: &[Value]) -> Value {
	let base = results
		.iter()
		.find(|r| r["scenario"] == "remark")
		.and_then(|r| r["finalized_readings_per_s"].as_f64());
	let mut ratios = serde_json::Map::new();
	if let Some(base) = base.filter(|b| *b > 0.0) {
		for r in results.iter().filter(|r| r["scenario"] != "remark") {
			if let Some(v) = r["finalized_readings_per_s"].as_f64() {
				ratios.insert(r["scenario"].as_str().unwrap_or_default().into(), json!(v / base));
			}
		}
	}
	Value::Object(ratios)
}

/// Runs the benchmark: sets up the cast, runs each scenario, prints and writes the report.
pub async fn run(args: BenchArgs) -> Result<()> {
	let quiet = args.json;
	let chain = &Chain::connect(&args.url).await?;
	let cast = Cast::new(&args, chain.genesis_hash())?;
	let at = chain.finalized().await?;
	let weights = at
		.constants()
		.entry(api::constants().system().block_weights())
		.map_err(|e| anyhow!("System::BlockWeights: {e}"))?;
	let length = at
		.constants()
		.entry(api::constants().system().block_length())
		.map_err(|e| anyhow!("System::BlockLength: {e}"))?;
	let limits = Limits {
		normal_ref_time: weights
			.per_class
			.normal
			.max_total
			.map(|w| w.ref_time)
			.unwrap_or(weights.max_block.ref_time),
		normal_length: u64::from(length.max.normal),
	};
	cast.set_up(chain, quiet).await?;

	let mut results = Vec::new();
	for &scenario in &args.scenarios {
		if !quiet {
			eprintln!(
				"{}: {} s warm-up, {} s measured…",
				scenario.label(),
				args.warmup,
				args.duration
			);
		}
		let load = run_scenario(chain, &cast, &args, scenario, limits, quiet).await?;
		let result = figures(&load, &cast, &args, scenario, limits);
		if !quiet {
			eprintln!(
				"  finalized {} readings/s, p99 submit→final {} s",
				cell(&result["finalized_readings_per_s"], 1.0, 0),
				cell(&result["submit_to_final_p99_s"], 1.0, 1)
			);
			if load.dropped > 0 || load.refused_submits > 0 {
				eprintln!(
					"  dropped {}, refused at submit {}:",
					load.dropped, load.refused_submits
				);
				for (why, count) in &load.refusals {
					eprintln!("    {count} × {why}");
				}
			}
		}
		results.push(result);
	}

	let report = json!({
		"url": chain.url,
		"accounts": args.accounts,
		"gateways": args.gateways.len(),
		"warmup_s": args.warmup,
		"duration_s": args.duration,
		"results": results,
		"ratios_to_remark": ratios(&results),
		"table": table(&results),
	});
	if let Some(path) = &args.out {
		std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
			.with_context(|| format!("writing {}", path.display()))?;
	}
	let mut human = table(&results);
	if let Value::Object(ratios) = &report["ratios_to_remark"] {
		for (name, ratio) in ratios {
			human += &format!("\n{name}/remark: {:.2}", ratio.as_f64().unwrap_or_default());
		}
	}
	if args.json {
		println!("{report}");
	} else {
		println!("{human}");
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::proposal_times;

	#[test]
	fn proposal_times_come_from_the_node_s_prepared_block_lines() {
		let dir = tempfile::tempdir().expect("a temporary directory");
		let log = dir.path().join("node.log");
		let lines = [
			"2026-12-03 02:49:49 🎁 Prepared block for proposing at 45 (1051 ms) hash: 0xdc; \
			 parent_hash: 0x3d; end: HitBlockWeightLimit; extrinsics_count: 6076",
			"2026-12-03 02:49:50 💤 Idle (0 peers), best: #45 (0xdcc1…67), finalized #44",
			"2026-12-03 02:49:55 🎁 Prepared block for proposing at 46 (7 ms) hash: 0x03; \
			 parent_hash: 0xe9; end: NoMoreTransactions; extrinsics_count: 1",
			"a line cut off: Prepared block for proposing at 47 (",
		];
		std::fs::write(&log, lines.join("\n")).expect("written");
		let times = proposal_times(&log).expect("read");
		assert_eq!(times.len(), 2);
		assert_eq!(times[&45], 1051.0);
		assert_eq!(times[&46], 7.0);
		assert!(proposal_times(&dir.path().join("missing.log")).is_err());
	}
}
