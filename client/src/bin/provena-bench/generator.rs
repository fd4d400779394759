//! The scenarios' transactions: whose turn it is, their nonces, the devices' sequence numbers.

use crate::{args::Scenario, cast::Cast, prebuilt::Prebuilt};
use anyhow::Result;
use provena_client::{
	chain::{
		api::{self, runtime_types::pallet_telemetry::types::BatchItem},
		tx::{general_at, sign_at},
		AtBlock, Bounded, Signed,
	},
	readings::{Batch, KeyPair, SignedAnchor, Statement},
	report::now_ms,
};
use provena_primitives::{
	telemetry::{Anchor, Measurement, MetricName, Reading, TimeRange},
	DeviceId,
};
use sp_core::H256;
use subxt::utils::Static;

/// Makes the scenario's transactions: whose turn it is, their nonces, the devices' sequence
/// numbers.
pub struct Generator<'a> {
	pub cast: &'a Cast,
	pub scenario: Scenario,
	pub gateway_batch: u32,
	pub merkle_readings: u32,
	/// Next nonce per account (device accounts first, then gateways).
	pub nonces: Vec<u64>,
	/// Next sequence number per device (for the anchors built here, not ahead).
	pub next_seq: Vec<u64>,
	/// The Merkle scenario's anchors, built ahead on threads of their own.
	pub prebuilt: Option<Prebuilt>,
	pub turn: usize,
	/// Per gateway, the next of its devices to anchor for.
	pub fleet_turn: Vec<usize>,
	pub remarks: u64,
}

/// A transaction ready to send, with what it carries.
pub struct Made {
	pub tx: Signed,
	pub readings: u32,
	/// Readings per anchor (what a refused anchor of a batch takes away).
	pub per_anchor: u32,
	/// The account (index into the generator's nonces) that signed it.
	pub account: usize,
}

impl Generator<'_> {
	fn single_anchor(&mut self, device: usize, count: u32) -> Result<SignedAnchor> {
		let first_seq = self.next_seq[device];
		self.next_seq[device] += u64::from(count);
		build_anchor(&self.cast.devices[device], &self.cast.genesis, first_seq, count)
	}

	/// The next transaction of the scenario, signed against `at`; `None` while the anchors
	/// built ahead have run out.
	pub fn next(&mut self, at: &AtBlock) -> Result<Option<Made>> {
		let devices = self.cast.devices.len();
		if let Some(prebuilt) = &mut self.prebuilt {
			let Some((device, anchor)) = prebuilt.next()? else { return Ok(None) };
			let readings = anchor.statement.count;
			let call = api::transactions().telemetry().device_anchor(Static(anchor), None);
			let tx = general_at(at, &call)?;
			return Ok(Some(Made { tx, readings, per_anchor: readings, account: device }));
		}
		let turn = self.turn;
		self.turn += 1;
		let (account, tx, readings, per_anchor, general) = match self.scenario {
			Scenario::Remark => {
				let account = turn % devices;
				self.remarks += 1;
				let mut bytes = [0u8; 32];
				bytes[..8].copy_from_slice(&self.remarks.to_le_bytes());
				bytes[8..16].copy_from_slice(&now_ms().to_le_bytes());
				let call = api::transactions().system().remark_with_event(bytes.to_vec());
				let key = &self.cast.devices[account];
				(account, sign_at(at, &call, key, self.nonces[account])?, 1, 1, false)
			},
			Scenario::Single | Scenario::Merkle => {
				let device = turn % devices;
				let count =
					if self.scenario == Scenario::Single { 1 } else { self.merkle_readings };
				// Device-authorized: the device's signature is the transaction, a credit pays.
				let anchor = self.single_anchor(device, count)?;
				let call = api::transactions().telemetry().device_anchor(Static(anchor), None);
				(device, general_at(at, &call)?, count, count, true)
			},
			Scenario::Gateway => {
				let gateway = turn % self.cast.gateways.len();
				let fleet = &self.cast.fleets[gateway];
				let mut items = Vec::new();
				for _ in 0..self.gateway_batch.min(fleet.len() as u32) {
					let device = fleet[self.fleet_turn[gateway] % fleet.len()];
					self.fleet_turn[gateway] += 1;
					let anchor = self.single_anchor(device, 1)?;
					items.push(BatchItem { anchor: Static(anchor), payload: None });
				}
				let readings = items.len() as u32;
				let call = api::transactions().telemetry().anchor_batch(Bounded(items));
				let account = devices + gateway;
				let key = &self.cast.gateways[gateway];
				(account, sign_at(at, &call, key, self.nonces[account])?, readings, 1, false)
			},
		};
		if !general {
			self.nonces[account] += 1;
		}
		Ok(Some(Made { tx, readings, per_anchor, account }))
	}
}

/// The anchor of `count` readings of the device whose key is `key`, from `first_seq`, signed
/// for the chain with `genesis`: one reading's leaf as the root, or the root of a Merkle batch.
pub fn build_anchor(
	key: &KeyPair,
	genesis: &H256,
	first_seq: u64,
	count: u32,
) -> Result<SignedAnchor> {
	let id: DeviceId = key.public();
	let stamp = now_ms();
	let root = if count == 1 {
		// One reading: its leaf is the root, no tree to build.
		bench_reading(id, first_seq, stamp).leaf()
	} else {
		let readings =
			(0..u64::from(count)).map(|k| bench_reading(id, first_seq + k, stamp)).collect();
		Batch::new(readings)?.root()
	};
	let statement = Statement {
		device: id,
		first_seq,
		count,
		root,
		time: TimeRange { first_ms: stamp, last_ms: stamp },
		payload_hash: None,
		values: Default::default(),
	};
	let signature = key.sign(&statement.signing_hash(genesis));
	Ok(Anchor { statement, signature })
}

/// A bench reading: one temperature value, so its leaf commits a realistic record.
fn bench_reading(device: DeviceId, seq: u64, timestamp_ms: u64) -> Reading {
	let metric: MetricName = MetricName::truncate_from(b"temperature".to_vec());
	let value = 4_000 + (seq % 1_000) as i64;
	Reading {
		device,
		seq,
		timestamp_ms,
		values: vec![Measurement { metric, value }],
		payload_hash: None,
	}
}
