//! READ against the chain: the data key to encrypt a device's payloads with now, the key to
//! open a payload with, and giving the key of the epoch in force to every reader.
//!
//! The chain keeps each device's data-key epoch and moves it on whenever someone loses READ
//! (see [`crate::crypto`] for the keys). Who gets a key:
//! - the device's **owner** derives any epoch's key from its own secret;
//! - a **reader** (a doctor, a customer, or a gateway holding SUBMIT and READ) opens the key
//!   sealed to it on chain, which gives that epoch and every earlier one.
//!
//! After an epoch moves on, the owner (or a manager who can read) seals the new key to each
//! remaining reader: [`reseal`], which `provena rotate --resume` runs. It is idempotent: a
//! reader whose key is already of the epoch in force is skipped, so an interrupted run is
//! finished by running it again.

use crate::{
	chain::{account_of, api, Bounded, Chain, ChainEpochKey, Finalized, StoredSealedKey},
	crypto::{EpochKey, PayloadHeader},
	error::CryptoError,
	keys::{encryption_secret, ss58, KeyPair},
	show_device,
	store::Store,
	Error,
};
use provena_primitives::{permission, DeviceId};
use subxt::utils::AccountId32;

/// The key `account` encrypts `device`'s payloads with now: of the epoch in force on chain,
/// and of no other. A reader whose sealed key is of an older epoch is refused: the device's
/// owner has to give it the new one first.
pub async fn current_key(
	chain: &Chain,
	device: DeviceId,
	account: &KeyPair,
) -> Result<EpochKey, Error> {
	let epoch = epoch_in_force(chain, device).await?;
	key_of_epoch(chain, device, account, epoch).await
}

/// The data-key epoch in force for `device`.
pub async fn epoch_in_force(chain: &Chain, device: DeviceId) -> Result<u32, Error> {
	chain.key_epoch(device).await?.ok_or_else(|| {
		Error::input(format!("no device {} is registered on this chain", show_device(&device)))
	})
}

/// The key of `device`'s `epoch` as `account` gets it: derived if it owns the device, else
/// opened from the key sealed to it (of `epoch` or a later one).
pub async fn key_of_epoch(
	chain: &Chain,
	device: DeviceId,
	account: &KeyPair,
	epoch: u32,
) -> Result<EpochKey, Error> {
	let info = chain.known_device(device).await?;
	let who = account_of(account);
	if info.owner == who {
		return EpochKey::derive(account, &device, epoch);
	}
	let sealed = chain.sealed_key(device, who).await?;
	opened_key(device, account, sealed.as_ref(), epoch)
}

/// The key of `epoch` opened from `sealed`, the key sealed to `account` for `device` (of
/// `epoch` or a later one), or why there is none.
fn opened_key(
	device: DeviceId,
	account: &KeyPair,
	sealed: Option<&StoredSealedKey>,
	epoch: u32,
) -> Result<EpochKey, Error> {
	let (shown, who) = (show_device(&device), ss58(account.public()));
	let sealed = sealed.ok_or_else(|| {
		Error::NotAuthorized(format!(
			"no data key of device {shown} is sealed to {who}: it needs a READ grant from the \
			 device's owner (`provena grant add --device {shown} --to {who} --read`)"
		))
	})?;
	if sealed.key.epoch < epoch {
		return Err(Error::NotAuthorized(format!(
			"the data key of device {shown} sealed to {who} is of epoch {}, and epoch {epoch} is \
			 needed: after someone lost READ, the device's owner gives the new key to the \
			 remaining readers (`provena rotate --resume --device {shown}`)",
			sealed.key.epoch
		)));
	}
	let key = EpochKey::open(sealed.key.epoch, &sealed.key.sealed.0, &encryption_secret(account))?;
	key.earlier(epoch)
}

/// The key that opens a payload of `device` with `header`, as `account` gets it: the owner
/// derives it; a reader tries the key sealed to it on chain, then the sealed keys its `store`
/// kept from earlier (a new owner's key replaces the old owner's on chain). A chain key that
/// opens is kept in the store, still sealed, for later.
pub async fn payload_key(
	chain: &Chain,
	store: &mut Store,
	device: DeviceId,
	account: &KeyPair,
	header: PayloadHeader,
) -> Result<EpochKey, Error> {
	let who = account_of(account);
	let fits =
		|key: &EpochKey| key.earlier(header.epoch).ok().filter(|key| key.key.id() == header.key_id);
	// A key sealed to the account on chain is kept, whatever it opens: a new owner's will
	// replace it there.
	let secret = encryption_secret(account);
	let sealed = chain.sealed_key(device, who).await?;
	if let Some(sealed) = &sealed {
		if EpochKey::open(sealed.key.epoch, &sealed.key.sealed.0, &secret).is_ok() {
			store.keep_sealed_key(&device, &who.0, sealed.key.epoch, &sealed.key.sealed.0)?;
		}
	}
	// The owner's own key, else the one sealed on chain: its error is the one worth showing
	// if nothing opens.
	let from_chain = if chain.known_device(device).await?.owner == who {
		EpochKey::derive(account, &device, header.epoch)
	} else {
		opened_key(device, account, sealed.as_ref(), header.epoch)
	};
	if let Some(key) = from_chain.as_ref().ok().and_then(fits) {
		return Ok(key);
	}
	for (epoch, sealed) in store.kept_sealed_keys(&device, &who.0)? {
		if epoch < header.epoch {
			continue;
		}
		if let Some(key) = EpochKey::open(epoch, &sealed, &secret).ok().as_ref().and_then(fits) {
			return Ok(key);
		}
	}
	match from_chain {
		// A key of the epoch, but not the one the payload names: another owner's.
		Ok(key) => Err(CryptoError::OtherKey {
			epoch: header.epoch,
			payload_key: hex::encode(header.key_id),
			this_key: hex::encode(key.key.id()),
		}
		.into()),
		Err(error) => Err(error),
	}
}

