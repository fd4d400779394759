//! The gateway service's front door: a device-signed message is checked (shape, batch, the
//! device's registered key) and stored before anything acknowledges it. Whatever the transport
//! (MQTT, HTTP), [`Ingest::accept`] decides; the transport acknowledges only what it returns
//! `Ok` for, so a message is stored, or refused for good with a reason, or left unacknowledged
//! for the sender (or the broker) to send again.

use super::{
	message::{parse_anchor, Refusal, RefusalKind},
	raw::{parse_raw, RawFormat},
	SealOptions,
};
use crate::{
	chain::{AtBlock, Chain},
	error::with_causes,
	keys::KeyPair,
	show_device,
	store::Added,
	store::Store,
	Error,
};
use provena_primitives::{
	telemetry::{MetricName, Seq},
	DeviceId, DeviceKey,
};
use std::{
	collections::{BTreeSet, HashMap},
	time::{Duration, Instant},
};
use subxt::utils::H256;

/// How long a device's registered key is trusted without asking the chain again. A key that
/// fails to verify a signature is always asked again first, so a rotation is seen at once.
/// Keys older than half of it are read again in the background, all at once (see
/// [`Ingest::refresh_keys`]): a gateway that met a thousand devices within a minute would
/// otherwise stop, five minutes later, to ask for a thousand keys one by one.
const KEY_TTL: Duration = Duration::from_secs(300);

/// How long key lookups use one finalized block. Asking for the finalized head costs three
/// calls to the node (head, header, runtime version) and a device's key one storage read:
/// a gateway meeting a thousand devices at start would otherwise spend minutes on the first.
const BLOCK_TTL: Duration = Duration::from_secs(6);

/// How long a key lookup may wait for the node.
const ASK_TIMEOUT: Duration = Duration::from_secs(10);

/// What became of an accepted message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
	/// Stored: `readings` new readings of `device`, in a new anchor.
	Stored {
		/// The device.
		device: DeviceId,
		/// How many readings.
		readings: u64,
	},
	/// The same message was stored before (a redelivery): nothing changed.
	Duplicate {
		/// The device.
		device: DeviceId,
	},
	/// Refused for good: sending it again will not help.
	Refused(Refusal),
}

/// How raw readings are batched into anchors (see [`Ingest::seal_due`]).
#[derive(Clone, Copy, Debug)]
pub struct Batching {
	/// Readings per anchor: a device's readings are sealed as soon as this many wait.
	pub size: usize,
	/// The longest a reading waits for its batch to fill: then what waits is sealed as it is.
	pub max_age: Duration,
}

/// A device whose key this gateway holds, and what waits to be sealed of it.
struct Held {
	key: KeyPair,
	/// Readings stored and not sealed yet, and since when the oldest of them waits.
	waiting: u64,
	since: Option<Instant>,
	/// The metrics its anchors publish (those with an alert rule), and when they were read.
	public: Option<(BTreeSet<MetricName>, Instant)>,
	/// The device's next sequence number on chain, read once.
	chain_next: Option<Seq>,
}

/// Checks and stores device-signed messages, and raw readings of the devices whose keys it
/// holds.
pub struct Ingest {
	chain: Chain,
	store: Store,
	genesis: H256,
	keys: HashMap<DeviceId, (DeviceKey, Instant)>,
	/// The finalized block key lookups read, and when it was taken.
	at: Option<(AtBlock, Instant)>,
	held: HashMap<DeviceId, Held>,
	/// The background read of the keys due for refreshing, and when it started.
	refresh: Option<(tokio::task::JoinHandle<Result<Refreshed, Error>>, Instant)>,
}

/// What a background refresh read: each device's record (`None`: no longer registered).
type Refreshed = Vec<(DeviceId, Option<crate::chain::DeviceRecord>)>;

impl Ingest {
	/// Ingests into `store` for the chain `chain` is connected to.
	pub fn new(chain: Chain, store: Store) -> Self {
		let genesis = chain.genesis_hash();
		Ingest {
			chain,
			store,
			genesis,
			keys: HashMap::new(),
			at: None,
			held: HashMap::new(),
			refresh: None,
		}
	}

