//! What each `provena` command does.

use crate::{
	Account, Cli, Command, DecryptArgs, DeviceCommand, DeviceKeyArgs, EncryptionKeyCommand,
	GrantCommand, GroupCommand, HistoryArgs, KeyCommand, MetadataArgs, RevokeArgs, RuleCommand,
	ScopeArgs, SubmitArgs, VerifyArgs, WatchArgs,
};
use anyhow::{anyhow, bail, Context, Result};
use provena_client::{
	chain::{api, recode, Chain, ProvenaConfig},
	crypto::DataKey,
	gateway::{self, DeliverOptions},
	input,
	keys::{self, encryption_public, encryption_secret, parse_account, KeyFile, KeyPair},
	parse_device, show_device,
	store::Store,
	Error,
};
use provena_primitives::telemetry::Reading;
use serde_json::{json, Value};
use std::{path::Path, process::ExitCode, time::SystemTime};
use subxt::{transactions::Signer, utils::H256};

/// Prints `value` as JSON with `--json`, else `human`.
pub fn say(cli_json: bool, value: Value, human: impl AsRef<str>) {
	if cli_json {
		println!("{value}");
	} else {
		println!("{}", human.as_ref());
	}
}

impl Account {
	/// The signing account's key.
	pub fn load(&self) -> Result<KeyPair> {
		match (&self.key, &self.suri) {
			(Some(path), _) => Ok(KeyFile::read(path)?.1),
			(None, Some(uri)) => Ok(KeyFile::from_uri(self.scheme, uri)?.1),
			(None, None) => bail!(
				"this command signs: give the account's key file with --key FILE (or PROVENA_KEY), \
				 or a secret URI with --suri"
			),
		}
	}
}

impl DeviceKeyArgs {
	/// The device's key.
	pub fn load(&self) -> Result<KeyPair> {
		match (&self.device_key, &self.device_suri) {
			(Some(path), _) => Ok(KeyFile::read(path)?.1),
			(None, Some(uri)) => Ok(KeyFile::from_uri(self.device_scheme, uri)?.1),
			(None, None) => {
				bail!("give the device's key file with --device-key FILE (or --device-suri)")
			},
		}
	}
}

impl ScopeArgs {
	fn scope(&self) -> Result<api::runtime_types::pallet_access_control::types::Scope> {
		use api::runtime_types::pallet_access_control::types::Scope;
		match (&self.device, self.group) {
			(Some(device), _) => Ok(Scope::Device(parse_device(device)?)),
			(None, Some(group)) => Ok(Scope::Group(group)),
			(None, None) => bail!("give --device or --group"),
		}
	}
}

/// Milliseconds since the Unix epoch, by this machine's clock.
pub(crate) fn now_ms() -> u64 {
	SystemTime::now()
		.duration_since(SystemTime::UNIX_EPOCH)
		.map(|d| d.as_millis() as u64)
		.unwrap_or_default()
}

/// The `p`th percentile of `values` (sorted in place, nearest rank); `None` when empty.
pub(crate) fn percentile(values: &mut [f64], p: f64) -> Option<f64> {
	if values.is_empty() {
		return None;
	}
	values.sort_by(f64::total_cmp);
	let rank = ((p / 100.0) * (values.len() - 1) as f64).round() as usize;
	Some(values[rank])
}

/// The store for this chain: `--store`, or one file per chain under `PROVENA_HOME`.
pub fn open_store(cli_store: &Option<std::path::PathBuf>, genesis: H256) -> Result<Store> {
	let path = match cli_store {
		Some(path) => path.clone(),
		None => {
			let home = std::env::var_os("PROVENA_HOME")
				.map(std::path::PathBuf::from)
				.or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".provena")))
				.ok_or_else(|| anyhow!("set PROVENA_HOME or --store: there is no HOME"))?;
			home.join(format!("{}.db", hex::encode(&genesis.0[..8])))
		},
	};
	Ok(Store::open(&path, genesis)?)
}

fn metadata_input(
	m: &MetadataArgs,
) -> Result<api::runtime_types::pallet_device_registry::types::MetadataInput> {
	let firmware = m
		.firmware
		.as_deref()
		.map(|f| {
			let bytes = hex::decode(f.trim_start_matches("0x"))
				.map_err(|e| anyhow!("--firmware {f}: not hex: {e}"))?;
			<[u8; 32]>::try_from(bytes.as_slice())
				.map(H256)
				.map_err(|_| anyhow!("--firmware {f}: a firmware hash has 32 bytes"))
		})
		.transpose()?;
	Ok(api::runtime_types::pallet_device_registry::types::MetadataInput {
		kind: m.kind.as_bytes().to_vec(),
		model: m.model.as_bytes().to_vec(),
		firmware,
		location: m.location.as_bytes().to_vec(),
	})
}

fn bounded<T>(
	items: Vec<T>,
) -> api::runtime_types::bounded_collections::bounded_vec::BoundedVec<T> {
	api::runtime_types::bounded_collections::bounded_vec::BoundedVec(items)
}

fn done(json: bool, what: &str, f: &provena_client::chain::Finalized, extra: Value) {
	let mut value = json!({
		"ok": true,
		"block": f.block_number,
		"block_hash": format!("{:?}", f.block_hash),
		"tx_hash": format!("{:?}", f.tx_hash),
	});
	if let (Value::Object(map), Value::Object(more)) = (&mut value, extra) {
		map.extend(more);
	}
	say(json, value, format!("{what} (finalized in block #{})", f.block_number));
}

