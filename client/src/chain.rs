//! The chain as the client sees it: the typed API subxt generates from the checked-in metadata,
//! a config matching the runtime, account signing, and the calls every command needs.
//!
//! Everything here confirms at finality: a call "succeeded" once its block is finalized and the
//! expected event is in it, never when the pool accepted it.

use crate::{keys::AccountKey, Error};
use codec::{Decode, Encode};
use provena_primitives::DeviceId;
use subxt::{
	config::{
		substrate::{BlakeTwo256, SubstrateHeader},
		DefaultExtrinsicParamsBuilder, DefaultTransactionExtensions, RpcConfigFor,
	},
	error::{DispatchError, TransactionEventsError},
	events::Events,
	rpcs::{methods::LegacyRpcMethods, RpcClient},
	transactions::{Payload, Signer, TransactionStatus},
	utils::{AccountId32, MultiAddress, MultiSignature, H256},
	OnlineClient,
};

/// The typed API of the Provena runtime, generated from `client/metadata/provena.scale`.
///
/// Regenerate that file with `scripts/update-metadata.sh` after a runtime change; the
/// `metadata` test fails while it differs from what the runtime produces.
#[subxt::subxt(
	runtime_metadata_path = "metadata/provena.scale",
	derive_for_all_types = "Clone, ::subxt::ext::codec::Encode, ::subxt::ext::codec::Decode"
)]
pub mod api {}

pub use api::runtime_types::{
	pallet_access_control::types::{Grant, Permissions, Scope},
	pallet_device_registry::types::Device as ChainDevice,
	pallet_telemetry::types::{AnchorRecord, DeviceTelemetry, IndexedAnchor, VerifyError},
};

/// How the client describes the Provena chain to subxt: the runtime's account, address,
/// signature, header and hashing types, and the standard transaction extensions it uses.
#[derive(Debug, Clone, Default)]
pub struct ProvenaConfig;

impl subxt::Config for ProvenaConfig {
	type AccountId = AccountId32;
	// The runtime's `Address` is `MultiAddress<AccountId, ()>`: no account indices.
	type Address = MultiAddress<AccountId32, ()>;
	type Signature = MultiSignature;
	type Header = SubstrateHeader<H256>;
	type TransactionExtensions = DefaultTransactionExtensions<Self>;
	type AssetId = u32;
	type Hasher = BlakeTwo256;
}

impl Signer<ProvenaConfig> for AccountKey {
	fn account_id(&self) -> AccountId32 {
		AccountId32(self.public())
	}

	fn sign(&self, signer_payload: &[u8]) -> MultiSignature {
		use sp_core::Pair;
		match self {
			AccountKey::Sr25519(pair) => MultiSignature::Sr25519(pair.sign(signer_payload).0),
			AccountKey::Ed25519(pair) => MultiSignature::Ed25519(pair.sign(signer_payload).0),
		}
	}
}

/// Re-encodes a value between two types with the same SCALE layout: the primitives' types
/// and the generated ones. The metadata test keeps the layouts equal.
pub fn recode<A: Encode, B: Decode>(value: &A) -> Result<B, Error> {
	B::decode(&mut &value.encode()[..]).map_err(|e| {
		Error::Metadata(format!(
			"{} does not fit the chain's {}: {e}. Is the client's metadata current? \
			 (scripts/update-metadata.sh)",
			core::any::type_name::<A>(),
			core::any::type_name::<B>()
		))
	})
}

/// A finalized transaction: where it landed and what it emitted.
pub struct Finalized {
	/// The finalized block that includes it.
	pub block_hash: H256,
	/// That block's number.
	pub block_number: u64,
	/// The transaction's hash.
	pub tx_hash: H256,
	/// Its events.
	pub events: subxt::extrinsics::ExtrinsicEvents<ProvenaConfig>,
}

/// The client at one block: typed storage, constants, runtime APIs and transaction building.
pub type AtBlock = subxt::client::ClientAtBlock<
	ProvenaConfig,
	subxt::client::OnlineClientAtBlockImpl<ProvenaConfig>,
>;

/// A signed transaction, ready to submit.
pub type Signed = subxt::transactions::SubmittableTransaction<
	ProvenaConfig,
	subxt::client::OnlineClientAtBlockImpl<ProvenaConfig>,
>;

/// Signs `call` with `signer` at `nonce`, mortal for 64 blocks from the block `at` is at. Needs
/// no round trip to the node, so a sender of many transactions keeps one `at` for a while.
pub fn sign_at<Call: Payload>(
	at: &AtBlock,
	call: &Call,
	signer: &AccountKey,
	nonce: u64,
) -> Result<Signed, Error> {
	let params = DefaultExtrinsicParamsBuilder::<ProvenaConfig>::new()
		.nonce(nonce)
		.mortal_from_unchecked(64, at.block_number(), at.block_hash())
		.build();
	let mut signable = at
		.transactions()
		.create_signable_offline(call, params)
		.map_err(|e| Error::Metadata(e.to_string()))?;
	signable.sign(signer).map_err(|e| Error::Metadata(e.to_string()))
}

