//! The one transaction pipeline: sign, submit, follow to finality or failure, and classify.
//!
//! Every command, the gateway and the load generator send through here. Confirmation means
//! finalized with the transaction's events in hand, never "the pool accepted it". A failure is
//! classified from subxt's typed errors, the node's JSON-RPC error codes and the runtime's own
//! validity verdict, never from the words of a message:
//!
//! - the transport broke or the node went away: [`Error::Unreachable`];
//! - the pool did not take the transaction, or let it go: [`Error::Rejected`] with a
//!   [`Rejection`] (for the pool's "invalid" code, the runtime's `validate_transaction` says
//!   why: payment, nonce, signature…);
//! - the block ran the call and it failed: [`Error::Dispatch`] with the pallet's error name.

use super::{api, blocks::TxEvents, AtBlock, Chain, ProvenaConfig};
use crate::{error::Rejection, keys::AccountKey, Error};
use subxt::{
	config::DefaultExtrinsicParamsBuilder,
	error::{BackendError, ExtrinsicError, RpcError},
	metadata::ArcMetadata,
	transactions::{Payload, TransactionInvalid, TransactionStatus, ValidationResult},
	utils::{AccountId32, MultiSignature, H256},
};

/// A signed transaction, ready to submit.
pub type Signed = subxt::transactions::SubmittableTransaction<
	ProvenaConfig,
	subxt::client::OnlineClientAtBlockImpl<ProvenaConfig>,
>;

/// How long a transaction stays valid by default, in blocks from the block it is born at:
/// about 25 minutes at the runtime's 6-second blocks, well inside the 2,400 block hashes the
/// runtime keeps (`System::BlockHashCount`; the `metadata` test checks it). A transaction that
/// could not be included by then can never be included, so a sender that lost track of one
/// knows for certain once the period is over. [`set_mortality`] changes it for the process.
pub const MORTALITY: u64 = 256;

/// The shortest and longest mortality [`set_mortality`] takes. The longest stays inside the
/// block hashes the runtime keeps (the `metadata` test checks it).
pub const MORTALITY_RANGE: std::ops::RangeInclusive<u64> = 8..=2048;

static MORTALITY_BLOCKS: std::sync::atomic::AtomicU64 =
	std::sync::atomic::AtomicU64::new(MORTALITY);

/// Sets how many blocks every transaction this process signs from now on stays valid: a power
/// of two in [`MORTALITY_RANGE`] (the era encoding rounds any other value up to one). A
/// shorter one lets a sender learn sooner that a transaction of an abandoned fork can never be
/// included (the network drills use 16); a longer one rides out longer finality stalls.
pub fn set_mortality(blocks: u64) -> Result<(), Error> {
	if !MORTALITY_RANGE.contains(&blocks) || !blocks.is_power_of_two() {
		return Err(Error::input(format!(
			"a mortality of {blocks} blocks: give a power of two from {} to {}",
			MORTALITY_RANGE.start(),
			MORTALITY_RANGE.end()
		)));
	}
	MORTALITY_BLOCKS.store(blocks, std::sync::atomic::Ordering::Relaxed);
	Ok(())
}

/// The mortality transactions are signed with now, in blocks (see [`set_mortality`]).
pub fn mortality() -> u64 {
	MORTALITY_BLOCKS.load(std::sync::atomic::Ordering::Relaxed)
}

/// The runtime's block time, in milliseconds (`pallet_timestamp`'s minimum period doubled).
pub const BLOCK_TIME_MS: u64 = 6_000;

/// How long a sender may keep signing at one block: a quarter of the [`mortality`] at
/// [`BLOCK_TIME_MS`], so a transaction signed at the end of it still has three quarters of its
/// life ahead, and a sender that is never idle long enough to fetch a fresh block (a gateway
/// round that always has something in flight) does not sign at an expired one.
pub fn birth_block_max_age() -> std::time::Duration {
	std::time::Duration::from_millis(mortality() * BLOCK_TIME_MS / 4)
}

/// How far finality may lag behind the best block, in blocks, for a transaction to be born at
/// the finalized head. GRANDPA usually lags one or two blocks. A birth block that is final
/// cannot be reverted (a transaction born at a reverted block is invalid), but when finality
/// stalls (validators offline, a network split) the finalized head falls behind and a
/// transaction born there would expire soon after it is signed, or at once; past this lag
/// transactions are born at the best block instead and live [`MORTALITY`] blocks from it.
pub const FINALITY_LAG_TOLERATED: u64 = 4;

