//! A device's log on a real node: batches of many sizes anchored in one transaction, every
//! reading verified at its own position only through the runtime API, with the record and
//! inclusion proof the node's `provena_proof` serves.

use super::*;
use provena_client::{
	chain::{api, Bounded, Chain, LogProof, VerifyError},
	keys::KeyFile,
	readings::{Batch, Record, Scheme},
};
use provena_primitives::telemetry::{batch_proof, Measurement, MetricName, Reading};
use provena_test_utils::Node;
use sp_core::H256;
use subxt::utils::Static;

/// The batch sizes anchored: one reading, odd levels, a power of two and the largest tested.
const SIZES: [u32; 7] = [1, 2, 3, 5, 255, 256, 4_096];

fn reading(device: [u8; 32], seq: u64) -> Reading {
	Reading {
		device,
		seq,
		timestamp_ms: 1_700_000_000_000 + seq,
		values: vec![Measurement {
			metric: MetricName::truncate_from(b"temperature".to_vec()),
			value: seq as i64,
		}],
		payload_hash: None,
	}
}

/// Whether the runtime answered `ProofMismatch`.
fn mismatch(answer: Result<Record, VerifyError>) -> bool {
	matches!(answer, Err(VerifyError::ProofMismatch))
}

#[test]
fn every_reading_verifies_at_its_own_position_only_through_the_runtime_api() {
	let node = Node::dev();
	let home = tempfile::tempdir().unwrap();
	let (key_path, device) = alices_device(&node.url(), home.path(), "probe.key");
	let (_, device_key) = KeyFile::read(std::path::Path::new(&key_path)).unwrap();
	let device = provena_client::parse_device(&device).unwrap();

	tokio::runtime::Runtime::new().unwrap().block_on(async {
		let chain = Chain::connect(&node.url()).await.unwrap();
		// One gateway batch carrying an anchor of each size, consecutive sequence numbers.
		let mut batches = Vec::new();
		let mut first = 0u64;
		for size in SIZES {
			let readings =
				(first..first + u64::from(size)).map(|seq| reading(device, seq)).collect();
			batches.push(Batch::new(readings).unwrap());
			first += u64::from(size);
		}
		let items = batches
			.iter()
			.map(|batch| api::runtime_types::pallet_telemetry::types::BatchItem {
				anchor: Static(batch.sign(
					&device_key,
					&chain.genesis_hash(),
					None,
					&Default::default(),
				)),
				payload: None,
			})
			.collect();
		let alice = KeyFile::from_uri(Scheme::Sr25519, "//Alice").unwrap().1;
		let call = api::transactions().telemetry().anchor_batch(Bounded(items));
		chain.submit(&call, &alice).await.expect("the batch is anchored");

		for (index, batch) in batches.iter().enumerate() {
			let count = batch.readings().len() as u32;
			let first_seq = batch.first_seq();
			let found = chain.log_proof(device, first_seq).await.unwrap().expect("served");
			assert_eq!((found.record.index, found.record.count), (index as u64, count));
			let leaves: Vec<H256> = batch.readings().iter().map(Reading::leaf).collect();
			let (chain, base) = (&chain, &found);
			let verify = move |seq: u64, leaf: H256, path: Vec<H256>, record: Record| {
				let found = LogProof { record, ..base.clone() };
				async move { chain.verify_reading(&found, device, seq, leaf, path).await }
			};
			for position in 0..count {
				let seq = first_seq + u64::from(position);
				let leaf = leaves[position as usize];
				let path = batch_proof(&leaves, position).unwrap();
				let answer = verify(seq, leaf, path.clone(), found.record.clone()).await.unwrap();
				assert!(
					matches!(answer, Ok(ref r) if r.index == index as u64),
					"size {count} position {position}: {answer:?}"
				);
				// The same leaf and path at the neighbouring positions (a sample for big
				// batches: every 97th), and the path truncated or padded, never verify.
				if count <= 256 || position % 97 == 0 {
					for other in [position.wrapping_sub(1), position + 1] {
						if other < count {
							let wrong = first_seq + u64::from(other);
							let answer = verify(wrong, leaf, path.clone(), found.record.clone());
							assert!(
								mismatch(answer.await.unwrap()),
								"size {count}: reading {position} claimed at {other}"
							);
						}
					}
					if let Some((_, shorter)) = path.split_last() {
						let answer = verify(seq, leaf, shorter.to_vec(), found.record.clone());
						assert!(mismatch(answer.await.unwrap()));
					}
					let mut longer = path.clone();
					longer.push(found.record.root);
					let answer = verify(seq, leaf, longer, found.record.clone());
					assert!(mismatch(answer.await.unwrap()));
				}
			}
			// An inner node of the batch tree never verifies as a reading.
			if count >= 4 {
				let inner = provena_primitives::telemetry::tagged_hash(
					&provena_primitives::telemetry::NODE_TAG,
					&[leaves[0].as_bytes(), leaves[1].as_bytes()].concat(),
				);
				let path = batch_proof(&leaves, 0).unwrap();
				for cut in [1, 0] {
					let answer =
						verify(first_seq, inner, path[cut..].to_vec(), found.record.clone());
					assert!(mismatch(answer.await.unwrap()));
				}
			}
		}
		// The whole log, through provena_history.
		let page = chain.history(device, 0, u64::MAX, 100).await.unwrap().expect("served");
		assert_eq!(page.anchors, SIZES.len() as u64);
		let firsts: Vec<u64> = page.records.iter().map(|r| r.decode().unwrap().first_seq).collect();
		let expected: Vec<u64> = SIZES
			.iter()
			.scan(0u64, |next, size| {
				let first = *next;
				*next += u64::from(*size);
				Some(first)
			})
			.collect();
		assert_eq!(firsts, expected);
	});
}

