//! The chain as the client sees it: the typed API subxt generates from the checked-in metadata,
//! a config matching the runtime, account signing, and the queries every command needs.
//!
//! - [`tx`]: the one transaction pipeline: sign, submit, follow to finality, classify failures.
//! - [`blocks`]: the blocks followed transactions landed in, fetched once per block.
//! - [`events`]: the Provena events of a transaction, decoded as the runtime's typed events.
//! - [`proofs`]: proof bundles built from the node's proofs (log, storage, GRANDPA finality).
//!
//! Everything here reads the finalized head: a query never reports what may still be reverted.

pub mod blocks;
pub mod events;
pub mod proofs;
pub mod tx;

use crate::{error::BoxError, keys::AccountKey, readings::Record, Error};
use provena_primitives::DeviceId;
use std::time::{Duration, Instant};
use subxt::{
	config::{
		substrate::{BlakeTwo256, SubstrateHeader},
		DefaultTransactionExtensions, RpcConfigFor,
	},
	events::Events,
	rpcs::rpc_params,
	rpcs::{methods::LegacyRpcMethods, RpcClient},
	transactions::Signer,
	utils::{AccountId32, MultiAddress, MultiSignature, Static, H256},
	OnlineClient,
};

pub use tx::{Finalized, Signed};

/// The typed API of the Provena runtime, generated from `client/metadata/provena.scale`.
///
/// The types the client shares with the runtime through `provena-primitives` (device keys and
/// signed anchors) are used as they are, byte for byte, instead of generated copies.
/// Regenerate the metadata with `scripts/update-metadata.sh` after a runtime change; the
/// `metadata` test fails while it differs from what the runtime produces.
#[subxt::subxt(
	runtime_metadata_path = "metadata/provena.scale",
	derive_for_all_types = "Clone, ::subxt::ext::codec::Encode, ::subxt::ext::codec::Decode",
	substitute_type(
		path = "provena_primitives::DeviceKey",
		with = "::subxt::utils::Static<::provena_primitives::DeviceKey>"
	),
	substitute_type(
		path = "provena_primitives::telemetry::Anchor<V>",
		with = "::subxt::utils::Static<crate::readings::SignedAnchor>"
	),
	substitute_type(
		path = "provena_primitives::device_log::AnchorRecord<A, B>",
		with = "::subxt::utils::Static<crate::readings::Record>"
	),
	substitute_type(
		path = "sp_runtime::MultiSignature",
		with = "::subxt::utils::Static<::sp_runtime::MultiSignature>"
	)
)]
pub mod api {}

pub use api::runtime_types::{
	pallet_access_control::types::{
		EpochKey as ChainEpochKey, Grant, Permissions, Scope, SealedKey,
	},
	pallet_device_registry::types::Device as ChainDevice,
	pallet_telemetry::types::{AlertRule, DeviceTelemetry, RuleRecord, VerifyError},
};

/// An alert rule as the chain stores it: the bounds, the ownership epoch it was set in, who
/// paid its deposit and how much.
pub type StoredRule = RuleRecord<AccountId32, u128>;

/// A device's record in the registry, as the chain returns it.
pub type DeviceRecord = ChainDevice<AccountId32, u128, u32>;

/// A grant on a device: its scope, the grantee and what it holds.
pub type DeviceGrant = (Scope, AccountId32, Grant<AccountId32, u32, u128>);

/// A reader's sealed data key for a device, as the chain stores it.
pub type StoredSealedKey = SealedKey<AccountId32, u128>;

/// A bounded vector of the generated API (the chain checks the bound).
pub use api::runtime_types::bounded_collections::bounded_vec::BoundedVec as Bounded;

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

/// The account id of a key.
pub fn account_of(key: &AccountKey) -> AccountId32 {
	Signer::<ProvenaConfig>::account_id(key)
}

/// The client at one block: typed storage, constants, runtime APIs and transaction building.
pub type AtBlock = subxt::client::ClientAtBlock<
	ProvenaConfig,
	subxt::client::OnlineClientAtBlockImpl<ProvenaConfig>,
>;

/// The first wait before trying again to reach a node that was lost ([`Chain::reconnect`]).
pub const RECONNECT_FIRST_WAIT: Duration = Duration::from_millis(500);