/// Whether a transaction signed now is born at the best block (`true`) or the finalized one,
/// given their numbers.
pub fn born_at_best(best: u64, finalized: u64) -> bool {
	best.saturating_sub(finalized) > FINALITY_LAG_TOLERATED
}

/// The node's JSON-RPC error codes for pool refusals (`sc-rpc-api`'s author errors).
mod code {
	/// The runtime says the transaction is invalid.
	pub const INVALID: i32 = 1010;
	/// The pool banned the transaction for a while.
	pub const BANNED: i32 = 1012;
	/// The same transaction is already in the pool.
	pub const ALREADY_IMPORTED: i32 = 1013;
	/// Too low a priority to replace what the pool holds.
	pub const TOO_LOW_PRIORITY: i32 = 1014;
	/// Not taken because of the pool's limits.
	pub const IMMEDIATELY_DROPPED: i32 = 1016;
}

/// A transaction in a finalized block: where it landed and what it emitted.
pub struct Finalized {
	/// The finalized block that includes it.
	pub block_hash: H256,
	/// That block's number.
	pub block_number: u64,
	/// The transaction's hash.
	pub tx_hash: H256,
	/// Its events.
	pub events: TxEvents,
	/// The runtime's metadata at that block (to name errors inside events).
	pub metadata: ArcMetadata,
}

impl Finalized {
	/// The dispatch error, if the call failed (`System.ExtrinsicFailed`).
	pub fn dispatch_error(&self) -> Result<Option<Error>, Error> {
		match self.events.find_first::<api::system::events::ExtrinsicFailed>() {
			None => Ok(None),
			Some(failed) => {
				let failed = failed.map_err(|e| Error::metadata("System.ExtrinsicFailed", e))?;
				Ok(Some(dispatch_error(&self.metadata, &failed.dispatch_error)))
			},
		}
	}

	/// `self` if the call succeeded, else its dispatch error.
	pub fn success(self) -> Result<Finalized, Error> {
		match self.dispatch_error()? {
			None => Ok(self),
			Some(error) => Err(error),
		}
	}
}

/// Signs `call` with `signer` at `nonce`, mortal for [`MORTALITY`] blocks from the block `at`
/// is at ([`Chain::signing_block`] picks it). Needs no round trip to the node, so a sender of
/// many transactions keeps one `at` for a while.
pub fn sign_at<Call: Payload>(
	at: &AtBlock,
	call: &Call,
	signer: &AccountKey,
	nonce: u64,
) -> Result<Signed, Error> {
	let params = mortal_from(at).nonce(nonce).build();
	let mut signable = at
		.transactions()
		.create_signable_offline(call, params)
		.map_err(|e| Error::metadata("a call the chain's metadata does not know", e))?;
	signable.sign(signer).map_err(|e| Error::metadata("signing a transaction", e))
}

/// Extension parameters for a transaction mortal for [`mortality`] blocks from `at`.
fn mortal_from(at: &AtBlock) -> DefaultExtrinsicParamsBuilder<ProvenaConfig> {
	DefaultExtrinsicParamsBuilder::<ProvenaConfig>::new().mortal_from_unchecked(
		mortality(),
		at.block_number(),
		at.block_hash(),
	)
}

/// Who vouches for a transaction, which decides what the pool's verdicts on it mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
	/// An account signed it and pays its fee: the pool's verdicts are about the account's nonce
	/// and balance.
	Account,
	/// A device-authorized anchor (a general transaction): the verdicts are about the device's
	/// sequence number, credits and signature.
	Device,
}

/// `call` as a general (v5) transaction, mortal for [`MORTALITY`] blocks from the block `at`
/// is at, carrying no account and no signature: for calls that authorize themselves, such as
/// `Telemetry::device_anchor` (the device's signature is inside the call).
pub fn general_at<Call: Payload>(at: &AtBlock, call: &Call) -> Result<Signed, Error> {
	let params = mortal_from(at).build();
	let mut general = at
		.transactions()
		.create_v5_signable_offline(call, params)
		.map_err(|e| Error::metadata("a call the chain's metadata does not know", e))?;
	// subxt encodes a general transaction only through this method, which hands the account
	// and signature to the extensions that take them. The runtime has none (no
	// `VerifySignature`), so neither ends up in the transaction: it carries only the call and
	// the extensions' data (era, and a nonce and tip of zero that no account pays).
	let nobody = AccountId32([0; 32]);
	let no_signature = MultiSignature::Sr25519([0; 64]);
	general
		.sign_with_account_and_signature(&nobody, &no_signature)
		.map_err(|e| Error::metadata("encoding a general transaction", e))
}

