//! Key files: the secret keys of devices and accounts, kept on disk readable by their owner only.
//!
//! A key file is JSON: the scheme, the secret (a BIP-39 phrase, or any secret URI such as a
//! derivation of one), and for reference the public key and its SS58 address. It is created with
//! mode 0600 and flushed to the disk before the command says it wrote it; a key file others can
//! read is refused, as ssh does, and so is a symbolic link in its place (someone who may write
//! the folder could point it at a key of their choosing). The secret never shows in `Debug`
//! output and is wiped from memory when the [`KeyFile`] is dropped.
//!
//! A key file may instead hold its secret encrypted under a password ([`EncryptedSecret`]:
//! scrypt, then XChaCha20-Poly1305), for keys kept where others may copy the disk. The password
//! comes from a password file ([`read_password_file`], kept like a key file) or, on a terminal,
//! a prompt; nothing prompts without one.
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
use chacha20poly1305::{
	aead::{rand_core::RngCore, Aead, AeadCore, KeyInit, OsRng, Payload},
	Key as XKey, XChaCha20Poly1305, XNonce,
};
use serde::{Deserialize, Serialize};
use sp_core::{
	crypto::{Ss58Codec, Zeroize},
	ed25519, sr25519, Pair,
};
use std::{
	fs::{File, OpenOptions},
	io::{Read, Write},
	os::unix::fs::{OpenOptionsExt, PermissionsExt},
	path::Path,
};
use zeroize::Zeroizing;

/// An account's key: the same kinds of key as a device's.
pub type AccountKey = KeyPair;

/// What a key file holds: the secret in the clear (`secret`) or encrypted under a password
/// (`encrypted`), never both. Its `Debug` shows everything but the secret, and dropping it
/// overwrites the secret's bytes.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
	/// `sr25519` or `ed25519`.
	pub scheme: Scheme,
	/// The secret: a phrase or secret URI. `None` in an encrypted file, and in what
	/// [`KeyFile::read_with`] returns for one.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub secret: Option<String>,
	/// The secret encrypted under a password.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub encrypted: Option<EncryptedSecret>,
	/// The public key, `0x`-hex (checked against the secret on load).
	pub public: String,
	/// The SS58 address of the key's account (prefix 42).
	pub address: String,
}

/// A key file's secret encrypted under a password: scrypt turns the password and a random
/// salt into a 32-byte key, and XChaCha20-Poly1305 encrypts the secret URI under it with a
/// random nonce. The associated data binds the ciphertext to the file's scheme and public key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptedSecret {
	/// The key derivation function; `scrypt` is the only one.
	pub kdf: String,
	/// scrypt's cost: log₂ N.
	pub log_n: u8,
	/// scrypt's block size r.
	pub r: u32,
	/// scrypt's parallelism p.
	pub p: u32,
	/// The salt, 16 bytes `0x`-hex.
	pub salt: String,
	/// The nonce, 24 bytes `0x`-hex.
	pub nonce: String,
	/// The encrypted secret and its 16-byte tag, `0x`-hex.
	pub ciphertext: String,
}

/// scrypt's cost for new encrypted key files: N = 2^15, r = 8, p = 1 (32 MiB, a tenth of a
/// second on a laptop, about a second on a small gateway).
const SCRYPT_LOG_N: u8 = 15;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

/// The most memory an encrypted key file may ask scrypt for (128 · r · N bytes): a damaged or
/// hostile file cannot make the client allocate gigabytes.
const SCRYPT_MAX_MEMORY: u64 = 512 * 1024 * 1024;

/// The most work (N · p) an encrypted key file may ask scrypt for.
const SCRYPT_MAX_WORK: u64 = 1 << 20;

/// Domain tag of an encrypted key file's associated data.
const KEY_FILE_AAD_TAG: &[u8] = b"provena:key-file:1";

/// The largest key file read: a phrase, a derivation and two public forms take under 1 KiB.
const MAX_KEY_FILE_LEN: u64 = 64 * 1024;

/// The largest password file read.
const MAX_PASSWORD_FILE_LEN: u64 = 4 * 1024;

impl Drop for KeyFile {
	fn drop(&mut self) {
		if let Some(secret) = &mut self.secret {
			secret.zeroize();
		}
	}
}

