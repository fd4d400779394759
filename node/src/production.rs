//! The `production` chain spec: `--chain production:FILE`, a network whose validators,
//! balances and bootnodes the operator writes in a JSON file (`docs/deploy.md` walks through
//! it; `docs/deploy/network.example.json` is an example):
//!
//! ```json
//! {
//!   "name": "Acme Cold Chain",
//!   "id": "acme_cold_chain",
//!   "validators": [
//!     { "name": "val-1", "aura": "<sr25519 SS58 or 0x-hex>", "grandpa": "<ed25519 SS58 or 0x-hex>" }
//!   ],
//!   "balances": [{ "account": "<SS58>", "prv": "1000" }],
//!   "bootnodes": ["/dns/val-1.example.org/tcp/30333/p2p/12D3Koo..."],
//!   "deployment": "0x<64 hex digits> (optional)"
//! }
//! ```
//!
//! What it guarantees: the chain type is `Live`; there is no sudo key (the chain has no
//! superuser); no well-known development key (`//Alice` .. `//Ferdie`, their stashes, `//One`,
//! `//Two`, in sr25519 or ed25519) is a validator or holds a balance; every key appears once;
//! and the genesis holds a per-deployment value (`DeviceRegistry::Deployment`) so that two
//! networks built from the same file have different genesis hashes, and a device signature,
//! which commits to the genesis hash, never replays from one onto the other.
//!
//! `build-spec` draws the deployment value at random when the file names none, and says so;
//! the raw spec it prints is what every node of that network starts from. Running a node
//! straight from `production:FILE` needs the value written in the file, so that every start
//! makes the same genesis.

use std::path::Path;

use sc_network::config::MultiaddrWithPeerId;
use sc_service::ChainType;
use serde::Deserialize;
use serde_json::json;
use sp_core::{
	crypto::{AccountId32, Ss58Codec},
	ed25519, sr25519, H256,
};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::chain_spec::{properties, ChainSpec};
use provena_runtime::{Balance, EXISTENTIAL_DEPOSIT, UNIT, WASM_BINARY};

/// The operator's file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
	/// The network's name, as wallets and explorers show it.
	pub name: String,
	/// Its id: lower-case ASCII letters, digits and `_`. Nodes keep the chain under
	/// `<base path>/chains/<id>`.
	pub id: String,
	/// Who authors blocks (Aura) and votes on finality (GRANDPA). GRANDPA finalizes while more
	/// than two thirds of them are online: four tolerate one down, seven tolerate two.
	pub validators: Vec<ValidatorKeys>,
	/// Accounts funded at genesis.
	#[serde(default)]
	pub balances: Vec<Endowment>,
	/// Addresses new nodes dial first (`/dns/HOST/tcp/PORT/p2p/PEER_ID` or `/ip4/...`).
	#[serde(default)]
	pub bootnodes: Vec<String>,
	/// The deployment value, 0x and 64 hex digits. Drawn at random by `build-spec` if absent.
	#[serde(default)]
	pub deployment: Option<String>,
}

/// One validator's public session keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorKeys {
	/// A name for messages.
	pub name: String,
	/// Its Aura key (sr25519), as SS58 or 0x-hex.
	pub aura: String,
	/// Its GRANDPA key (ed25519), as SS58 or 0x-hex.
	pub grandpa: String,
}

/// An account funded at genesis.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endowment {
	/// The account, SS58 or 0x-hex.
	pub account: String,
	/// How much, in PRV, with at most 12 decimals ("1000", "0.5").
	pub prv: String,
}

/// The chain spec of the network `path` describes. `draw`: may a missing deployment value be
/// drawn at random (only when the spec is being built, never when a node starts from it).
pub fn production(path: &Path, draw: bool) -> Result<ChainSpec, String> {
	let shown = path.display();
	let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
	let file: NetworkFile = serde_json::from_str(&text).map_err(|e| format!("{shown}: {e}"))?;
	let deployment = match &file.deployment {
		Some(hex) => {
			parse_bytes32(hex).map(H256).map_err(|e| format!("{shown}: deployment: {e}"))?
		},
		None if draw => {
			let drawn = random_deployment()?;
			eprintln!(
				"Drew the deployment value {drawn:?} for {shown}: this spec's genesis is its own. \
				 Start every node of the network from the raw spec printed now; to build this \
				 same network again, add \"deployment\": \"{drawn:?}\" to the file."
			);
			drawn
		},
		None => {
			return Err(format!(
				"{shown} names no deployment value, so each start would make another genesis: \
				 start the node from the raw spec that `provena-node build-spec --chain \
				 production:{shown} --raw` printed (every node of the network uses that one \
				 file), or write the value it drew into {shown} as \"deployment\""
			))
		},
	};
	let patch = genesis_patch(&file, deployment).map_err(|e| format!("{shown}: {e}"))?;
	let bootnodes = file
		.bootnodes
		.iter()
		.map(|addr| {
			addr.parse::<MultiaddrWithPeerId>().map_err(|e| {
				format!("{shown}: bootnode {addr}: {e} (expected /dns/HOST/tcp/PORT/p2p/PEER_ID)")
			})
		})
		.collect::<Result<Vec<_>, _>>()?;
	let wasm = WASM_BINARY.ok_or_else(|| {
		"The runtime's WASM is not in this binary; rebuild without SKIP_WASM_BUILD".to_string()
	})?;
	Ok(ChainSpec::builder(wasm, None)
		.with_name(&file.name)
		.with_id(&file.id)
		.with_protocol_id(&format!("provena-{}", file.id))
		.with_chain_type(ChainType::Live)
		.with_genesis_config_patch(patch)
		.with_properties(properties())
		.with_boot_nodes(bootnodes)
		.build())
}

