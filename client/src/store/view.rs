//! What the gateway's dashboard reads from the store: each device's readings and anchors at a
//! glance, a device's readings with the anchor each belongs to, its recent anchors, and the
//! holes in its sequence numbers (readings that never arrived). Every query reads by index and
//! returns a bounded number of rows; the holes of a device are found by reading its sequence
//! numbers from the index, once per request.

use super::{store_err, to_device, to_h256, Status, Store};
use crate::Error;
use codec::Decode;
use provena_primitives::{
	telemetry::{Reading, Seq},
	DeviceId,
};
use rusqlite::{params, OptionalExtension};
use sp_core::H256;
use std::collections::BTreeMap;

/// One device as the store knows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceSummary {
	/// The device.
	pub device: DeviceId,
	/// The lowest and highest stored sequence numbers.
	pub first_seq: Seq,
	/// See `first_seq`.
	pub last_seq: Seq,
	/// The device's time of its newest reading (the highest sequence number), ms since the
	/// Unix epoch.
	pub last_reading_ms: u64,
	/// Readings stored.
	pub stored: u64,
	/// Readings in anchors final on chain.
	pub finalized: u64,
	/// Readings in anchors signed but not final yet (signed, submitted or in a block).
	pub pending: u64,
	/// Readings in anchors the chain refused.
	pub failed: u64,
	/// Readings not in any anchor yet (raw readings waiting for their batch).
	pub unbatched: u64,
}

impl DeviceSummary {
	/// Sequence numbers between the first and the last stored that never arrived.
	pub fn missing(&self) -> u64 {
		(self.last_seq.saturating_sub(self.first_seq)).saturating_add(1).saturating_sub(self.stored)
	}
}

/// Where the anchor of a reading stands, as the dashboard shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnchorState {
	/// The store's id of the anchor.
	pub id: i64,
	/// Where it stands.
	pub status: Status,
	/// Its block, once known: number and hash.
	pub block: Option<(u64, H256)>,
}

/// A stored reading with where its anchor stands.
#[derive(Clone, Debug)]
pub struct ReadingRow {
	/// The reading.
	pub reading: Reading,
	/// Its anchor, once batched.
	pub anchor: Option<AnchorState>,
}

/// An anchor as the dashboard lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnchorRow {
	/// Where it stands, and its block.
	pub state: AnchorState,
	/// Its first sequence number.
	pub first_seq: Seq,
	/// How many readings it commits.
	pub count: u32,
	/// Their Merkle root.
	pub root: H256,
	/// Why the chain refused it, if it did.
	pub error: Option<String>,
}

/// Which readings of a device to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
	/// The newest `n`.
	Newest(u32),
	/// Up to `n` after sequence number `seq`, the oldest first (what a live view polls for).
	After(Seq, u32),
}

impl Store {
	/// Every device with readings in the store, by device id.
	pub fn device_summaries(&self) -> Result<Vec<DeviceSummary>, Error> {
		self.summaries(None)
	}

	/// One device as the store knows it, if it has readings here.
	pub fn device_summary(&self, device: &DeviceId) -> Result<Option<DeviceSummary>, Error> {
		Ok(self.summaries(Some(device))?.pop())
	}