/// The accounts that may read `device` now: a live READ grant on it or on one of its groups.
pub async fn readers(chain: &Chain, device: DeviceId) -> Result<Vec<AccountId32>, Error> {
	let mut grantees: Vec<AccountId32> = chain
		.grants(device)
		.await?
		.into_iter()
		.filter(|(_, _, grant)| grant.permissions.0 & permission::READ != 0)
		.map(|(_, who, _)| who)
		.collect();
	grantees.sort_by_key(|who| who.0);
	grantees.dedup();
	let mut readers = Vec::new();
	for who in grantees {
		// The runtime says whether the grant still counts (not expired, this owner's).
		if chain.permissions(who, device).await? & permission::READ != 0 {
			readers.push(who);
		}
	}
	Ok(readers)
}

/// What [`reseal`] did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Resealed {
	/// The epoch in force, whose key the readers now hold.
	pub epoch: u32,
	/// Readers it sealed the key to now.
	pub sealed: Vec<String>,
	/// Readers that already had it (or a later one).
	pub had_it: Vec<String>,
	/// Readers without a published encryption key: nothing can be sealed to them until they
	/// publish one (`provena encryption-key publish`) and this runs again.
	pub no_encryption_key: Vec<String>,
}

/// What [`reseal`] is about to do, for progress lines.
pub enum ResealStep<'a> {
	/// Sealing the key to `reader`, the `n`-th of `of` readers missing it.
	Sealing {
		/// The reader.
		reader: &'a AccountId32,
		/// Which one (from 1).
		n: usize,
		/// How many readers miss the key.
		of: usize,
	},
}

/// Gives every reader of `device` the key of the epoch in force, one transaction each, signed
/// by `signer` (the owner, or a manager who can read the device) and waited for to finality in
/// turn. Readers that already hold it are skipped, so running it again after an interruption
/// finishes the job and sends nothing twice.
pub async fn reseal(
	chain: &Chain,
	device: DeviceId,
	signer: &KeyPair,
	mut progress: impl FnMut(ResealStep<'_>),
) -> Result<Resealed, Error> {
	let epoch = epoch_in_force(chain, device).await?;
	let mut done = Resealed { epoch, ..Default::default() };
	let mut missing = Vec::new();
	for reader in readers(chain, device).await? {
		let held = chain.sealed_key(device, reader).await?;
		if held.is_some_and(|k| k.key.epoch >= epoch) {
			done.had_it.push(ss58(reader.0));
			continue;
		}
		match chain.encryption_key(reader).await? {
			Some(public) => missing.push((reader, public)),
			None => done.no_encryption_key.push(ss58(reader.0)),
		}
	}
	if missing.is_empty() {
		return Ok(done);
	}
	let of = missing.len();
	for (n, (reader, public)) in missing.into_iter().enumerate() {
		progress(ResealStep::Sealing { reader: &reader, n: n + 1, of });
		let make = |key: &EpochKey| {
			let sealed = ChainEpochKey { epoch: key.epoch, sealed: Bounded(key.seal_to(&public)?) };
			Ok(api::transactions().access_control().seal_key(device, reader, sealed))
		};
		done.epoch = seal_in_force(chain, device, signer, make).await?.0;
		done.sealed.push(ss58(reader.0));
	}
	Ok(done)
}

/// How many times a transaction carrying a sealed key is built again when the epoch moved on
/// between reading it and the transaction's block (an expiry can end it in any block).
const STALE_EPOCH_TRIES: usize = 3;

/// Builds a transaction carrying `device`'s key of the epoch in force (with `make`), sends it
/// signed by `signer` and waits for it to be finalized; if the chain refuses it because the
/// epoch moved on meanwhile (`StaleKeyEpoch`), reads the epoch again and retries. Returns the
/// epoch of the key it sent, and the finalized transaction.
pub async fn seal_in_force<Call: subxt::tx::Payload>(
	chain: &Chain,
	device: DeviceId,
	signer: &KeyPair,
	make: impl Fn(&EpochKey) -> Result<Call, Error>,
) -> Result<(u32, Finalized), Error> {
	let mut tries = 0;
	loop {
		tries += 1;
		let key = current_key(chain, device, signer).await?;
		match chain.submit(&make(&key)?, signer).await {
			Ok(finalized) => return Ok((key.epoch, finalized)),
			Err(e)
				if e.is_dispatch("AccessControl", "StaleKeyEpoch") && tries < STALE_EPOCH_TRIES => {},
			Err(error) => return Err(error),
		}
	}
}
