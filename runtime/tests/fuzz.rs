//! Fuzz targets for what anyone may hand the runtime: bytes claiming to be a call or an
//! extrinsic, and the arguments of the verification API. Each target takes arbitrary bytes and
//! must never panic; the verification target also checks that nothing but a genuine reading is
//! ever confirmed.
//!
//! - `decode`: the bytes as a `RuntimeCall`, and as an extrinsic behind a correct length prefix.
//!   Whatever decodes re-encodes to exactly the bytes it came from (no second encoding of the
//!   same call), and its dispatch info (its weight, from its arguments) is computed.
//! - `dispatch`: a call that decodes is dispatched, signed by Alice (the demo devices' owner,
//!   here without the sudo key), on the development chain with three anchors in the demo
//!   thermometer's log; every dispatch is rolled back, so each input stands alone.
//! - `verify`: `TelemetryApi::verify_reading` with arguments built from the bytes: genuine
//!   leaves, paths, records and log proofs, mutated or replaced by random ones. An `Ok` must
//!   name the genuine leaf of the reading asked about.
//!
//! Inputs are drawn from a seeded generator that is biased toward Provena's pallets and starts
//! from mutations of real calls. `cargo test` replays every input saved under
//! `runtime/fuzz/regressions/<target>/` and a few hundred fresh ones per target with a fixed
//! seed; `scripts/fuzz.sh` runs each target for a given time with a new seed and prints how
//! many inputs it ran. An input that panics is saved there, named by its hash, and from then on
//! replayed by every `cargo test`.

use codec::{Compact, DecodeLimit, Encode};
use frame_support::{
	dispatch::GetDispatchInfo,
	storage::{with_transaction, TransactionOutcome},
	traits::UnfilteredDispatchable,
};
use pallet_telemetry::runtime_api::runtime_decl_for_telemetry_api::TelemetryApiV1;
use provena_primitives::{
	device_log::{find_leaf, AnchorRecord},
	telemetry::{batch_proof, MetricName},
};
use provena_runtime::{
	AccountId, Block, BlockNumber, Runtime, RuntimeCall, RuntimeOrigin, System, Telemetry,
	UncheckedExtrinsic,
};
use sp_core::H256;
use sp_keyring::Sr25519Keyring;
use std::{
	cell::RefCell,
	path::PathBuf,
	time::{Duration, Instant},
};

mod common;
use common::{anchor, demo_key, dev_chain, leaves, reading, thermometer_id as thermometer};

type Record = AnchorRecord<AccountId, BlockNumber>;

/// The nesting depth the node decodes extrinsics with (`sp_api::MAX_EXTRINSIC_DEPTH`).
const MAX_DEPTH: u32 = 256;

/// The anchors in the fixture's log: (first sequence number, readings).
const ANCHORS: [(u64, u64); 3] = [(0, 16), (16, 1), (17, 5)];

/// Readings the fixture anchored: sequence numbers below this.
const ANCHORED: u64 = 22;

// --- The fixture: the development chain with the demo thermometer's log ---------------------

/// The chain every target runs on, with what the verification target checks against.
struct Fixture {
	ext: sp_io::TestExternalities,
	/// Each anchor's record, as the log holds it, with its genuine inclusion proof.
	records: Vec<(Record, Vec<H256>)>,
	/// Real calls, encoded: where mutated inputs start.
	seeds: Vec<Vec<u8>>,
}

fn fixture() -> Fixture {
	let mut ext = dev_chain();
	let alice = || RuntimeOrigin::signed(Sr25519Keyring::Alice.to_account_id());
	let (mut records, mut seeds) = (Vec::new(), Vec::new());
	ext.execute_with(|| {
		// No sudo key: Alice's calls run with her own rights only. (Root could reach
		// `set_code`, which needs an executor the test has not got.)
		pallet_sudo::Key::<Runtime>::kill();
		for (first, count) in ANCHORS {
			let anchor = anchor(&demo_key(), first, count);
			seeds.push(
				RuntimeCall::Telemetry(pallet_telemetry::Call::anchor {
					anchor: anchor.clone(),
					payload: None,
				})
				.encode(),
			);
			Telemetry::anchor(alice(), anchor, None).expect("the fixture's anchors are valid");
		}
		records = System::events()
			.into_iter()
			.filter_map(|r| match r.event {
				provena_runtime::RuntimeEvent::Telemetry(pallet_telemetry::Event::Anchored {
					record,
				}) => Some(record),
				_ => None,
			})
			.map(|record| (record, Vec::new()))
			.collect();
	});
	assert_eq!(records.len(), ANCHORS.len(), "every fixture anchor is in the log");
	ext.persist_offchain_overlay();
	let offchain = ext.offchain_db();
	let state = ext.execute_with(|| Telemetry::device_state(thermometer())).expect("a log");
	for (index, (_, proof)) in records.iter_mut().enumerate() {
		let (_, found) =
			find_leaf(state.anchors, &state.peaks, index as u64, |key| offchain.get(key))
				.expect("the log's entries were indexed");
		*proof = found;
	}
	seeds.extend([
		RuntimeCall::AccessControl(pallet_access_control::Call::publish_encryption_key {
			key: [7; 32],
		})
		.encode(),
		RuntimeCall::AccessControl(pallet_access_control::Call::withdraw_encryption_key {})
			.encode(),
		RuntimeCall::Telemetry(pallet_telemetry::Call::set_alert_rule {
			device: thermometer(),
			metric: MetricName::truncate_from(b"temp_c".to_vec()),
			min: Some(2_000),
			max: Some(8_000),
		})
		.encode(),
		RuntimeCall::DeviceRegistry(pallet_device_registry::Call::suspend {
			device: thermometer(),
		})
		.encode(),
	]);
	Fixture { ext, records, seeds }
}

