//! The data keys a reader has been given, kept as they were sealed to it: only the reader's
//! account opens them, so the store holds no key in the clear. The chain keeps only a reader's
//! newest sealed key per device (a new owner's replaces the old owner's); kept here, the older
//! ones still open the payloads the reader was entitled to.

use super::{store_err, Store};
use crate::Error;
use provena_primitives::DeviceId;
use rusqlite::params;

impl Store {
	/// Keeps `reader`'s sealed key of `epoch` for `device` (again is a no-op).
	pub fn keep_sealed_key(
		&mut self,
		device: &DeviceId,
		reader: &[u8; 32],
		epoch: u32,
		sealed: &[u8],
	) -> Result<(), Error> {
		self.db
			.execute(
				"INSERT OR IGNORE INTO kept_keys (device, reader, epoch, sealed) VALUES (?1, ?2, ?3, ?4)",
				params![device.to_vec(), reader.to_vec(), epoch, sealed],
			)
			.map_err(store_err)?;
		Ok(())
	}

	/// `reader`'s kept sealed keys for `device` with their epochs, the newest epoch first.
	pub fn kept_sealed_keys(
		&self,
		device: &DeviceId,
		reader: &[u8; 32],
	) -> Result<Vec<(u32, Vec<u8>)>, Error> {
		let mut statement = self
			.db
			.prepare(
				"SELECT epoch, sealed FROM kept_keys WHERE device = ?1 AND reader = ?2 \
				 ORDER BY epoch DESC",
			)
			.map_err(store_err)?;
		let rows = statement
			.query_map(params![device.to_vec(), reader.to_vec()], |row| {
				Ok((row.get::<_, u32>(0)?, row.get::<_, Vec<u8>>(1)?))
			})
			.map_err(store_err)?;
		rows.collect::<Result<_, _>>().map_err(store_err)
	}
}