/// A connection to a Provena node.
#[derive(Clone)]
pub struct Chain {
	/// The subxt client (typed calls, storage, runtime APIs, blocks).
	pub client: OnlineClient<ProvenaConfig>,
	/// The node's legacy RPC methods (pool-aware nonces, best block).
	pub rpc: LegacyRpcMethods<RpcConfigFor<ProvenaConfig>>,
	/// The URL it was reached at.
	pub url: String,
}

impl Chain {
	/// Connects to the node at `url` (`ws://…`): an error names the URL and says what to do.
	pub async fn connect(url: &str) -> Result<Chain, Error> {
		let unreachable = |reason: String| Error::Unreachable { url: url.to_string(), reason };
		let rpc =
			RpcClient::from_insecure_url(url).await.map_err(|e| unreachable(e.to_string()))?;
		let client =
			OnlineClient::<ProvenaConfig>::from_rpc_client_with_config(ProvenaConfig, rpc.clone())
				.await
				.map_err(|e| unreachable(e.to_string()))?;
		let rpc = LegacyRpcMethods::new(rpc);
		Ok(Chain { client, rpc, url: url.to_string() })
	}

	/// The chain's genesis hash (part of every device signature).
	pub fn genesis_hash(&self) -> H256 {
		self.client.genesis_hash()
	}

	/// The client at the latest finalized block.
	pub async fn finalized(&self) -> Result<AtBlock, Error> {
		self.client.at_current_block().await.map_err(|e| self.lost(e))
	}

	/// The next nonce of `who`, counting transactions waiting in the node's pool.
	pub async fn next_nonce(&self, who: &AccountId32) -> Result<u64, Error> {
		self.rpc.system_account_next_index(who).await.map_err(|e| self.lost(e))
	}

	/// Maps a transport failure to [`Error::Unreachable`].
	pub fn lost(&self, e: impl ToString) -> Error {
		Error::Unreachable { url: self.url.clone(), reason: e.to_string() }
	}

	/// Signs `call` with `signer` at `nonce` (mortal for 64 blocks from the finalized head).
	pub async fn sign<Call: Payload>(
		&self,
		call: &Call,
		signer: &AccountKey,
		nonce: u64,
	) -> Result<Signed, Error> {
		sign_at(&self.finalized().await?, call, signer, nonce)
	}

	/// Signs and submits `call` from `signer` and waits for it to be finalized and successful;
	/// a dispatch error comes back as [`Error::Dispatch`] with the pallet's name and docs.
	pub async fn submit<Call: Payload>(
		&self,
		call: &Call,
		signer: &AccountKey,
	) -> Result<Finalized, Error> {
		let nonce = self.next_nonce(&Signer::<ProvenaConfig>::account_id(signer)).await?;
		self.submit_signed(self.sign(call, signer, nonce).await?).await
	}

	/// Submits a signed transaction and waits for it to be finalized and successful; a
	/// dispatch error comes back as [`Error::Dispatch`] with the pallet's name and docs.
	pub async fn submit_signed(&self, tx: Signed) -> Result<Finalized, Error> {
		let tx_hash = tx.hash();
		let mut progress = tx.submit_and_watch().await.map_err(|e| rejected(&e.to_string()))?;
		while let Some(status) = progress.next().await {
			match status.map_err(|e| self.lost(e))? {
				TransactionStatus::InFinalizedBlock(in_block) => {
					let block_hash = in_block.block_hash();
					let events = in_block.wait_for_success().await.map_err(from_events_error)?;
					let block_number = self.block_number(block_hash).await?;
					return Ok(Finalized { block_hash, block_number, tx_hash, events });
				},
				TransactionStatus::Error { message }
				| TransactionStatus::Invalid { message }
				| TransactionStatus::Dropped { message } => return Err(rejected(&message)),
				_ => continue,
			}
		}
		Err(self.lost("the node closed the transaction's status stream"))
	}

	/// The number of the block with `hash`.
	pub async fn block_number(&self, hash: H256) -> Result<u64, Error> {
		let at = self.client.at_block(hash).await.map_err(|e| self.lost(e))?;
		Ok(at.block_number())
	}

	/// All events of the block with `hash`.
	pub async fn events_at(&self, hash: H256) -> Result<Events<ProvenaConfig>, Error> {
		let at = self.client.at_block(hash).await.map_err(|e| self.lost(e))?;
		at.events().fetch().await.map_err(|e| self.lost(e))
	}