pub async fn run(cli: Cli) -> Result<ExitCode> {
	let json = cli.json;
	match cli.command {
		Command::Key(KeyCommand::Generate { out, scheme, uri }) => {
			let (file, _) = match uri {
				Some(uri) => KeyFile::from_uri(scheme, &uri)?,
				None => KeyFile::generate(scheme),
			};
			file.write(&out)?;
			say(
				json,
				json!({ "file": out, "scheme": file.scheme, "public": file.public, "address": file.address }),
				format!(
					"Wrote {} (mode 0600)\n  scheme:  {:?}\n  public:  {}\n  address: {}",
					out.display(),
					file.scheme,
					file.public,
					file.address
				),
			);
		},
		Command::Key(KeyCommand::Inspect { file, device_id }) => {
			let (data, pair) = KeyFile::read(&file)?;
			if device_id {
				println!("{}", data.public);
				return Ok(ExitCode::SUCCESS);
			}
			let encryption = format!("0x{}", hex::encode(encryption_public(&pair)));
			say(
				json,
				json!({ "scheme": data.scheme, "public": data.public, "address": data.address, "device_id": data.public, "encryption_key": encryption }),
				format!(
					"scheme:         {:?}\npublic key:     {}\naddress:        {}\ndevice id:      {} (when registered as a device)\nencryption key: {}",
					data.scheme, data.public, data.address, data.public, encryption
				),
			);
		},
		command => return online(cli.url, cli.store, json, command).await,
	}
	Ok(ExitCode::SUCCESS)
}

