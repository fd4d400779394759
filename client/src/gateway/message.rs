//! What devices send a gateway: anchors they signed themselves, with their readings.
//!
//! A device that signs on the device (with the `provena-device` crate in its firmware, or with
//! this client) sends each batch as one JSON object, over MQTT (topic
//! `provena/<device>/anchors`) or HTTP (`POST /v1/anchors`, one object per line):
//!
//! ```json
//! {"device": "0x6a…",
//!  "readings": [{"seq": 40, "timestamp_ms": 1795219200000, "values": {"heart_rate_bpm": 72}},
//!               {"seq": 41, "timestamp_ms": 1795219260000, "values": {"heart_rate_bpm": 75}}],
//!  "public": [{"seq": 40, "metric": "heart_rate_bpm", "value": 72},
//!             {"seq": 41, "metric": "heart_rate_bpm", "value": 75}],
//!  "time": {"first_ms": 1795219200000, "last_ms": 1795219260000},
//!  "payload": "0x…",
//!  "signature": "0x00…"}
//! ```
//!
//! - `readings`: consecutive sequence numbers, in order. Values are decimals; the leaf holds
//!   them in thousandths (`4.25` is `4250`), **in metric-name order** (a JSON object's keys
//!   have no order, so the gateway rebuilds each reading with its values sorted by name: a
//!   device signs them in that order). Decimals carry values up to ±10⁹ (±10¹² thousandths)
//!   exactly.
//!   A reading may name the blake2-256 `payload_hash` (0x-hex) of a payload of its own.
//! - `public`: the values the statement makes public for alert rules (at most 16), in the order
//!   signed; none when left out.
//! - `time`: the device times the statement claims; the earliest and latest reading's when
//!   left out.
//! - `payload`: the anchor's (encrypted) payload as 0x-hex, if one travels with it.
//! - `signature`: the device key's signature of the statement's signing hash, as the chain's
//!   `MultiSignature` encodes it (one byte for the scheme, ed25519 0 and sr25519 1, then 64
//!   bytes), 0x-hex: `provena_device::Signature::scale_bytes`.
//!
//! The gateway rebuilds the statement (the root from the readings' leaves) and checks the
//! signature against the device's registered key before it stores or acknowledges anything;
//! a relay can change no byte of what the device signed.

use crate::readings::{Batch, SignedAnchor, Statement};
use codec::Decode;
use provena_primitives::{
	telemetry::{
		Anchor, Measurement, MetricName, PublicValue, Reading, TimeRange, MAX_METRIC_NAME_LEN,
		MAX_PUBLIC_VALUES,
	},
	DeviceId, DeviceKey,
};
use serde::Deserialize;
use sp_core::H256;
use sp_runtime::{BoundedVec, MultiSignature};
use std::collections::BTreeMap;

/// The most bytes one message may have: more than the chain's largest anchor with its
/// readings would need is refused before parsing.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// Why a message was refused: what the gateway answers (MQTT reply topic, HTTP 400) and counts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Refusal {
	/// The kind, a metric label.
	pub kind: RefusalKind,
	/// What is wrong, for the sender.
	pub reason: String,
}

/// The kinds of refusal, each counted apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
	/// Not a message of the expected shape: not JSON, a missing or unknown field, a value
	/// that does not fit.
	Malformed,
	/// The readings cannot form one anchor (not consecutive, another device's, none).
	BadBatch,
	/// The signature is not the registered device key's signature of the statement.
	BadSignature,
	/// The device is not registered on the chain (or not active).
	UnknownDevice,
	/// The same readings are already stored with other content.
	Conflict,
}

impl RefusalKind {
	/// The label used in metrics and replies.
	pub fn label(self) -> &'static str {
		match self {
			RefusalKind::Malformed => "malformed",
			RefusalKind::BadBatch => "bad_batch",
			RefusalKind::BadSignature => "bad_signature",
			RefusalKind::UnknownDevice => "unknown_device",
			RefusalKind::Conflict => "conflict",
		}
	}
}

impl Refusal {
	/// A refusal of `kind` for `reason`.
	pub fn new(kind: RefusalKind, reason: impl Into<String>) -> Self {
		Refusal { kind, reason: reason.into() }
	}

