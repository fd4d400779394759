//! The client's side of the shared-encoding proof: a batch of readings built and signed here
//! must be byte for byte the committed fixture `fixtures/client-batch.hex`, which the telemetry
//! pallet's tests anchor and verify. Change the encoding on either side and one of the two
//! tests fails.
//!
//! To rewrite the fixture after a deliberate format change: `PROVENA_BLESS=1 cargo test -p
//! provena-client --test shared_encoding`, then run the pallet's tests.

use codec::Encode;
use provena_client::readings::{Batch, KeyPair, Scheme, SignedAnchor};
use provena_primitives::{
	telemetry::{Measurement, MetricName, Reading},
	DeviceKey,
};
use sp_core::H256;

/// The fixture: (genesis hash, device key, readings, signed anchor, proof of each reading).
type Fixture = (H256, DeviceKey, Vec<Reading>, SignedAnchor, Vec<Vec<H256>>);

/// The fixture's path, in this checkout.
fn fixture_path() -> std::path::PathBuf {
	provena_test_utils::in_checkout("../fixtures/client-batch.hex")
}

/// The genesis hash the fixture is signed for; the pallet's test chain is given the same.
fn genesis() -> H256 {
	H256::repeat_byte(0x45)
}

/// Eight heart-rate readings of the demo ECG, one a minute, on 2026-11-21.
fn readings() -> Vec<Reading> {
	let device = sp_crypto_hashing::blake2_256(b"provena-demo:ward-3-ecg-1");
	let bpm = [72_000, 75_000, 71_000, 128_000, 90_000, 74_000, 73_000, 70_000];
	bpm.iter()
		.enumerate()
		.map(|(i, value)| Reading {
			device,
			seq: 40 + i as u64,
			timestamp_ms: 1_795_219_200_000 + 60_000 * i as u64,
			values: vec![Measurement {
				metric: MetricName::truncate_from(b"heart_rate_bpm".to_vec()),
				value: *value,
			}],
			payload_hash: (i == 3).then(|| sp_crypto_hashing::blake2_256(b"sealed ECG strip")),
		})
		.collect()
}

fn build() -> Fixture {
	// ed25519 signatures are deterministic, so the whole fixture is reproducible.
	let signer = KeyPair::from_uri(Scheme::Ed25519, "//Alice//device//2").unwrap();
	let batch = Batch::new(readings()).unwrap();
	// The demo's heart-rate rule makes the metric public.
	let public = [MetricName::truncate_from(b"heart_rate_bpm".to_vec())].into();
	let anchor = batch.sign(&signer, &genesis(), None, &public);
	let proofs = (40..48).map(|seq| batch.proof(seq).unwrap()).collect();
	(genesis(), signer.key(), readings(), anchor, proofs)
}

#[test]
fn the_committed_fixture_is_what_the_client_builds() {
	let built = hex::encode(build().encode());
	if std::env::var_os("PROVENA_BLESS").is_some() {
		std::fs::write(fixture_path(), format!("{built}\n")).unwrap();
	}
	let path = fixture_path();
	let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
		panic!("{}: {e}; run with PROVENA_BLESS=1 to create it", path.display())
	});
	assert_eq!(
		committed.trim(),
		built,
		"the client's bytes differ from the committed fixture: the encoding changed. If on \
		 purpose, rerun with PROVENA_BLESS=1 and run the telemetry pallet's tests"
	);
}

#[test]
fn the_fixture_signature_is_the_device_keys() {
	let (genesis, key, _, anchor, _) = build();
	assert!(key.verify(&anchor.statement.signing_hash(&genesis), &anchor.signature));
	// The batch publishes the extremes: 70.000 at seq 47 and 128.000 at seq 43.
	let values: Vec<(u64, i64)> =
		anchor.statement.values.iter().map(|v| (v.seq, v.value)).collect();
	assert_eq!(values, vec![(47, 70_000), (43, 128_000)]);
}