async fn online(
	url: String,
	store_path: Option<std::path::PathBuf>,
	json: bool,
	command: Command,
) -> Result<ExitCode> {
	let chain = Chain::connect(&url).await?;
	let tx = api::transactions();
	match command {
		Command::Key(_) => unreachable!("handled offline"),
		Command::Device(DeviceCommand::Register { account, device, id, metadata }) => {
			let signer = account.load()?;
			let key = device.load()?;
			let id = match id {
				Some(id) => parse_device(&id)?,
				None => key.public(),
			};
			let call =
				tx.device_registry().register(id, recode(&key.key())?, metadata_input(&metadata)?);
			let f = chain.submit(&call, &signer).await?;
			done(
				json,
				&format!("Registered device {}", show_device(&id)),
				&f,
				json!({ "device": show_device(&id) }),
			);
		},
		Command::Device(DeviceCommand::Show { device }) => {
			let id = parse_device(&device)?;
			let info = chain.known_device(id).await?;
			let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
			let key = match &info.key {
				api::runtime_types::provena_primitives::DeviceKey::Sr25519(k) => {
					format!("sr25519 0x{}", hex::encode(k))
				},
				api::runtime_types::provena_primitives::DeviceKey::Ed25519(k) => {
					format!("ed25519 0x{}", hex::encode(k))
				},
			};
			let state = chain.device_state(id).await?;
			let value = json!({
				"device": show_device(&id),
				"owner": keys::ss58(info.owner.0),
				"key": key,
				"status": format!("{:?}", info.status),
				"kind": text(&info.metadata.kind.0),
				"model": text(&info.metadata.model.0),
				"location": text(&info.metadata.location.0),
				"deposit": info.deposit.to_string(),
				"next_seq": state.as_ref().map(|s| s.next_seq).unwrap_or(0),
				"anchors": state.as_ref().map(|s| s.anchors).unwrap_or(0),
				"readings": state.as_ref().map(|s| s.readings).unwrap_or(0),
				"missing": state.as_ref().map(|s| s.missing).unwrap_or(0),
			});
			let human = format!(
				"device   {}\nowner    {}\nkey      {}\nstatus   {:?}\nkind     {}\nmodel    {}\nlocation {}\nanchors  {} ({} readings, {} missing), next seq {}",
				show_device(&id),
				keys::ss58(info.owner.0),
				key,
				info.status,
				text(&info.metadata.kind.0),
				text(&info.metadata.model.0),
				text(&info.metadata.location.0),
				value["anchors"],
				value["readings"],
				value["missing"],
				value["next_seq"],
			);
			say(json, value, human);
		},
		Command::Device(DeviceCommand::List { owner, account }) => {
			let owner = match owner {
				Some(owner) => parse_account(&owner)?,
				None => account
					.load()
					.context("--owner, or the account whose devices to list")?
					.public(),
			};
			let at = chain.finalized().await?;
			let mut entries = at
				.storage()
				.iter(
					api::storage().device_registry().devices_by_owner(),
					(subxt::utils::AccountId32(owner),),
				)
				.await
				.map_err(|e| chain.lost(e))?;
			let mut devices = Vec::new();
			while let Some(entry) = entries.next().await {
				let entry = entry.map_err(|e| chain.lost(e))?;
				let key = entry.key().map_err(|e| anyhow!("{e}"))?;
				let parts = key.decode().map_err(|e| anyhow!("{e}"))?;
				devices.push(show_device(&parts.1));
			}
			devices.sort();
			let human = if devices.is_empty() {
				format!("{} owns no devices", keys::ss58(owner))
			} else {
				devices.join("\n")
			};
			say(json, json!({ "owner": keys::ss58(owner), "devices": devices }), human);
		},
		Command::Device(DeviceCommand::Update { device, account, metadata }) => {
			let id = parse_device(&device)?;
			let f = chain
				.submit(
					&tx.device_registry().update_metadata(id, metadata_input(&metadata)?),
					&account.load()?,
				)
				.await?;
			done(json, &format!("Updated device {}", show_device(&id)), &f, json!({}));
		},
		Command::Device(DeviceCommand::RotateKey { device, account, new_key }) => {
			let id = parse_device(&device)?;
			let key = new_key.load()?;
			let f = chain
				.submit(&tx.device_registry().rotate_key(id, recode(&key.key())?), &account.load()?)
				.await?;
			done(
				json,
				&format!(
					"Device {} now signs with 0x{}",
					show_device(&id),
					hex::encode(key.public())
				),
				&f,
				json!({}),
			);
		},
		Command::Device(DeviceCommand::Suspend { device, account }) => {
			let id = parse_device(&device)?;
			let f = chain.submit(&tx.device_registry().suspend(id), &account.load()?).await?;
			done(json, &format!("Suspended device {}", show_device(&id)), &f, json!({}));
		},
		Command::Device(DeviceCommand::Resume { device, account }) => {
			let id = parse_device(&device)?;
			let f = chain.submit(&tx.device_registry().resume(id), &account.load()?).await?;
			done(json, &format!("Resumed device {}", show_device(&id)), &f, json!({}));
		},
		Command::Device(DeviceCommand::Decommission { device, account }) => {
			let id = parse_device(&device)?;
			let f = chain.submit(&tx.device_registry().decommission(id), &account.load()?).await?;
			done(json, &format!("Decommissioned device {}", show_device(&id)), &f, json!({}));
		},
		Command::Device(DeviceCommand::Transfer { device, to, account }) => {
			let id = parse_device(&device)?;
			let to = subxt::utils::MultiAddress::Id(subxt::utils::AccountId32(parse_account(&to)?));
			let f = chain
				.submit(&tx.device_registry().offer_transfer(id, to), &account.load()?)
				.await?;
			done(
				json,
				&format!(
					"Offered device {}; the new owner runs `provena device accept`",
					show_device(&id)
				),
				&f,
				json!({}),
			);
		},
		Command::Device(DeviceCommand::Accept { device, account }) => {
			let id = parse_device(&device)?;
			let f =
				chain.submit(&tx.device_registry().accept_transfer(id), &account.load()?).await?;
			done(json, &format!("You now own device {}", show_device(&id)), &f, json!({}));
		},
		Command::Group(GroupCommand::Create { name, account }) => {
			let f = chain
				.submit(
					&tx.access_control().create_group(bounded(name.into_bytes())),
					&account.load()?,
				)
				.await?;
			let created = f
				.events
				.find_first::<api::access_control::events::GroupCreated>()
				.ok_or_else(|| anyhow!("no GroupCreated event"))??;
			done(
				json,
				&format!("Created group {}", created.group),
				&f,
				json!({ "group": created.group }),
			);
		},
		Command::Group(GroupCommand::Add { group, device, account }) => {
			let id = parse_device(&device)?;
			let f = chain
				.submit(&tx.access_control().add_to_group(group, id), &account.load()?)
				.await?;
			done(json, &format!("Device {} joined group {group}", show_device(&id)), &f, json!({}));
		},
		Command::Group(GroupCommand::Remove { group, device, account }) => {
			let id = parse_device(&device)?;
			let f = chain
				.submit(&tx.access_control().remove_from_group(group, id), &account.load()?)
				.await?;
			done(json, &format!("Device {} left group {group}", show_device(&id)), &f, json!({}));
		},
		Command::Group(GroupCommand::Dissolve { group, account }) => {
			let f =
				chain.submit(&tx.access_control().dissolve_group(group), &account.load()?).await?;
			done(json, &format!("Dissolved group {group}"), &f, json!({}));
		},
		Command::Grant(GrantCommand::Add {
			scope,
			to,
			submit,
			read,
			manage,
			delegate,
			expires,
			account,
		}) => {
			let signer = account.load()?;
			let grantee = parse_account(&to)?;
			let bits =
				submit as u8 | (read as u8) << 1 | (manage as u8) << 2 | (delegate as u8) << 3;
			if bits == 0 {
				bail!("say what the grant allows: --submit, --read, --manage and/or --delegate");
			}
			let sealed = if read {
				let device = scope.device.as_deref().ok_or_else(|| {
					anyhow!("READ is granted per device (its data key is sealed to the reader); use --device")
				})?;
				let device = parse_device(device)?;
				let Some(reader_key) =
					chain.encryption_key(subxt::utils::AccountId32(grantee)).await?
				else {
					bail!(
						"{} has not published an encryption key; it runs `provena encryption-key publish` first",
						keys::ss58(grantee)
					);
				};
				let mut store = open_store(&store_path, chain.genesis_hash())?;
				let key = match store.current_data_key(&device)? {
					Some(key) => key,
					None => {
						let key = DataKey::generate();
						store.put_data_key(&device, &key, true)?;
						key
					},
				};
				Some(bounded(key.seal_to(&reader_key)))
			} else {
				None
			};
			let call = tx.access_control().grant(
				scope.scope()?,
				subxt::utils::AccountId32(grantee),
				api::runtime_types::pallet_access_control::types::Permissions(bits),
				expires,
				sealed,
			);
			let f = chain.submit(&call, &signer).await?;
			done(
				json,
				&format!("Granted {} to {}", permission_names(bits), keys::ss58(grantee)),
				&f,
				json!({ "permissions": bits }),
			);
		},
		Command::Grant(GrantCommand::List { device }) => {
			let id = parse_device(&device)?;
			let grants = chain.grants(id).await?;
			let rows: Vec<Value> = grants
				.iter()
				.map(|(scope, who, grant)| {
					json!({
						"scope": match scope {
							api::runtime_types::pallet_access_control::types::Scope::Device(d) => format!("device {}", show_device(d)),
							api::runtime_types::pallet_access_control::types::Scope::Group(g) => format!("group {g}"),
						},
						"grantee": keys::ss58(who.0),
						"permissions": permission_names(grant.permissions.0),
						"expires": grant.expires,
						"sealed_key": grant.sealed_key.is_some(),
					})
				})
				.collect();
			let human = if rows.is_empty() {
				"no grants".to_string()
			} else {
				rows.iter()
					.map(|r| {
						format!(
							"{}  {}  {}  expires {}",
							r["grantee"].as_str().unwrap_or(""),
							r["permissions"].as_str().unwrap_or(""),
							r["scope"].as_str().unwrap_or(""),
							r["expires"]
						)
					})
					.collect::<Vec<_>>()
					.join("\n")
			};
			say(json, json!({ "device": show_device(&id), "grants": rows }), human);
		},
		Command::Revoke(args) => revoke(&chain, &store_path, json, args).await?,
		Command::EncryptionKey(EncryptionKeyCommand::Publish { account }) => {
			let signer = account.load()?;
			let key = encryption_public(&signer);
			let f = chain.submit(&tx.access_control().publish_encryption_key(key), &signer).await?;
			done(
				json,
				&format!("Published encryption key 0x{}", hex::encode(key)),
				&f,
				json!({ "key": format!("0x{}", hex::encode(key)) }),
			);
		},
		Command::Rule(RuleCommand::Set { device, metric, min, max, account }) => {
			let id = parse_device(&device)?;
			let min = min.map(input::thousandths).transpose().map_err(|e| anyhow!(e))?;
			let max = max.map(input::thousandths).transpose().map_err(|e| anyhow!(e))?;
			let call =
				tx.telemetry().set_alert_rule(id, bounded(metric.as_bytes().to_vec()), min, max);
			let f = chain.submit(&call, &account.load()?).await?;
			done(
				json,
				&format!("Alert rule set: {metric} in [{}, {}]", show_bound(min), show_bound(max)),
				&f,
				json!({}),
			);
		},
		Command::Rule(RuleCommand::Clear { device, metric, account }) => {
			let id = parse_device(&device)?;
			let call = tx.telemetry().clear_alert_rule(id, bounded(metric.as_bytes().to_vec()));
			let f = chain.submit(&call, &account.load()?).await?;
			done(json, &format!("Alert rule for {metric} cleared"), &f, json!({}));
		},
		Command::Rule(RuleCommand::List { device }) => {
			let id = parse_device(&device)?;
			let at = chain.finalized().await?;
			let rules = at
				.storage()
				.try_fetch(api::storage().telemetry().alert_rules(), (id,))
				.await
				.map_err(|e| chain.lost(e))?
				.map(|v| v.decode())
				.transpose()
				.map_err(|e| anyhow!("{e}"))?
				.map(|rules| rules.0)
				.unwrap_or_default();
			let rows: Vec<Value> = rules
				.iter()
				.map(
					|r| json!({ "metric": String::from_utf8_lossy(&r.metric.0), "min": r.min, "max": r.max }),
				)
				.collect();
			let human = if rows.is_empty() {
				"no alert rules".into()
			} else {
				rules
					.iter()
					.map(|r| {
						format!(
							"{}  [{}, {}]",
							String::from_utf8_lossy(&r.metric.0),
							show_bound(r.min),
							show_bound(r.max)
						)
					})
					.collect::<Vec<_>>()
					.join("\n")
			};
			say(json, json!({ "device": show_device(&id), "rules": rows }), human);
		},
		Command::Submit(args) => return submit(&chain, &store_path, json, args).await,
		Command::Status => {
			let store = open_store(&store_path, chain.genesis_hash())?;
			let tally = store.tally()?;
			say(
				json,
				json!({ "pending": tally.pending, "finalized": tally.finalized, "failed": tally.failed, "readings_finalized": tally.readings_finalized }),
				format!(
					"anchors: {} finalized ({} readings), {} pending, {} failed",
					tally.finalized, tally.readings_finalized, tally.pending, tally.failed
				),
			);
		},
		Command::Proof(r) => {
			let id = parse_device(&r.device)?;
			let store = open_store(&store_path, chain.genesis_hash())?;
			let stored = store.reading(&id, r.seq)?.ok_or_else(|| {
				anyhow!("reading {} of device {} is not in this store", r.seq, show_device(&id))
			})?;
			let proof = stored.proof.ok_or_else(|| {
				anyhow!("reading {} is not batched yet: run `provena submit --resume`", r.seq)
			})?;
			println!("{}", receipt(&stored.reading, &proof));
		},
		Command::Verify(args) => return verify(&chain, &store_path, json, args).await,
		Command::History(args) => history(&chain, json, args).await?,
		Command::Watch(args) => watch(&chain, json, args).await?,
		Command::Decrypt(args) => decrypt(&chain, &store_path, json, args).await?,
		Command::Simulate(args) => {
			return crate::simulate::run(&chain, &store_path, json, args).await
		},
		Command::Bench(args) => return crate::bench::run(&chain, json, args).await,
	}
	Ok(ExitCode::SUCCESS)
}

