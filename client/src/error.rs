//! What can go wrong in the client library, said so that the reader knows what to do next.
//!
//! Every variant that wraps a failure of something else keeps it as its `source`, so a caller
//! printing the whole chain (`{:#}` with anyhow) shows both what Provena was doing and what the
//! transport, the database or the decoder said.

use crate::readings::BatchError;
use provena_primitives::DeviceId;
use sp_core::hexdisplay::HexDisplay;

/// Any error, boxed, kept as the source of ours.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What can go wrong, said so that the reader knows what to do next.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	/// The node does not answer, or the connection to it broke.
	#[error(
		"cannot reach the node at {url} (is it running? `scripts/start.sh` starts one; `--url` \
		 picks another)"
	)]
	Unreachable {
		/// The node's URL.
		url: String,
		/// What the transport said.
		#[source]
		source: BoxError,
	},
	/// Plain `ws://` to a host other than this machine, without `--insecure`.
	#[error(
		"refusing {0}: plain ws:// to another machine can be read and altered by anyone on the \
		 path; use wss://, or pass --insecure to accept that risk"
	)]
	Insecure(String),
	/// The chain ran the call and refused it.
	#[error("the chain refused it: {pallet}.{error}{}", if docs.is_empty() { String::new() } else { format!(" ({docs})") })]
	Dispatch {
		/// The pallet that refused.
		pallet: String,
		/// Its error's name.
		error: String,
		/// Its error's docs.
		docs: String,
	},
	/// The node's transaction pool did not take the transaction, or let it go.
	#[error("the node did not take the transaction: {0}")]
	Rejected(Rejection),
	/// The device is not registered on this chain.
	#[error("device 0x{} is not registered on this chain (`provena device list` shows yours)", HexDisplay::from(.0))]
	UnknownDevice(DeviceId),
	/// A device's anchor credits do not cover what is to be sent with them.
	#[error(
		"device 0x{} has {have} anchor credits for {need} anchors: buy more (`provena credits \
		 buy --device 0x{} --count {}`) or send with --pay account",
		HexDisplay::from(device), HexDisplay::from(device), need - have
	)]
	NoCredits {
		/// The device.
		device: DeviceId,
		/// Its credits.
		have: u64,
		/// The anchors to send.
		need: u64,
	},
	/// The account may not do this; the message says who may and how to get there.
	#[error("{0}")]
	NotAuthorized(String),
	/// A key file or secret is unusable.
	#[error("{message}")]
	Key {
		/// What is wrong with it, and what to do.
		message: String,
		/// The failure underneath (the file system, JSON, the secret's parser), if any.
		#[source]
		source: Option<BoxError>,
	},
	/// Input that is not what it should be (a file, a line, a value).
	#[error("{message}")]
	Input {
		/// Where and what, e.g. "readings.csv:3: temperature `warm` is not a number".
		message: String,
		/// The failure underneath (reading the file, parsing JSON), if any.
		#[source]
		source: Option<BoxError>,
	},
	/// Readings that cannot be one anchor.
	#[error(transparent)]
	Batch(#[from] BatchError),
	/// The local store failed.
	#[error("store: {context}")]
	Store {
		/// What the store was doing.
		context: String,
		/// What SQLite or the decoder said.
		#[source]
		source: BoxError,
	},
	/// Encryption or decryption failed.
	#[error(transparent)]
	Crypto(#[from] CryptoError),
	/// The node could not serve a device's log (run without offchain indexing, missing
	/// entries), or served something that does not decode; the message says which.
	#[error("{0}")]
	Node(String),
	/// The chain and the client's metadata do not fit.
	#[error(
		"unexpected chain data ({what}); is the client's metadata current? \
		 (scripts/update-metadata.sh)"
	)]
	Metadata {
		/// What did not fit.
		what: String,
		/// The decoder's or encoder's error.
		#[source]
		source: BoxError,
	},
}

/// `error` followed by each of its sources, joined by `: `, for a log line that has to say
/// what the transport or the database said, not only what Provena was doing.
pub fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
	let mut said = error.to_string();
	let mut source = error.source();
	while let Some(cause) = source {
		said.push_str(": ");
		said.push_str(&cause.to_string());
		source = cause.source();
	}
	said
}

impl Error {
	/// An input error without an underlying failure.
	pub fn input(message: impl Into<String>) -> Error {
		Error::Input { message: message.into(), source: None }
	}

	/// An input error caused by `source`.
	pub fn input_from(message: impl Into<String>, source: impl Into<BoxError>) -> Error {
		Error::Input { message: message.into(), source: Some(source.into()) }
	}

	/// A key error without an underlying failure.
	pub fn key(message: impl Into<String>) -> Error {
		Error::Key { message: message.into(), source: None }
	}

	/// A key error caused by `source`.
	pub fn key_from(message: impl Into<String>, source: impl Into<BoxError>) -> Error {
		Error::Key { message: message.into(), source: Some(source.into()) }
	}

	/// A store error: `context` says what the store was doing.
	pub fn store(context: impl Into<String>, source: impl Into<BoxError>) -> Error {
		Error::Store { context: context.into(), source: source.into() }
	}

	/// Chain data that does not fit the client's metadata.
	pub fn metadata(what: impl Into<String>, source: impl Into<BoxError>) -> Error {
		Error::Metadata { what: what.into(), source: source.into() }
	}

	/// Whether this is the dispatch error `pallet.error`.
	pub fn is_dispatch(&self, pallet: &str, error: &str) -> bool {
		matches!(self, Error::Dispatch { pallet: p, error: e, .. } if p == pallet && e == error)
	}

