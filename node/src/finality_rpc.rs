//! `provena_finalityProof(number, headers?)`: GRANDPA's proof that block `number` is final, for
//! proof bundles.
//!
//! The answer is `grandpa_proveFinality`'s: the `0x`-hex SCALE encoding of
//! `(block: H256, justification: Vec<u8>, unknown_headers: Vec<Header>)`: a justification, the
//! block it finalizes (`number` or a later block), and the headers after `number` up to that
//! block (none when `headers` is `false`, as a client following authority set changes asks:
//! it needs only the justified block's own header). For a block of an authority set that has
//! ended, the justification is the one by which that set finalized its last block (a node keeps
//! those); for a block of the current set, the node's latest justification.
//!
//! `grandpa_proveFinality` itself (served too) refuses every block while the chain has never
//! changed its authority set ("not covered by authority set changes"), which is the usual state
//! of a development chain and of the testnet, so bundles use this method.

use crate::log_rpc::{error, hex};
use codec::Encode;
use jsonrpsee::{core::RegisterMethodError, types::ErrorObjectOwned, RpcModule};
use provena_runtime::{opaque::Block, BlockNumber};
use sc_client_api::{AuxStore, Backend};
use sc_consensus_grandpa::{best_justification, GrandpaJustification, SharedAuthoritySet};
use sp_blockchain::{Backend as _, HeaderBackend};
use sp_consensus_grandpa::GRANDPA_ENGINE_ID;
use sp_core::H256;
use std::sync::Arc;

/// The most headers one answer carries: a proof with headers for a block further behind the
/// justified block is refused (ask for a later block, or without headers).
pub const MAX_HEADERS: u32 = 10_000;

/// JSON-RPC error codes of this method.
mod code {
	/// The block is not final (yet).
	pub const NOT_FINAL: i32 = 7101;
	/// The node keeps no justification that proves it.
	pub const NO_JUSTIFICATION: i32 = 7102;
	/// The node's database failed.
	pub const DATABASE: i32 = 7103;
	/// The block is too far behind the justified block.
	pub const TOO_FAR: i32 = 7104;
}

/// What the method needs: the database and GRANDPA's authority set changes.
pub struct FinalityRpc<B> {
	backend: Arc<B>,
	authority_set: SharedAuthoritySet<H256, BlockNumber>,
}

impl<B> FinalityRpc<B>
where
	B: Backend<Block> + AuxStore + Send + Sync + 'static,
{
	/// The method over this node's database and authority set.
	pub fn new(backend: Arc<B>, authority_set: SharedAuthoritySet<H256, BlockNumber>) -> Self {
		FinalityRpc { backend, authority_set }
	}

	/// The justification proving `number` final: `(justified block number, its hash, the
	/// justification's SCALE bytes)`.
	fn justification(
		&self,
		number: BlockNumber,
	) -> Result<(BlockNumber, H256, Vec<u8>), ErrorObjectOwned> {
		let db = |e: sp_blockchain::Error| error(code::DATABASE, format!("database: {e}"));
		let chain = self.backend.blockchain();
		let finalized = chain.info().finalized_number;
		if number > finalized {
			return Err(error(
				code::NOT_FINAL,
				format!("block #{number} is not final: the finalized head is #{finalized}"),
			));
		}
		// The last block of each ended set, in order; the set of `number` ended at the first
		// of them at or after it, or is the current set.
		let changes = self.authority_set.authority_set_changes();
		let ended =
			changes.iter_from(0).into_iter().flatten().find(|(_, last)| *last >= number).copied();
		match ended {
			Some((set_id, last)) => {
				let hash = chain.hash(last).map_err(db)?.ok_or_else(|| {
					error(code::NO_JUSTIFICATION, format!("block #{last} is not in the database"))
				})?;
				let justification = chain
					.justifications(hash)
					.map_err(db)?
					.and_then(|all| all.into_justification(GRANDPA_ENGINE_ID))
					.ok_or_else(|| {
						error(
							code::NO_JUSTIFICATION,
							format!(
								"this node keeps no justification of block #{last}, the last \
								 block of authority set {set_id}"
							),
						)
					})?;
				Ok((last, hash, justification))
			},
			None => {
				let best: GrandpaJustification<Block> =
					best_justification(&*self.backend).map_err(db)?.ok_or_else(|| {
						error(
							code::NO_JUSTIFICATION,
							"this node has no justification yet: it has not finalized a block \
							 through GRANDPA since it started",
						)
					})?;
				let (justified, hash) = best.target();
				if justified < number {
					return Err(error(
						code::NO_JUSTIFICATION,
						format!(
							"this node's latest justification is for #{justified}, before \
							 #{number}: try again after the next finalized block"
						),
					));
				}
				Ok((justified, hash, best.encode()))
			},
		}
	}

	/// The RPC module with `provena_finalityProof`.
	pub fn into_rpc(self) -> Result<RpcModule<Self>, RegisterMethodError> {
		let mut module = RpcModule::new(self);
		module.register_blocking_method("provena_finalityProof", |params, rpc, _| {
			let mut params = params.sequence();
			let number: BlockNumber = params.next()?;
			let with_headers = params.optional_next::<bool>()?.unwrap_or(true);
			let (justified, hash, justification) = rpc.justification(number)?;
			if !with_headers {
				let proof = (hash, justification, Vec::<()>::new()).encode();
				return Ok(format!("0x{}", hex(&proof)));
			}
			if justified.saturating_sub(number) > MAX_HEADERS {
				return Err(error(
					code::TOO_FAR,
					format!(
						"block #{number} is more than {MAX_HEADERS} blocks behind #{justified}, \
						 the block its justification finalizes"
					),
				));
			}
			let chain = rpc.backend.blockchain();
			let db = |e: sp_blockchain::Error| error(code::DATABASE, format!("database: {e}"));
			let mut headers = Vec::new();
			for n in number.saturating_add(1)..=justified {
				let missing = || error(code::DATABASE, format!("header #{n} is missing"));
				let hash = chain.hash(n).map_err(db)?.ok_or_else(missing)?;
				let header = chain.header(hash).map_err(db)?.ok_or_else(missing)?;
				headers.push(header);
			}
			let proof = (hash, justification, headers).encode();
			Ok::<_, ErrorObjectOwned>(format!("0x{}", hex(&proof)))
		})?;
		Ok(module)
	}
}