fn show_bound(bound: Option<i64>) -> String {
	bound.map(|b| format!("{}", b as f64 / 1000.0)).unwrap_or_else(|| "-".into())
}

fn permission_names(bits: u8) -> String {
	let names: Vec<&str> = [(1, "SUBMIT"), (2, "READ"), (4, "MANAGE"), (8, "DELEGATE")]
		.iter()
		.filter(|(bit, _)| bits & bit != 0)
		.map(|(_, name)| *name)
		.collect();
	if names.is_empty() {
		"nothing".into()
	} else {
		names.join("|")
	}
}

/// A reading and its proof as self-contained JSON.
fn receipt(reading: &Reading, proof: &[sp_core::H256]) -> Value {
	json!({
		"device": show_device(&reading.device),
		"seq": reading.seq,
		"timestamp_ms": reading.timestamp_ms,
		"values": reading.values.iter().map(|m| (String::from_utf8_lossy(&m.metric).into_owned(), json!(m.value as f64 / 1000.0))).collect::<serde_json::Map<_, _>>(),
		"payload_hash": reading.payload_hash.map(|h| format!("0x{}", hex::encode(h))),
		"proof": proof.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>(),
	})
}

/// A reading and proof back from a receipt.
fn from_receipt(value: &Value) -> Result<(Reading, Vec<sp_core::H256>)> {
	let field = |name: &str| value.get(name).ok_or_else(|| anyhow!("the receipt has no `{name}`"));
	let device = parse_device(field("device")?.as_str().unwrap_or_default())?;
	let seq = field("seq")?.as_u64().ok_or_else(|| anyhow!("`seq` is not a number"))?;
	let timestamp_ms =
		field("timestamp_ms")?.as_u64().ok_or_else(|| anyhow!("`timestamp_ms` is not a number"))?;
	let values =
		field("values")?.as_object().ok_or_else(|| anyhow!("`values` is not an object"))?;
	let values = values
		.iter()
		.map(|(name, v)| {
			let v = v.as_f64().ok_or_else(|| anyhow!("value of {name} is not a number"))?;
			Ok(provena_primitives::telemetry::Measurement {
				metric: provena_primitives::telemetry::MetricName::truncate_from(
					name.as_bytes().to_vec(),
				),
				value: input::thousandths(v).map_err(|e| anyhow!(e))?,
			})
		})
		.collect::<Result<Vec<_>>>()?;
	let payload_hash = match value.get("payload_hash").and_then(|h| h.as_str()) {
		Some(h) => Some(
			<[u8; 32]>::try_from(hex::decode(h.trim_start_matches("0x"))?.as_slice())
				.map_err(|_| anyhow!("`payload_hash` needs 32 bytes"))?,
		),
		None => None,
	};
	let proof = field("proof")?
		.as_array()
		.ok_or_else(|| anyhow!("`proof` is not a list"))?
		.iter()
		.map(|h| {
			let bytes = hex::decode(h.as_str().unwrap_or_default().trim_start_matches("0x"))?;
			<[u8; 32]>::try_from(bytes.as_slice())
				.map(sp_core::H256)
				.map_err(|_| anyhow!("a proof hash has 32 bytes"))
		})
		.collect::<Result<Vec<_>>>()?;
	Ok((Reading { device, seq, timestamp_ms, values, payload_hash }, proof))
}

