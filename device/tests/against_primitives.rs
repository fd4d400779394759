//! The device crate produces, byte for byte, what `provena-primitives` (the runtime's own code)
//! produces: on the committed shared fixture that the telemetry pallet's tests anchor, and on
//! arbitrary readings, batches and statements.

use codec::Decode;
use proptest::prelude::*;
use provena_device as device;
use provena_primitives::{
	telemetry::{
		batch_proof, batch_root, Anchor, AnchorStatement, MaxPublicValues, Measurement, MetricName,
		PublicValue, Reading, TimeRange,
	},
	DeviceKey,
};
use sp_core::{ed25519, sr25519, Pair, H256};
use sp_runtime::{BoundedVec, MultiSignature};

/// The shared fixture, as `client/tests/shared_encoding.rs` writes it.
type Fixture = (H256, DeviceKey, Vec<Reading>, Anchor<MaxPublicValues>, Vec<Vec<H256>>);

fn fixture() -> Fixture {
	let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("run through cargo test");
	let path = std::path::Path::new(&manifest).join("../fixtures/client-batch.hex");
	let text = std::fs::read_to_string(&path).expect("the shared fixture");
	let bytes = hex::decode(text.trim()).expect("hex");
	Fixture::decode(&mut &bytes[..]).expect("the fixture decodes")
}