/// The runtime genesis patch of a checked file: validators, balances, no sudo key, the
/// deployment value. Refuses development keys, duplicates and malformed values.
pub fn genesis_patch(file: &NetworkFile, deployment: H256) -> Result<serde_json::Value, String> {
	if file.name.trim().is_empty() {
		return Err("name: empty".into());
	}
	if file.id.is_empty()
		|| !file.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
	{
		return Err(format!("id `{}`: use lower-case letters, digits and `_`", file.id));
	}
	if file.validators.is_empty() {
		return Err("validators: none; a network needs at least one".into());
	}
	let mut seen = std::collections::HashSet::new();
	let mut once = |bytes: [u8; 32], what: &str| {
		if seen.insert(bytes) {
			Ok(())
		} else {
			Err(format!("{what}: this key appears twice in the file"))
		}
	};
	let (mut aura, mut grandpa) = (Vec::new(), Vec::new());
	for v in &file.validators {
		let what = format!("validator {}", v.name);
		let a = sr25519::Public::from_raw(
			parse_key(&v.aura).map_err(|e| format!("{what}: aura: {e}"))?,
		);
		let g = ed25519::Public::from_raw(
			parse_key(&v.grandpa).map_err(|e| format!("{what}: grandpa: {e}"))?,
		);
		refuse_dev_key(&a.0, &format!("{what}: aura"))?;
		refuse_dev_key(&g.0, &format!("{what}: grandpa"))?;
		once(a.0, &format!("{what}: aura"))?;
		once(g.0, &format!("{what}: grandpa"))?;
		aura.push(json!(a.to_ss58check()));
		grandpa.push(json!([g.to_ss58check(), 1]));
	}
	let mut balances = Vec::new();
	let mut funded = std::collections::HashSet::new();
	for e in &file.balances {
		let what = format!("balance of {}", e.account);
		let account = AccountId32::new(parse_key(&e.account).map_err(|x| format!("{what}: {x}"))?);
		refuse_dev_key(account.as_ref(), &what)?;
		if !funded.insert(account.clone()) {
			return Err(format!("{what}: the account is funded twice"));
		}
		let amount = parse_prv(&e.prv).map_err(|x| format!("{what}: {x}"))?;
		if amount < EXISTENTIAL_DEPOSIT {
			return Err(format!(
				"{what}: {} PRV is below the existential deposit ({} PRV)",
				e.prv,
				EXISTENTIAL_DEPOSIT as f64 / UNIT as f64
			));
		}
		// The genesis patch carries amounts as JSON numbers, which the runtime reads as u64.
		let amount = u64::try_from(amount).map_err(|_| {
			format!("{what}: at most {} PRV per account at genesis", u64::MAX as u128 / UNIT)
		})?;
		balances.push(json!([account.to_ss58check(), amount]));
	}
	Ok(json!({
		"aura": { "authorities": aura },
		"grandpa": { "authorities": grandpa },
		"balances": { "balances": balances },
		"sudo": { "key": null },
		"deviceRegistry": { "deployment": deployment },
	}))
}

/// A 32-byte public key or account: SS58 (any network prefix) or 0x and 64 hex digits.
fn parse_key(text: &str) -> Result<[u8; 32], String> {
	if text.starts_with("0x") {
		return parse_bytes32(text);
	}
	AccountId32::from_ss58check(text)
		.map(Into::into)
		.map_err(|e| format!("`{text}` is neither SS58 nor 0x-hex: {e:?}"))
}

fn parse_bytes32(text: &str) -> Result<[u8; 32], String> {
	let hex = text.strip_prefix("0x").ok_or_else(|| format!("`{text}`: expected 0x-hex"))?;
	let mut bytes = [0u8; 32];
	if hex.len() != 64 {
		return Err(format!("`{text}`: expected 0x and 64 hex digits"));
	}
	for (i, byte) in bytes.iter_mut().enumerate() {
		*byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
			.map_err(|_| format!("`{text}`: not hex"))?;
	}
	Ok(bytes)
}

/// PRV with at most 12 decimals, in planck.
fn parse_prv(text: &str) -> Result<Balance, String> {
	let bad = || format!("`{text}` is not an amount of PRV (digits, at most 12 decimals)");
	let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
	if whole.is_empty()
		|| fraction.len() > 12
		|| !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit())
	{
		return Err(bad());
	}
	let whole: Balance = whole.parse().map_err(|_| bad())?;
	let fraction: Balance = format!("{fraction:0<12}").parse().map_err(|_| bad())?;
	whole.checked_mul(UNIT).and_then(|w| w.checked_add(fraction)).ok_or_else(bad)
}

