//! The node's own RPC methods, besides the ones every Substrate node serves: account nonces
//! (`system_accountNextIndex`), fee estimates (`payment_queryInfo`), and devices' logs with
//! their inclusion proofs (`provena_history`, `provena_historyByTime`, `provena_proof`; see
//! [`crate::log_rpc`]).

use jsonrpsee::RpcModule;
use provena_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Nonce};
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};
use std::sync::Arc;

/// What the RPC methods need from the node.
pub struct FullDeps<C, P, S> {
	/// The client, to call runtime APIs and read headers.
	pub client: Arc<C>,
	/// The transaction pool, for nonces that count pending transactions.
	pub pool: Arc<P>,
	/// The offchain-indexed storage devices' logs are served from; `None` when the node runs
	/// without `--enable-offchain-indexing true`.
	pub log_store: Option<S>,
}

/// Builds the RPC module with the node's own methods.
pub fn create_full<C, P, S>(
	deps: FullDeps<C, P, S>,
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
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let FullDeps { client, pool, log_store } = deps;
	let mut module = RpcModule::new(());
	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(crate::log_rpc::LogRpc::new(client, log_store).into_rpc()?)?;
	Ok(module)
}