async fn verify(
	chain: &Chain,
	store_path: &Option<std::path::PathBuf>,
	json: bool,
	args: VerifyArgs,
) -> Result<ExitCode> {
	let (reading, proof) = match (&args.receipt, &args.device, args.seq) {
		(Some(path), _, _) => {
			let text = if path == Path::new("-") {
				std::io::read_to_string(std::io::stdin())?
			} else {
				std::fs::read_to_string(path)
					.with_context(|| format!("cannot read {}", path.display()))?
			};
			let value: Value = serde_json::from_str(&text)
				.with_context(|| format!("{} is not a receipt", path.display()))?;
			from_receipt(&value)?
		},
		(None, Some(device), Some(seq)) => {
			let id = parse_device(device)?;
			let store = open_store(store_path, chain.genesis_hash())?;
			let stored = store
				.reading(&id, seq)?
				.ok_or_else(|| anyhow!("reading {seq} of device {} is not in this store; verify a receipt with --receipt", show_device(&id)))?;
			let proof = stored.proof.ok_or_else(|| anyhow!("reading {seq} is not anchored yet"))?;
			(stored.reading, proof)
		},
		_ => bail!("give --device and --seq, or --receipt FILE"),
	};
	let leaf = reading.leaf();
	match chain.verify_reading(reading.device, reading.seq, leaf, proof).await? {
		Ok(found) => {
			let a = &found.anchor;
			say(
				json,
				json!({
					"verified": true, "device": show_device(&reading.device), "seq": reading.seq,
					"anchor_index": found.index, "first_seq": a.first_seq, "count": a.count,
					"block": a.block, "chain_time_ms": a.chain_time_ms, "submitter": keys::ss58(a.submitter.0),
				}),
				format!(
					"VERIFIED: reading {} of device {} is anchor #{} (readings {}..{}), block #{}, chain time {} ms, submitted by {}",
					reading.seq, show_device(&reading.device), found.index, a.first_seq,
					a.first_seq + a.count as u64 - 1, a.block, a.chain_time_ms, keys::ss58(a.submitter.0)
				),
			);
			Ok(ExitCode::SUCCESS)
		},
		Err(why) => {
			let (name, text) = match why {
				provena_client::chain::VerifyError::UnknownDevice => ("UnknownDevice", "the chain knows no anchors of this device"),
				provena_client::chain::VerifyError::NotAnchored => ("NotAnchored", "no anchor covers this sequence number: never anchored (or not final yet)"),
				provena_client::chain::VerifyError::ProofMismatch => ("ProofMismatch", "an anchor covers this sequence number, but this reading and proof do not give its root: the reading was altered"),
			};
			say(
				json,
				json!({ "verified": false, "device": show_device(&reading.device), "seq": reading.seq, "reason": name }),
				format!(
					"NOT VERIFIED: reading {} of device {}: {text} ({name})",
					reading.seq,
					show_device(&reading.device)
				),
			);
			Ok(ExitCode::from(2))
		},
	}
}

