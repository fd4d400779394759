//! READ enforced by encryption: device data keys, sealed to grantees, and encrypted payloads.
//!
//! Each device has a 32-byte data key. A READ grant carries it sealed (an x25519 sealed box,
//! `crypto_box`) to the grantee's published encryption key, so only the grantee opens it. An
//! anchor's payload is the anchored readings as JSON, encrypted with XChaCha20-Poly1305 under
//! the data key:
//!
//! ```text
//! payload = "PV1" ++ key id (8 bytes) ++ nonce (24 bytes) ++ ciphertext
//! key id  = the first 8 bytes of blake2-256("provena:data-key:1" ++ data key)
//! AAD     = device (32) ++ first_seq (u64 LE) ++ count (u32 LE)
//! ```
//!
//! The AAD binds a payload to the anchor it travels with, and after decrypting, the client
//! recomputes the readings' Merkle root and compares it with the device-signed anchor: a payload
//! a gateway swapped or altered is detected either way.

use crate::{error::CryptoError, Error};
use chacha20poly1305::{
	aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
	XChaCha20Poly1305, XNonce,
};
use provena_primitives::DeviceId;
use sp_core::crypto::Zeroize;

const MAGIC: &[u8; 3] = b"PV1";
const HEADER: usize = 3 + 8 + 24;

/// A device's data key.
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

impl DataKey {
	/// A fresh random key.
	pub fn generate() -> DataKey {
		let key = XChaCha20Poly1305::generate_key(&mut OsRng);
		DataKey(key.into())
	}

	/// A short public name for the key, written in every payload it encrypts.
	pub fn id(&self) -> [u8; 8] {
		let mut material = b"provena:data-key:1".to_vec();
		material.extend_from_slice(&self.0);
		let hash = sp_crypto_hashing::blake2_256(&material);
		material.zeroize();
		hash[..8].try_into().expect("8 of 32 bytes")
	}

	/// The key sealed to an x25519 public key: what a READ grant carries.
	pub fn seal_to(&self, recipient: &[u8; 32]) -> Vec<u8> {
		crypto_box::PublicKey::from(*recipient)
			.seal(&mut OsRng, &self.0)
			.expect("sealing 32 bytes cannot fail")
	}

	/// Opens a sealed key with the recipient's secret.
	pub fn open(sealed: &[u8], secret: &crypto_box::SecretKey) -> Result<DataKey, Error> {
		let mut bytes = secret.unseal(sealed).map_err(|_| CryptoError::SealedKeyDoesNotOpen)?;
		let key = <[u8; 32]>::try_from(bytes.as_slice())
			.map(DataKey)
			.map_err(|_| CryptoError::BadKeyLength.into());
		bytes.zeroize();
		key
	}

	/// Encrypts the payload of the anchor of `count` readings from `first_seq` of `device`.
	pub fn encrypt(&self, device: &DeviceId, first_seq: u64, count: u32, plain: &[u8]) -> Vec<u8> {
		let cipher = XChaCha20Poly1305::new((&self.0).into());
		let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
		let aad = aad(device, first_seq, count);
		let ciphertext = cipher
			.encrypt(&nonce, Payload { msg: plain, aad: &aad })
			.expect("XChaCha20-Poly1305 encrypts any length this client produces");
		let mut out = Vec::with_capacity(HEADER + ciphertext.len());
		out.extend_from_slice(MAGIC);
		out.extend_from_slice(&self.id());
		out.extend_from_slice(&nonce);
		out.extend(ciphertext);
		out
	}

	/// Decrypts a payload made by [`DataKey::encrypt`] for the same anchor.
	pub fn decrypt(
		&self,
		device: &DeviceId,
		first_seq: u64,
		count: u32,
		payload: &[u8],
	) -> Result<Vec<u8>, Error> {
		let key_id = payload_key_id(payload)?;
		if key_id != self.id() {
			return Err(CryptoError::OtherKey {
				payload_key: hex::encode(key_id),
				this_key: hex::encode(self.id()),
			}
			.into());
		}
		let cipher = XChaCha20Poly1305::new((&self.0).into());
		let nonce = XNonce::from_slice(&payload[11..HEADER]);
		let aad = aad(device, first_seq, count);
		cipher
			.decrypt(nonce, Payload { msg: &payload[HEADER..], aad: &aad })
			.map_err(|_| CryptoError::Altered.into())
	}
}

/// The id of the data key a payload was encrypted with.
pub fn payload_key_id(payload: &[u8]) -> Result<[u8; 8], Error> {
	if payload.len() < HEADER || &payload[..3] != MAGIC {
		return Err(CryptoError::NotAPayload.into());
	}
	Ok(payload[3..11].try_into().expect("8 bytes"))
}

fn aad(device: &DeviceId, first_seq: u64, count: u32) -> Vec<u8> {
	let mut aad = device.to_vec();
	aad.extend(first_seq.to_le_bytes());
	aad.extend(count.to_le_bytes());
	aad
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_payload_opens_for_its_anchor_only() {
		let key = DataKey::generate();
		let payload = key.encrypt(&[1; 32], 5, 3, b"readings");
		assert_eq!(key.decrypt(&[1; 32], 5, 3, &payload).unwrap(), b"readings");
		assert!(key.decrypt(&[2; 32], 5, 3, &payload).is_err());
		assert!(key.decrypt(&[1; 32], 6, 3, &payload).is_err());
		let mut altered = payload.clone();
		*altered.last_mut().unwrap() ^= 1;
		assert!(key.decrypt(&[1; 32], 5, 3, &altered).is_err());
		let other = DataKey::generate();
		let err = other.decrypt(&[1; 32], 5, 3, &payload).unwrap_err().to_string();
		assert!(err.contains("rotated"), "{err}");
	}

	#[test]
	fn a_sealed_key_opens_with_the_recipients_secret_only() {
		let reader = crypto_box::SecretKey::from([7; 32]);
		let other = crypto_box::SecretKey::from([8; 32]);
		let key = DataKey::generate();
		let sealed = key.seal_to(reader.public_key().as_bytes());
		assert_eq!(DataKey::open(&sealed, &reader).unwrap(), key);
		assert!(DataKey::open(&sealed, &other).is_err());
	}
}