	/// Holds `keys` to sign raw readings of their devices with (the explicit raw-readings
	/// mode). Readings of them already stored and not sealed (a gateway stopped before it
	/// sealed them) wait like readings that arrive now.
	pub fn hold_keys(&mut self, keys: HashMap<DeviceId, KeyPair>) -> Result<(), Error> {
		for (device, key) in keys {
			let waiting = self.store.unanchored_count(&device)?;
			// Left by an earlier run: sealed within one batch age, like readings arriving now.
			let since = (waiting > 0).then(Instant::now);
			let held = Held { key, waiting, since, public: None, chain_next: None };
			self.held.insert(device, held);
		}
		Ok(())
	}

	/// Checks `bytes` as a message of raw readings of `device` (named by the MQTT topic or
	/// the URL) in `format`, and stores them, numbered after the device's last. `redelivered`:
	/// the transport says this may be a message sent before (MQTT's DUP flag). `Err` only when
	/// the store or the node failed: then nothing was stored.
	pub async fn accept_raw(
		&mut self,
		bytes: &[u8],
		format: RawFormat,
		device: DeviceId,
		redelivered: bool,
	) -> Result<Outcome, Error> {
		let Some(held_key) = self.held.get(&device).map(|h| h.key.key()) else {
			return Ok(Outcome::Refused(Refusal::new(
				RefusalKind::UnknownDevice,
				format!(
					"this gateway holds no key for device {}, so it cannot sign its raw \
					 readings: a device that signs sends anchors (topic `<prefix>/<device>/anchors`, \
					 POST /v1/anchors)",
					show_device(&device)
				),
			)));
		};
		let parsed = match parse_raw(bytes, format, now_ms()) {
			Ok(parsed) => parsed,
			Err(refusal) => return Ok(Outcome::Refused(refusal)),
		};
		match self.registered_key(device).await? {
			Err(refusal) => return Ok(Outcome::Refused(refusal)),
			Ok(key) if key != held_key => {
				return Ok(Outcome::Refused(Refusal::new(
					RefusalKind::BadSignature,
					format!(
						"the key this gateway holds for device {} is not the device's registered \
						 key (rotated?): give the gateway the new key file",
						show_device(&device)
					),
				)))
			},
			Ok(_) => {},
		}
		let chain_next = match self.held.get(&device).and_then(|h| h.chain_next) {
			Some(next) => next,
			None => {
				let gone =
					|| self.chain.lost(format!("no answer within {} s", ASK_TIMEOUT.as_secs()));
				let next = tokio::time::timeout(ASK_TIMEOUT, self.chain.next_seq(device))
					.await
					.map_err(|_| gone())??;
				if let Some(held) = self.held.get_mut(&device) {
					held.chain_next = Some(next);
				}
				next
			},
		};
		let remember =
			parsed.stamped_on_arrival.then(|| H256(sp_crypto_hashing::blake2_256(bytes)));
		let imported =
			self.store.import_message(&device, &parsed.readings, chain_next, remember, redelivered);
		let (stored, _) = match imported {
			Ok(counts) => counts,
			// Refused for good: a reading already stored with other values, or below the
			// device's log on chain. Nothing of the message was stored.
			Err(error @ Error::Input { .. }) => {
				return Ok(Outcome::Refused(Refusal::new(
					RefusalKind::Conflict,
					with_causes(&error),
				)))
			},
			Err(error) => return Err(error),
		};
		if stored == 0 {
			return Ok(Outcome::Duplicate { device });
		}
		if let Some(held) = self.held.get_mut(&device) {
			held.waiting += stored;
			held.since.get_or_insert_with(Instant::now);
		}
		Ok(Outcome::Stored { device, readings: stored })
	}

	/// Seals the raw readings that are due, with the devices' keys: every whole batch of
	/// `batching.size`, and what waits once its oldest reading has waited `batching.max_age`.
	/// Returns how many anchors were made. A device whose batch cannot be sealed (the node
	/// cannot say which metrics to publish) is tried again at the next call.
	pub async fn seal_due(&mut self, batching: Batching) -> Result<u64, Error> {
		let due: Vec<DeviceId> = self
			.held
			.iter()
			.filter(|(_, h)| {
				h.waiting >= batching.size as u64
					|| h.since.is_some_and(|since| since.elapsed() >= batching.max_age)
			})
			.map(|(device, _)| *device)
			.collect();
		let mut made = 0;
		for device in due {
			let public = self.public_metrics(device).await?;
			let Some(held) = self.held.get_mut(&device) else { continue };
			let old = held.since.is_some_and(|since| since.elapsed() >= batching.max_age);
			let options = SealOptions {
				batch_size: batching.size,
				data_key: None,
				public: &public,
				max_payload: usize::MAX,
				keep_partial: !old,
			};
			made += super::seal(&mut self.store, device, &held.key, self.genesis, &options)?;
			held.waiting = self.store.unanchored_count(&device)?;
			if held.waiting == 0 {
				held.since = None;
			} else if old {
				// Readings with a hole before them (sealed up to it) wait from now.
				held.since = Some(Instant::now());
			}
		}
		Ok(made)
	}