impl Chain {
	/// The block to sign transactions at: the finalized head while finality keeps up, else
	/// the best block (see [`FINALITY_LAG_TOLERATED`]).
	pub async fn signing_block(&self) -> Result<AtBlock, Error> {
		let finalized = self.finalized().await?;
		let best = self.rpc.chain_get_block_hash(None).await.map_err(|e| self.lost(e))?;
		let Some(best) = best else { return Ok(finalized) };
		if best == finalized.block_hash() {
			return Ok(finalized);
		}
		let best = self.client.at_block(best).await.map_err(|e| self.lost(e))?;
		Ok(if born_at_best(best.block_number(), finalized.block_number()) {
			best
		} else {
			finalized
		})
	}

	/// Signs `call` with `signer` at the account's next nonce (counting the pool), submits it,
	/// and waits for it to be finalized and successful.
	pub async fn submit<Call: Payload>(
		&self,
		call: &Call,
		signer: &AccountKey,
	) -> Result<Finalized, Error> {
		let nonce = self.next_nonce(&super::account_of(signer)).await?;
		let tx = sign_at(&self.signing_block().await?, call, signer, nonce)?;
		self.follow(tx, || {}).await?.success()
	}

	/// Sends `call` as a general transaction (see [`general_at`]) and waits for it to be
	/// finalized and successful.
	pub async fn submit_general<Call: Payload>(&self, call: &Call) -> Result<Finalized, Error> {
		let tx = general_at(&self.signing_block().await?, call)?;
		self.follow_as(tx, Sender::Device, || {}).await?.success()
	}

	/// Submits an account-signed transaction and follows it until its block is finalized,
	/// calling `in_block` each time it enters a best block. A call that failed in its block
	/// still comes back as [`Finalized`]: [`Finalized::success`] turns that into its error.
	pub async fn follow(&self, tx: Signed, in_block: impl FnMut()) -> Result<Finalized, Error> {
		self.follow_as(tx, Sender::Account, in_block).await
	}

	/// [`Chain::follow`] for a transaction vouched for by `sender`.
	pub async fn follow_as(
		&self,
		tx: Signed,
		sender: Sender,
		mut in_block: impl FnMut(),
	) -> Result<Finalized, Error> {
		self.follow_inner(tx, sender, false, |_| in_block()).await
	}

	/// [`Chain::follow_as`], giving `in_block` what the transaction did in each best block
	/// that includes it (its events there, in a [`Finalized`] of a block not final yet), or
	/// `None` when the node could not say.
	pub async fn follow_with_outcomes(
		&self,
		tx: Signed,
		sender: Sender,
		in_block: impl FnMut(Option<Finalized>),
	) -> Result<Finalized, Error> {
		self.follow_inner(tx, sender, true, in_block).await
	}

	async fn follow_inner(
		&self,
		tx: Signed,
		sender: Sender,
		outcomes: bool,
		mut in_block: impl FnMut(Option<Finalized>),
	) -> Result<Finalized, Error> {
		let tx_hash = tx.hash();
		let mut progress = match tx.submit_and_watch().await {
			Ok(progress) => progress,
			Err(error) => return Err(self.refused(&tx, sender, error).await),
		};
		while let Some(status) = progress.next().await {
			match status.map_err(|e| self.lost(e))? {
				TransactionStatus::InBestBlock(included) => match outcomes {
					false => in_block(None),
					true => in_block(self.included(&included, tx_hash).await.ok()),
				},
				TransactionStatus::InFinalizedBlock(included) => {
					return self.included(&included, tx_hash).await;
				},
				TransactionStatus::Invalid { message } => {
					let why = self
						.invalid_reason(&tx, sender)
						.await
						.unwrap_or(Rejection::Invalid(message));
					return Err(Error::Rejected(why));
				},
				TransactionStatus::Dropped { message } => {
					return Err(Error::Rejected(Rejection::Dropped(message)))
				},
				TransactionStatus::Error { message } => {
					return Err(Error::Rejected(Rejection::Failed(message)))
				},
				TransactionStatus::Validated
				| TransactionStatus::Broadcasted
				| TransactionStatus::NoLongerInBestBlock => {},
			}
		}
		Err(self.lost("the node closed the transaction's status stream"))
	}

