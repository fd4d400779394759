//! Key files: the secret keys of devices and accounts, kept on disk readable by their owner only.
//!
//! A key file is JSON: the scheme, the secret (a BIP-39 phrase, or any secret URI such as a
//! derivation of one), and for reference the public key and its SS58 address. It is created with
//! mode 0600, and a key file others can read is refused, as ssh does.
//!
//! Devices and accounts use the same key type, sp-core's sr25519 and ed25519 pairs (secret URIs,
//! BIP-39 phrases, derivations): subxt-signer 0.51 signs sr25519 only, and device keys are
//! often ed25519. [`crate::chain`] implements subxt's `Signer` for it.
//!
//! Each account also has an x25519 encryption key for sealed data keys. It is derived from the
//! account's secret (`blake2-256("provena:x25519:1" ++ secret)`), so it needs no file of its own
//! and anyone holding the account key can open what was sealed to it.

pub use crate::readings::{KeyPair, Scheme};
use crate::Error;
use serde::{Deserialize, Serialize};
use sp_core::{
	crypto::{Ss58Codec, Zeroize},
	ed25519, sr25519, Pair,
};
use std::{
	fs::OpenOptions,
	io::Write,
	os::unix::fs::{OpenOptionsExt, PermissionsExt},
	path::Path,
};

/// An account's key: the same kinds of key as a device's.
pub type AccountKey = KeyPair;

/// What a key file holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
	/// `sr25519` or `ed25519`.
	pub scheme: Scheme,
	/// The secret: a phrase or secret URI.
	pub secret: String,
	/// The public key, `0x`-hex (checked against the secret on load).
	pub public: String,
	/// The SS58 address of the key's account (prefix 42).
	pub address: String,
}

impl KeyFile {
	/// A fresh random key of `scheme`, with its BIP-39 phrase as the secret.
	pub fn generate(scheme: Scheme) -> (KeyFile, KeyPair) {
		let (phrase, pair) = match scheme {
			Scheme::Sr25519 => {
				let (pair, phrase, _) = sr25519::Pair::generate_with_phrase(None);
				(phrase, KeyPair::Sr25519(pair))
			},
			Scheme::Ed25519 => {
				let (pair, phrase, _) = ed25519::Pair::generate_with_phrase(None);
				(phrase, KeyPair::Ed25519(pair))
			},
		};
		(KeyFile::describe(scheme, phrase, &pair), pair)
	}

	/// The key file for a secret URI of `scheme`.
	pub fn from_uri(scheme: Scheme, uri: &str) -> Result<(KeyFile, KeyPair), Error> {
		let pair = KeyPair::from_uri(scheme, uri)
			.map_err(|e| Error::key(format!("not a valid {scheme:?} secret: {e:?}")))?;
		Ok((KeyFile::describe(scheme, uri.to_string(), &pair), pair))
	}

	fn describe(scheme: Scheme, secret: String, pair: &KeyPair) -> KeyFile {
		KeyFile {
			scheme,
			secret,
			public: format!("0x{}", hex::encode(pair.public())),
			address: ss58(pair.public()),
		}
	}

	/// Writes the file with mode 0600; refuses to overwrite an existing file.
	pub fn write(&self, path: &Path) -> Result<(), Error> {
		let mut json = serde_json::to_string_pretty(self).expect("a key file serializes");
		json.push('\n');
		let mut file = OpenOptions::new()
			.write(true)
			.create_new(true)
			.mode(0o600)
			.open(path)
			.map_err(|e| Error::key_from(format!("cannot create {}", path.display()), e))?;
		let written = file.write_all(json.as_bytes());
		json.zeroize();
		written.map_err(|e| Error::key_from(format!("cannot write {}", path.display()), e))
	}