	/// The metrics `device`'s anchors publish: those with an alert rule on chain, read again
	/// after [`KEY_TTL`].
	async fn public_metrics(&mut self, device: DeviceId) -> Result<BTreeSet<MetricName>, Error> {
		if let Some((public, read)) = self.held.get(&device).and_then(|h| h.public.as_ref()) {
			if read.elapsed() < KEY_TTL {
				return Ok(public.clone());
			}
		}
		let gone = || self.chain.lost(format!("no answer within {} s", ASK_TIMEOUT.as_secs()));
		let public =
			tokio::time::timeout(ASK_TIMEOUT, super::public_metrics(&self.chain, device, &[]))
				.await
				.map_err(|_| gone())??;
		if let Some(held) = self.held.get_mut(&device) {
			held.public = Some((public.clone(), Instant::now()));
		}
		Ok(public)
	}

	/// Uses `chain` from now on (a new connection after the node was lost).
	pub fn set_chain(&mut self, chain: Chain) {
		self.chain = chain;
		self.at = None;
	}

	/// Checks `bytes` as a device-signed anchor message, from a sender that claims to be
	/// `claimed` (the device named by the MQTT topic), and stores it. `Err` only when the
	/// store or the node failed: then nothing was stored and the message must not be
	/// acknowledged.
	pub async fn accept(
		&mut self,
		bytes: &[u8],
		claimed: Option<DeviceId>,
	) -> Result<Outcome, Error> {
		let signed = match parse_anchor(bytes) {
			Ok(signed) => signed,
			Err(refusal) => return Ok(Outcome::Refused(refusal)),
		};
		let device = signed.device();
		self.refresh_keys();
		if let Some(claimed) = claimed.filter(|c| *c != device) {
			return Ok(Outcome::Refused(Refusal::new(
				RefusalKind::Malformed,
				format!(
					"the message is for device {}, but was sent on the topic of device {}",
					show_device(&device),
					show_device(&claimed)
				),
			)));
		}
		let fresh = self.keys.get(&device).filter(|(_, at)| at.elapsed() < KEY_TTL);
		let verified = match fresh {
			Some((key, _)) if signed.check_signature(key, &self.genesis).is_ok() => Ok(()),
			// Not cached, stale, or failing: the chain's key decides (it may have rotated).
			_ => match self.registered_key(device).await? {
				Err(refusal) => Err(refusal),
				Ok(key) => signed.check_signature(&key, &self.genesis),
			},
		};
		if let Err(refusal) = verified {
			return Ok(Outcome::Refused(refusal));
		}
		let readings = signed.batch.readings().len() as u64;
		Ok(
			match self.store.add_signed(&signed.batch, &signed.anchor, signed.payload.as_deref())? {
				Added::Stored(_) => Outcome::Stored { device, readings },
				Added::AlreadyStored(_) => Outcome::Duplicate { device },
				Added::Conflict(reason) => {
					Outcome::Refused(Refusal::new(RefusalKind::Conflict, reason))
				},
			},
		)
	}

	/// Reads the registered keys of those of `devices` whose key is not known, together (a
	/// few reads at a time, at one block). Best effort: a key it could not read is read when
	/// its device's message is checked.
	pub async fn prefetch_keys(&mut self, devices: &[DeviceId]) {
		use crate::chain::api::runtime_types::provena_primitives::DeviceStatus;
		let mut missing: Vec<DeviceId> = devices
			.iter()
			.filter(|d| self.keys.get(*d).is_none_or(|(_, at)| at.elapsed() >= KEY_TTL))
			.copied()
			.collect();
		missing.sort_unstable();
		missing.dedup();
		if missing.len() < 2 {
			return;
		}
		let at = match self.at.take() {
			Some((at, taken)) if taken.elapsed() < BLOCK_TTL => (at, taken),
			_ => match tokio::time::timeout(ASK_TIMEOUT, self.chain.finalized()).await {
				Ok(Ok(at)) => (at, Instant::now()),
				_ => return,
			},
		};
		let read = tokio::time::timeout(ASK_TIMEOUT, self.chain.devices_at(&at.0, &missing)).await;
		self.at = Some(at);
		let Ok(Ok(records)) = read else { return };
		for (device, record) in missing.into_iter().zip(records) {
			if let Some(record) = record.filter(|r| matches!(r.status, DeviceStatus::Active)) {
				self.keys.insert(device, (record.key.0, Instant::now()));
			}
		}
	}