	/// A device's registry record at the finalized head.
	pub async fn device(
		&self,
		device: DeviceId,
	) -> Result<Option<ChainDevice<AccountId32, u128, u32>>, Error> {
		let at = self.finalized().await?;
		let value = at
			.storage()
			.try_fetch(api::storage().device_registry().devices(), (device,))
			.await
			.map_err(|e| self.lost(e))?;
		value.map(|v| v.decode().map_err(|e| Error::Metadata(e.to_string()))).transpose()
	}

	/// A device's registry record, or [`Error::UnknownDevice`].
	pub async fn known_device(
		&self,
		device: DeviceId,
	) -> Result<ChainDevice<AccountId32, u128, u32>, Error> {
		self.device(device).await?.ok_or(Error::UnknownDevice(device))
	}

	/// A device's telemetry state at the finalized head (`None` before its first anchor).
	pub async fn device_state(
		&self,
		device: DeviceId,
	) -> Result<Option<DeviceTelemetry<u32>>, Error> {
		let at = self.finalized().await?;
		at.runtime_apis()
			.call(api::runtime_apis().telemetry_api().device_state(device))
			.await
			.map_err(|e| self.lost(e))
	}

	/// A device's anchors covering `from_seq..=to_seq` at the finalized head, at most `limit`.
	pub async fn anchors(
		&self,
		device: DeviceId,
		from_seq: u64,
		to_seq: u64,
		limit: u32,
	) -> Result<Vec<IndexedAnchor<AccountId32, u32>>, Error> {
		let at = self.finalized().await?;
		at.runtime_apis()
			.call(api::runtime_apis().telemetry_api().anchors(device, from_seq, to_seq, limit))
			.await
			.map_err(|e| self.lost(e))
	}

	/// Checks a reading's leaf and Merkle proof against the anchor covering `seq`.
	pub async fn verify_reading(
		&self,
		device: DeviceId,
		seq: u64,
		leaf: H256,
		proof: Vec<H256>,
	) -> Result<Result<IndexedAnchor<AccountId32, u32>, VerifyError>, Error> {
		let at = self.finalized().await?;
		at.runtime_apis()
			.call(api::runtime_apis().telemetry_api().verify_reading(device, seq, leaf, proof))
			.await
			.map_err(|e| self.lost(e))
	}

	/// What `who` may do with `device` now (direct and group grants), as permission bits.
	pub async fn permissions(&self, who: AccountId32, device: DeviceId) -> Result<u8, Error> {
		let at = self.finalized().await?;
		let bits = at
			.runtime_apis()
			.call(api::runtime_apis().access_control_api().permissions(who, device))
			.await
			.map_err(|e| self.lost(e))?;
		Ok(bits.0)
	}

	/// The x25519 key `who` published for sealed data keys, if any.
	pub async fn encryption_key(&self, who: AccountId32) -> Result<Option<[u8; 32]>, Error> {
		let at = self.finalized().await?;
		let value = at
			.storage()
			.try_fetch(api::storage().access_control().encryption_keys(), (who,))
			.await
			.map_err(|e| self.lost(e))?;
		value.map(|v| v.decode().map_err(|e| Error::Metadata(e.to_string()))).transpose()
	}

	/// Every grant on `device`, directly and through its groups.
	pub async fn grants(
		&self,
		device: DeviceId,
	) -> Result<Vec<(Scope, AccountId32, Grant<AccountId32, u32, u128>)>, Error> {
		let at = self.finalized().await?;
		at.runtime_apis()
			.call(api::runtime_apis().access_control_api().grants(device))
			.await
			.map_err(|e| self.lost(e))
	}
}

/// A dispatch error with the pallet's own name and docs for it.
pub fn dispatch_error(error: &DispatchError) -> Error {
	match error {
		DispatchError::Module(module) => match module.details() {
			Ok(details) => Error::Dispatch {
				pallet: details.pallet.name().to_string(),
				error: details.variant.name.clone(),
				docs: details.variant.docs.join(" ").trim().to_string(),
			},
			Err(_) => Error::Dispatch {
				pallet: format!("pallet #{}", module.pallet_index()),
				error: format!("error #{}", module.error_index()),
				docs: String::new(),
			},
		},
		other => Error::Dispatch {
			pallet: "System".into(),
			error: format!("{other:?}"),
			docs: other.to_string(),
		},
	}
}

fn from_events_error(e: TransactionEventsError) -> Error {
	match e {
		TransactionEventsError::ExtrinsicFailed(error) => dispatch_error(&error),
		other => Error::Metadata(other.to_string()),
	}
}

/// A pool rejection, with what usually causes it.
fn rejected(message: &str) -> Error {
	let hint = if message.contains("Payment") || message.contains("balance") {
		" (the account cannot pay the fee: fund it first)"
	} else if message.contains("Stale") || message.contains("Future") {
		" (a nonce clash: another client signs with this account; retry)"
	} else {
		""
	};
	Error::Rejected(format!("{message}{hint}"))
}