thread_local! {
	static FIXTURE: RefCell<Fixture> = RefCell::new(fixture());
	/// Inputs that got past decoding, per target: a fuzz run that decodes nothing tests
	/// nothing.
	static DEEP: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
	/// Dispatched calls that succeeded.
	static SUCCEEDED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts an input that reached the target's real work.
fn deep() {
	DEEP.with(|deep| deep.set(deep.get() + 1));
}

// --- The targets -----------------------------------------------------------------------------

/// The bytes as a call and as an extrinsic: decoding never panics, and what decodes is
/// canonical and weighs something.
fn decode(bytes: &[u8]) {
	if let Ok(call) = RuntimeCall::decode_all_with_depth_limit(MAX_DEPTH, &mut &bytes[..]) {
		deep();
		assert_eq!(call.encode(), bytes, "a call decoded from bytes it does not encode to");
		let _ = call.get_dispatch_info();
	}
	let mut prefixed = Compact(bytes.len() as u32).encode();
	prefixed.extend_from_slice(bytes);
	if let Ok(xt) = UncheckedExtrinsic::decode_all_with_depth_limit(MAX_DEPTH, &mut &prefixed[..]) {
		assert_eq!(xt.encode(), prefixed, "an extrinsic decoded from bytes it does not encode to");
		let _ = xt.function.get_dispatch_info();
	}
}

/// A call that decodes, dispatched by Alice and rolled back.
fn dispatch(bytes: &[u8]) {
	let Ok(call) = RuntimeCall::decode_all_with_depth_limit(MAX_DEPTH, &mut &bytes[..]) else {
		return;
	};
	deep();
	FIXTURE.with(|fixture| {
		fixture.borrow_mut().ext.execute_with(|| {
			let origin = RuntimeOrigin::signed(Sr25519Keyring::Alice.to_account_id());
			let _ = with_transaction(|| {
				let result = call.dispatch_bypass_filter(origin);
				if result.is_ok() {
					SUCCEEDED.with(|n| n.set(n.get() + 1));
				}
				TransactionOutcome::Rollback(Ok::<_, sp_runtime::DispatchError>(result))
			});
		})
	});
}

/// `verify_reading` with arguments built from the bytes: never panics, and confirms nothing
/// but the genuine reading asked about.
fn verify(bytes: &[u8]) {
	let mut input = Input(bytes);
	FIXTURE.with(|fixture| {
		let mut fixture = fixture.borrow_mut();
		let device = if input.chance(9, 10) { thermometer() } else { input.h256().0 };
		let seq = if input.chance(4, 5) { input.below(ANCHORED + 3) } else { input.u64() };
		let pick = input.below(fixture.records.len() as u64) as usize;
		let (mut record, mut log_proof) = fixture.records[pick].clone();
		let true_leaf = |seq: u64| reading(seq).leaf();
		let leaf = match input.below(4) {
			0 | 1 => true_leaf(seq),
			2 => true_leaf(input.below(ANCHORED)),
			_ => input.h256(),
		};
		let mut path = if record.covers(seq) {
			let batch = leaves(record.first_seq, u64::from(record.count));
			batch_proof(&batch, (seq - record.first_seq) as u32).unwrap_or_default()
		} else {
			Vec::new()
		};
		// Mutations: of the record, the path, the log proof.
		for _ in 0..input.below(4) {
			match input.below(10) {
				0 => record.index = input.u64() % 8,
				1 => record.first_seq = input.below(ANCHORED + 3),
				2 => record.count = input.below(40) as u32,
				3 => record.root = input.h256(),
				4 => record.chain_time_ms = input.u64(),
				5 => path.push(input.h256()),
				6 => {
					path.pop();
				},
				7 => {
					let at = input.below(path.len() as u64 + 1) as usize;
					if let Some(node) = path.get_mut(at) {
						*node = input.h256();
					}
				},
				8 => log_proof.push(input.h256()),
				_ => {
					log_proof.pop();
				},
			}
		}
		if input.chance(1, 20) {
			path = (0..input.below(40)).map(|_| input.h256()).collect();
		}
		if input.chance(1, 20) {
			log_proof = (0..input.below(140)).map(|_| input.h256()).collect();
		}
		let answer = fixture.ext.execute_with(|| {
			<Runtime as TelemetryApiV1<Block, AccountId, BlockNumber>>::verify_reading(
				device,
				seq,
				leaf,
				path.clone(),
				record.clone(),
				log_proof.clone(),
			)
		});
		if let Ok(found) = answer {
			deep();
			assert!(
				device == thermometer() && seq < ANCHORED && leaf == true_leaf(seq),
				"verify_reading confirmed a reading that was never anchored: device {device:?}, \
				 seq {seq}, leaf {leaf:?}, record {record:?}"
			);
			assert!(found.covers(seq), "the confirming record does not cover the reading");
		}
	});
}

/// Reads structured values out of fuzz input; past its end, every value is zero.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
	fn byte(&mut self) -> u8 {
		let (first, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
		self.0 = rest;
		first
	}
	fn u64(&mut self) -> u64 {
		u64::from_le_bytes(std::array::from_fn(|_| self.byte()))
	}
	fn h256(&mut self) -> H256 {
		H256(std::array::from_fn(|_| self.byte()))
	}
	/// A number below `n` (0 when `n` is 0).
	fn below(&mut self, n: u64) -> u64 {
		if n == 0 {
			0
		} else {
			self.u64() % n
		}
	}
	fn chance(&mut self, k: u8, n: u8) -> bool {
		self.byte() % n < k
	}
}

// --- The engine --------------------------------------------------------------------------------

/// xorshift64*: fast, seedable, and good enough to draw fuzz inputs.
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}
	fn below(&mut self, n: u64) -> u64 {
		self.next() % n.max(1)
	}
	fn bytes(&mut self, len: usize) -> Vec<u8> {
		(0..len).map(|_| self.next() as u8).collect()
	}
}