#[test]
fn a_gateway_sends_again_what_the_chain_deferred_behind_a_refusal() {
	let node = Node::dev();
	let home = tempfile::tempdir().unwrap();
	let (key, device) = alices_device(&node.url(), home.path(), "gap.key");
	// Reading 0 claims a time decades ahead: the chain refuses its anchor. Readings 1..=3
	// travel in the same batch, so the chain refuses them too rather than leave reading 0 a
	// silent hole; the gateway sends them again, alone, and they go through after a gap.
	let file = home.path().join("gap.jsonl");
	let lines: Vec<String> = (0..4u64)
		.map(|seq| {
			let at = if seq == 0 { 4_000_000_000_000u64 } else { 1_700_000_000_000 + seq };
			serde_json::json!({ "seq": seq, "timestamp_ms": at, "values": { "temperature": 4.0 } })
				.to_string()
		})
		.collect();
	std::fs::write(&file, lines.join("\n") + "\n").unwrap();
	let (code, out) = fails(provena(&node.url(), home.path()).args([
		"--json",
		"submit",
		"--suri",
		"//Alice",
		"--device",
		&device,
		"--device-key",
		&key,
		"--file",
		file.to_str().unwrap(),
		"--batch-size",
		"1",
		"--anchors-per-tx",
		"4",
	]));
	assert_eq!(code, 3, "{out}");
	let summary: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
	assert_eq!(summary["rejected"], 1, "{summary}");
	assert_eq!(summary["deferred"], 3, "{summary}");
	assert_eq!(summary["anchored"], 3, "{summary}");
	assert!(
		summary["events"]
			.as_array()
			.unwrap()
			.iter()
			.any(|e| e["event"] == "sequence_gap" && e["from"] == 0 && e["to"] == 0),
		"{summary}"
	);
	let history = json(provena(&node.url(), home.path()).args(["history", "--device", &device]));
	assert_eq!(first_seqs(&history), vec![1, 2, 3]);
}