	/// What transaction `tx_hash` did in the block `included` names: its events there (read
	/// once per block for every transaction followed into it, see [`super::blocks`]).
	async fn included(
		&self,
		included: &subxt::transactions::TransactionInBlock<
			ProvenaConfig,
			subxt::client::OnlineClientAtBlockImpl<ProvenaConfig>,
		>,
		tx_hash: H256,
	) -> Result<Finalized, Error> {
		let block_hash = included.block_hash();
		let facts = self.block_facts(block_hash).await?;
		let events = facts.events_of(tx_hash).ok_or_else(|| {
			self.lost(format!(
				"the node said block {block_hash:?} includes transaction {tx_hash:?}, but its \
				 body does not"
			))
		})?;
		Ok(Finalized {
			block_hash,
			block_number: facts.number,
			tx_hash,
			events,
			metadata: facts.metadata.clone(),
		})
	}

	/// Classifies a failed submission: a refusal by the node (with its reason), or the node
	/// out of reach.
	async fn refused(&self, tx: &Signed, sender: Sender, error: ExtrinsicError) -> Error {
		match &error {
			ExtrinsicError::ErrorSubmittingTransaction(BackendError::Rpc(
				RpcError::ClientError(rpc),
			)) => match pool_refusal(rpc) {
				Some(Rejection::Invalid(message)) => Error::Rejected(
					self.invalid_reason(tx, sender).await.unwrap_or(Rejection::Invalid(message)),
				),
				Some(rejection) => Error::Rejected(rejection),
				None => self.lost(error),
			},
			_ => self.lost(error),
		}
	}
}

/// What a JSON-RPC error from the node's author API says about a transaction: `None` when the
/// node did not answer (a transport failure), else the pool's refusal by its error code.
pub fn pool_refusal(error: &subxt::rpcs::Error) -> Option<Rejection> {
	let subxt::rpcs::Error::User(error) = error else { return None };
	Some(match error.code {
		// The node names the runtime's verdict in `data` ("Transaction is outdated", "Custom
		// error: 13", …); the message alone only says "Invalid Transaction".
		code::INVALID => Rejection::Invalid(match &error.data {
			Some(data) => format!("{}: {}", error.message, data.get().trim_matches('"')),
			None => error.message.clone(),
		}),
		code::BANNED => Rejection::Banned,
		code::ALREADY_IMPORTED => Rejection::AlreadyImported,
		code::TOO_LOW_PRIORITY | code::IMMEDIATELY_DROPPED => Rejection::PoolFull,
		code => Rejection::Other { code, message: error.message.clone() },
	})
}

impl Chain {
	/// Why the runtime calls `tx` invalid, by its `validate_transaction` at the block `tx` was
	/// signed at; `None` if it says valid or cannot be asked.
	async fn invalid_reason(&self, tx: &Signed, sender: Sender) -> Option<Rejection> {
		let invalid = match tx.validate().await.ok()? {
			ValidationResult::Valid(_) => return None,
			ValidationResult::Unknown(unknown) => {
				return Some(Rejection::Invalid(format!("{unknown:?}")))
			},
			ValidationResult::Invalid(invalid) => invalid,
		};
		if let (TransactionInvalid::Custom(index), Sender::Device) = (&invalid, sender) {
			let index = *index;
			// A self-authorizing call names its pallet's error by its index.
			let metadata = self.finalized().await.ok()?.metadata();
			let pallet = metadata.pallet_by_name("Telemetry")?;
			let variant = pallet.error_variant_by_index(index)?;
			return Some(Rejection::Pallet {
				pallet: pallet.name().to_string(),
				error: variant.name.clone(),
				docs: variant.docs.join(" ").trim().to_string(),
			});
		}
		Some(rejection(invalid, sender))
	}
}

