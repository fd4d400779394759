//! The device data keys an owner made (and the older ones, to open older payloads).

use super::{store_err, Store};
use crate::{crypto::DataKey, Error};
use provena_primitives::DeviceId;
use rusqlite::{params, OptionalExtension};

impl Store {
	/// Keeps a data key for `device`; `current` marks the one new payloads use.
	pub fn put_data_key(
		&mut self,
		device: &DeviceId,
		key: &DataKey,
		current: bool,
	) -> Result<(), Error> {
		let tx = self.db.transaction().map_err(store_err)?;
		if current {
			tx.execute("UPDATE data_keys SET current = 0 WHERE device = ?1", [device.to_vec()])
				.map_err(store_err)?;
		}
		tx.execute(
			"INSERT OR REPLACE INTO data_keys (device, key_id, key, current) VALUES (?1, ?2, ?3, ?4)",
			params![device.to_vec(), key.id().to_vec(), key.0.to_vec(), current as i64],
		)
		.map_err(store_err)?;
		tx.commit().map_err(store_err)
	}

	/// The data key new payloads of `device` use, if this store has one.
	pub fn current_data_key(&self, device: &DeviceId) -> Result<Option<DataKey>, Error> {
		self.data_key_where(device, "current = 1", None)
	}

	/// The data key with `key_id`, if this store has it.
	pub fn data_key(&self, device: &DeviceId, key_id: [u8; 8]) -> Result<Option<DataKey>, Error> {
		self.data_key_where(device, "key_id = ?2", Some(key_id.to_vec()))
	}

	fn data_key_where(
		&self,
		device: &DeviceId,
		clause: &str,
		key_id: Option<Vec<u8>>,
	) -> Result<Option<DataKey>, Error> {
		let sql = format!("SELECT key FROM data_keys WHERE device = ?1 AND {clause}");
		let device = device.to_vec();
		let result = match key_id {
			Some(id) => self.db.query_row(&sql, params![device, id], |r| r.get::<_, Vec<u8>>(0)),
			None => self.db.query_row(&sql, params![device], |r| r.get::<_, Vec<u8>>(0)),
		};
		Ok(result
			.optional()
			.map_err(store_err)?
			.and_then(|bytes| bytes.try_into().ok())
			.map(DataKey))
	}
}
