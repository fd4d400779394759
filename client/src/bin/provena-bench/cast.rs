//! The run's cast: the funder, the gateways and the accounts that are also devices, funded and
//! registered before any load.

use crate::args::BenchArgs;
use anyhow::{anyhow, Context, Result};
use futures::{stream::FuturesUnordered, StreamExt};
use provena_client::{
	chain::{
		account_of,
		api::{
			self,
			runtime_types::{
				pallet_balances::pallet::Call as Balances,
				pallet_device_registry::{pallet::Call as Registry, types::MetadataInput},
				pallet_telemetry::pallet::Call as Telemetry,
				provena_runtime::RuntimeCall,
			},
		},
		tx::sign_at,
		Chain,
	},
	keys::{KeyPair, Scheme},
	report::now_ms,
};
use sp_core::H256;
use subxt::utils::{MultiAddress, Static};

/// What each run account receives from the funder: fees for some hundred thousand anchors.
const FUNDING: u128 = 100 * 1_000_000_000_000;

/// The anchor credits the funder buys for each device: more than a run's device-authorized
/// anchors of one device (the single-anchor scenario sends a few hundred per device).
const CREDITS: u32 = 5_000;

/// The run's keys: funder, gateways, and the accounts that are also devices.
pub struct Cast {
	/// The chain's genesis hash (devices sign for it).
	pub genesis: H256,
	/// Pays the run's accounts.
	pub funder: KeyPair,
	/// Register devices and relay their anchors.
	pub gateways: Vec<KeyPair>,
	/// Accounts that are also devices.
	pub devices: Vec<KeyPair>,
	/// Each gateway's devices (indices into `devices`): device `i` belongs to gateway `i % G`.
	pub fleets: Vec<Vec<usize>>,
}

impl Cast {
	/// Fresh device keys for this run (derived from the time, so runs never collide), and the
	/// funder's and gateways' keys from their secret URIs.
	pub fn new(args: &BenchArgs, genesis: H256) -> Result<Cast> {
		let seed = format!("{:x}", now_ms());
		let from_uri = |uri: &str| {
			KeyPair::from_uri(Scheme::Sr25519, uri)
				.map_err(|e| anyhow!("bad secret URI {uri}: {e:?}"))
		};
		let devices = (0..args.accounts)
			.map(|i| from_uri(&format!("//provena-bench//{seed}//{i}")))
			.collect::<Result<Vec<_>>>()?;
		let gateways = args.gateways.iter().map(|uri| from_uri(uri)).collect::<Result<Vec<_>>>()?;
		let fleets = (0..gateways.len())
			.map(|g| (g..devices.len()).step_by(gateways.len()).collect())
			.collect();
		Ok(Cast { genesis, funder: from_uri(&args.funder)?, gateways, devices, fleets })
	}

	/// Funds every device account and registers every device under its gateway.
	pub async fn set_up(&self, chain: &Chain, quiet: bool) -> Result<()> {
		if !quiet {
			eprintln!(
				"Setting up: funding {} accounts, registering them as devices of {} gateways, \
				 buying their anchor credits…",
				self.devices.len(),
				self.gateways.len()
			);
		}
		let funding = self.for_each_device(|key| {
			RuntimeCall::Balances(Balances::transfer_keep_alive {
				dest: MultiAddress::Id(account_of(key)),
				value: FUNDING,
			})
		});
		send_all(chain, &self.funder, funding).await.context("funding the run's accounts")?;

		let mut registering = FuturesUnordered::new();
		for (gateway, fleet) in self.gateways.iter().zip(&self.fleets) {
			let batches = fleet
				.chunks(100)
				.map(|chunk| {
					let calls = chunk.iter().map(|&i| self.register(i, gateway)).collect();
					api::transactions().utility().batch_all(calls)
				})
				.collect();
			registering.push(send_all(chain, gateway, batches));
		}
		while let Some(result) = registering.next().await {
			result.context("registering the run's devices")?;
		}

		let buying = self.for_each_device(|key| {
			RuntimeCall::Telemetry(Telemetry::buy_credits { device: key.public(), count: CREDITS })
		});
		send_all(chain, &self.funder, buying).await.context("buying the devices' credits")?;
		Ok(())
	}

	/// `call` for every device, in `batch_all`s of 500.
	fn for_each_device(
		&self,
		call: impl Fn(&KeyPair) -> RuntimeCall,
	) -> Vec<impl subxt::transactions::Payload> {
		let batch = |chunk: &[KeyPair]| {
			api::transactions().utility().batch_all(chunk.iter().map(&call).collect())
		};
		self.devices.chunks(500).map(batch).collect()
	}

	/// The call registering device `i` for `owner`.
	fn register(&self, i: usize, owner: &KeyPair) -> RuntimeCall {
		let key = &self.devices[i];
		RuntimeCall::DeviceRegistry(Registry::register {
			device: key.public(),
			key: Static(key.key()),
			proof: Static(key.possession_proof(&self.genesis, &key.public(), &owner.public())),
			metadata: MetadataInput {
				kind: b"bench-sensor".to_vec(),
				model: b"provena-bench".to_vec(),
				firmware: None,
				location: Vec::new(),
			},
		})
	}
}

/// Sends `calls` from `signer` with consecutive nonces, all at once, and waits until every one
/// is finalized and successful.
async fn send_all<Call: subxt::transactions::Payload>(
	chain: &Chain,
	signer: &KeyPair,
	calls: Vec<Call>,
) -> Result<()> {
	let at = chain.finalized().await?;
	let mut nonce = chain.next_nonce(&account_of(signer)).await?;
	let mut watching = FuturesUnordered::new();
	for call in &calls {
		let tx = sign_at(&at, call, signer, nonce)?;
		nonce += 1;
		watching.push(async move { chain.follow(tx, || {}).await?.success() });
	}
	while let Some(result) = watching.next().await {
		result?;
	}
	Ok(())
}