/// The pallet indices of the runtime, Provena's own (10 to 12) listed again to weigh more.
const PALLETS: [u8; 12] = [0, 1, 3, 4, 6, 7, 10, 11, 12, 10, 11, 12];

/// The next input for `target`: a mutated seed call, bytes behind a real pallet and call index,
/// or plain random bytes.
fn generate(target: &str, rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
	if target == "verify" {
		let len = 64 + rng.below(256) as usize;
		return rng.bytes(len);
	}
	match rng.below(8) {
		0..=3 if !seeds.is_empty() => {
			let mut bytes = seeds[rng.below(seeds.len() as u64) as usize].clone();
			for _ in 0..=rng.below(4) {
				let at = rng.below(bytes.len() as u64 + 1) as usize;
				match rng.below(4) {
					0 if at < bytes.len() => bytes[at] = rng.next() as u8,
					1 if at < bytes.len() => {
						bytes.remove(at);
					},
					2 => bytes.insert(at, rng.next() as u8),
					_ => bytes.truncate(at),
				}
			}
			bytes
		},
		4..=6 => {
			let len = rng.below(300) as usize;
			let mut bytes = vec![PALLETS[rng.below(PALLETS.len() as u64) as usize]];
			bytes.push(rng.below(16) as u8);
			bytes.extend(rng.bytes(len));
			bytes
		},
		_ => {
			let len = rng.below(300) as usize;
			rng.bytes(len)
		},
	}
}

/// A fuzz target: takes any bytes, panics on a finding.
type Target = fn(&[u8]);

/// Every target, by name.
const TARGETS: [(&str, Target); 3] =
	[("decode", decode), ("dispatch", dispatch), ("verify", verify)];

/// `target`'s saved regressions, in this checkout: `CARGO_MANIFEST_DIR` is read when the test
/// runs, so a binary built from another checkout sharing the target directory does not look
/// in that one's folder (and find nothing to replay).
fn regressions(target: &str) -> PathBuf {
	let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("run through cargo test");
	PathBuf::from(manifest).join("fuzz/regressions").join(target)
}