impl core::fmt::Debug for KeyFile {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		let secret = match (&self.secret, &self.encrypted) {
			(Some(_), _) => "<hidden>",
			(None, Some(_)) => "<encrypted>",
			(None, None) => "<none>",
		};
		f.debug_struct("KeyFile")
			.field("scheme", &self.scheme)
			.field("secret", &secret)
			.field("public", &self.public)
			.field("address", &self.address)
			.finish()
	}
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
			secret: Some(secret),
			encrypted: None,
			public: format!("0x{}", hex::encode(pair.public())),
			address: ss58(pair.public()),
		}
	}

	/// Replaces the clear secret by the secret encrypted under `password`.
	pub fn encrypt(&mut self, password: &str) -> Result<(), Error> {
		if password.is_empty() {
			return Err(Error::key("an empty password encrypts nothing"));
		}
		let Some(secret) = &self.secret else {
			return Err(Error::key("this key file has no clear secret to encrypt"));
		};
		let salt: [u8; 16] = {
			let mut salt = [0u8; 16];
			OsRng.fill_bytes(&mut salt);
			salt
		};
		let cipher = file_cipher(password, &salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)?;
		let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
		let aad = self.associated_data();
		let ciphertext = cipher
			.encrypt(&nonce, Payload { msg: secret.as_bytes(), aad: &aad })
			.map_err(|_| Error::key("encrypting the secret failed"))?;
		self.encrypted = Some(EncryptedSecret {
			kdf: "scrypt".into(),
			log_n: SCRYPT_LOG_N,
			r: SCRYPT_R,
			p: SCRYPT_P,
			salt: format!("0x{}", hex::encode(salt)),
			nonce: format!("0x{}", hex::encode(nonce)),
			ciphertext: format!("0x{}", hex::encode(ciphertext)),
		});
		if let Some(mut secret) = self.secret.take() {
			secret.zeroize();
		}
		Ok(())
	}

	/// What an encrypted file's ciphertext is bound to: its scheme and public key.
	fn associated_data(&self) -> Vec<u8> {
		let scheme: &[u8] = match self.scheme {
			Scheme::Sr25519 => b"sr25519",
			Scheme::Ed25519 => b"ed25519",
		};
		[KEY_FILE_AAD_TAG, b"/", scheme, b"/", self.public.as_bytes()].concat()
	}

	/// The secret of an encrypted file, opened with `password`.
	fn open(
		&self,
		sealed: &EncryptedSecret,
		password: &str,
		shown: &str,
	) -> Result<Zeroizing<String>, Error> {
		let damaged =
			|what: &str| Error::key(format!("{shown}: the encrypted secret's {what} is damaged"));
		if sealed.kdf != "scrypt" {
			return Err(Error::key(format!(
				"{shown}: unknown key derivation `{}` (this client knows `scrypt`)",
				sealed.kdf
			)));
		}
		let salt = unhex(&sealed.salt).ok_or_else(|| damaged("salt"))?;
		let nonce = unhex(&sealed.nonce)
			.filter(|nonce| nonce.len() == 24)
			.ok_or_else(|| damaged("nonce"))?;
		let ciphertext = unhex(&sealed.ciphertext).ok_or_else(|| damaged("ciphertext"))?;
		let cipher = file_cipher(password, &salt, sealed.log_n, sealed.r, sealed.p)
			.map_err(|e| Error::key(format!("{shown}: {e}")))?;
		let aad = self.associated_data();
		let plain = cipher
			.decrypt(XNonce::from_slice(&nonce), Payload { msg: &ciphertext, aad: &aad })
			.map_err(|_| {
				Error::key(format!(
					"{shown}: wrong password (or the file was altered: its scheme, public key or \
					 ciphertext)"
				))
			})?;
		String::from_utf8(plain).map(Zeroizing::new).map_err(|e| {
			let mut bytes = e.into_bytes();
			bytes.zeroize();
			damaged("text")
		})
	}

	/// Writes the file with mode 0600 and flushes it, and its folder's entry for it, to the disk
	/// before returning. Refuses to overwrite an existing file, or to write through a symbolic
	/// link in its place.
	pub fn write(&self, path: &Path) -> Result<(), Error> {
		let shown = path.display();
		let mut json = serde_json::to_string_pretty(self).expect("a key file serializes");
		json.push('\n');
		// `create_new` fails on any existing entry, a symbolic link included.
		let mut file = OpenOptions::new()
			.write(true)
			.create_new(true)
			.mode(0o600)
			.open(path)
			.map_err(|e| Error::key_from(format!("cannot create {shown}"), e))?;
		let written = file.write_all(json.as_bytes()).and_then(|()| file.sync_all());
		json.zeroize();
		written.map_err(|e| Error::key_from(format!("cannot write {shown}"), e))?;
		let folder = match path.parent() {
			Some(parent) if !parent.as_os_str().is_empty() => parent,
			_ => Path::new("."),
		};
		File::open(folder)
			.and_then(|folder| folder.sync_all())
			.map_err(|e| Error::key_from(format!("cannot flush the folder of {shown}"), e))
	}

	/// Reads and checks a key file (see [`KeyFile::read_with`]); an encrypted one is refused,
	/// saying how to give its password.
	pub fn read(path: &Path) -> Result<(KeyFile, KeyPair), Error> {
		KeyFile::read_with(path, |shown| {
			Err(Error::key(format!(
				"{shown} is encrypted: give its password with --password-file FILE (or \
				 PROVENA_PASSWORD_FILE), or run on a terminal to be asked for it"
			)))
		})
	}

	/// Reads and checks a key file: the file itself (not a symbolic link), owner-only
	/// permissions, known fields, and a public key that matches the secret. For an encrypted
	/// file, and only then, `password` is called with the path as people see it. The returned
	/// [`KeyFile`] of an encrypted file holds no clear secret.
	pub fn read_with(
		path: &Path,
		password: impl FnOnce(&str) -> Result<Zeroizing<String>, Error>,
	) -> Result<(KeyFile, KeyPair), Error> {
		let shown = path.display().to_string();
		let text = read_private(path, "key file", MAX_KEY_FILE_LEN)?;
		let file = serde_json::from_str::<KeyFile>(&text).map_err(|e| {
			Error::key_from(
				format!(
					"{shown} is not a Provena key file; create one with `provena key generate`"
				),
				e,
			)
		})?;
		let secret = match (&file.secret, &file.encrypted) {
			(Some(secret), None) => Zeroizing::new(secret.clone()),
			(None, Some(sealed)) => file.open(sealed, &password(&shown)?, &shown)?,
			(Some(_), Some(_)) => {
				return Err(Error::key(format!(
					"{shown} holds both a clear and an encrypted secret; a key file holds one"
				)))
			},
			(None, None) => {
				return Err(Error::key(format!("{shown} holds no secret, clear or encrypted")))
			},
		};
		let pair = KeyPair::from_uri(file.scheme, &secret).map_err(|e| {
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

/// Reads a password file: kept like a key file (owner-only, not a symbolic link), the password
/// is its text without one trailing newline.
pub fn read_password_file(path: &Path) -> Result<Zeroizing<String>, Error> {
	let mut text = read_private(path, "password file", MAX_PASSWORD_FILE_LEN)?;
	let kept =
		text.strip_suffix('\n').map_or(text.len(), |t| t.strip_suffix('\r').unwrap_or(t).len());
	text.truncate(kept);
	if text.is_empty() {
		return Err(Error::key(format!("password file {} is empty", path.display())));
	}
	Ok(text)
}

/// Reads a file that holds a secret: the file itself, not a symbolic link (O_NOFOLLOW: the
/// permissions checked are those of the file read, and a link cannot swap in another file
/// between the check and the read), readable by its owner only, at most `max_len` bytes.
fn read_private(path: &Path, what: &str, max_len: u64) -> Result<Zeroizing<String>, Error> {
	let shown = path.display();
	let mut handle = OpenOptions::new()
		.read(true)
		// O_NONBLOCK: a FIFO in its place is refused below instead of blocking the open.
		.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
		.open(path)
		.map_err(|e| match e.raw_os_error() {
			Some(libc::ELOOP) => Error::key(format!(
				"{what} {shown} is a symbolic link; give the path of the file itself"
			)),
			_ => Error::key_from(format!("cannot read {what} {shown}"), e),
		})?;
	let meta =
		handle.metadata().map_err(|e| Error::key_from(format!("cannot read {what} {shown}"), e))?;
	if !meta.is_file() {
		return Err(Error::key(format!("{shown} is not a file")));
	}
	let mode = meta.permissions().mode() & 0o777;
	if mode & 0o077 != 0 {
		return Err(Error::key(format!(
			"{what} {shown} is readable by others (mode {mode:o}); run `chmod 600 {shown}`"
		)));
	}
	if meta.len() > max_len {
		return Err(Error::key(format!(
			"{shown} has {} bytes: too many for a {what}, which has well under {max_len}",
			meta.len()
		)));
	}
	let mut text = Zeroizing::new(String::with_capacity(meta.len() as usize + 1));
	handle
		.read_to_string(&mut text)
		.map_err(|e| Error::key_from(format!("cannot read {what} {shown}"), e))?;
	Ok(text)
}

/// The cipher an encrypted key file's secret is under: scrypt over `password` and `salt`, within
/// [`SCRYPT_MAX_MEMORY`] and [`SCRYPT_MAX_WORK`].
fn file_cipher(
	password: &str,
	salt: &[u8],
	log_n: u8,
	r: u32,
	p: u32,
) -> Result<XChaCha20Poly1305, Error> {
	let n = 1u64.checked_shl(u32::from(log_n)).filter(|_| log_n < 40);
	let memory = n.and_then(|n| n.checked_mul(128)?.checked_mul(u64::from(r)));
	let work = n.and_then(|n| n.checked_mul(u64::from(p)));
	let within = memory.is_some_and(|m| m <= SCRYPT_MAX_MEMORY)
		&& work.is_some_and(|w| w <= SCRYPT_MAX_WORK);
	if !within || !(8..=64).contains(&salt.len()) {
		return Err(Error::key(format!(
			"scrypt parameters out of bounds (log_n {log_n}, r {r}, p {p}, a salt of {} bytes)",
			salt.len()
		)));
	}
	let params = scrypt::Params::new(log_n, r, p, 32).map_err(|_| {
		Error::key(format!("invalid scrypt parameters (log_n {log_n}, r {r}, p {p})"))
	})?;
	let mut key = Zeroizing::new([0u8; 32]);
	scrypt::scrypt(password.as_bytes(), salt, &params, &mut key[..])
		.map_err(|_| Error::key("scrypt refused the key length"))?;
	Ok(XChaCha20Poly1305::new(XKey::from_slice(&key[..])))
}

/// `0x`-hex (or bare hex) as bytes.
fn unhex(text: &str) -> Option<Vec<u8>> {
	hex::decode(text.strip_prefix("0x").unwrap_or(text)).ok()
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
	fn a_key_file_s_secret_never_shows_in_debug_output() {
		let (file, pair) = KeyFile::generate(Scheme::Sr25519);
		let phrase = file.secret.clone().unwrap();
		let first_word = phrase.split(' ').next().unwrap().to_string();
		for shown in [format!("{file:?}"), format!("{file:#?}"), format!("{pair:?}")] {
			assert!(!shown.contains(&phrase), "{shown}");
			assert!(!shown.contains(&format!("\"{first_word} ")), "{shown}");
		}
		assert!(format!("{file:?}").contains(&file.public));
	}

	#[test]
	fn a_key_file_behind_a_symbolic_link_is_refused() {
		let dir = tempfile::tempdir().unwrap();
		let real = dir.path().join("real.key");
		let (file, _) = KeyFile::from_uri(Scheme::Ed25519, "//Alice//meter").unwrap();
		file.write(&real).unwrap();
		let link = dir.path().join("device.key");
		std::os::unix::fs::symlink(&real, &link).unwrap();
		let err = KeyFile::read(&link).unwrap_err().to_string();
		assert!(err.contains("symbolic link"), "{err}");
		// Nor is a key written through a link: the target stays as it was.
		let (other, _) = KeyFile::from_uri(Scheme::Ed25519, "//Mallory").unwrap();
		let dangling = dir.path().join("new.key");
		std::os::unix::fs::symlink(dir.path().join("elsewhere.key"), &dangling).unwrap();
		assert!(other.write(&dangling).is_err());
		assert!(!dir.path().join("elsewhere.key").exists());
		assert!(other.write(&link).is_err());
		assert_eq!(KeyFile::read(&real).unwrap().0.public, file.public);
	}

	#[test]
	fn a_fifo_or_an_oversized_file_is_no_key_file() {
		let dir = tempfile::tempdir().unwrap();
		let fifo = dir.path().join("fifo.key");
		let made = std::process::Command::new("mkfifo").arg("-m").arg("600").arg(&fifo).status();
		assert!(made.unwrap().success());
		let err = KeyFile::read(&fifo).unwrap_err().to_string();
		assert!(err.contains("is not a file"), "{err}");

		let big = dir.path().join("big.key");
		std::fs::write(&big, vec![b' '; 100_000]).unwrap();
		std::fs::set_permissions(&big, std::fs::Permissions::from_mode(0o600)).unwrap();
		let err = KeyFile::read(&big).unwrap_err().to_string();
		assert!(err.contains("too many for a key file"), "{err}");
	}

	/// A password file with mode 0600 in `dir`.
	fn password_file(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
		let path = dir.join(name);
		std::fs::write(&path, text).unwrap();
		std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
		path
	}

	#[test]
	fn an_encrypted_key_file_opens_with_its_password_only() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("gateway.key");
		let (mut file, pair) = KeyFile::generate(Scheme::Sr25519);
		let phrase = file.secret.clone().unwrap();
		file.encrypt("correct horse").unwrap();
		assert!(file.secret.is_none());
		file.write(&path).unwrap();

		// Nothing of the phrase is on the disk.
		let on_disk = std::fs::read_to_string(&path).unwrap();
		for word in phrase.split(' ') {
			assert!(!on_disk.contains(&format!("{word} ")), "{on_disk}");
		}
		assert!(on_disk.contains("\"encrypted\"") && on_disk.contains("\"scrypt\""));

		// The password, from a password file with a trailing newline, opens it.
		let good = password_file(dir.path(), "good.pw", "correct horse\n");
		let (read, again) = KeyFile::read_with(&path, |_| read_password_file(&good)).unwrap();
		assert_eq!(again.public(), pair.public());
		assert!(read.secret.is_none());
		assert!(format!("{read:?}").contains("<encrypted>"));

		// Without one, or with a wrong one, it does not.
		let err = KeyFile::read(&path).unwrap_err().to_string();
		assert!(err.contains("is encrypted") && err.contains("--password-file"), "{err}");
		let err = KeyFile::read_with(&path, |_| Ok(Zeroizing::new("battery staple".into())))
			.unwrap_err()
			.to_string();
		assert!(err.contains("wrong password"), "{err}");
	}

	#[test]
	fn an_altered_encrypted_key_file_is_refused() {
		let dir = tempfile::tempdir().unwrap();
		let password = || Ok(Zeroizing::new("pw".to_string()));
		let (mut file, _) = KeyFile::from_uri(Scheme::Ed25519, "//Alice//meter").unwrap();
		file.encrypt("pw").unwrap();
		let write = |name: &str, edit: &dyn Fn(&mut serde_json::Value)| {
			let mut value = serde_json::to_value(&file).unwrap();
			edit(&mut value);
			let path = dir.path().join(name);
			std::fs::write(&path, value.to_string()).unwrap();
			std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
			path
		};
		// Another public key (and address) put in front of the ciphertext: the AAD catches it.
		let (bob, _) = KeyFile::from_uri(Scheme::Ed25519, "//Bob").unwrap();
		let swapped = write("swapped.key", &|v| {
			v["public"] = bob.public.clone().into();
			v["address"] = bob.address.clone().into();
		});
		let err = KeyFile::read_with(&swapped, |_| password()).unwrap_err().to_string();
		assert!(err.contains("wrong password (or the file was altered"), "{err}");
		// A flipped ciphertext byte.
		let flipped = write("flipped.key", &|v| {
			let text = v["encrypted"]["ciphertext"].as_str().unwrap().to_string();
			let last = if text.ends_with('0') { '1' } else { '0' };
			v["encrypted"]["ciphertext"] = format!("{}{last}", &text[..text.len() - 1]).into();
		});
		let err = KeyFile::read_with(&flipped, |_| password()).unwrap_err().to_string();
		assert!(err.contains("wrong password"), "{err}");
		// A cost that would take gigabytes, checked before any work.
		let costly = write("costly.key", &|v| v["encrypted"]["log_n"] = 30.into());
		let err = KeyFile::read_with(&costly, |_| password()).unwrap_err().to_string();
		assert!(err.contains("out of bounds"), "{err}");
		// Both a clear and an encrypted secret.
		let both = write("both.key", &|v| v["secret"] = "//Alice//meter".into());
		let err = KeyFile::read_with(&both, |_| password()).unwrap_err().to_string();
		assert!(err.contains("both"), "{err}");
		// The password is asked for only when the file is encrypted.
		let clear = dir.path().join("clear.key");
		KeyFile::from_uri(Scheme::Ed25519, "//Alice").unwrap().0.write(&clear).unwrap();
		KeyFile::read_with(&clear, |_| panic!("asked for a password")).unwrap();
	}

	#[test]
	fn a_password_file_is_kept_like_a_key_file() {
		let dir = tempfile::tempdir().unwrap();
		let path = password_file(dir.path(), "pw", "s3cret\r\n");
		assert_eq!(read_password_file(&path).unwrap().as_str(), "s3cret");
		let empty = password_file(dir.path(), "empty", "\n");
		assert!(read_password_file(&empty).unwrap_err().to_string().contains("empty"));
		std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
		let err = read_password_file(&path).unwrap_err().to_string();
		assert!(err.contains("password file") && err.contains("chmod 600"), "{err}");
		let link = dir.path().join("link");
		std::os::unix::fs::symlink(&empty, &link).unwrap();
		assert!(read_password_file(&link).unwrap_err().to_string().contains("symbolic link"));
		let mut plain = KeyFile::from_uri(Scheme::Sr25519, "//Alice").unwrap().0;
		assert!(plain.encrypt("").unwrap_err().to_string().contains("empty password"));
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
