//! READ enforced by encryption: device data keys in epochs, sealed to readers, and encrypted
//! payloads.
//!
//! A device's data key changes **epoch** whenever someone loses READ on it (the chain keeps the
//! epoch: `AccessControl::KeyEpochs`, asked through the `key_epoch` runtime API). Payloads are
//! encrypted under the key of the epoch in force; each reader gets that key sealed (an x25519
//! sealed box, `crypto_box`) to its published encryption key, so only it opens it, and a reader
//! who lost READ is never given the next one.
//!
//! Keys are derived, never stored. Under one owner, a device's keys form a backward hash chain:
//!
//! ```text
//! seed(owner, device) = HKDF-SHA-256(ikm = owner's secret key, salt = "provena:data-key-seed:1",
//!                                    info = device)
//! key(e)              = step^(DATA_KEY_EPOCHS - 1 - e)(seed)
//! step(k)             = blake2-256("provena:data-key-step:1" ++ k)
//! ```
//!
//! so the owner derives any epoch's key from its own secret on any machine (nothing to back up,
//! no key in the gateway's database), and a reader holding the key of epoch `e` derives the keys
//! of every earlier epoch — it still opens everything it was once entitled to — but, hashes
//! being one-way, not the key of any later epoch.
//!
//! An anchor's payload is the anchored readings, SCALE-encoded, encrypted with
//! XChaCha20-Poly1305 under the epoch's key:
//!
//! ```text
//! payload = "PV2" ++ epoch (u32 LE) ++ key id (8 bytes) ++ nonce (24 bytes) ++ ciphertext
//! key id  = the first 8 bytes of blake2-256("provena:data-key:1" ++ data key)
//! AAD     = device (32) ++ first_seq (u64 LE) ++ count (u32 LE) ++ epoch (u32 LE)
//! ```
//!
//! The AAD binds a payload to the anchor it travels with, and after decrypting, the client
//! recomputes the readings' Merkle root and compares it with the device-signed anchor: a payload
//! a gateway swapped or altered is detected either way.

use crate::{error::CryptoError, keys::KeyPair, Error};
use chacha20poly1305::{
	aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
	XChaCha20Poly1305, XNonce,
};
use provena_primitives::{is_weak_encryption_key, DeviceId, DATA_KEY_EPOCHS};
use sp_core::crypto::Zeroize;

const MAGIC: &[u8; 3] = b"PV2";
const HEADER: usize = 3 + 4 + 8 + 24;
const SEED_SALT: &[u8] = b"provena:data-key-seed:1";
const STEP_TAG: &[u8] = b"provena:data-key-step:1";

/// A device's data key of one epoch.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey(pub [u8; 32]);

impl Drop for DataKey {
	fn drop(&mut self) {
		self.0.zeroize();
	}
}

impl core::fmt::Debug for DataKey {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		write!(f, "DataKey({})", hex::encode(self.id()))
	}
}

/// A data key with the epoch it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochKey {
	/// The device's data-key epoch.
	pub epoch: u32,
	/// Its key.
	pub key: DataKey,
}