async fn submit(
	chain: &Chain,
	store_path: &Option<std::path::PathBuf>,
	json: bool,
	args: SubmitArgs,
) -> Result<ExitCode> {
	let device = parse_device(&args.device)?;
	let account = args.account.load()?;
	let device_key = args.device_key.load()?;
	// Read and check all input before touching the chain or the store.
	let inputs = match (&args.file, args.values.is_empty(), args.resume) {
		(_, _, true) => Vec::new(),
		(Some(path), _, _) => input::from_file(path)?,
		(None, false, _) => vec![input::from_pairs(&args.values, now_ms())?],
		(None, true, _) => {
			bail!("give readings: --value metric=number (repeatable), --file FILE, or --resume")
		},
	};
	gateway::check_submitter(chain, device, &device_key, &account).await?;
	let mut store = open_store(store_path, chain.genesis_hash())?;
	let (stored, skipped) = gateway::import(chain, &mut store, device, &inputs).await?;
	let data_key = if args.encrypt {
		Some(data_key_for(chain, &store, device, &account).await?)
	} else {
		None
	};
	let max_payload = {
		let at = chain.finalized().await?;
		at.constants()
			.entry(api::constants().telemetry().max_payload_len())
			.map_err(|e| anyhow!("{e}"))? as usize
	};
	let sealed = gateway::seal(
		&mut store,
		device,
		&device_key,
		chain.genesis_hash(),
		args.batch_size,
		data_key.as_ref(),
		max_payload,
	)?;
	if !json {
		eprintln!(
			"{stored} new readings stored ({skipped} already stored), {sealed} anchors signed"
		);
	}
	let bar = (!json && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
		let bar = indicatif::ProgressBar::new(0);
		bar.set_style(
			indicatif::ProgressStyle::with_template(
				"{spinner} {msg} [{bar:30}] {pos}/{len} anchors final",
			)
			.expect("a valid template"),
		);
		bar
	});
	let options =
		DeliverOptions { anchors_per_tx: args.anchors_per_tx, max_in_flight: args.max_in_flight };
	let result = gateway::deliver(chain, &mut store, &account, options, |tally| {
		if let Some(bar) = &bar {
			bar.set_length(tally.finalized + tally.pending + tally.failed);
			bar.set_position(tally.finalized);
		}
	})
	.await;
	if let Some(bar) = &bar {
		bar.finish_and_clear();
	}
	let delivery = match result {
		Ok(delivery) => delivery,
		Err(error @ Error::Unreachable { .. }) => {
			let tally = store.tally()?;
			bail!(
				"{error}\n{} anchors are final, {} still pending in the store; run the same \
				 `provena submit` again (or with --resume) once the node is back: nothing is sent twice",
				tally.finalized,
				tally.pending
			)
		},
		Err(error) => return Err(error.into()),
	};
	let tally = store.tally()?;
	let value = json!({
		"stored": stored, "skipped": skipped, "anchors_signed": sealed,
		"anchored": delivery.anchored, "readings_anchored": delivery.readings_anchored,
		"already_anchored": delivery.already_anchored, "rejected": delivery.rejected,
		"transactions": delivery.transactions, "events": delivery.events,
		"store": { "finalized": tally.finalized, "pending": tally.pending, "failed": tally.failed },
	});
	let mut human = format!(
		"{} anchors ({} readings) finalized in {} transactions; {} were already on chain; {} rejected",
		delivery.anchored, delivery.readings_anchored, delivery.transactions, delivery.already_anchored, delivery.rejected
	);
	for event in &delivery.events {
		match event {
			gateway::ChainEvent::SequenceGap { device, from, to, block } => {
				human.push_str(&format!("\n  GAP     device {device}: readings {from}..{to} never arrived (block #{block})"))
			},
			gateway::ChainEvent::AlertRaised { device, seq, metric, value, min, max, block } => human.push_str(&format!(
				"\n  ALERT   device {device}: {metric} = {} at reading {seq}, outside [{}, {}] (block #{block})",
				*value as f64 / 1000.0,
				show_bound(*min),
				show_bound(*max)
			)),
			gateway::ChainEvent::AnchorRejected { device, first_seq, error } => {
				human.push_str(&format!("\n  REFUSED device {device}: anchor from reading {first_seq}: {error}"))
			},
			gateway::ChainEvent::Anchored { .. } => {},
		}
	}
	say(json, value, human);
	Ok(if delivery.rejected > 0 { ExitCode::from(3) } else { ExitCode::SUCCESS })
}