/// The longest wait between two attempts to reach a lost node.
pub const RECONNECT_MAX_WAIT: Duration = Duration::from_secs(8);

/// How long one attempt to reach a node again may take: a node that accepts the connection
/// but does not answer (overloaded, or stuck) must not hold a reconnecting caller forever.
pub const OPEN_TIMEOUT: Duration = Duration::from_secs(15);

/// A connection to a Provena node.
#[derive(Clone)]
pub struct Chain {
	/// The subxt client (typed calls, storage, runtime APIs, blocks).
	pub client: OnlineClient<ProvenaConfig>,
	/// The node's legacy RPC methods (pool-aware nonces, raw submission, heads).
	pub rpc: LegacyRpcMethods<RpcConfigFor<ProvenaConfig>>,
	/// The raw RPC client, for the node's own `provena_*` methods.
	raw: RpcClient,
	/// The URL it was reached at.
	pub url: String,
	/// Whether plain `ws://` to a host other than this machine was allowed.
	insecure: bool,
	/// The blocks followed transactions landed in, fetched once each.
	blocks: blocks::BlockCache,
}

impl Chain {
	/// Connects to the node at `url`: `wss://` anywhere, or plain `ws://` to this machine
	/// (`localhost`, a loopback address). Plain `ws://` to any other host is refused
	/// ([`Error::Insecure`]): anyone on the path could read and alter what the node says. An
	/// error names the URL and says what to do.
	pub async fn connect(url: &str) -> Result<Chain, Error> {
		Chain::open(url, false).await
	}

	/// Connects to the node at `url` like [`Chain::connect`], but allows plain `ws://` to any
	/// host (the command line's `--insecure`).
	pub async fn connect_insecure(url: &str) -> Result<Chain, Error> {
		Chain::open(url, true).await
	}

	async fn open(url: &str, insecure: bool) -> Result<Chain, Error> {
		let unreachable = |source: BoxError| Error::Unreachable { url: url.to_string(), source };
		let secure = subxt::rpcs::utils::url_is_secure(url).map_err(|e| unreachable(e.into()))?;
		if !secure && !insecure {
			return Err(Error::Insecure(url.to_string()));
		}
		let rpc = RpcClient::from_insecure_url(url).await.map_err(|e| unreachable(e.into()))?;
		let client =
			OnlineClient::<ProvenaConfig>::from_rpc_client_with_config(ProvenaConfig, rpc.clone())
				.await
				.map_err(|e| unreachable(e.into()))?;
		let raw = rpc.clone();
		let rpc = LegacyRpcMethods::new(rpc);
		Ok(Chain { client, rpc, raw, url: url.to_string(), insecure, blocks: Default::default() })
	}

	/// Connects again to the node this chain was reached at, after losing it: tries at once,
	/// then after waits that start at [`RECONNECT_FIRST_WAIT`] and double up to
	/// [`RECONNECT_MAX_WAIT`], for as long as `within` allows, calling `waiting(attempt, wait)`
	/// before each wait. Refuses a node that now serves another chain ([`Error::Node`]);
	/// otherwise the last attempt's error once `within` is over.
	pub async fn reconnect(
		&self,
		within: Duration,
		mut waiting: impl FnMut(u32, Duration),
	) -> Result<Chain, Error> {
		let started = Instant::now();
		let mut wait = RECONNECT_FIRST_WAIT;
		let mut attempt = 0u32;
		loop {
			attempt = attempt.saturating_add(1);
			let opened = tokio::time::timeout(OPEN_TIMEOUT, Chain::open(&self.url, self.insecure))
				.await
				.unwrap_or_else(|_| {
					Err(self.lost(format!("no answer within {} s", OPEN_TIMEOUT.as_secs())))
				});
			match opened {
				Ok(chain) if chain.genesis_hash() == self.genesis_hash() => return Ok(chain),
				Ok(chain) => {
					return Err(Error::Node(format!(
						"the node at {} now serves another chain (genesis {:?}, not {:?}); \
						 point --url at a node of the chain this run started on",
						self.url,
						chain.genesis_hash(),
						self.genesis_hash()
					)))
				},
				Err(error) => {
					let left = within.saturating_sub(started.elapsed());
					if left.is_zero() {
						return Err(error);
					}
					let now = wait.min(left);
					waiting(attempt, now);
					tokio::time::sleep(now).await;
					wait = wait.saturating_mul(2).min(RECONNECT_MAX_WAIT);
				},
			}
		}
	}