impl EpochKey {
	/// The key of `device`'s `epoch` under `owner`, derived from the owner's secret.
	pub fn derive(owner: &KeyPair, device: &DeviceId, epoch: u32) -> Result<EpochKey, Error> {
		if epoch >= DATA_KEY_EPOCHS {
			return Err(CryptoError::EpochsExhausted { epoch }.into());
		}
		let mut secret = owner.raw_secret();
		let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(SEED_SALT), &secret);
		secret.zeroize();
		let mut seed = [0u8; 32];
		hkdf.expand(device, &mut seed).expect("32 bytes is a valid HKDF-SHA-256 length");
		let top = EpochKey { epoch: DATA_KEY_EPOCHS - 1, key: DataKey(seed) };
		seed.zeroize();
		top.earlier(epoch)
	}

	/// The key of an earlier (or the same) epoch, derived from this one.
	pub fn earlier(&self, epoch: u32) -> Result<EpochKey, Error> {
		if epoch > self.epoch {
			return Err(CryptoError::LaterEpoch { have: self.epoch, need: epoch }.into());
		}
		let mut key = self.key.clone();
		let mut material = [0u8; STEP_TAG.len() + 32];
		material[..STEP_TAG.len()].copy_from_slice(STEP_TAG);
		for _ in epoch..self.epoch {
			material[STEP_TAG.len()..].copy_from_slice(&key.0);
			key.0 = sp_crypto_hashing::blake2_256(&material);
		}
		material.zeroize();
		Ok(EpochKey { epoch, key })
	}

	/// The key sealed to an x25519 public key: what a reader is given. A key of small order
	/// (which anyone could open what is sealed to) is refused.
	pub fn seal_to(&self, recipient: &[u8; 32]) -> Result<Vec<u8>, Error> {
		if is_weak_encryption_key(recipient) {
			return Err(CryptoError::WeakRecipient.into());
		}
		Ok(crypto_box::PublicKey::from(*recipient)
			.seal(&mut OsRng, &self.key.0)
			.expect("sealing 32 bytes cannot fail"))
	}

	/// Opens a key of `epoch` sealed with [`EpochKey::seal_to`], with the recipient's secret.
	pub fn open(
		epoch: u32,
		sealed: &[u8],
		secret: &crypto_box::SecretKey,
	) -> Result<EpochKey, Error> {
		let mut bytes = secret.unseal(sealed).map_err(|_| CryptoError::SealedKeyDoesNotOpen)?;
		let key = <[u8; 32]>::try_from(bytes.as_slice()).map(DataKey);
		bytes.zeroize();
		let key = key.map_err(|_| Error::from(CryptoError::BadKeyLength))?;
		Ok(EpochKey { epoch, key })
	}

	/// Encrypts the payload of the anchor of `count` readings from `first_seq` of `device`.
	pub fn encrypt(&self, device: &DeviceId, first_seq: u64, count: u32, plain: &[u8]) -> Vec<u8> {
		let cipher = XChaCha20Poly1305::new((&self.key.0).into());
		let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
		let aad = aad(device, first_seq, count, self.epoch);
		let ciphertext = cipher
			.encrypt(&nonce, Payload { msg: plain, aad: &aad })
			.expect("XChaCha20-Poly1305 encrypts any length this client produces");
		let mut out = Vec::with_capacity(HEADER + ciphertext.len());
		out.extend_from_slice(MAGIC);
		out.extend_from_slice(&self.epoch.to_le_bytes());
		out.extend_from_slice(&self.key.id());
		out.extend_from_slice(&nonce);
		out.extend(ciphertext);
		out
	}

	/// Decrypts a payload made by [`EpochKey::encrypt`] for the same anchor, with this key or,
	/// for a payload of an earlier epoch, the key derived from it.
	pub fn decrypt(
		&self,
		device: &DeviceId,
		first_seq: u64,
		count: u32,
		payload: &[u8],
	) -> Result<Vec<u8>, Error> {
		let header = PayloadHeader::read(payload)?;
		let key = self.earlier(header.epoch)?;
		if header.key_id != key.key.id() {
			return Err(CryptoError::OtherKey {
				epoch: header.epoch,
				payload_key: hex::encode(header.key_id),
				this_key: hex::encode(key.key.id()),
			}
			.into());
		}
		let cipher = XChaCha20Poly1305::new((&key.key.0).into());
		let nonce = XNonce::from_slice(&payload[15..HEADER]);
		let aad = aad(device, first_seq, count, header.epoch);
		cipher
			.decrypt(nonce, Payload { msg: &payload[HEADER..], aad: &aad })
			.map_err(|_| CryptoError::Altered.into())
	}
}

impl DataKey {
	/// A short public name for the key, written in every payload it encrypts.
	pub fn id(&self) -> [u8; 8] {
		let mut material = b"provena:data-key:1".to_vec();
		material.extend_from_slice(&self.0);
		let hash = sp_crypto_hashing::blake2_256(&material);
		material.zeroize();
		hash[..8].try_into().expect("8 of 32 bytes")
	}
}

/// What a payload says of the key it was encrypted with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayloadHeader {
	/// The data-key epoch.
	pub epoch: u32,
	/// The key's id.
	pub key_id: [u8; 8],
}

impl PayloadHeader {
	/// Reads a payload's header.
	pub fn read(payload: &[u8]) -> Result<PayloadHeader, Error> {
		if payload.len() < HEADER || &payload[..3] != MAGIC {
			return Err(CryptoError::NotAPayload.into());
		}
		Ok(PayloadHeader {
			epoch: u32::from_le_bytes(payload[3..7].try_into().expect("4 bytes")),
			key_id: payload[7..15].try_into().expect("8 bytes"),
		})
	}
}