/// The data key to encrypt `device`'s payloads with: the store's own (owners), or the one
/// sealed in the signing account's grant (gateways with READ).
async fn data_key_for(
	chain: &Chain,
	store: &Store,
	device: provena_primitives::DeviceId,
	account: &KeyPair,
) -> Result<DataKey> {
	if let Some(key) = store.current_data_key(&device)? {
		return Ok(key);
	}
	let who = Signer::<ProvenaConfig>::account_id(account);
	let grants = chain.grants(device).await?;
	let sealed = grants
		.into_iter()
		.filter(|(_, grantee, _)| *grantee == who)
		.find_map(|(_, _, grant)| grant.sealed_key)
		.ok_or_else(|| {
			anyhow!(
				"no data key for device {}: its owner grants it with `provena grant add --device {} --to {} --read`",
				show_device(&device),
				show_device(&device),
				keys::ss58(who.0)
			)
		})?;
	Ok(DataKey::open(&sealed.0, &encryption_secret(account))?)
}

async fn revoke(
	chain: &Chain,
	store_path: &Option<std::path::PathBuf>,
	json: bool,
	args: RevokeArgs,
) -> Result<()> {
	let signer = args.account.load()?;
	let grantee = subxt::utils::AccountId32(parse_account(&args.to)?);
	let scope = args.scope.scope()?;
	let device = args.scope.device.as_deref().map(parse_device).transpose()?;
	// Who could read before: the revoked grantee decides whether to rotate, the others get
	// the new key.
	let grants = match device {
		Some(device) => chain.grants(device).await?,
		None => Vec::new(),
	};
	let can_read = |g: &provena_client::chain::Grant<_, _, _>| g.permissions.0 & 2 != 0;
	let could_read = grants.iter().any(|(_, who, g)| *who == grantee && can_read(g));
	let readers: Vec<_> = grants
		.into_iter()
		.filter(|(s, who, g)| {
			matches!(s, api::runtime_types::pallet_access_control::types::Scope::Device(_))
				&& *who != grantee
				&& can_read(g)
		})
		.collect();
	let f = chain
		.submit(&api::transactions().access_control().revoke(scope, grantee.clone()), &signer)
		.await?;
	let mut rotated = 0;
	if let (Some(device), true, false) = (device, could_read, args.no_rotate) {
		let mut store = open_store(store_path, chain.genesis_hash())?;
		let key = DataKey::generate();
		store.put_data_key(&device, &key, true)?;
		for (scope, who, grant) in readers {
			let Some(reader_key) = chain.encryption_key(who.clone()).await? else { continue };
			let call = api::transactions().access_control().grant(
				scope,
				who,
				grant.permissions,
				grant.expires,
				Some(bounded(key.seal_to(&reader_key))),
			);
			chain.submit(&call, &signer).await?;
			rotated += 1;
		}
	}
	done(
		json,
		&format!(
			"Revoked the grant of {}{}",
			keys::ss58(grantee.0),
			if could_read && !args.no_rotate {
				format!("; data key rotated and re-sealed for {rotated} remaining readers")
			} else {
				String::new()
			}
		),
		&f,
		json!({ "rotated_for": rotated }),
	);
	Ok(())
}

async fn history(chain: &Chain, json: bool, args: HistoryArgs) -> Result<()> {
	let device = parse_device(&args.device)?;
	chain.known_device(device).await?;
	let anchors = chain.anchors(device, args.from_seq, args.to_seq, args.limit).await?;
	let anchors: Vec<_> = anchors
		.into_iter()
		.filter(|a| args.since_ms.is_none_or(|since| a.anchor.device_time.last_ms >= since))
		.filter(|a| args.until_ms.is_none_or(|until| a.anchor.device_time.first_ms <= until))
		.collect();
	let rows: Vec<Value> = anchors
		.iter()
		.map(|a| {
			json!({
				"index": a.index, "first_seq": a.anchor.first_seq, "count": a.anchor.count,
				"root": format!("{:?}", a.anchor.root), "device_time": [a.anchor.device_time.first_ms, a.anchor.device_time.last_ms],
				"block": a.anchor.block, "chain_time_ms": a.anchor.chain_time_ms, "submitter": keys::ss58(a.anchor.submitter.0),
			})
		})
		.collect();
	let human = if rows.is_empty() {
		"no anchors in that range".to_string()
	} else {
		anchors
			.iter()
			.map(|a| {
				format!(
					"#{:<5} readings {:>6}..{:<6} block #{:<6} root {:?} by {}",
					a.index,
					a.anchor.first_seq,
					a.anchor.first_seq + a.anchor.count as u64 - 1,
					a.anchor.block,
					a.anchor.root,
					keys::ss58(a.anchor.submitter.0)
				)
			})
			.collect::<Vec<_>>()
			.join("\n")
	};
	say(json, json!({ "device": show_device(&device), "anchors": rows }), human);
	Ok(())
}