	fn malformed(reason: impl Into<String>) -> Self {
		Refusal::new(RefusalKind::Malformed, reason)
	}
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireReading {
	seq: u64,
	timestamp_ms: u64,
	values: BTreeMap<String, f64>,
	#[serde(default)]
	payload_hash: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WirePublic {
	seq: u64,
	metric: String,
	value: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireTime {
	first_ms: u64,
	last_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireAnchor {
	device: String,
	readings: Vec<WireReading>,
	#[serde(default)]
	public: Vec<WirePublic>,
	#[serde(default)]
	time: Option<WireTime>,
	#[serde(default)]
	payload: Option<String>,
	signature: String,
}

/// A device-signed anchor as received: its readings (with their leaves and proofs), the
/// anchor the chain will be sent, and its payload.
#[derive(Clone, Debug)]
pub struct SignedBatch {
	/// The readings.
	pub batch: Batch,
	/// The statement rebuilt from the message, and the device's signature.
	pub anchor: SignedAnchor,
	/// The payload that travels with the anchor.
	pub payload: Option<Vec<u8>>,
}

impl SignedBatch {
	/// The device.
	pub fn device(&self) -> DeviceId {
		self.batch.device()
	}

	/// Whether the signature is `key`'s signature of the statement on the chain with
	/// `genesis`; refused with the reason otherwise.
	pub fn check_signature(&self, key: &DeviceKey, genesis: &H256) -> Result<(), Refusal> {
		let hash = self.anchor.statement.signing_hash(genesis);
		if key.verify(&hash, &self.anchor.signature) {
			return Ok(());
		}
		let scheme = |sig: &MultiSignature| match sig {
			MultiSignature::Ed25519(_) => "ed25519",
			MultiSignature::Sr25519(_) => "sr25519",
			_ => "another scheme",
		};
		let registered = match key {
			DeviceKey::Ed25519(_) => "ed25519",
			DeviceKey::Sr25519(_) => "sr25519",
		};
		let signed = scheme(&self.anchor.signature);
		Err(Refusal::new(
			RefusalKind::BadSignature,
			if signed != registered {
				format!(
					"the anchor is signed with {signed}, but device {}'s registered key is \
					 {registered}",
					crate::show_device(&self.device())
				)
			} else {
				format!(
					"the signature is not device {}'s registered key's signature of these \
					 readings (seq {}..={}) on this chain: a reading, a public value, the time, \
					 the payload or the key differs from what was signed",
					crate::show_device(&self.device()),
					self.anchor.statement.first_seq,
					self.anchor.statement.last_seq().unwrap_or_default(),
				)
			},
		))
	}
}

fn hex_bytes(field: &str, text: &str) -> Result<Vec<u8>, Refusal> {
	hex::decode(text.strip_prefix("0x").unwrap_or(text))
		.map_err(|e| Refusal::malformed(format!("`{field}` is not 0x-hex: {e}")))
}

fn hash32(field: &str, text: &str) -> Result<[u8; 32], Refusal> {
	hex_bytes(field, text)?
		.try_into()
		.map_err(|_| Refusal::malformed(format!("`{field}` must be 32 bytes")))
}

fn metric(name: &str) -> Result<MetricName, Refusal> {
	if name.is_empty() || name.len() > MAX_METRIC_NAME_LEN as usize {
		return Err(Refusal::malformed(format!(
			"metric name `{name}` must have 1 to {MAX_METRIC_NAME_LEN} bytes"
		)));
	}
	Ok(MetricName::truncate_from(name.as_bytes().to_vec()))
}

fn value(metric: &str, value: f64) -> Result<i64, Refusal> {
	crate::input::thousandths(value).map_err(|e| Refusal::malformed(format!("`{metric}`: {e}")))
}

/// Parses a device-signed anchor message (see the module's documentation). Checks its shape
/// and the batch; the signature is checked against the chain's key by
/// [`SignedBatch::check_signature`].
pub fn parse_anchor(bytes: &[u8]) -> Result<SignedBatch, Refusal> {
	if bytes.len() > MAX_MESSAGE_BYTES {
		return Err(Refusal::malformed(format!(
			"{} bytes: a message may have at most {MAX_MESSAGE_BYTES}",
			bytes.len()
		)));
	}
	let wire: WireAnchor = serde_json::from_slice(bytes)
		.map_err(|e| Refusal::malformed(format!("not an anchor message: {e}")))?;
	let device: DeviceId = hash32("device", &wire.device)?;
	let mut readings = Vec::with_capacity(wire.readings.len());
	for reading in wire.readings {
		if reading.values.is_empty() {
			return Err(Refusal::malformed(format!("reading {} has no value", reading.seq)));
		}
		let values = reading
			.values
			.iter()
			.map(|(name, v)| Ok(Measurement { metric: metric(name)?, value: value(name, *v)? }))
			.collect::<Result<Vec<_>, Refusal>>()?;
		let payload_hash =
			reading.payload_hash.as_deref().map(|h| hash32("payload_hash", h)).transpose()?;
		readings.push(Reading {
			device,
			seq: reading.seq,
			timestamp_ms: reading.timestamp_ms,
			values,
			payload_hash,
		});
	}
	let batch = Batch::new(readings)
		.map_err(|e| Refusal::new(RefusalKind::BadBatch, format!("the readings: {e}")))?;
	if wire.public.len() > MAX_PUBLIC_VALUES as usize {
		return Err(Refusal::malformed(format!(
			"{} public values: an anchor makes at most {MAX_PUBLIC_VALUES} public",
			wire.public.len()
		)));
	}
	let public = wire
		.public
		.iter()
		.map(|p| {
			Ok(PublicValue {
				seq: p.seq,
				metric: metric(&p.metric)?,
				value: value(&p.metric, p.value)?,
			})
		})
		.collect::<Result<Vec<_>, Refusal>>()?;
	let last_seq = batch.first_seq() + batch.readings().len() as u64 - 1;
	if let Some(stray) = public.iter().find(|p| !(batch.first_seq()..=last_seq).contains(&p.seq)) {
		return Err(Refusal::malformed(format!(
			"public value `{}` names reading {}, which is not in this anchor",
			String::from_utf8_lossy(&stray.metric),
			stray.seq
		)));
	}
	let payload = wire.payload.as_deref().map(|p| hex_bytes("payload", p)).transpose()?;
	let signature_bytes = hex_bytes("signature", &wire.signature)?;
	let signature = match signature_bytes.first() {
		Some(0 | 1) if signature_bytes.len() == 65 => {
			MultiSignature::decode(&mut &signature_bytes[..])
				.map_err(|e| Refusal::malformed(format!("`signature` does not decode: {e}")))?
		},
		_ => {
			return Err(Refusal::malformed(
				"`signature` must be 65 bytes: the scheme (00 ed25519, 01 sr25519) and the 64 \
				 signature bytes",
			))
		},
	};
	let times = batch.readings().iter().map(|r| r.timestamp_ms);
	let time = match wire.time {
		Some(WireTime { first_ms, last_ms }) => TimeRange { first_ms, last_ms },
		None => TimeRange {
			first_ms: times.clone().min().unwrap_or_default(),
			last_ms: times.max().unwrap_or_default(),
		},
	};
	let statement = Statement {
		device,
		first_seq: batch.first_seq(),
		count: batch.readings().len() as u32,
		root: batch.root(),
		time,
		payload_hash: payload.as_deref().map(|p| H256(sp_crypto_hashing::blake2_256(p))),
		values: BoundedVec::truncate_from(public),
	};
	Ok(SignedBatch { batch, anchor: Anchor { statement, signature }, payload })
}

/// The message a device (or the simulator, or a test) sends for a signed batch: the inverse of
/// [`parse_anchor`].
pub fn anchor_message(batch: &Batch, anchor: &SignedAnchor, payload: Option<&[u8]>) -> String {
	use codec::Encode;
	let decimal = crate::input::decimal;
	let readings: Vec<serde_json::Value> = batch
		.readings()
		.iter()
		.map(|r| {
			let values: serde_json::Map<String, serde_json::Value> = r
				.values
				.iter()
				.map(|m| (String::from_utf8_lossy(&m.metric).into_owned(), decimal(m.value).into()))
				.collect();
			let mut reading = serde_json::json!({
				"seq": r.seq, "timestamp_ms": r.timestamp_ms, "values": values,
			});
			if let Some(hash) = r.payload_hash {
				reading["payload_hash"] = format!("0x{}", hex::encode(hash)).into();
			}
			reading
		})
		.collect();
	let public: Vec<serde_json::Value> = anchor
		.statement
		.values
		.iter()
		.map(|p| {
			serde_json::json!({
				"seq": p.seq,
				"metric": String::from_utf8_lossy(&p.metric),
				"value": decimal(p.value),
			})
		})
		.collect();
	let mut message = serde_json::json!({
		"device": crate::show_device(&batch.device()),
		"readings": readings,
		"public": public,
		"time": {
			"first_ms": anchor.statement.time.first_ms,
			"last_ms": anchor.statement.time.last_ms,
		},
		"signature": format!("0x{}", hex::encode(anchor.signature.encode())),
	});
	if let Some(payload) = payload {
		message["payload"] = format!("0x{}", hex::encode(payload)).into();
	}
	message.to_string()
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::readings::{KeyPair, Scheme};
	use std::collections::BTreeSet;

	fn genesis() -> H256 {
		H256::repeat_byte(0x45)
	}

	fn batch(values: &[i64]) -> Batch {
		let device = [9; 32];
		Batch::new(
			values
				.iter()
				.enumerate()
				.map(|(i, v)| Reading {
					device,
					seq: 100 + i as u64,
					timestamp_ms: 1_795_219_200_000 + 60_000 * i as u64,
					values: vec![
						Measurement {
							metric: MetricName::truncate_from(b"rh".to_vec()),
							value: 61_000,
						},
						Measurement {
							metric: MetricName::truncate_from(b"temp_c".to_vec()),
							value: *v,
						},
					],
					payload_hash: (i == 1).then_some([3; 32]),
				})
				.collect(),
		)
		.unwrap()
	}

	fn signed(scheme: Scheme, values: &[i64], payload: Option<&[u8]>) -> (KeyPair, String) {
		let key = KeyPair::from_uri(scheme, "//Alice//device//9").unwrap();
		let batch = batch(values);
		let public: BTreeSet<MetricName> = [MetricName::truncate_from(b"temp_c".to_vec())].into();
		let anchor = batch.sign(&key, &genesis(), payload, &public);
		(key, anchor_message(&batch, &anchor, payload))
	}

	#[test]
	fn a_message_the_device_signed_parses_to_its_anchor_and_verifies() {
		for scheme in [Scheme::Ed25519, Scheme::Sr25519] {
			let (key, text) = signed(scheme, &[4_250, -1_125, 7_999], Some(b"sealed"));
			let parsed = parse_anchor(text.as_bytes()).unwrap();
			let expected = batch(&[4_250, -1_125, 7_999]);
			assert_eq!(parsed.batch.readings(), expected.readings());
			assert_eq!(parsed.anchor.statement.values.len(), 2, "temp_c's lowest and highest");
			assert_eq!(parsed.payload.as_deref(), Some(&b"sealed"[..]));
			parsed.check_signature(&key.key(), &genesis()).unwrap();
			// Another chain, or another key: refused.
			let other_chain = parsed.check_signature(&key.key(), &H256::repeat_byte(1));
			assert_eq!(other_chain.unwrap_err().kind, RefusalKind::BadSignature);
		}
	}

	#[test]
	fn a_relay_can_change_no_byte_the_device_signed() {
		let (key, text) = signed(Scheme::Ed25519, &[4_250, 4_300], Some(b"sealed"));
		let mut message: serde_json::Value = serde_json::from_str(&text).unwrap();
		let tamperings: [(&str, serde_json::Value); 6] = [
			("/readings/0/values/temp_c", 9.0.into()),
			("/readings/1/timestamp_ms", 1u64.into()),
			("/readings/1/payload_hash", format!("0x{}", hex::encode([4u8; 32])).into()),
			("/public/0/value", 2.0.into()),
			("/time/last_ms", 5u64.into()),
			("/payload", "0x00".into()),
		];
		for (pointer, value) in tamperings {
			let mut changed = message.clone();
			*changed.pointer_mut(pointer).unwrap() = value;
			let parsed = parse_anchor(changed.to_string().as_bytes()).unwrap();
			let refusal = parsed.check_signature(&key.key(), &genesis()).unwrap_err();
			assert_eq!(refusal.kind, RefusalKind::BadSignature, "{pointer}");
		}
		// Dropping the payload is a change too.
		message.as_object_mut().unwrap().remove("payload");
		let parsed = parse_anchor(message.to_string().as_bytes()).unwrap();
		assert!(parsed.check_signature(&key.key(), &genesis()).is_err());
		// An sr25519 signature for an ed25519 key says so.
		let (_, sr) = signed(Scheme::Sr25519, &[4_250], None);
		let refusal = parse_anchor(sr.as_bytes())
			.unwrap()
			.check_signature(&key.key(), &genesis())
			.unwrap_err();
		assert!(refusal.reason.contains("signed with sr25519"), "{}", refusal.reason);
	}

	#[test]
	fn malformed_messages_are_refused_with_the_reason() {
		let (_, text) = signed(Scheme::Ed25519, &[4_250, 4_300], None);
		let good: serde_json::Value = serde_json::from_str(&text).unwrap();
		let with = |pointer: &str, value: serde_json::Value| {
			let mut changed = good.clone();
			*changed.pointer_mut(pointer).unwrap() = value;
			changed.to_string()
		};
		let cases: Vec<(String, RefusalKind, &str)> = vec![
			("not json".into(), RefusalKind::Malformed, "not an anchor message"),
			("{}".into(), RefusalKind::Malformed, "missing field"),
			(with("/device", "0x1234".into()), RefusalKind::Malformed, "32 bytes"),
			(with("/device", "zz".into()), RefusalKind::Malformed, "0x-hex"),
			(with("/signature", "0x02".into()), RefusalKind::Malformed, "65 bytes"),
			(with("/readings/1/seq", 105u64.into()), RefusalKind::BadBatch, "consecutive"),
			(with("/readings", serde_json::json!([])), RefusalKind::BadBatch, "at least one"),
			(with("/readings/0/values", serde_json::json!({})), RefusalKind::Malformed, "no value"),
			(
				with("/readings/0/values", serde_json::json!({"x".repeat(33): 1})),
				RefusalKind::Malformed,
				"1 to 32 bytes",
			),
			(with("/readings/0/values/rh", 1e300.into()), RefusalKind::Malformed, "does not fit"),
			(with("/public/0/seq", 7u64.into()), RefusalKind::Malformed, "not in this anchor"),
			(
				with(
					"/public",
					serde_json::Value::Array(vec![
						serde_json::json!({"seq": 100, "metric": "t", "value": 1});
						17
					]),
				),
				RefusalKind::Malformed,
				"at most 16",
			),
			(
				{
					let mut extra = good.clone();
					extra["readings"][0]["extra"] = 1.into();
					extra.to_string()
				},
				RefusalKind::Malformed,
				"unknown field",
			),
			("x".repeat(MAX_MESSAGE_BYTES + 1), RefusalKind::Malformed, "at most"),
		];
		for (text, kind, says) in cases {
			let refusal = match parse_anchor(text.as_bytes()) {
				Err(refusal) => refusal,
				Ok(_) => panic!("accepted: {}", &text[..text.len().min(200)]),
			};
			assert_eq!(refusal.kind, kind, "{}", refusal.reason);
			assert!(refusal.reason.contains(says), "`{}` does not say `{says}`", refusal.reason);
		}
	}

	proptest::proptest! {
		/// A value written as the decimal the device means is read back as the same
		/// thousandths, so the leaf the gateway rebuilds is the one signed.
		#[test]
		fn decimals_on_the_wire_keep_every_value(value in -1_000_000_000_000i64..=1_000_000_000_000) {
			let text = serde_json::json!({ "v": crate::input::decimal(value) }).to_string();
			let back: serde_json::Value = serde_json::from_str(&text).unwrap();
			let read = crate::input::thousandths(back["v"].as_f64().unwrap()).unwrap();
			proptest::prop_assert_eq!(read, value);
		}
	}
}