	/// The summaries of every device, or of `only`.
	fn summaries(&self, only: Option<&DeviceId>) -> Result<Vec<DeviceSummary>, Error> {
		let mut devices: BTreeMap<DeviceId, DeviceSummary> = BTreeMap::new();
		let only = only.map(|d| d.to_vec());
		let filter = if only.is_some() { "WHERE device = ?1" } else { "" };
		// Anchors are a hundredth of the readings: their counts come from them, and from an
		// index that holds every column read.
		let mut stmt = self
			.db
			.prepare(&format!(
				"SELECT device, status, SUM(count) FROM anchors {filter} GROUP BY device, status"
			))
			.map_err(store_err)?;
		let rows = stmt
			.query_map(rusqlite::params_from_iter(only.iter()), |r| {
				Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
			})
			.map_err(store_err)?;
		for row in rows {
			let (device, status, readings) = row.map_err(store_err)?;
			let device = to_device(device);
			let summary = devices
				.entry(device)
				.or_insert_with(|| DeviceSummary { device, ..Default::default() });
			let readings = readings.max(0) as u64;
			match Status::parse(&status) {
				Status::Finalized => summary.finalized += readings,
				Status::Failed => summary.failed += readings,
				_ => summary.pending += readings,
			}
		}
		let filter = if only.is_some() { "AND device = ?1" } else { "" };
		let mut stmt = self
			.db
			.prepare(&format!(
				"SELECT device, COUNT(*) FROM readings WHERE anchor_id IS NULL {filter} \
				 GROUP BY device"
			))
			.map_err(store_err)?;
		let rows = stmt
			.query_map(rusqlite::params_from_iter(only.iter()), |r| {
				Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))
			})
			.map_err(store_err)?;
		for row in rows {
			let (device, readings) = row.map_err(store_err)?;
			let device = to_device(device);
			devices
				.entry(device)
				.or_insert_with(|| DeviceSummary { device, ..Default::default() })
				.unbatched = readings.max(0) as u64;
		}
		for summary in devices.values_mut() {
			summary.stored =
				summary.finalized + summary.pending + summary.failed + summary.unbatched;
			let id = summary.device.to_vec();
			// Each of these reads one end of the (device, seq) key.
			let first: Option<i64> = self
				.db
				.query_row(
					"SELECT seq FROM readings WHERE device = ?1 ORDER BY seq ASC LIMIT 1",
					[&id],
					|r| r.get(0),
				)
				.optional()
				.map_err(store_err)?;
			let last: Option<(i64, i64)> = self
				.db
				.query_row(
					"SELECT seq, timestamp_ms FROM readings WHERE device = ?1 \
					 ORDER BY seq DESC LIMIT 1",
					[&id],
					|r| Ok((r.get(0)?, r.get(1)?)),
				)
				.optional()
				.map_err(store_err)?;
			if let (Some(first), Some((last, at))) = (first, last) {
				summary.first_seq = first as Seq;
				summary.last_seq = last as Seq;
				summary.last_reading_ms = at.max(0) as u64;
			}
		}
		Ok(devices.into_values().collect())
	}

	/// Readings of `device` with their anchors, the oldest first.
	pub fn readings_of(&self, device: &DeviceId, window: Window) -> Result<Vec<ReadingRow>, Error> {
		const COLUMNS: &str = "SELECT r.reading, a.id, a.status, a.block_number, a.block_hash \
			FROM readings r LEFT JOIN anchors a ON a.id = r.anchor_id WHERE r.device = ?1";
		let id = device.to_vec();
		let (sql, seq, limit) = match window {
			Window::Newest(n) => (format!("{COLUMNS} ORDER BY r.seq DESC LIMIT ?2"), 0, n),
			Window::After(seq, n) => (
				format!("{COLUMNS} AND r.seq > ?2 ORDER BY r.seq ASC LIMIT ?3"),
				seq.min(i64::MAX as u64) as i64,
				n,
			),
		};
		let mut stmt = self.db.prepare(&sql).map_err(store_err)?;
		let map = |r: &rusqlite::Row<'_>| {
			Ok((
				r.get::<_, Vec<u8>>(0)?,
				r.get::<_, Option<i64>>(1)?,
				r.get::<_, Option<String>>(2)?,
				r.get::<_, Option<i64>>(3)?,
				r.get::<_, Option<Vec<u8>>>(4)?,
			))
		};
		let rows = match window {
			Window::Newest(_) => stmt.query_map(params![id, limit], map),
			Window::After(..) => stmt.query_map(params![id, seq, limit], map),
		}
		.map_err(store_err)?;
		let mut out = Vec::new();
		for row in rows {
			let (bytes, anchor_id, status, number, hash) = row.map_err(store_err)?;
			let reading = Reading::decode(&mut &bytes[..])
				.map_err(|e| Error::store("a stored reading is damaged", e))?;
			let anchor = anchor_id.map(|id| AnchorState {
				id,
				status: Status::parse(status.as_deref().unwrap_or_default()),
				block: number.zip(hash).map(|(n, h)| (n as u64, to_h256(h))),
			});
			out.push(ReadingRow { reading, anchor });
		}
		if matches!(window, Window::Newest(_)) {
			out.reverse();
		}
		Ok(out)
	}

	/// The newest `limit` anchors of `device`, the newest first.
	pub fn recent_anchors(&self, device: &DeviceId, limit: u32) -> Result<Vec<AnchorRow>, Error> {
		let mut stmt = self
			.db
			.prepare(
				"SELECT id, status, block_number, block_hash, first_seq, count, root, error \
				 FROM anchors WHERE device = ?1 ORDER BY first_seq DESC LIMIT ?2",
			)
			.map_err(store_err)?;
		let rows = stmt
			.query_map(params![device.to_vec(), limit], |r| {
				Ok((
					r.get::<_, i64>(0)?,
					r.get::<_, String>(1)?,
					r.get::<_, Option<i64>>(2)?,
					r.get::<_, Option<Vec<u8>>>(3)?,
					r.get::<_, i64>(4)?,
					r.get::<_, i64>(5)?,
					r.get::<_, Vec<u8>>(6)?,
					r.get::<_, Option<String>>(7)?,
				))
			})
			.map_err(store_err)?;
		rows.map(|row| {
			let (id, status, number, hash, first_seq, count, root, error) =
				row.map_err(store_err)?;
			Ok(AnchorRow {
				state: AnchorState {
					id,
					status: Status::parse(&status),
					block: number.zip(hash).map(|(n, h)| (n as u64, to_h256(h))),
				},
				first_seq: first_seq as Seq,
				count: count as u32,
				root: to_h256(root),
				error,
			})
		})
		.collect()
	}

	/// Up to `limit` runs of sequence numbers of `device` that never arrived between stored
	/// readings, as `(from, to)` inclusive, the newest first.
	pub fn holes(&self, device: &DeviceId, limit: u32) -> Result<Vec<(Seq, Seq)>, Error> {
		let mut stmt = self
			.db
			.prepare(
				"SELECT seq + 1, next - 1 FROM (SELECT seq, LEAD(seq) OVER (ORDER BY seq) AS next \
				 FROM readings WHERE device = ?1) WHERE next > seq + 1 ORDER BY seq DESC LIMIT ?2",
			)
			.map_err(store_err)?;
		let rows = stmt
			.query_map(params![device.to_vec(), limit], |r| {
				Ok((r.get::<_, i64>(0)? as Seq, r.get::<_, i64>(1)? as Seq))
			})
			.map_err(store_err)?;
		rows.map(|row| row.map_err(store_err)).collect()
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::input::ReadingInput;

	fn input(seq: Seq, value: i64) -> ReadingInput {
		ReadingInput {
			origin: format!("test:{seq}"),
			seq: Some(seq),
			timestamp_ms: 1_000 * (seq + 1),
			values: [("t".to_string(), value)].into(),
		}
	}

	#[test]
	fn the_dashboards_view_counts_readings_finds_holes_and_pages_by_sequence() {
		let dir = tempfile::tempdir().unwrap();
		let mut store = Store::open(&dir.path().join("g.db"), H256::repeat_byte(1)).unwrap();
		let (a, b) = ([1u8; 32], [2u8; 32]);
		// Device a: 0..=4 and 8..=9 stored (5, 6, 7 never arrived); device b: 3 readings.
		let a_inputs: Vec<_> =
			(0..5).chain(8..10).map(|seq| input(seq, seq as i64 * 100)).collect();
		store.import(&a, &a_inputs, 0).unwrap();
		store.import(&b, &[input(0, 1), input(1, 2), input(2, 3)], 0).unwrap();

		let summaries = store.device_summaries().unwrap();
		assert_eq!(summaries.len(), 2);
		let sa = &summaries[0];
		assert_eq!((sa.device, sa.first_seq, sa.last_seq, sa.stored), (a, 0, 9, 7));
		assert_eq!((sa.unbatched, sa.finalized, sa.missing()), (7, 0, 3));
		assert_eq!(sa.last_reading_ms, 10_000);
		assert_eq!((summaries[1].stored, summaries[1].missing()), (3, 0));
		assert_eq!(store.device_summary(&b).unwrap().as_ref(), Some(&summaries[1]));
		assert_eq!(store.device_summary(&[9; 32]).unwrap(), None);

		assert_eq!(store.holes(&a, 10).unwrap(), vec![(5, 7)]);
		assert!(store.holes(&b, 10).unwrap().is_empty());

		let newest = store.readings_of(&a, Window::Newest(3)).unwrap();
		let seqs: Vec<Seq> = newest.iter().map(|r| r.reading.seq).collect();
		assert_eq!(seqs, vec![4, 8, 9]);
		assert!(newest.iter().all(|r| r.anchor.is_none()));
		let after = store.readings_of(&a, Window::After(3, 2)).unwrap();
		let seqs: Vec<Seq> = after.iter().map(|r| r.reading.seq).collect();
		assert_eq!(seqs, vec![4, 8]);
		assert_eq!(after[1].reading.values[0].value, 800);
		assert!(store.readings_of(&a, Window::After(9, 5)).unwrap().is_empty());
		assert!(store.readings_of(&[9; 32], Window::Newest(5)).unwrap().is_empty());
	}
}