/// Runs `f` on `reading` as the device crate sees it.
fn with_device_reading<R>(reading: &Reading, f: impl FnOnce(device::Reading<'_>) -> R) -> R {
	let values: Vec<device::Measurement<'_>> = reading
		.values
		.iter()
		.map(|m| device::Measurement { metric: &m.metric, value: m.value })
		.collect();
	f(device::Reading {
		device: reading.device,
		seq: reading.seq,
		timestamp_ms: reading.timestamp_ms,
		values: &values,
		payload_hash: reading.payload_hash,
	})
}

fn device_leaf(reading: &Reading) -> [u8; 32] {
	with_device_reading(reading, |r| r.leaf().expect("a valid reading"))
}

/// The device crate's signing hash of a primitives statement.
fn device_signing_hash(
	statement: &AnchorStatement<MaxPublicValues>,
	genesis: &[u8; 32],
) -> Result<[u8; 32], device::Error> {
	let values: Vec<device::PublicValue<'_>> = statement
		.values
		.iter()
		.map(|v| device::PublicValue { seq: v.seq, metric: &v.metric, value: v.value })
		.collect();
	device::Statement {
		device: statement.device,
		first_seq: statement.first_seq,
		count: statement.count,
		root: statement.root.0,
		first_ms: statement.time.first_ms,
		last_ms: statement.time.last_ms,
		payload_hash: statement.payload_hash.map(|h| h.0),
		values: &values,
	}
	.signing_hash(genesis)
}

fn device_paths(leaves: &[[u8; 32]]) -> Vec<Vec<H256>> {
	let mut scratch = vec![[0u8; 32]; leaves.len()];
	(0..leaves.len())
		.map(|index| {
			let mut path = [[0u8; 32]; device::MAX_PATH_LEN];
			let len = device::batch_path(leaves, index, &mut scratch, &mut path).unwrap();
			path[..len].iter().copied().map(H256).collect()
		})
		.collect()
}

#[test]
fn the_shared_fixture_is_what_the_device_crate_builds() {
	let (genesis, key, readings, anchor, proofs) = fixture();
	let leaves: Vec<[u8; 32]> = readings.iter().map(device_leaf).collect();
	let expected: Vec<[u8; 32]> = readings.iter().map(|r| r.leaf().0).collect();
	assert_eq!(leaves, expected);

	let mut nodes = leaves.clone();
	assert_eq!(device::batch_root(&mut nodes).unwrap(), anchor.statement.root.0);
	assert_eq!(device_paths(&leaves), proofs);

	let hash = device_signing_hash(&anchor.statement, &genesis.0).unwrap();
	assert_eq!(hash, anchor.statement.signing_hash(&genesis));

	// The fixture's device key is `//Alice//device//2` (ed25519, deterministic signatures).
	let pair = ed25519::Pair::from_string("//Alice//device//2", None).unwrap();
	let key_here = device::Ed25519Key::from_seed(&pair.seed());
	assert_eq!(key, DeviceKey::Ed25519(ed25519::Public::from_raw(key_here.public())));
	let signature = key_here.sign(&hash);
	let multi = MultiSignature::decode(&mut &signature.scale_bytes()[..]).unwrap();
	assert_eq!(multi, anchor.signature, "the device signs exactly what the client signed");
	assert!(key.verify(&hash, &multi));
}

#[test]
fn an_sr25519_device_key_is_substrates_and_its_signatures_verify_on_chain() {
	let seed = [0x5a; 32];
	let substrate = sr25519::Pair::from_seed(&seed);
	let key = device::Sr25519Key::from_seed(&seed);
	assert_eq!(key.public(), substrate.public().0);
	let hash = sp_crypto_hashing::blake2_256(b"a statement");
	let signature = key.sign(&hash, TestRng(1));
	let multi = MultiSignature::decode(&mut &signature.scale_bytes()[..]).unwrap();
	let on_chain = DeviceKey::Sr25519(substrate.public());
	assert!(on_chain.verify(&hash, &multi));
	assert!(!on_chain.verify(&sp_crypto_hashing::blake2_256(b"another"), &multi));
	// Signed with other randomness, it is another signature of the same hash, as valid.
	let again =
		MultiSignature::decode(&mut &key.sign(&hash, TestRng(2)).scale_bytes()[..]).unwrap();
	assert_ne!(again, multi);
	assert!(on_chain.verify(&hash, &again));
}

#[test]
fn what_the_chain_refuses_the_device_refuses_before_signing() {
	let long = [b'x'; 33];
	let values = [device::Measurement { metric: &long, value: 1 }];
	let reading = device::Reading {
		device: [1; 32],
		seq: 0,
		timestamp_ms: 0,
		values: &values,
		payload_hash: None,
	};
	assert_eq!(reading.leaf(), Err(device::Error::MetricNameTooLong));

	let statement = device::Statement {
		device: [1; 32],
		first_seq: 10,
		count: 2,
		root: [0; 32],
		first_ms: 0,
		last_ms: 0,
		payload_hash: None,
		values: &[],
	};
	assert!(statement.signing_hash(&[0; 32]).is_ok());
	assert_eq!(
		device::Statement { count: 0, ..statement }.signing_hash(&[0; 32]),
		Err(device::Error::EmptyBatch)
	);
	assert_eq!(
		device::Statement { first_seq: u64::MAX, ..statement }.signing_hash(&[0; 32]),
		Err(device::Error::BatchTooLarge)
	);
	let outside = [device::PublicValue { seq: 12, metric: b"t", value: 0 }];
	assert_eq!(
		device::Statement { values: &outside, ..statement }.signing_hash(&[0; 32]),
		Err(device::Error::PublicValueOutsideBatch)
	);
	let many = [device::PublicValue { seq: 11, metric: b"t", value: 0 }; 17];
	assert_eq!(
		device::Statement { values: &many, ..statement }.signing_hash(&[0; 32]),
		Err(device::Error::TooManyPublicValues)
	);

	assert_eq!(device::batch_root(&mut []), Err(device::Error::EmptyBatch));
	let leaves = [[1u8; 32]; 3];
	let mut path = [[0u8; 32]; device::MAX_PATH_LEN];
	assert_eq!(
		device::batch_path(&leaves, 3, &mut [[0; 32]; 3], &mut path),
		Err(device::Error::IndexOutOfRange)
	);
	assert_eq!(
		device::batch_path(&leaves, 0, &mut [[0; 32]; 2], &mut path),
		Err(device::Error::BufferTooSmall)
	);
}

/// A deterministic stand-in for a device's hardware random number generator (tests only).
struct TestRng(u64);

impl rand_core::RngCore for TestRng {
	fn next_u32(&mut self) -> u32 {
		self.next_u64() as u32
	}
	fn next_u64(&mut self) -> u64 {
		self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
		self.0
	}
	fn fill_bytes(&mut self, dest: &mut [u8]) {
		for chunk in dest.chunks_mut(8) {
			let bytes = self.next_u64().to_le_bytes();
			chunk.copy_from_slice(&bytes[..chunk.len()]);
		}
	}
	fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
		self.fill_bytes(dest);
		Ok(())
	}
}