	/// `Pallet.Error` for a dispatch error, else the whole message.
	pub fn name(&self) -> String {
		match self {
			Error::Dispatch { pallet, error, .. } => format!("{pallet}.{error}"),
			other => other.to_string(),
		}
	}
}

/// Why the node's pool did not take a transaction, from the node's error code and the
/// runtime's own validity verdict: never from the words of a message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
	/// The signing account cannot pay the fee.
	#[error("the account cannot pay the fee (fund it first)")]
	Payment,
	/// The nonce was already used: another client signs with this account.
	#[error("the nonce is already used (another client signs with this account; retry)")]
	Stale,
	/// The nonce is ahead of the account's.
	#[error("the nonce is ahead of the account's (a transaction before it is missing)")]
	Future,
	/// The signature does not check.
	#[error("the signature does not check (signed for another chain or runtime version?)")]
	BadProof,
	/// The transaction's era is over.
	#[error("the transaction's mortality period is over; sign it again")]
	Expired,
	/// The transaction is too heavy or too large for a block.
	#[error("the transaction does not fit in a block")]
	ExhaustsResources,
	/// The runtime refused it for another reason.
	#[error("the runtime refused it as invalid ({0})")]
	Invalid(String),
	/// The pool is full or prefers the transactions it holds; sending again later may work.
	#[error("the pool is full (send it again later)")]
	PoolFull,
	/// The pool banned the transaction for a while (it was invalid recently).
	#[error("the pool banned this transaction for a while")]
	Banned,
	/// The same transaction is already in the pool.
	#[error("the same transaction is already in the pool")]
	AlreadyImported,
	/// The pool dropped the transaction after taking it.
	#[error("the pool dropped the transaction ({0})")]
	Dropped(String),
	/// The node failed while handling the transaction.
	#[error("the node failed to handle it ({0})")]
	Failed(String),
	/// A device-authorized anchor: the device has no anchor credits left.
	#[error("the device has no anchor credits left (buy some: `provena credits buy`)")]
	NoCredits,
	/// A device-authorized anchor for sequence numbers the device's log already holds: a
	/// replay, or another sender was first.
	#[error("the device's log already holds these sequence numbers (sent before, or by another)")]
	SequenceTaken,
	/// A device-authorized anchor too far ahead of the device's next sequence number for the
	/// pool to hold it: the anchors before it are missing.
	#[error("the anchor is too far ahead of the device's next sequence number (send the ones before it)")]
	SequenceAhead,
	/// A device-authorized anchor whose device signature does not check.
	#[error(
		"the device's signature does not check (wrong device key, or signed for another chain)"
	)]
	DeviceSignature,
	/// The runtime refused it with one of a pallet's errors.
	#[error("{pallet}.{error}{}", if docs.is_empty() { String::new() } else { format!(" ({docs})") })]
	Pallet {
		/// The pallet.
		pallet: String,
		/// Its error's name.
		error: String,
		/// Its error's docs.
		docs: String,
	},
	/// Any other refusal: the node's error code and message.
	#[error("error {code}: {message}")]
	Other {
		/// The JSON-RPC error code (the node's author API uses 1000 and up).
		code: i32,
		/// The node's message.
		message: String,
	},
}

impl Rejection {
	/// Whether the same transaction may be sent again as it is.
	pub fn is_retryable(&self) -> bool {
		matches!(self, Rejection::PoolFull)
	}
}

/// Why a data key or payload does not open.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
	/// The sealed data key is not for this account.
	#[error("the sealed data key does not open with this account's key")]
	SealedKeyDoesNotOpen,
	/// A sealed data key that holds something else than 32 bytes.
	#[error("a sealed data key must hold 32 bytes")]
	BadKeyLength,
	/// The payload names another data key than the one derived for its epoch: another
	/// owner's (the device changed hands), or a key sealed by mistake.
	#[error(
		"the payload was encrypted with data key {payload_key} of epoch {epoch}, and the key this \
		 account has for that epoch is another data key, {this_key} (the device changed owner, or \
		 the sealed key is wrong)"
	)]
	OtherKey {
		/// The payload's epoch.
		epoch: u32,
		/// The id of the key the payload names, hex.
		payload_key: String,
		/// The id of the key given, hex.
		this_key: String,
	},
	/// The payload is of a later epoch than the key given.
	#[error(
		"this key is of epoch {have} and cannot give the key of epoch {need}: a reader is given \
		 each new epoch's key by the device's owner (`provena rotate --resume`), and never after \
		 losing READ"
	)]
	LaterEpoch {
		/// The epoch of the key given.
		have: u32,
		/// The epoch needed.
		need: u32,
	},
	/// The device has used every epoch its keys have.
	#[error(
		"the device's data key is at epoch {epoch}, past the last one this owner's keys have \
		 ({}): its payloads can no longer be encrypted (a device registered under a new id \
		 can)", provena_primitives::DATA_KEY_EPOCHS - 1
	)]
	EpochsExhausted {
		/// The epoch asked for.
		epoch: u32,
	},
	/// The recipient's encryption key is of small order.
	#[error(
		"the encryption key is a point of small order (all zeros among them): anything sealed \
		 to it could be opened by anyone, so nothing is"
	)]
	WeakRecipient,
	/// Authentication failed.
	#[error("the payload does not decrypt: altered, or made for another anchor")]
	Altered,
	/// Bytes that are not a Provena payload.
	#[error("not a Provena encrypted payload (no PV2 header)")]
	NotAPayload,
}