/// Runs `input` through `run`; a panic saves the input as a regression and fails the test.
fn attempt(target: &str, run: Target, input: &[u8]) {
	let outcome = std::panic::catch_unwind(|| run(input));
	if outcome.is_err() {
		let dir = regressions(target);
		let name: String =
			sp_io::hashing::blake2_256(input)[..8].iter().map(|b| format!("{b:02x}")).collect();
		let saved = std::fs::create_dir_all(&dir)
			.and_then(|()| std::fs::write(dir.join(&name), input))
			.map(|()| format!("saved as {}", dir.join(&name).display()))
			.unwrap_or_else(|e| format!("could not be saved: {e}"));
		panic!("fuzz target `{target}` panicked on an input ({} bytes), {saved}", input.len());
	}
}

/// Replays `target`'s saved regressions; returns how many.
fn replay(target: &str, run: Target) -> usize {
	let Ok(entries) = std::fs::read_dir(regressions(target)) else { return 0 };
	let mut count = 0;
	for entry in entries {
		let path = entry.expect("a readable regressions folder").path();
		let input = std::fs::read(&path).expect("a readable regression input");
		attempt(target, run, &input);
		count += 1;
	}
	count
}

/// Runs `target` on fresh inputs from `seed` until `budget` is spent (inputs or time).
fn run_for(target: &str, run: Target, seed: u64, budget: Budget) -> u64 {
	let seeds = FIXTURE.with(|fixture| fixture.borrow().seeds.clone());
	let mut rng = Rng(seed | 1);
	let started = Instant::now();
	let mut done = 0u64;
	loop {
		match budget {
			Budget::Inputs(n) if done >= n => break,
			Budget::Time(t) if started.elapsed() >= t => break,
			_ => {},
		}
		let input = generate(target, &mut rng, &seeds);
		attempt(target, run, &input);
		done += 1;
	}
	done
}

#[derive(Clone, Copy)]
enum Budget {
	Inputs(u64),
	Time(Duration),
}

#[test]
fn fuzz_targets_hold_on_their_regressions_and_fresh_inputs() {
	for (target, run) in TARGETS {
		replay(target, run);
		let done = run_for(target, run, 20_261_202, Budget::Inputs(400));
		assert_eq!(done, 400);
	}
}

#[test]
fn the_verify_target_confirms_the_genuine_readings() {
	// The oracle is only worth something if genuine arguments are confirmed.
	let records = FIXTURE.with(|fixture| fixture.borrow().records.clone());
	for (record, log_proof) in records {
		for seq in record.first_seq..record.first_seq + u64::from(record.count) {
			let batch = leaves(record.first_seq, u64::from(record.count));
			let path = batch_proof(&batch, (seq - record.first_seq) as u32).unwrap();
			let answer = FIXTURE.with(|fixture| {
				fixture.borrow_mut().ext.execute_with(|| {
					<Runtime as TelemetryApiV1<Block, AccountId, BlockNumber>>::verify_reading(
						thermometer(),
						seq,
						reading(seq).leaf(),
						path,
						record.clone(),
						log_proof.clone(),
					)
				})
			});
			assert_eq!(answer.map(|found| found.index), Ok(record.index), "reading {seq}");
		}
	}
}

/// `scripts/fuzz.sh`: each target for `PROVENA_FUZZ_SECONDS` (default 200) from seed
/// `PROVENA_FUZZ_SEED` (default: the clock), printing inputs run per target.
#[test]
#[ignore = "long: run by scripts/fuzz.sh"]
fn fuzz() {
	let seconds: u64 =
		std::env::var("PROVENA_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
	let seed: u64 =
		std::env::var("PROVENA_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
			std::time::SystemTime::now()
				.duration_since(std::time::UNIX_EPOCH)
				.map_or(1, |d| d.as_nanos() as u64)
		});
	println!("fuzzing each target for {seconds} s from seed {seed}");
	for (target, run) in TARGETS {
		let replayed = replay(target, run);
		DEEP.with(|deep| deep.set(0));
		let started = Instant::now();
		let done = run_for(target, run, seed, Budget::Time(Duration::from_secs(seconds)));
		let took = started.elapsed().as_secs_f64();
		let deep = DEEP.with(|deep| deep.get());
		let past = match target {
			"verify" => "confirmed (each checked genuine)".to_string(),
			"dispatch" => format!("decoded, {} of them succeeded", SUCCEEDED.with(|n| n.get())),
			_ => "decoded".to_string(),
		};
		println!(
			"fuzz {target}: {done} inputs in {took:.0} s ({:.0}/s), {deep} {past}, \
			 {replayed} regressions replayed, no panic",
			done as f64 / took
		);
	}
}