/// Refuses the public key of a well-known development account or validator.
fn refuse_dev_key(key: &[u8], what: &str) -> Result<(), String> {
	let sr = Sr25519Keyring::iter().find(|k| k.public().0 == key).map(|k| format!("{k:?}"));
	let ed = Ed25519Keyring::iter().find(|k| k.public().0 == key).map(|k| format!("{k:?}"));
	match sr.map(|n| (n, "sr25519")).or(ed.map(|n| (n, "ed25519"))) {
		Some((name, scheme)) => Err(format!(
			"{what}: this is the public {scheme} development key `{name}`, whose secret everyone \
			 knows; generate a key of your own (provena-node key generate)"
		)),
		None => Ok(()),
	}
}

/// 32 bytes from the operating system's random source.
fn random_deployment() -> Result<H256, String> {
	use std::io::Read;
	let mut bytes = [0u8; 32];
	std::fs::File::open("/dev/urandom")
		.and_then(|mut f| f.read_exact(&mut bytes))
		.map_err(|e| format!("cannot draw a deployment value from /dev/urandom: {e}"))?;
	Ok(H256(bytes))
}

#[cfg(test)]
mod tests {
	use super::*;

	fn file(validators: Vec<(&str, &str)>, balances: Vec<(&str, &str)>) -> NetworkFile {
		NetworkFile {
			name: "Test".into(),
			id: "test_net".into(),
			validators: validators
				.into_iter()
				.enumerate()
				.map(|(i, (aura, grandpa))| ValidatorKeys {
					name: format!("v{i}"),
					aura: aura.into(),
					grandpa: grandpa.into(),
				})
				.collect(),
			balances: balances
				.into_iter()
				.map(|(account, prv)| Endowment { account: account.into(), prv: prv.into() })
				.collect(),
			bootnodes: vec![],
			deployment: None,
		}
	}

	fn hex(bytes: [u8; 32]) -> String {
		format!("0x{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
	}

	#[test]
	fn amounts_of_prv_are_read_exactly() {
		assert_eq!(parse_prv("1"), Ok(UNIT));
		assert_eq!(parse_prv("0.5"), Ok(UNIT / 2));
		assert_eq!(parse_prv("12.000000000001"), Ok(12 * UNIT + 1));
		for bad in ["", ".5", "1.0000000000001", "1e3", "-1", "1,5", "0x10"] {
			assert!(parse_prv(bad).is_err(), "{bad}");
		}
	}

	#[test]
	fn development_keys_and_duplicates_are_refused() {
		let (a, g, other, rich) = (hex([1; 32]), hex([2; 32]), hex([3; 32]), hex([9; 32]));
		let (a, g, other, rich) = (a.as_str(), g.as_str(), other.as_str(), rich.as_str());
		let alice_sr = Sr25519Keyring::Alice.to_account_id().to_ss58check();
		let alice_sr = alice_sr.as_str();
		let bob_ed = hex(Ed25519Keyring::Bob.public().0);
		let bob_ed = bob_ed.as_str();
		let cases = [
			(file(vec![(alice_sr, g)], vec![]), "development key `Alice`"),
			(file(vec![(a, bob_ed)], vec![]), "development key `Bob`"),
			(file(vec![(a, g)], vec![(alice_sr, "10")]), "development key `Alice`"),
			(file(vec![(a, g), (a, other)], vec![]), "appears twice"),
			(file(vec![], vec![]), "at least one"),
			(file(vec![(a, g)], vec![(rich, "0.0000001")]), "existential deposit"),
			(file(vec![(a, g)], vec![(rich, "20000000")]), "per account"),
			(file(vec![(a, g)], vec![(rich, "1"), (rich, "2")]), "funded twice"),
			(file(vec![(a, "Alice")], vec![]), "neither SS58 nor 0x-hex"),
		];
		for (file, expected) in cases {
			let error = genesis_patch(&file, H256::zero()).unwrap_err();
			assert!(error.contains(expected), "{expected}: {error}");
		}
		let mut bad_id = file(vec![(a, g)], vec![]);
		bad_id.id = "Acme Net".into();
		assert!(genesis_patch(&bad_id, H256::zero()).unwrap_err().contains("lower-case"));
	}

	#[test]
	fn a_good_file_makes_validators_balances_and_no_sudo() {
		let (a, g, stash) = (hex([1; 32]), hex([2; 32]), hex([7; 32]));
		let good = file(vec![(a.as_str(), g.as_str())], vec![(stash.as_str(), "1000")]);
		let patch = genesis_patch(&good, H256::repeat_byte(5)).unwrap();
		assert_eq!(patch["aura"]["authorities"].as_array().unwrap().len(), 1);
		assert_eq!(patch["grandpa"]["authorities"][0][1], 1);
		assert_eq!(patch["balances"]["balances"][0][1], 1000 * UNIT as u64);
		assert!(patch["sudo"]["key"].is_null());
		assert_eq!(patch["deviceRegistry"]["deployment"], format!("0x{}", "05".repeat(32)));
	}
}