	/// Reads and checks a key file: owner-only permissions, known fields, and a public key that
	/// matches the secret.
	pub fn read(path: &Path) -> Result<(KeyFile, KeyPair), Error> {
		let shown = path.display();
		let meta = std::fs::metadata(path)
			.map_err(|e| Error::key_from(format!("cannot read key file {shown}"), e))?;
		if !meta.is_file() {
			return Err(Error::key(format!("{shown} is not a file")));
		}
		let mode = meta.permissions().mode() & 0o777;
		if mode & 0o077 != 0 {
			return Err(Error::key(format!(
				"key file {shown} is readable by others (mode {mode:o}); run `chmod 600 {shown}`"
			)));
		}
		let text = std::fs::read_to_string(path)
			.map_err(|e| Error::key_from(format!("cannot read key file {shown}"), e))?;
		let file: KeyFile = serde_json::from_str(&text).map_err(|e| {
			Error::key_from(
				format!(
					"{shown} is not a Provena key file; create one with `provena key generate`"
				),
				e,
			)
		})?;
		let pair = KeyPair::from_uri(file.scheme, &file.secret).map_err(|e| {
			Error::key(format!("{shown}: the secret is not a valid {:?} key: {e:?}", file.scheme))
		})?;
		let public = format!("0x{}", hex::encode(pair.public()));
		if public != file.public {
			return Err(Error::key(format!(
				"{shown}: the secret gives public key {public}, not the {} the file states \
				 (a damaged file, or a `scheme` that does not match the secret)",
				file.public
			)));
		}
		Ok((file, pair))
	}
}

/// The SS58 address (prefix 42, as the chain's properties say) of an account id.
pub fn ss58(public: [u8; 32]) -> String {
	sp_core::crypto::AccountId32::new(public).to_ss58check()
}

/// An account id from an SS58 address or `0x`-hex.
pub fn parse_account(text: &str) -> Result<[u8; 32], Error> {
	if let Some(hex_part) = text.strip_prefix("0x") {
		let bytes = hex::decode(hex_part)
			.map_err(|e| Error::input_from(format!("{text} is not a hex account id"), e))?;
		return bytes
			.try_into()
			.map_err(|_| Error::input(format!("{text}: an account id has 32 bytes")));
	}
	sp_core::crypto::AccountId32::from_ss58check(text)
		.map(|id| id.into())
		.map_err(|e| Error::input(format!("{text} is not an SS58 address: {e:?}")))
}

/// The x25519 secret an account opens sealed data keys with.
pub fn encryption_secret(key: &KeyPair) -> crypto_box::SecretKey {
	let mut material = b"provena:x25519:1".to_vec();
	material.extend(key.raw_secret());
	let secret = sp_crypto_hashing::blake2_256(&material);
	material.zeroize();
	crypto_box::SecretKey::from(secret)
}

/// The x25519 public key the account publishes.
pub fn encryption_public(key: &KeyPair) -> [u8; 32] {
	*encryption_secret(key).public_key().as_bytes()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_key_file_round_trips_with_owner_only_permissions() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("device.key");
		let (file, pair) = KeyFile::generate(Scheme::Ed25519);
		file.write(&path).unwrap();
		let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
		assert_eq!(mode, 0o600);
		let (read, again) = KeyFile::read(&path).unwrap();
		assert_eq!(read.public, file.public);
		assert_eq!(again.public(), pair.public());
		// No overwriting.
		assert!(file.write(&path).is_err());
	}

	#[test]
	fn a_readable_damaged_or_mismatched_key_file_is_refused() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("k.key");
		let (file, _) = KeyFile::from_uri(Scheme::Sr25519, "//Alice").unwrap();
		file.write(&path).unwrap();

		std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
		let err = KeyFile::read(&path).unwrap_err().to_string();
		assert!(err.contains("chmod 600"), "{err}");

		std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
		let mut wrong = file.clone();
		wrong.scheme = Scheme::Ed25519;
		std::fs::write(&path, serde_json::to_string(&wrong).unwrap()).unwrap();
		let err = KeyFile::read(&path).unwrap_err().to_string();
		assert!(err.contains("does not match"), "{err}");

		std::fs::write(&path, "{ not json").unwrap();
		let err = KeyFile::read(&path).unwrap_err().to_string();
		assert!(err.contains("not a Provena key file"), "{err}");
	}

	#[test]
	fn accounts_parse_from_ss58_and_hex() {
		let (file, pair) = KeyFile::from_uri(Scheme::Sr25519, "//Bob").unwrap();
		assert_eq!(parse_account(&file.address).unwrap(), pair.public());
		assert_eq!(parse_account(&file.public).unwrap(), pair.public());
		assert!(parse_account("5Nope").is_err());
		assert!(parse_account("0x1234").is_err());
	}

	#[test]
	fn the_encryption_key_is_derived_from_the_account_secret() {
		let alice = KeyPair::from_uri(Scheme::Sr25519, "//Alice").unwrap();
		let bob = KeyPair::from_uri(Scheme::Sr25519, "//Bob").unwrap();
		assert_eq!(encryption_public(&alice), encryption_public(&alice.clone()));
		assert_ne!(encryption_public(&alice), encryption_public(&bob));
	}
}