async fn watch(chain: &Chain, json: bool, args: WatchArgs) -> Result<()> {
	let mut blocks = chain.client.stream_blocks().await.map_err(|e| chain.lost(e))?;
	let mut seen = 0;
	let color = !json && std::io::IsTerminal::is_terminal(&std::io::stdout());
	if !json {
		eprintln!("Following finalized blocks of {} (Ctrl-C stops)", chain.url);
	}
	while let Some(block) = blocks.next().await {
		let block = block.map_err(|e| chain.lost(e))?;
		let number = block.number();
		let at = block.at().await.map_err(|e| chain.lost(e))?;
		let events = at.events().fetch().await.map_err(|e| chain.lost(e))?;
		for event in events.iter() {
			let event = event.map_err(|e| anyhow!("{e}"))?;
			let pallet = event.pallet_name();
			if !matches!(pallet, "DeviceRegistry" | "Telemetry" | "AccessControl") {
				continue;
			}
			let fields = event
				.decode_fields_unchecked_as::<subxt::ext::scale_value::Composite<()>>()
				.map(|fields| {
					provena_client::display::to_json(&subxt::ext::scale_value::Value {
						value: subxt::ext::scale_value::ValueDef::Composite(fields),
						context: (),
					})
				})
				.unwrap_or_default();
			let name = event.event_name();
			if json {
				println!(
					"{}",
					json!({ "block": number, "pallet": pallet, "event": name, "fields": fields })
				);
			} else if name == "AlertRaised" {
				let line = format!("#{number} ALERT {pallet}.{name} {fields}");
				println!("{}", if color { format!("\x1b[1;31m{line}\x1b[0m") } else { line });
			} else {
				println!("#{number} {pallet}.{name} {fields}");
			}
		}
		seen += 1;
		if args.blocks.is_some_and(|n| seen >= n) {
			break;
		}
	}
	Ok(())
}

async fn decrypt(
	chain: &Chain,
	store_path: &Option<std::path::PathBuf>,
	json: bool,
	args: DecryptArgs,
) -> Result<()> {
	let device = parse_device(&args.reading.device)?;
	let account = args.account.load()?;
	let seq = args.reading.seq;
	let found = chain.anchors(device, seq, seq, 1).await?;
	let anchor = found
		.into_iter()
		.find(|a| a.anchor.first_seq <= seq && seq < a.anchor.first_seq + a.anchor.count as u64)
		.ok_or_else(|| {
			anyhow!("no anchor of device {} covers reading {seq}", show_device(&device))
		})?;
	let record = &anchor.anchor;
	// The payload is in the extrinsic of the anchor's block, never in state.
	let at = chain.client.at_block(record.block as u64).await.map_err(|e| chain.lost(e))?;
	let extrinsics = at.extrinsics().fetch().await.map_err(|e| chain.lost(e))?;
	let mut payload: Option<Vec<u8>> = None;
	for call in extrinsics.find::<api::telemetry::calls::Anchor>() {
		let call = call.map_err(|e| anyhow!("{e}"))?;
		let s = &call.anchor.statement;
		if s.device == device && s.first_seq == record.first_seq {
			payload = call.payload.map(|p| p.0);
		}
	}
	for call in extrinsics.find::<api::telemetry::calls::AnchorBatch>() {
		let call = call.map_err(|e| anyhow!("{e}"))?;
		for item in call.items.0 {
			let s = &item.anchor.statement;
			if s.device == device && s.first_seq == record.first_seq {
				payload = item.payload.map(|p| p.0);
			}
		}
	}
	let payload = payload.ok_or_else(|| {
		anyhow!("the anchor of reading {seq} (block #{}) carries no payload: it was sent without --encrypt", record.block)
	})?;
	let key_id = provena_client::crypto::payload_key_id(&payload)?;
	let store = open_store(store_path, chain.genesis_hash()).ok();
	let key = match store.as_ref().and_then(|s| s.data_key(&device, key_id).ok().flatten()) {
		Some(key) => key,
		None => {
			let who = Signer::<ProvenaConfig>::account_id(&account);
			let sealed = chain
				.grants(device)
				.await?
				.into_iter()
				.filter(|(_, grantee, g)| *grantee == who && g.permissions.0 & 2 != 0)
				.find_map(|(_, _, g)| g.sealed_key)
				.ok_or_else(|| {
					anyhow!(
						"{} holds no READ grant with a sealed key for device {}",
						keys::ss58(who.0),
						show_device(&device)
					)
				})?;
			DataKey::open(&sealed.0, &encryption_secret(&account))?
		},
	};
	let plain = key.decrypt(&device, record.first_seq, record.count, &payload)?;
	let readings: Vec<Reading> = codec::Decode::decode(&mut &plain[..])
		.map_err(|e| anyhow!("the payload holds no readings: {e}"))?;
	// The payload must be exactly what the device signed.
	let leaves: Vec<sp_core::H256> = readings.iter().map(|r| r.leaf()).collect();
	let root = provena_primitives::telemetry::batch_root(&leaves);
	if root.0 != record.root.0 || readings.len() as u32 != record.count {
		bail!("the payload decrypts, but its readings do not give the anchor's root: it was altered before encryption");
	}
	let out: Vec<Value> = readings
		.iter()
		.map(|r| receipt(r, &[]))
		.map(|mut v| {
			v.as_object_mut().map(|o| o.remove("proof"));
			v
		})
		.collect();
	if json {
		println!(
			"{}",
			json!({ "device": show_device(&device), "first_seq": record.first_seq, "count": record.count, "block": record.block, "readings": out })
		);
	} else {
		println!(
			"Anchor #{} of device {} (block #{}): {} readings, root checked",
			anchor.index,
			show_device(&device),
			record.block,
			record.count
		);
		for r in out {
			println!("{r}");
		}
	}
	Ok(())
}
