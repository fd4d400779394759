//! What every command may need: the node's URL, the store's path, and how to speak.

use crate::output::Output;
use anyhow::{anyhow, Result};
use provena_client::{chain::Chain, store::Store};
use std::path::PathBuf;

/// What every command may need: where the node is, where the store is, how to speak.
pub struct Context {
	/// The node's URL.
	pub url: String,
	/// Whether plain `ws://` to another machine is allowed (`--insecure`).
	pub insecure: bool,
	/// `--store`, if given.
	pub store: Option<PathBuf>,
	/// Text or JSON.
	pub out: Output,
}

impl Context {
	/// Connects to the node.
	pub async fn connect(&self) -> Result<Chain> {
		Ok(if self.insecure {
			Chain::connect_insecure(&self.url).await?
		} else {
			Chain::connect(&self.url).await?
		})
	}

	/// The store for `chain`: `--store`, or one file per chain under `PROVENA_HOME`.
	pub fn store(&self, chain: &Chain) -> Result<Store> {
		let path = self.store_path(chain)?;
		Ok(Store::open(&path, chain.genesis_hash())?)
	}

	/// Where the store for `chain` is: `--store`, or `$PROVENA_HOME/<genesis>.db`.
	pub fn store_path(&self, chain: &Chain) -> Result<PathBuf> {
		let genesis = chain.genesis_hash();
		Ok(match &self.store {
			Some(path) => path.clone(),
			None => {
				let home = std::env::var_os("PROVENA_HOME")
					.map(PathBuf::from)
					.or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".provena")))
					.ok_or_else(|| anyhow!("set PROVENA_HOME or --store: there is no HOME"))?;
				home.join(format!("{}.db", hex::encode(&genesis.0[..8])))
			},
		})
	}
}
