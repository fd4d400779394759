//! The gateway's local store: an SQLite database anyone can open with `sqlite3`.
//!
//! It holds every reading (its SCALE bytes, leaf, Merkle proof and the anchor it belongs to) and
//! every anchor (the signed bytes, the encrypted payload, where it stands, and once final the
//! record the chain's device log keeps of it, so a receipt needs nothing else from the node
//! but the record's inclusion proof). An anchor moves
//! through `signed` → `submitted` → `in_block` → `finalized`, or ends `failed` with the chain's
//! reason. Because anchors are signed and stored before anything is sent, a gateway that stops
//! at any point resends exactly what the chain does not have yet, byte for byte: nothing is
//! anchored twice and no sequence number is skipped.
//!
//! A store belongs to one chain: it records the genesis hash and refuses another. It holds the
//! readings in the clear (whatever the chain sees of them), so the file is kept readable by its
//! owner only (0600). It holds no data key: those are derived from the owner's secret when
//! needed (see [`crate::crypto`]).

use crate::{
	readings::{Record, SignedAnchor},
	Error,
};
use codec::{Decode, Encode};
use provena_primitives::{
	telemetry::{Measurement, MetricName, Reading, Seq},
	DeviceId,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sp_core::H256;
use std::path::Path;

mod kept_keys;
mod types;
mod view;

pub use types::{Added, Status, StoredAnchor, StoredReading, Tally};
pub use view::{AnchorRow, AnchorState, DeviceSummary, ReadingRow, Window};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
	key TEXT PRIMARY KEY,
	value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS readings (
	device BLOB NOT NULL,
	seq INTEGER NOT NULL,
	timestamp_ms INTEGER NOT NULL,
	reading BLOB NOT NULL,
	leaf BLOB NOT NULL,
	anchor_id INTEGER REFERENCES anchors(id),
	proof BLOB,
	PRIMARY KEY (device, seq)
);
CREATE INDEX IF NOT EXISTS readings_by_time ON readings (device, timestamp_ms);
CREATE INDEX IF NOT EXISTS readings_by_anchor ON readings (anchor_id);
CREATE TABLE IF NOT EXISTS anchors (
	id INTEGER PRIMARY KEY,
	device BLOB NOT NULL,
	first_seq INTEGER NOT NULL,
	count INTEGER NOT NULL,
	root BLOB NOT NULL,
	anchor BLOB NOT NULL,
	payload BLOB,
	status TEXT NOT NULL,
	tx_hash BLOB,
	block_hash BLOB,
	block_number INTEGER,
	error TEXT,
	record BLOB,
	UNIQUE (device, first_seq)
);
CREATE INDEX IF NOT EXISTS anchors_by_status ON anchors (status);
-- What the dashboard counts per device, read from the index alone.
CREATE INDEX IF NOT EXISTS anchors_by_device_status ON anchors (device, status, count);
CREATE TABLE IF NOT EXISTS raw_messages (
	device BLOB NOT NULL,
	hash BLOB NOT NULL,
	PRIMARY KEY (device, hash)
);
CREATE TABLE IF NOT EXISTS kept_keys (
	device BLOB NOT NULL,
	reader BLOB NOT NULL,
	epoch INTEGER NOT NULL,
	sealed BLOB NOT NULL,
	PRIMARY KEY (device, reader, sealed)
);
";

/// The gateway's store.
pub struct Store {
	db: Connection,
}

pub(crate) fn store_err(e: rusqlite::Error) -> Error {
	Error::store("SQLite", e)
}

fn to_h256(bytes: Vec<u8>) -> H256 {
	H256::from_slice(&bytes)
}

fn to_device(bytes: Vec<u8>) -> DeviceId {
	bytes.try_into().unwrap_or_default()
}

fn proof_bytes(proof: &[H256]) -> Vec<u8> {
	proof.iter().flat_map(|h| h.0).collect()
}

fn proof_from(bytes: Vec<u8>) -> Vec<H256> {
	bytes.chunks_exact(32).map(H256::from_slice).collect()
}

/// Inserts `batch`'s anchor as `signed`; returns its id.
fn insert_anchor(
	tx: &rusqlite::Transaction<'_>,
	batch: &crate::readings::Batch,
	anchor: &SignedAnchor,
	payload: Option<&[u8]>,
) -> Result<i64, Error> {
	tx.execute(
		"INSERT INTO anchors (device, first_seq, count, root, anchor, payload, status) \
		 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'signed')",
		params![
			batch.device().to_vec(),
			batch.first_seq() as i64,
			batch.readings().len() as i64,
			batch.root().0.to_vec(),
			anchor.encode(),
			payload
		],
	)
	.map_err(store_err)?;
	Ok(tx.last_insert_rowid())
}

/// The body of [`Store::import`], inside the caller's transaction `tx`.
fn import_into(
	tx: &rusqlite::Transaction<'_>,
	device: &DeviceId,
	inputs: &[crate::input::ReadingInput],
	chain_next_seq: Seq,
) -> Result<(u64, u64), Error> {
	let last: Option<i64> = tx
		.query_row("SELECT MAX(seq) FROM readings WHERE device = ?1", [device.to_vec()], |r| {
			r.get(0)
		})
		.map_err(store_err)?;
	let mut next = last.map(|s| s as Seq + 1).unwrap_or(0).max(chain_next_seq);
	let (mut stored, mut skipped) = (0, 0);
	for input in inputs {
		let existing: Option<(i64, Vec<u8>)> = match input.seq {
			Some(seq) => tx
				.query_row(
					"SELECT seq, reading FROM readings WHERE device = ?1 AND seq = ?2",
					params![device.to_vec(), seq as i64],
					|r| Ok((r.get(0)?, r.get(1)?)),
				)
				.optional(),
			None => tx
				.query_row(
					"SELECT seq, reading FROM readings WHERE device = ?1 AND timestamp_ms = ?2",
					params![device.to_vec(), input.timestamp_ms as i64],
					|r| Ok((r.get(0)?, r.get(1)?)),
				)
				.optional(),
		}
		.map_err(store_err)?;
		let seq = match (&existing, input.seq) {
			(Some((seq, _)), _) => *seq as Seq,
			(None, Some(seq)) => seq,
			(None, None) => next,
		};
		let reading = Reading {
			device: *device,
			seq,
			timestamp_ms: input.timestamp_ms,
			values: input
				.values
				.iter()
				.map(|(name, value)| Measurement {
					metric: MetricName::truncate_from(name.as_bytes().to_vec()),
					value: *value,
				})
				.collect(),
			payload_hash: None,
		};
		if let Some((_, bytes)) = existing {
			if bytes != reading.encode() {
				return Err(Error::input(format!(
					"{}: reading {seq} is already stored with other values; a device's \
					 reading cannot change",
					input.origin
				)));
			}
			skipped += 1;
			continue;
		}
		if seq < chain_next_seq {
			return Err(Error::input(format!(
				"{}: reading {seq} is below the device's next sequence number on chain \
				 ({chain_next_seq}); the chain refuses replays",
				input.origin
			)));
		}
		tx.execute(
			"INSERT INTO readings (device, seq, timestamp_ms, reading, leaf) \
			 VALUES (?1, ?2, ?3, ?4, ?5)",
			params![
				device.to_vec(),
				seq as i64,
				input.timestamp_ms as i64,
				reading.encode(),
				reading.leaf().0.to_vec()
			],
		)
		.map_err(store_err)?;
		next = next.max(seq + 1);
		stored += 1;
	}
	Ok((stored, skipped))
}

impl Store {
	/// Opens (creating if needed) the store at `path` for the chain with `genesis`.
	pub fn open(path: &Path, genesis: H256) -> Result<Store, Error> {
		if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
			std::fs::create_dir_all(dir).map_err(|e| {
				Error::store(format!("cannot create the store's folder {}", dir.display()), e)
			})?;
		}
		let db = Connection::open(path)
			.map_err(|e| Error::store(format!("cannot open the store {}", path.display()), e))?;
		// The store holds readings in the clear: owner-only, like a key file (SQLite gives its
		// journal files the database's mode).
		std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
			.map_err(|e| Error::store(format!("cannot restrict {}", path.display()), e))?;
		db.busy_timeout(std::time::Duration::from_secs(10)).map_err(store_err)?;
		db.pragma_update(None, "journal_mode", "WAL").map_err(store_err)?;
		db.pragma_update(None, "synchronous", "FULL").map_err(store_err)?;
		db.execute_batch(SCHEMA).map_err(store_err)?;
		// Stores made before anchor records existed gain the column (empty for old anchors).
		let has_record: bool = db
			.query_row(
				"SELECT COUNT(*) > 0 FROM pragma_table_info('anchors') WHERE name = 'record'",
				[],
				|row| row.get(0),
			)
			.map_err(store_err)?;
		if !has_record {
			db.execute_batch("ALTER TABLE anchors ADD COLUMN record BLOB").map_err(store_err)?;
		}
		let stored: Option<Vec<u8>> = db
			.query_row("SELECT value FROM meta WHERE key = 'genesis'", [], |row| row.get(0))
			.optional()
			.map_err(store_err)?;
		match stored {
			None => {
				db.execute(
					"INSERT INTO meta (key, value) VALUES ('genesis', ?1)",
					[genesis.0.to_vec()],
				)
				.map_err(store_err)?;
			},
			Some(bytes) if bytes == genesis.0 => {},
			Some(bytes) => {
				return Err(Error::input(format!(
					"the store {} belongs to the chain with genesis 0x{}, not this one (0x{}); \
					 use another --store for this chain",
					path.display(),
					hex::encode(bytes),
					hex::encode(genesis.0)
				)))
			},
		}
		Ok(Store { db })
	}

	/// The highest stored sequence number of `device`.
	pub fn last_seq(&self, device: &DeviceId) -> Result<Option<Seq>, Error> {
		self.db
			.query_row(
				"SELECT MAX(seq) FROM readings WHERE device = ?1",
				[device.to_vec()],
				|row| row.get::<_, Option<i64>>(0),
			)
			.map(|seq| seq.map(|s| s as Seq))
			.map_err(store_err)
	}

	/// Stores new readings of `device`: those without `seq` get the next free one (after
	/// `chain_next_seq` and everything stored); one already stored (same seq, or same timestamp
	/// when it has no seq) is skipped if it is identical and refused if it differs.
	/// Returns (stored, skipped as already stored).
	pub fn import(
		&mut self,
		device: &DeviceId,
		inputs: &[crate::input::ReadingInput],
		chain_next_seq: Seq,
	) -> Result<(u64, u64), Error> {
		let tx =
			self.db.transaction_with_behavior(TransactionBehavior::Immediate).map_err(store_err)?;
		let counts = import_into(&tx, device, inputs, chain_next_seq)?;
		tx.commit().map_err(store_err)?;
		Ok(counts)
	}

	/// [`Store::import`] for one message of raw readings that a gateway received. When the
	/// message's readings cannot be recognised again by themselves (their times were stamped
	/// on arrival), `remember` is the message's hash: it is kept with the readings, and a
	/// `redelivered` message (MQTT's DUP flag) with a hash kept before stores nothing.
	pub fn import_message(
		&mut self,
		device: &DeviceId,
		inputs: &[crate::input::ReadingInput],
		chain_next_seq: Seq,
		remember: Option<H256>,
		redelivered: bool,
	) -> Result<(u64, u64), Error> {
		let tx =
			self.db.transaction_with_behavior(TransactionBehavior::Immediate).map_err(store_err)?;
		if let Some(hash) = remember {
			let seen: bool = tx
				.query_row(
					"SELECT COUNT(*) > 0 FROM raw_messages WHERE device = ?1 AND hash = ?2",
					params![device.to_vec(), hash.0.to_vec()],
					|r| r.get(0),
				)
				.map_err(store_err)?;
			if seen && redelivered {
				return Ok((0, inputs.len() as u64));
			}
			tx.execute(
				"INSERT OR IGNORE INTO raw_messages (device, hash) VALUES (?1, ?2)",
				params![device.to_vec(), hash.0.to_vec()],
			)
			.map_err(store_err)?;
		}
		let counts = import_into(&tx, device, inputs, chain_next_seq)?;
		tx.commit().map_err(store_err)?;
		Ok(counts)
	}

	/// How many readings of `device` are in no anchor yet.
	pub fn unanchored_count(&self, device: &DeviceId) -> Result<u64, Error> {
		self.db
			.query_row(
				"SELECT COUNT(*) FROM readings WHERE device = ?1 AND anchor_id IS NULL",
				[device.to_vec()],
				|r| r.get::<_, i64>(0),
			)
			.map(|n| n as u64)
			.map_err(store_err)
	}

	/// Readings of `device` not in any anchor yet, by sequence number.
	pub fn unanchored(&self, device: &DeviceId) -> Result<Vec<Reading>, Error> {
		let mut stmt = self
			.db
			.prepare(
				"SELECT reading FROM readings WHERE device = ?1 AND anchor_id IS NULL ORDER BY seq",
			)
			.map_err(store_err)?;
		let rows =
			stmt.query_map([device.to_vec()], |r| r.get::<_, Vec<u8>>(0)).map_err(store_err)?;
		rows.map(|bytes| {
			let bytes = bytes.map_err(store_err)?;
			Reading::decode(&mut &bytes[..])
				.map_err(|e| Error::store("a stored reading is damaged", e))
		})
		.collect()
	}

	/// Stores a signed anchor for `batch` and ties its readings (with their proofs) to it.
	pub fn add_anchor(
		&mut self,
		batch: &crate::readings::Batch,
		anchor: &SignedAnchor,
		payload: Option<&[u8]>,
	) -> Result<i64, Error> {
		let tx = self.db.transaction().map_err(store_err)?;
		let device = batch.device().to_vec();
		let id = insert_anchor(&tx, batch, anchor, payload)?;
		for (reading, proof) in batch.readings().iter().zip(batch.proofs()) {
			tx.execute(
				"UPDATE readings SET anchor_id = ?1, proof = ?2 WHERE device = ?3 AND seq = ?4",
				params![id, proof_bytes(&proof), device, reading.seq as i64],
			)
			.map_err(store_err)?;
		}
		tx.commit().map_err(store_err)?;
		Ok(id)
	}

	/// Stores a batch a device signed itself: its readings, their proofs and its anchor, in one
	/// transaction, so a message is stored whole or not at all. The same anchor again (a
	/// message delivered twice) stores nothing; readings or an anchor that differ from stored
	/// ones are refused, so nothing stored is ever replaced.
	pub fn add_signed(
		&mut self,
		batch: &crate::readings::Batch,
		anchor: &SignedAnchor,
		payload: Option<&[u8]>,
	) -> Result<Added, Error> {
		let device = batch.device().to_vec();
		let tx =
			self.db.transaction_with_behavior(TransactionBehavior::Immediate).map_err(store_err)?;
		let same_start: Option<(i64, Vec<u8>, Option<Vec<u8>>)> = tx
			.query_row(
				"SELECT id, anchor, payload FROM anchors WHERE device = ?1 AND first_seq = ?2",
				params![device, batch.first_seq() as i64],
				|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
			)
			.optional()
			.map_err(store_err)?;
		if let Some((id, stored, stored_payload)) = same_start {
			return Ok(if stored == anchor.encode() && stored_payload.as_deref() == payload {
				Added::AlreadyStored(id)
			} else {
				Added::Conflict(format!(
					"an anchor of device {} from reading {} is already stored with other content",
					crate::show_device(&batch.device()),
					batch.first_seq()
				))
			});
		}
		let last = batch.first_seq() + batch.readings().len() as u64 - 1;
		let overlap: Option<i64> = tx
			.query_row(
				"SELECT seq FROM readings WHERE device = ?1 AND seq BETWEEN ?2 AND ?3 LIMIT 1",
				params![device, batch.first_seq() as i64, last as i64],
				|r| r.get(0),
			)
			.optional()
			.map_err(store_err)?;
		if let Some(seq) = overlap {
			return Ok(Added::Conflict(format!(
				"reading {seq} of device {} is already stored, in another anchor or unsigned",
				crate::show_device(&batch.device())
			)));
		}
		let id = insert_anchor(&tx, batch, anchor, payload)?;
		{
			let mut insert = tx
				.prepare(
					"INSERT INTO readings (device, seq, timestamp_ms, reading, leaf, anchor_id, \
					 proof) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
				)
				.map_err(store_err)?;
			let proofs = batch.proofs();
			for ((reading, leaf), proof) in batch.readings().iter().zip(batch.leaves()).zip(proofs)
			{
				insert
					.execute(params![
						device,
						reading.seq as i64,
						reading.timestamp_ms as i64,
						reading.encode(),
						leaf.0.to_vec(),
						id,
						proof_bytes(&proof)
					])
					.map_err(store_err)?;
			}
		}
		tx.commit().map_err(store_err)?;
		Ok(Added::Stored(id))
	}

	fn anchor_from_row(row: &rusqlite::Row) -> rusqlite::Result<(StoredAnchorRow, ())> {
		Ok((
			StoredAnchorRow {
				id: row.get(0)?,
				device: row.get(1)?,
				first_seq: row.get(2)?,
				count: row.get(3)?,
				root: row.get(4)?,
				anchor: row.get(5)?,
				payload: row.get(6)?,
				status: row.get(7)?,
				block_number: row.get(8)?,
				error: row.get(9)?,
				record: row.get(10)?,
			},
			(),
		))
	}

	fn anchors_where(
		&self,
		clause: &str,
		args: &[&dyn rusqlite::ToSql],
	) -> Result<Vec<StoredAnchor>, Error> {
		let sql = format!(
			"SELECT id, device, first_seq, count, root, anchor, payload, status, block_number, \
			 error, record FROM anchors WHERE {clause} ORDER BY device, first_seq"
		);
		let mut stmt = self.db.prepare(&sql).map_err(store_err)?;
		let rows = stmt.query_map(args, Self::anchor_from_row).map_err(store_err)?;
		rows.map(|row| row.map_err(store_err).and_then(|(row, ())| row.into_anchor())).collect()
	}

	/// Anchors not final and not failed: what a run still has to deliver.
	pub fn pending_anchors(&self) -> Result<Vec<StoredAnchor>, Error> {
		self.anchors_where("status IN ('signed', 'submitted', 'in_block')", &[])
	}

	/// Every anchor of `device`.
	pub fn anchors_of(&self, device: &DeviceId) -> Result<Vec<StoredAnchor>, Error> {
		let device = device.to_vec();
		self.anchors_where("device = ?1", &[&device])
	}

	/// Records where anchors stand.
	pub fn set_status(
		&mut self,
		ids: &[i64],
		status: Status,
		tx_hash: Option<H256>,
		block: Option<(H256, u64)>,
		error: Option<&str>,
	) -> Result<(), Error> {
		let tx = self.db.transaction().map_err(store_err)?;
		for id in ids {
			tx.execute(
				"UPDATE anchors SET status = ?1, \
				 tx_hash = COALESCE(?2, tx_hash), \
				 block_hash = COALESCE(?3, block_hash), \
				 block_number = COALESCE(?4, block_number), \
				 error = ?5 WHERE id = ?6",
				params![
					status.as_str(),
					tx_hash.map(|h| h.0.to_vec()),
					block.map(|(h, _)| h.0.to_vec()),
					block.map(|(_, n)| n as i64),
					error,
					id
				],
			)
			.map_err(store_err)?;
		}
		tx.commit().map_err(store_err)
	}

	/// Keeps the record the chain's log made of anchor `id`.
	pub fn set_record(&mut self, id: i64, record: &Record) -> Result<(), Error> {
		self.db
			.execute(
				"UPDATE anchors SET record = ?1 WHERE id = ?2",
				params![codec::Encode::encode(record), id],
			)
			.map_err(store_err)?;
		Ok(())
	}

	/// The stored anchor with this id.
	pub fn anchor(&self, id: i64) -> Result<Option<StoredAnchor>, Error> {
		Ok(self.anchors_where("id = ?1", &[&id])?.pop())
	}

	/// A stored reading.
	pub fn reading(&self, device: &DeviceId, seq: Seq) -> Result<Option<StoredReading>, Error> {
		self.db
			.query_row(
				"SELECT reading, leaf, proof, anchor_id FROM readings WHERE device = ?1 AND seq = ?2",
				params![device.to_vec(), seq as i64],
				|r| {
					Ok((
						r.get::<_, Vec<u8>>(0)?,
						r.get::<_, Vec<u8>>(1)?,
						r.get::<_, Option<Vec<u8>>>(2)?,
						r.get::<_, Option<i64>>(3)?,
					))
				},
			)
			.optional()
			.map_err(store_err)?
			.map(|(reading, leaf, proof, anchor_id)| {
				Ok(StoredReading {
					reading: Reading::decode(&mut &reading[..])
						.map_err(|e| Error::store("a stored reading is damaged", e))?,
					leaf: to_h256(leaf),
					proof: proof.map(proof_from),
					anchor_id,
				})
			})
			.transpose()
	}

	/// Anchor counts by status.
	pub fn tally(&self) -> Result<Tally, Error> {
		let mut tally = Tally::default();
		let mut stmt = self
			.db
			.prepare("SELECT status, COUNT(*), SUM(count) FROM anchors GROUP BY status")
			.map_err(store_err)?;
		let rows = stmt
			.query_map([], |r| {
				Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
			})
			.map_err(store_err)?;
		for row in rows {
			let (status, anchors, readings) = row.map_err(store_err)?;
			match Status::parse(&status) {
				Status::Finalized => {
					tally.finalized += anchors as u64;
					tally.readings_finalized += readings as u64;
				},
				Status::Failed => tally.failed += anchors as u64,
				_ => tally.pending += anchors as u64,
			}
		}
		Ok(tally)
	}
}