	/// Takes in what a finished background refresh read, and starts one when keys are older
	/// than half of [`KEY_TTL`] and none runs. A key read meanwhile (after a signature failed
	/// to verify) is newer than what the refresh read, and is kept.
	fn refresh_keys(&mut self) {
		use futures::FutureExt;
		if let Some((handle, started)) = self.refresh.take() {
			if !handle.is_finished() {
				self.refresh = Some((handle, started));
				return;
			}
			match handle.now_or_never() {
				Some(Ok(Ok(records))) => {
					for (device, record) in records {
						let newer = self.keys.get(&device).is_some_and(|(_, at)| *at > started);
						if newer {
							continue;
						}
						use crate::chain::api::runtime_types::provena_primitives::DeviceStatus;
						match record {
							Some(record) if matches!(record.status, DeviceStatus::Active) => {
								self.keys.insert(device, (record.key.0, started));
							},
							// Gone or not active: the next message asks, and is refused.
							_ => {
								self.keys.remove(&device);
							},
						}
					}
				},
				Some(Ok(Err(error))) => {
					tracing::info!(
						"could not refresh device keys ({}); trying again",
						with_causes(&error)
					)
				},
				_ => {},
			}
		}
		let due: Vec<DeviceId> = self
			.keys
			.iter()
			.filter(|(_, (_, at))| at.elapsed() >= KEY_TTL / 2)
			.map(|(device, _)| *device)
			.collect();
		if due.is_empty() {
			return;
		}
		let chain = self.chain.clone();
		let read = async move {
			let at = tokio::time::timeout(ASK_TIMEOUT, chain.finalized())
				.await
				.map_err(|_| chain.lost("no answer for the finalized head"))??;
			let records = chain.devices_at(&at, &due).await?;
			Ok(due.into_iter().zip(records).collect())
		};
		self.refresh = Some((tokio::spawn(read), Instant::now()));
	}

	/// The device's registered key from the chain, remembered; a refusal when the device is
	/// not registered or not active.
	async fn registered_key(
		&mut self,
		device: DeviceId,
	) -> Result<Result<DeviceKey, Refusal>, Error> {
		use crate::chain::api::runtime_types::provena_primitives::DeviceStatus;
		// Bounded: a node that stopped answering must not hold the message (and the broker's
		// session behind it) forever; the caller tries again.
		let gone = || self.chain.lost(format!("no answer within {} s", ASK_TIMEOUT.as_secs()));
		let at = match self.at.take() {
			Some((at, taken)) if taken.elapsed() < BLOCK_TTL => (at, taken),
			_ => {
				let at = tokio::time::timeout(ASK_TIMEOUT, self.chain.finalized()).await;
				(at.map_err(|_| gone())??, Instant::now())
			},
		};
		let found = tokio::time::timeout(ASK_TIMEOUT, self.chain.device_at(&at.0, device))
			.await
			.map_err(|_| gone())?;
		if found.is_ok() {
			self.at = Some(at);
		}
		let Some(record) = found? else {
			self.keys.remove(&device);
			return Ok(Err(Refusal::new(
				RefusalKind::UnknownDevice,
				format!("device {} is not registered on this chain", show_device(&device)),
			)));
		};
		if !matches!(record.status, DeviceStatus::Active) {
			self.keys.remove(&device);
			return Ok(Err(Refusal::new(
				RefusalKind::UnknownDevice,
				format!(
					"device {} is {:?}; only active devices anchor",
					show_device(&device),
					record.status
				),
			)));
		}
		let key = record.key.0;
		self.keys.insert(device, (key, Instant::now()));
		Ok(Ok(key))
	}
}

/// The gateway's clock, in milliseconds since the Unix epoch.
fn now_ms() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map_or(0, |d| d.as_millis() as u64)
}