/// What the runtime's verdict `invalid` on a transaction of `sender` means.
pub fn rejection(invalid: TransactionInvalid, sender: Sender) -> Rejection {
	use TransactionInvalid as I;
	match (invalid, sender) {
		(I::Payment, Sender::Account) => Rejection::Payment,
		(I::Payment, Sender::Device) => Rejection::NoCredits,
		(I::Stale, Sender::Account) => Rejection::Stale,
		(I::Stale, Sender::Device) => Rejection::SequenceTaken,
		(I::Future, Sender::Account) => Rejection::Future,
		(I::Future, Sender::Device) => Rejection::SequenceAhead,
		(I::BadProof, Sender::Account) => Rejection::BadProof,
		(I::BadProof, Sender::Device) => Rejection::DeviceSignature,
		(I::AncientBirthBlock, _) => Rejection::Expired,
		(I::ExhaustsResources, _) => Rejection::ExhaustsResources,
		(other, _) => Rejection::Invalid(format!("{other:?}")),
	}
}

/// A dispatch error as the runtime's metadata names it: [`Error::Dispatch`] with the pallet's
/// name, the error's name and its docs.
pub fn dispatch_error(
	metadata: &ArcMetadata,
	error: &api::runtime_types::sp_runtime::DispatchError,
) -> Error {
	use api::runtime_types::sp_runtime::DispatchError as E;
	match error {
		E::Module(module) => {
			let index = module.error[0];
			let named = metadata.pallet_by_error_index(module.index).and_then(|pallet| {
				pallet.error_variant_by_index(index).map(|variant| Error::Dispatch {
					pallet: pallet.name().to_string(),
					error: variant.name.clone(),
					docs: variant.docs.join(" ").trim().to_string(),
				})
			});
			named.unwrap_or_else(|| Error::Dispatch {
				pallet: format!("pallet #{}", module.index),
				error: format!("error #{index}"),
				docs: String::new(),
			})
		},
		other => Error::Dispatch {
			pallet: "System".into(),
			error: format!("{other:?}"),
			docs: String::new(),
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use subxt::rpcs::{Error as RpcError, UserError};

	fn refused(code: i32) -> RpcError {
		RpcError::User(UserError { code, message: format!("error {code}"), data: None })
	}

	#[test]
	fn pool_refusals_are_told_by_the_node_s_error_code() {
		assert_eq!(pool_refusal(&refused(1016)), Some(Rejection::PoolFull));
		assert_eq!(pool_refusal(&refused(1014)), Some(Rejection::PoolFull));
		assert_eq!(pool_refusal(&refused(1012)), Some(Rejection::Banned));
		assert_eq!(pool_refusal(&refused(1013)), Some(Rejection::AlreadyImported));
		assert_eq!(pool_refusal(&refused(1010)), Some(Rejection::Invalid("error 1010".into())));
		assert_eq!(
			pool_refusal(&refused(-32602)),
			Some(Rejection::Other { code: -32602, message: "error -32602".into() })
		);
		assert!(pool_refusal(&refused(1016)).is_some_and(|r| r.is_retryable()));
		assert!(!Rejection::Payment.is_retryable());
	}

	#[test]
	fn an_invalid_transaction_keeps_the_node_s_reason() {
		let data = serde_json::value::RawValue::from_string("\"Custom error: 13\"".into()).unwrap();
		let error = RpcError::User(UserError {
			code: 1010,
			message: "Invalid Transaction".into(),
			data: Some(data),
		});
		assert_eq!(
			pool_refusal(&error),
			Some(Rejection::Invalid("Invalid Transaction: Custom error: 13".into()))
		);
	}

	#[test]
	fn transactions_are_born_at_the_finalized_head_unless_finality_stalls() {
		assert!(!born_at_best(100, 100));
		assert!(!born_at_best(100, 99));
		assert!(!born_at_best(100, 100 - FINALITY_LAG_TOLERATED));
		assert!(born_at_best(100, 99 - FINALITY_LAG_TOLERATED));
		assert!(born_at_best(5_000, 0));
		// A finalized head ahead of the best block (a race between two calls) is no stall.
		assert!(!born_at_best(7, 9));
	}

	#[test]
	fn a_broken_transport_is_no_refusal() {
		let gone = RpcError::DisconnectedWillReconnect("connection reset".into());
		assert_eq!(pool_refusal(&gone), None);
		let client = RpcError::Client(Box::new(std::io::Error::other("broken pipe")));
		assert_eq!(pool_refusal(&client), None);
	}
}