struct StoredAnchorRow {
	id: i64,
	device: Vec<u8>,
	first_seq: i64,
	count: i64,
	root: Vec<u8>,
	anchor: Vec<u8>,
	payload: Option<Vec<u8>>,
	status: String,
	block_number: Option<i64>,
	error: Option<String>,
	record: Option<Vec<u8>>,
}

impl StoredAnchorRow {
	fn into_anchor(self) -> Result<StoredAnchor, Error> {
		Ok(StoredAnchor {
			id: self.id,
			device: to_device(self.device),
			first_seq: self.first_seq as Seq,
			count: self.count as u32,
			root: to_h256(self.root),
			anchor: SignedAnchor::decode(&mut &self.anchor[..])
				.map_err(|e| Error::store(format!("anchor {} is damaged", self.id), e))?,
			payload: self.payload,
			status: Status::parse(&self.status),
			block_number: self.block_number.map(|n| n as u64),
			error: self.error,
			record: self.record.map(|bytes| Record::decode(&mut &bytes[..])).transpose().map_err(
				|e| Error::store(format!("the record of anchor {} is damaged", self.id), e),
			)?,
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::os::unix::fs::PermissionsExt;

	#[test]
	fn a_store_is_owner_only_and_bound_to_its_chain() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("sub").join("gateway.db");
		drop(Store::open(&path, H256::repeat_byte(1)).unwrap());
		let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
		assert_eq!(mode, 0o600);
		assert!(Store::open(&path, H256::repeat_byte(1)).is_ok());
		let err = Store::open(&path, H256::repeat_byte(2)).err().unwrap().to_string();
		assert!(err.contains("belongs to the chain"), "{err}");
	}

	fn signed_batch(
		device: DeviceId,
		first: Seq,
		count: u64,
		value: i64,
	) -> (crate::readings::Batch, SignedAnchor) {
		let readings = (first..first + count)
			.map(|seq| Reading {
				device,
				seq,
				timestamp_ms: 1_000 * seq,
				values: vec![Measurement {
					metric: MetricName::truncate_from(b"t".to_vec()),
					value,
				}],
				payload_hash: None,
			})
			.collect();
		let batch = crate::readings::Batch::new(readings).unwrap();
		let key = crate::readings::KeyPair::from_uri(crate::readings::Scheme::Ed25519, "//device")
			.unwrap();
		let anchor = batch.sign(&key, &H256::repeat_byte(1), None, &Default::default());
		(batch, anchor)
	}

	#[test]
	fn a_signed_batch_is_stored_whole_once_and_never_replaced() {
		let dir = tempfile::tempdir().unwrap();
		let mut store = Store::open(&dir.path().join("g.db"), H256::repeat_byte(1)).unwrap();
		let device = [7; 32];
		let (batch, anchor) = signed_batch(device, 10, 3, 4_250);
		let Added::Stored(id) = store.add_signed(&batch, &anchor, Some(b"sealed")).unwrap() else {
			panic!("not stored")
		};
		// The same message again: nothing new.
		assert_eq!(
			store.add_signed(&batch, &anchor, Some(b"sealed")).unwrap(),
			Added::AlreadyStored(id)
		);
		// Same start, other content (another value, or another payload): refused.
		let (other, other_anchor) = signed_batch(device, 10, 3, 9_999);
		assert!(matches!(
			store.add_signed(&other, &other_anchor, None).unwrap(),
			Added::Conflict(_)
		));
		assert!(matches!(store.add_signed(&batch, &anchor, None).unwrap(), Added::Conflict(_)));
		// Overlapping readings from another start: refused, and nothing of it stored.
		let (overlap, overlap_anchor) = signed_batch(device, 12, 2, 4_250);
		let Added::Conflict(reason) = store.add_signed(&overlap, &overlap_anchor, None).unwrap()
		else {
			panic!("an overlap was stored")
		};
		assert!(reason.contains("reading 12"), "{reason}");
		assert_eq!(store.last_seq(&device).unwrap(), Some(12));
		// The stored anchor and its readings, with their proofs, are what was signed.
		let stored = store.anchors_of(&device).unwrap();
		assert_eq!(stored.len(), 1);
		assert_eq!(stored[0].anchor, anchor);
		assert_eq!(stored[0].payload.as_deref(), Some(&b"sealed"[..]));
		for seq in 10..13 {
			let reading = store.reading(&device, seq).unwrap().unwrap();
			assert_eq!(reading.proof, batch.proof(seq));
		}
		// The next batch follows on.
		let (next, next_anchor) = signed_batch(device, 13, 1, 4_000);
		assert!(matches!(store.add_signed(&next, &next_anchor, None).unwrap(), Added::Stored(_)));
		assert_eq!(store.pending_anchors().unwrap().len(), 2);
	}

	fn raw(timestamps: &[u64], value: i64) -> Vec<crate::input::ReadingInput> {
		timestamps
			.iter()
			.map(|t| crate::input::ReadingInput {
				origin: format!("reading at {t}"),
				seq: None,
				timestamp_ms: *t,
				values: [("t".to_string(), value)].into(),
			})
			.collect()
	}

	#[test]
	fn a_raw_message_is_stored_once_even_when_its_times_were_stamped_on_arrival() {
		let dir = tempfile::tempdir().unwrap();
		let mut store = Store::open(&dir.path().join("g.db"), H256::repeat_byte(1)).unwrap();
		let device = [7; 32];
		let hash = H256::repeat_byte(9);
		// Numbered after the chain's next sequence number.
		assert_eq!(
			store.import_message(&device, &raw(&[5, 6], 1), 40, None, false).unwrap(),
			(2, 0)
		);
		assert_eq!(store.last_seq(&device).unwrap(), Some(41));
		// Absolute times: the same readings again are recognised whatever the transport says.
		assert_eq!(
			store.import_message(&device, &raw(&[5, 6], 1), 40, None, false).unwrap(),
			(0, 2)
		);
		// Times stamped on arrival differ on redelivery: the message's hash recognises it, but
		// only when the transport says it may be a redelivery.
		assert_eq!(
			store.import_message(&device, &raw(&[100], 1), 40, Some(hash), false).unwrap(),
			(1, 0)
		);
		assert_eq!(
			store.import_message(&device, &raw(&[200], 1), 40, Some(hash), true).unwrap(),
			(0, 1)
		);
		// The same bytes sent anew (a device with no clock reporting the same value) count.
		assert_eq!(
			store.import_message(&device, &raw(&[300], 1), 40, Some(hash), false).unwrap(),
			(1, 0)
		);
		assert_eq!(store.unanchored_count(&device).unwrap(), 4);
		// A reading at a stored time with another value: refused, and nothing of the message
		// (its new reading, its hash) is kept.
		let other = H256::repeat_byte(3);
		let mut mixed = raw(&[400], 1);
		mixed.extend(raw(&[5], 2));
		let error = store.import_message(&device, &mixed, 40, Some(other), false).unwrap_err();
		assert!(error.to_string().contains("other values"), "{error}");
		assert_eq!(store.unanchored_count(&device).unwrap(), 4);
		assert_eq!(
			store.import_message(&device, &raw(&[400], 1), 40, Some(other), true).unwrap(),
			(1, 0)
		);
	}
}