impl rand_core::CryptoRng for TestRng {}

fn metric() -> impl Strategy<Value = MetricName> {
	proptest::collection::vec(any::<u8>(), 0..=32).prop_map(MetricName::truncate_from)
}

fn reading() -> impl Strategy<Value = Reading> {
	(
		any::<[u8; 32]>(),
		any::<u64>(),
		any::<u64>(),
		// Up to 70 values: past 63, a vector's length takes SCALE's two-byte form.
		proptest::collection::vec((metric(), any::<i64>()), 0..70),
		any::<Option<[u8; 32]>>(),
	)
		.prop_map(|(device, seq, timestamp_ms, values, payload_hash)| Reading {
			device,
			seq,
			timestamp_ms,
			values: values
				.into_iter()
				.map(|(metric, value)| Measurement { metric, value })
				.collect(),
			payload_hash,
		})
}

proptest! {
	#[test]
	fn any_reading_has_the_runtimes_leaf(reading in reading()) {
		prop_assert_eq!(device_leaf(&reading), reading.leaf().0);
	}

	#[test]
	fn any_batch_has_the_runtimes_root_and_paths(
		leaves in proptest::collection::vec(any::<[u8; 32]>(), 1..80),
	) {
		let hashes: Vec<H256> = leaves.iter().copied().map(H256).collect();
		let mut nodes = leaves.clone();
		prop_assert_eq!(device::batch_root(&mut nodes).unwrap(), batch_root(&hashes).0);
		let expected: Vec<Vec<H256>> =
			(0..leaves.len() as u32).map(|i| batch_proof(&hashes, i).unwrap()).collect();
		prop_assert_eq!(device_paths(&leaves), expected);
	}

	#[test]
	fn any_statement_has_the_runtimes_signing_hash(
		genesis in any::<[u8; 32]>(),
		device in any::<[u8; 32]>(),
		first_seq in 0u64..u64::MAX / 2,
		count in 1u32..10_000,
		root in any::<[u8; 32]>(),
		time in any::<(u64, u64)>(),
		payload_hash in any::<Option<[u8; 32]>>(),
		values in proptest::collection::vec((any::<u32>(), metric(), any::<i64>()), 0..=16),
	) {
		let values: Vec<PublicValue> = values
			.into_iter()
			.map(|(offset, metric, value)| PublicValue {
				seq: first_seq + u64::from(offset % count),
				metric,
				value,
			})
			.collect();
		let statement = AnchorStatement::<MaxPublicValues> {
			device,
			first_seq,
			count,
			root: H256(root),
			time: TimeRange { first_ms: time.0, last_ms: time.1 },
			payload_hash: payload_hash.map(H256),
			values: BoundedVec::truncate_from(values),
		};
		prop_assert_eq!(
			device_signing_hash(&statement, &genesis).unwrap(),
			statement.signing_hash(&H256(genesis))
		);
		// And the bytes hashed are the statement's SCALE encoding: a change of one field
		// changes the hash.
		let other = AnchorStatement { count: count + 1, ..statement.clone() };
		prop_assert_ne!(
			device_signing_hash(&other, &genesis).unwrap(),
			statement.signing_hash(&H256(genesis))
		);
	}
}
