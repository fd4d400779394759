//! The gateway service's front door: a device-signed message is checked (shape, batch, the
//! device's registered key) and stored before anything acknowledges it. Whatever the transport
//! (MQTT, HTTP), [`Ingest::accept`] decides; the transport acknowledges only what it returns
//! `Ok` for, so a message is stored, or refused for good with a reason, or left unacknowledged
//! for the sender (or the broker) to send again.

use super::message::{parse_anchor, Refusal, RefusalKind};
use crate::{
	chain::{AtBlock, Chain},
	show_device,
	store::Added,
	store::Store,
	Error,
};
use provena_primitives::{DeviceId, DeviceKey};
use std::{
	collections::HashMap,
	time::{Duration, Instant},
};
use subxt::utils::H256;

/// How long a device's registered key is trusted without asking the chain again. A key that
/// fails to verify a signature is always asked again first, so a rotation is seen at once.
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

/// Checks and stores device-signed messages.
pub struct Ingest {
	chain: Chain,
	store: Store,
	genesis: H256,
	keys: HashMap<DeviceId, (DeviceKey, Instant)>,
	/// The finalized block key lookups read, and when it was taken.
	at: Option<(AtBlock, Instant)>,
}

impl Ingest {
	/// Ingests into `store` for the chain `chain` is connected to.
	pub fn new(chain: Chain, store: Store) -> Self {
		let genesis = chain.genesis_hash();
		Ingest { chain, store, genesis, keys: HashMap::new(), at: None }
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