fn aad(device: &DeviceId, first_seq: u64, count: u32, epoch: u32) -> Vec<u8> {
	let mut aad = device.to_vec();
	aad.extend(first_seq.to_le_bytes());
	aad.extend(count.to_le_bytes());
	aad.extend(epoch.to_le_bytes());
	aad
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::keys::Scheme;

	fn owner(uri: &str) -> KeyPair {
		KeyPair::from_uri(Scheme::Sr25519, uri).unwrap()
	}

	#[test]
	fn an_owner_derives_the_same_key_anywhere_and_each_epoch_and_device_its_own() {
		let alice = owner("//Alice");
		let key = EpochKey::derive(&alice, &[1; 32], 3).unwrap();
		assert_eq!(key, EpochKey::derive(&owner("//Alice"), &[1; 32], 3).unwrap());
		assert_ne!(key.key, EpochKey::derive(&alice, &[1; 32], 4).unwrap().key);
		assert_ne!(key.key, EpochKey::derive(&alice, &[2; 32], 3).unwrap().key);
		assert_ne!(key.key, EpochKey::derive(&owner("//Bob"), &[1; 32], 3).unwrap().key);
		assert!(EpochKey::derive(&alice, &[1; 32], DATA_KEY_EPOCHS).is_err());
	}

	#[test]
	fn a_key_derives_earlier_epochs_and_no_later_one() {
		let alice = owner("//Alice");
		let five = EpochKey::derive(&alice, &[1; 32], 5).unwrap();
		assert_eq!(five.earlier(2).unwrap(), EpochKey::derive(&alice, &[1; 32], 2).unwrap());
		assert_eq!(five.earlier(5).unwrap(), five);
		let err = five.earlier(6).unwrap_err().to_string();
		assert!(err.contains("epoch 6"), "{err}");
	}

	#[test]
	fn a_payload_opens_for_its_anchor_only_and_with_a_later_key() {
		let alice = owner("//Alice");
		let two = EpochKey::derive(&alice, &[1; 32], 2).unwrap();
		let payload = two.encrypt(&[1; 32], 5, 3, b"readings");
		assert_eq!(PayloadHeader::read(&payload).unwrap().epoch, 2);
		assert_eq!(two.decrypt(&[1; 32], 5, 3, &payload).unwrap(), b"readings");
		assert!(two.decrypt(&[2; 32], 5, 3, &payload).is_err());
		assert!(two.decrypt(&[1; 32], 6, 3, &payload).is_err());
		let mut altered = payload.clone();
		*altered.last_mut().unwrap() ^= 1;
		assert!(two.decrypt(&[1; 32], 5, 3, &altered).is_err());
		// A later epoch's key opens it; an earlier one does not.
		let four = EpochKey::derive(&alice, &[1; 32], 4).unwrap();
		assert_eq!(four.decrypt(&[1; 32], 5, 3, &payload).unwrap(), b"readings");
		let one = EpochKey::derive(&alice, &[1; 32], 1).unwrap();
		assert!(one.decrypt(&[1; 32], 5, 3, &payload).is_err());
		// Another owner's key of the same epoch names the mismatch.
		let bobs = EpochKey::derive(&owner("//Bob"), &[1; 32], 2).unwrap();
		let err = bobs.decrypt(&[1; 32], 5, 3, &payload).unwrap_err().to_string();
		assert!(err.contains("another data key"), "{err}");
	}

	#[test]
	fn a_sealed_key_opens_with_the_recipients_secret_only() {
		let reader = crypto_box::SecretKey::from([7; 32]);
		let other = crypto_box::SecretKey::from([8; 32]);
		let key = EpochKey::derive(&owner("//Alice"), &[1; 32], 0).unwrap();
		let sealed = key.seal_to(reader.public_key().as_bytes()).unwrap();
		assert_eq!(EpochKey::open(0, &sealed, &reader).unwrap(), key);
		assert!(EpochKey::open(0, &sealed, &other).is_err());
	}

	#[test]
	fn nothing_is_sealed_to_a_small_order_key() {
		let key = EpochKey::derive(&owner("//Alice"), &[1; 32], 0).unwrap();
		let err = key.seal_to(&[0; 32]).unwrap_err().to_string();
		assert!(err.contains("small order"), "{err}");
	}

	/// The keys `is_weak_encryption_key` refuses are of small order: their X25519 shared secret
	/// with any secret is all zeros (checked with curve25519-dalek's own X25519), with the top
	/// bit set or not; keys this client derives are not refused.
	#[test]
	fn the_refused_keys_are_the_small_order_points() {
		use curve25519_dalek::montgomery::MontgomeryPoint;
		use provena_primitives::SMALL_ORDER_X25519;
		let scalars = [[3u8; 32], [0x5a; 32], [0xc4; 32]];
		let zero_for_all =
			|u: [u8; 32]| scalars.iter().all(|s| MontgomeryPoint(u).mul_clamped(*s).0 == [0; 32]);
		for u in SMALL_ORDER_X25519 {
			assert!(zero_for_all(u), "{} is not of small order", hex::encode(u));
			assert!(is_weak_encryption_key(&u));
			let mut high = u;
			high[31] |= 0x80;
			assert!(zero_for_all(high));
			assert!(is_weak_encryption_key(&high));
		}
		for n in 0u8..64 {
			let public = *crypto_box::SecretKey::from([n; 32]).public_key().as_bytes();
			assert!(!is_weak_encryption_key(&public));
			assert!(!zero_for_all(public));
		}
	}
}
