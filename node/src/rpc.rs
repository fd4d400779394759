//! The node's own RPC methods, besides the ones every Substrate node serves: account nonces
//! (`system_accountNextIndex`), fee estimates (`payment_queryInfo`), GRANDPA's finality proofs
//! and justifications (`grandpa_proveFinality`, `grandpa_subscribeJustifications`,
//! `grandpa_roundState`), the finality proofs of proof bundles (`provena_finalityProof`, see
//! [`crate::finality_rpc`]), and devices' logs with
//! their inclusion proofs (`provena_history`, `provena_historyByTime`, `provena_proof`; see
//! [`crate::log_rpc`]).

use jsonrpsee::RpcModule;
use provena_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Nonce};
use sc_consensus_grandpa::{
	FinalityProofProvider, GrandpaJustificationStream, SharedAuthoritySet, SharedVoterState,
};
use sc_rpc::SubscriptionTaskExecutor;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};
use std::sync::Arc;

/// What GRANDPA's RPC methods need from the node.
pub struct GrandpaDeps<B> {
	/// The voter's state, for `grandpa_roundState`.
	pub voter_state: SharedVoterState,
	/// The authority set and its changes so far.
	pub authority_set: SharedAuthoritySet<sp_core::H256, BlockNumber>,
	/// Each justification as the node finalizes a block.
	pub justification_stream: GrandpaJustificationStream<Block>,
	/// Where subscriptions run.
	pub executor: SubscriptionTaskExecutor,
	/// Makes finality proofs from the justifications the node keeps.
	pub finality_provider: Arc<FinalityProofProvider<B, Block>>,
	/// The database, for `provena_finalityProof`.
	pub backend: Arc<B>,
}

/// What the RPC methods need from the node.
pub struct FullDeps<C, P, S, B> {
	/// The client, to call runtime APIs and read headers.
	pub client: Arc<C>,
	/// The transaction pool, for nonces that count pending transactions.
	pub pool: Arc<P>,
	/// The offchain-indexed storage devices' logs are served from; `None` when the node runs
	/// without `--enable-offchain-indexing true`.
	pub log_store: Option<S>,
	/// GRANDPA's state and proofs.
	pub grandpa: GrandpaDeps<B>,
}

/// Builds the RPC module with the node's own methods.
pub fn create_full<C, P, S, B>(
	deps: FullDeps<C, P, S, B>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>,
	C: HeaderBackend<Block> + HeaderMetadata<Block, Error = BlockChainError> + 'static,
	C: Send + Sync + 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api: pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>,
	C::Api: BlockBuilder<Block>,
	C::Api: pallet_telemetry::runtime_api::TelemetryApi<Block, AccountId, BlockNumber>,
	P: TransactionPool + 'static,
	S: sp_core::offchain::OffchainStorage + 'static,
	B: sc_client_api::Backend<Block> + Send + Sync + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use sc_consensus_grandpa_rpc::{Grandpa, GrandpaApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let FullDeps { client, pool, log_store, grandpa } = deps;
	let mut module = RpcModule::new(());
	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(crate::log_rpc::LogRpc::new(client, log_store).into_rpc()?)?;
	let GrandpaDeps {
		voter_state,
		authority_set,
		justification_stream,
		executor,
		finality_provider,
		backend,
	} = grandpa;
	module
		.merge(crate::finality_rpc::FinalityRpc::new(backend, authority_set.clone()).into_rpc()?)?;
	module.merge(
		Grandpa::new(executor, authority_set, voter_state, justification_stream, finality_provider)
			.into_rpc(),
	)?;
	Ok(module)
}