	/// The chain's genesis hash (part of every device signature).
	pub fn genesis_hash(&self) -> H256 {
		self.client.genesis_hash()
	}

	/// Maps a failure to reach or ask the node to [`Error::Unreachable`].
	pub fn lost(&self, e: impl Into<BoxError>) -> Error {
		Error::Unreachable { url: self.url.clone(), source: e.into() }
	}

	/// The client at the latest finalized block.
	pub async fn finalized(&self) -> Result<AtBlock, Error> {
		self.client.at_current_block().await.map_err(|e| self.lost(e))
	}

	/// The next nonce of `who`, counting transactions waiting in the node's pool.
	pub async fn next_nonce(&self, who: &AccountId32) -> Result<u64, Error> {
		self.rpc.system_account_next_index(who).await.map_err(|e| self.lost(e))
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
	pub async fn device(&self, device: DeviceId) -> Result<Option<DeviceRecord>, Error> {
		self.device_at(&self.finalized().await?, device).await
	}

	/// A device's registry record at block `at` (one storage read: callers that look up many
	/// devices keep one block for a while instead of asking for the finalized head each time).
	pub async fn device_at(
		&self,
		at: &AtBlock,
		device: DeviceId,
	) -> Result<Option<DeviceRecord>, Error> {
		let value = at
			.storage()
			.try_fetch(api::storage().device_registry().devices(), (device,))
			.await
			.map_err(|e| self.lost(e))?;
		value.map(|v| v.decode().map_err(|e| Error::metadata("a device record", e))).transpose()
	}

	/// The registry records of `devices` at the block `at`, in order; a few reads at a time.
	pub async fn devices_at(
		&self,
		at: &AtBlock,
		devices: &[DeviceId],
	) -> Result<Vec<Option<DeviceRecord>>, Error> {
		use futures::StreamExt;
		let reads: Vec<_> = devices.iter().map(|device| self.device_at(at, *device)).collect();
		// Storage reads take no runtime instance: more at once than runtime calls.
		let records: Vec<_> = futures::stream::iter(reads).buffered(16).collect().await;
		records.into_iter().collect()
	}

	/// A device's registry record, or [`Error::UnknownDevice`].
	pub async fn known_device(&self, device: DeviceId) -> Result<DeviceRecord, Error> {
		self.device(device).await?.ok_or(Error::UnknownDevice(device))
	}

	/// The devices `owner` owns, in id order.
	pub async fn devices_of(&self, owner: AccountId32) -> Result<Vec<DeviceId>, Error> {
		let at = self.finalized().await?;
		let mut entries = at
			.storage()
			.iter(api::storage().device_registry().devices_by_owner(), (owner,))
			.await
			.map_err(|e| self.lost(e))?;
		let mut devices = Vec::new();
		while let Some(entry) = entries.next().await {
			let entry = entry.map_err(|e| self.lost(e))?;
			let key = entry.key().map_err(|e| Error::metadata("a DevicesByOwner key", e))?;
			let (_, device) =
				key.decode().map_err(|e| Error::metadata("a DevicesByOwner key", e))?;
			devices.push(device);
		}
		devices.sort();
		Ok(devices)
	}

	/// A device's telemetry state at the finalized head (`None` before its first anchor).
	pub async fn device_state(
		&self,
		device: DeviceId,
	) -> Result<Option<DeviceTelemetry<u32>>, Error> {
		self.device_states(&[device]).await.map(|mut states| states.pop().flatten())
	}

	/// The telemetry state of each of `devices`, all at one finalized block, asked a few at a
	/// time (`None` for a device before its first anchor).
	pub async fn device_states(
		&self,
		devices: &[DeviceId],
	) -> Result<Vec<Option<DeviceTelemetry<u32>>>, Error> {
		use futures::StreamExt;
		let at = self.finalized().await?;
		// Each call owns its block handle, so the stream is `Send` for any caller's task.
		let states: Vec<_> = devices
			.iter()
			.map(|device| {
				let (at, device) = (at.clone(), *device);
				async move {
					at.runtime_apis()
						.call(api::runtime_apis().telemetry_api().device_state(device))
						.await
				}
			})
			.collect();
		// A few at a time: each call takes one of the node's runtime instances (8 by default),
		// and a node out of instances refuses calls.
		let states: Vec<_> = futures::stream::iter(states).buffered(4).collect().await;
		states.into_iter().map(|state| state.map_err(|e| self.lost(e))).collect()
	}

	/// How many anchor credits `device` has (0 before any were bought).
	pub async fn credits(&self, device: DeviceId) -> Result<u64, Error> {
		Ok(self.device_state(device).await?.map(|s| s.credits).unwrap_or(0))
	}

	/// The price of one anchor credit, in planck (`Telemetry::CreditPrice`).
	pub async fn credit_price(&self) -> Result<u128, Error> {
		let at = self.finalized().await?;
		at.constants()
			.entry(api::constants().telemetry().credit_price())
			.map_err(|e| Error::metadata("Telemetry::CreditPrice", e))
	}

	/// How far ahead of a device's log the transaction pool holds a device-authorized anchor,
	/// in anchors of its own size (`Telemetry::MaxPooledAhead`): one of `count` readings may
	/// start at most `count` times this after the log's next sequence number.
	pub async fn max_pooled_ahead(&self) -> Result<u64, Error> {
		let at = self.finalized().await?;
		at.constants()
			.entry(api::constants().telemetry().max_pooled_ahead())
			.map_err(|e| Error::metadata("Telemetry::MaxPooledAhead", e))
	}

	/// The next sequence number the chain expects from `device` (0 before its first anchor).
	pub async fn next_seq(&self, device: DeviceId) -> Result<u64, Error> {
		Ok(self.device_state(device).await?.map(|s| s.next_seq).unwrap_or(0))
	}

	/// The next sequence number of each of `devices`, all at one finalized block (0 for a
	/// device that never anchored).
	pub async fn next_seqs(&self, devices: &[DeviceId]) -> Result<Vec<u64>, Error> {
		let states = self.device_states(devices).await?;
		Ok(states.into_iter().map(|state| state.map_or(0, |s| s.next_seq)).collect())
	}

	/// A device's log records covering readings `from_seq ..= to_seq`, at most `limit`, as the
	/// node serves them (`provena_history`, at the finalized head). `None` when the device
	/// never anchored.
	pub async fn history(
		&self,
		device: DeviceId,
		from_seq: u64,
		to_seq: u64,
		limit: u32,
	) -> Result<Option<LogPage>, Error> {
		let params = rpc_params![device_hex(&device), from_seq, to_seq, limit];
		self.log_call("provena_history", params).await
	}

	/// A device's log records the chain accepted at a chain time in `from_ms ..= to_ms`, at
	/// most `limit` (`provena_historyByTime`, at the finalized head).
	pub async fn history_by_time(
		&self,
		device: DeviceId,
		from_ms: u64,
		to_ms: u64,
		limit: u32,
	) -> Result<Option<LogPage>, Error> {
		let params = rpc_params![device_hex(&device), from_ms, to_ms, limit];
		self.log_call("provena_historyByTime", params).await
	}

	/// The record of `device`'s log covering reading `seq`, with its inclusion proof at the
	/// finalized head the answer names (`provena_proof`). `None` when no record covers it.
	pub async fn log_proof(&self, device: DeviceId, seq: u64) -> Result<Option<LogProof>, Error> {
		let params = rpc_params![device_hex(&device), seq];
		let Some(raw) = self.log_call::<RawProof>("provena_proof", params).await? else {
			return Ok(None);
		};
		Ok(Some(LogProof { at: raw.at, record: raw.record.decode()?, log_proof: raw.log_proof }))
	}

	/// Calls one of the node's log methods; "unknown device" and "not anchored" are `None`.
	async fn log_call<T: serde::de::DeserializeOwned>(
		&self,
		method: &str,
		params: subxt::rpcs::client::RpcParams,
	) -> Result<Option<T>, Error> {
		match self.raw.request::<T>(method, params).await {
			Ok(answer) => Ok(Some(answer)),
			Err(subxt::rpcs::Error::User(e)) if [7002, 7003].contains(&e.code) => Ok(None),
			Err(subxt::rpcs::Error::User(e)) => Err(Error::Node(format!(
				"{} refused {method}: {} (code {})",
				self.url, e.message, e.code
			))),
			Err(e) => Err(self.lost(e)),
		}
	}

	/// Checks a reading's leaf and Merkle `path` against `found`: its anchor record and the
	/// record's inclusion proof, with the runtime of the block the proof was made at.
	pub async fn verify_reading(
		&self,
		found: &LogProof,
		device: DeviceId,
		seq: u64,
		leaf: H256,
		path: Vec<H256>,
	) -> Result<Result<Record, VerifyError>, Error> {
		let at = self.client.at_block(found.at).await.map_err(|e| self.lost(e))?;
		let call = api::runtime_apis().telemetry_api().verify_reading(
			device,
			seq,
			leaf,
			path,
			Static(found.record.clone()),
			found.log_proof.clone(),
		);
		let answer = at.runtime_apis().call(call).await.map_err(|e| self.lost(e))?;
		Ok(answer.map(|record| record.0))
	}

	/// A device's alert rules, with who set each and in which ownership epoch.
	pub async fn alert_rules(&self, device: DeviceId) -> Result<Vec<StoredRule>, Error> {
		let at = self.finalized().await?;
		let value = at
			.storage()
			.try_fetch(api::storage().telemetry().alert_rules(), (device,))
			.await
			.map_err(|e| self.lost(e))?;
		let rules = value
			.map(|v| v.decode().map_err(|e| Error::metadata("a device's alert rules", e)))
			.transpose()?;
		Ok(rules.map(|rules| rules.0).unwrap_or_default())
	}

	/// The most bytes an anchor's encrypted payload may have (`Telemetry::MaxPayloadLen`).
	pub async fn max_payload_len(&self) -> Result<usize, Error> {
		let at = self.finalized().await?;
		let max = at
			.constants()
			.entry(api::constants().telemetry().max_payload_len())
			.map_err(|e| Error::metadata("Telemetry::MaxPayloadLen", e))?;
		Ok(max as usize)
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
		let published = value
			.map(|v| v.decode().map_err(|e| Error::metadata("an encryption key", e)))
			.transpose()?;
		Ok(published.map(|p| p.key))
	}

	/// Every grant that applies to `device` (directly and through its groups, in its current
	/// ownership epoch) at the finalized head, asked for a page at a time.
	pub async fn grants(&self, device: DeviceId) -> Result<Vec<DeviceGrant>, Error> {
		/// Grants per runtime call: the runtime's own cap.
		const PAGE: u32 = 256;
		let at = self.finalized().await?;
		let (mut grants, mut after) = (Vec::new(), None);
		loop {
			let call = api::runtime_apis().access_control_api().grants(device, after, PAGE);
			let page = at.runtime_apis().call(call).await.map_err(|e| self.lost(e))?;
			grants.extend(page.grants);
			match page.next {
				Some(next) => after = Some(next),
				None => return Ok(grants),
			}
		}
	}

	/// The data-key epoch in force for `device` at the newest block a transaction would be
	/// built on (see [`Chain::signing_block`]; `None` for a device never registered):
	/// payloads are encrypted under its key. Not the finalized head: a reader who lost READ in
	/// a block not yet final must not be given what follows.
	pub async fn key_epoch(&self, device: DeviceId) -> Result<Option<u32>, Error> {
		let at = self.signing_block().await?;
		let call = api::runtime_apis().access_control_api().key_epoch(device);
		at.runtime_apis().call(call).await.map_err(|e| self.lost(e))
	}

	/// `reader`'s sealed data key for `device` at the block [`Chain::key_epoch`] reads, if it
	/// has one.
	pub async fn sealed_key(
		&self,
		device: DeviceId,
		reader: AccountId32,
	) -> Result<Option<StoredSealedKey>, Error> {
		let at = self.signing_block().await?;
		let value = at
			.storage()
			.try_fetch(api::storage().access_control().sealed_keys(), (device, reader))
			.await
			.map_err(|e| self.lost(e))?;
		value.map(|v| v.decode().map_err(|e| Error::metadata("a sealed key", e))).transpose()
	}

	/// The owner and devices of group `group` at the finalized head, if it exists.
	pub async fn group(&self, group: u32) -> Result<Option<(AccountId32, Vec<DeviceId>)>, Error> {
		let at = self.finalized().await?;
		let value = at
			.storage()
			.try_fetch(api::storage().access_control().groups(), (group,))
			.await
			.map_err(|e| self.lost(e))?;
		let record =
			value.map(|v| v.decode().map_err(|e| Error::metadata("a group", e))).transpose()?;
		Ok(record.map(|g| (g.owner, g.members.0)))
	}

	/// Every anchor the extrinsics of block `block` carry, with the payload each carried: in
	/// `anchor`, `device_anchor` and `anchor_batch` calls, whether they succeeded or not (the
	/// block's events say which did). Payloads are never kept in state: this is where they
	/// are.
	pub async fn anchors_in_block(
		&self,
		block: u32,
	) -> Result<Vec<(crate::readings::SignedAnchor, Option<Vec<u8>>)>, Error> {
		let at = self.client.at_block(u64::from(block)).await.map_err(|e| self.lost(e))?;
		let extrinsics = at.extrinsics().fetch().await.map_err(|e| self.lost(e))?;
		let mut anchors = Vec::new();
		for call in extrinsics.find::<api::telemetry::calls::Anchor>() {
			let call = call.map_err(|e| Error::metadata("a Telemetry.anchor call", e))?;
			anchors.push((call.anchor.0, call.payload.map(|p| p.0)));
		}
		for call in extrinsics.find::<api::telemetry::calls::DeviceAnchor>() {
			let call = call.map_err(|e| Error::metadata("a Telemetry.device_anchor call", e))?;
			anchors.push((call.anchor.0, call.payload.map(|p| p.0)));
		}
		for call in extrinsics.find::<api::telemetry::calls::AnchorBatch>() {
			let call = call.map_err(|e| Error::metadata("a Telemetry.anchor_batch call", e))?;
			anchors.extend(
				call.items.0.into_iter().map(|item| (item.anchor.0, item.payload.map(|p| p.0))),
			);
		}
		Ok(anchors)
	}

	/// The encrypted payload that travelled with `device`'s anchor starting at `first_seq` in
	/// block `block`: the one whose blake2-256 hash is `payload_hash`, what the device signed
	/// and the chain's log keeps. Every anchor call of the block naming the same anchor is a
	/// candidate (any account can put a copy with another payload in the same block, which
	/// fails there), so none of them can hide the real one.
	pub async fn anchor_payload(
		&self,
		device: DeviceId,
		first_seq: u64,
		block: u32,
		payload_hash: H256,
	) -> Result<Option<Vec<u8>>, Error> {
		Ok(self
			.anchors_in_block(block)
			.await?
			.into_iter()
			.filter(|(anchor, _)| {
				anchor.statement.device == device && anchor.statement.first_seq == first_seq
			})
			.filter_map(|(_, payload)| payload)
			.find(|payload| H256(sp_crypto_hashing::blake2_256(payload)) == payload_hash))
	}
}

/// A device id as the node's log methods take it.
fn device_hex(device: &DeviceId) -> String {
	format!("0x{}", hex::encode(device))
}

/// A record as the node's log methods serve it: its fields for people, and its SCALE bytes.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct RecordJson {
	/// The record's SCALE bytes, `0x`-hex.
	pub encoded: String,
}

impl RecordJson {
	/// The record itself.
	pub fn decode(&self) -> Result<Record, Error> {
		let bytes = hex::decode(self.encoded.trim_start_matches("0x"))
			.map_err(|e| Error::Node(format!("a log record is not hex: {e}")))?;
		codec::Decode::decode(&mut &bytes[..])
			.map_err(|e| Error::Node(format!("a log record does not decode: {e}")))
	}
}

/// A page of a device's log, as `provena_history` answers.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct LogPage {
	/// The finalized block it was read at.
	pub at: H256,
	/// That block's number.
	pub at_number: u64,
	/// How many records the device's log has there.
	pub anchors: u64,
	/// The records, in log order.
	pub records: Vec<RecordJson>,
}

#[derive(serde::Deserialize)]
struct RawProof {
	at: H256,
	record: RecordJson,
	log_proof: Vec<H256>,
}

/// A record of a device's log with its inclusion proof.
#[derive(Clone, Debug)]
pub struct LogProof {
	/// The finalized block the proof holds at.
	pub at: H256,
	/// The record.
	pub record: Record,
	/// Its inclusion proof against the device's log at `at`.
	pub log_proof: Vec<H256>,
}
