//! Raw readings: what a device that cannot sign sends a gateway that holds its key (an explicit
//! mode, `provena gateway run --device-keys DIR`). The gateway stores the readings, batches
//! them by size and age, and signs each batch with the device's key; a relay between the device
//! and the gateway could change them unseen, so devices that can sign should send anchors.
//!
//! Two formats, over MQTT (topic `<prefix>/<device>/readings`) or HTTP
//! (`POST /v1/devices/<device>/readings`):
//!
//! - **JSON Lines** of Provena readings, one object a line (a single object on MQTT):
//!   `{"seq": 7, "timestamp_ms": 1795219200000, "values": {"temp_c": 4.2}}`, `seq` optional
//!   (the gateway numbers readings without one after the device's last).
//! - **SenML JSON** (RFC 8428), on MQTT topic `<prefix>/<device>/senml` or with HTTP
//!   `Content-Type: application/senml+json`: a pack of records, base fields resolved as the RFC
//!   says (`bn`+`n`, `bt`+`t`, `bv`+`v`). Records with the same resolved time form one
//!   reading. The metric is the record's own name `n` (a record without one takes the base
//!   name): devices put their identity in `bn`, and the device is the one the topic or URL
//!   names. Only numeric values (`v`) are taken; a record with a string, boolean, data or sum
//!   value, an unknown field ending in `_` (the RFC's "must understand"), or a `bver` above
//!   10 is refused. A time below 2²⁸ s is relative to now, as the RFC says, and so is a record
//!   without one: those readings are stamped with the gateway's clock on arrival.
//!
//! Exactly once: a reading with a `seq`, or with an absolute time, is recognised when it comes
//! again (same values: nothing stored; other values: refused as a conflict). A message whose
//! readings' times were relative is remembered by its hash, so the broker's redelivery of it
//! (MQTT's DUP flag, after a gateway crash between storing and acknowledging) stores nothing
//! new. Over HTTP give a `seq` or absolute times if the client may retry.

use super::message::{Refusal, RefusalKind};
use crate::input::{self, ReadingInput, MAX_METRIC_LEN};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The formats raw readings come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawFormat {
	/// JSON Lines of Provena readings.
	JsonLines,
	/// A SenML JSON pack.
	Senml,
}

/// Raw readings as parsed: the readings, and whether any of their times was relative (stamped
/// on arrival), which makes the message recognisable on redelivery only by its hash.
#[derive(Clone, Debug, PartialEq)]
pub struct RawReadings {
	/// The readings, in the message's order (SenML: by time).
	pub readings: Vec<ReadingInput>,
	/// Whether a reading's time was relative to the arrival.
	pub stamped_on_arrival: bool,
}

/// Readings a message may carry at most: more than a day of a reading a second from one device
/// is not a message but a bulk import (`provena submit --file`).
pub const MAX_RAW_READINGS: usize = 100_000;

/// Times below this many seconds are relative to now (RFC 8428, section 4.5.3).
const RELATIVE_BELOW_S: f64 = (1u64 << 28) as f64;

fn malformed(reason: impl Into<String>) -> Refusal {
	Refusal::new(RefusalKind::Malformed, reason)
}

/// Parses a raw-readings message in `format`, received when the gateway's clock read
/// `now_ms` (for relative SenML times).
pub fn parse_raw(bytes: &[u8], format: RawFormat, now_ms: u64) -> Result<RawReadings, Refusal> {
	if bytes.len() > super::message::MAX_MESSAGE_BYTES {
		return Err(malformed(format!(
			"{} bytes: a message may have at most {}",
			bytes.len(),
			super::message::MAX_MESSAGE_BYTES
		)));
	}
	let parsed = match format {
		RawFormat::JsonLines => {
			let readings = input::from_json_lines("message", bytes)
				.map_err(|e| malformed(crate::error::with_causes(&e)))?;
			RawReadings { readings, stamped_on_arrival: false }
		},
		RawFormat::Senml => parse_senml(bytes, now_ms)?,
	};
	if parsed.readings.is_empty() {
		return Err(malformed("the message holds no reading"));
	}
	if parsed.readings.len() > MAX_RAW_READINGS {
		return Err(malformed(format!(
			"{} readings: a message may carry at most {MAX_RAW_READINGS}",
			parsed.readings.len()
		)));
	}
	Ok(parsed)
}

/// The base values a SenML record carries over to the records after it.
#[derive(Default)]
struct Base {
	name: String,
	time: f64,
	value: f64,
}

fn number(record: &Map<String, Value>, field: &str, index: usize) -> Result<Option<f64>, Refusal> {
	match record.get(field) {
		None => Ok(None),
		Some(Value::Number(n)) => {
			n.as_f64().filter(|v| v.is_finite()).map(Some).ok_or_else(|| {
				malformed(format!("record {index}: `{field}` is not a finite number"))
			})
		},
		Some(_) => Err(malformed(format!("record {index}: `{field}` must be a number"))),
	}
}

fn text<'a>(
	record: &'a Map<String, Value>,
	field: &str,
	index: usize,
) -> Result<Option<&'a str>, Refusal> {
	match record.get(field) {
		None => Ok(None),
		Some(Value::String(s)) => Ok(Some(s)),
		Some(_) => Err(malformed(format!("record {index}: `{field}` must be a string"))),
	}
}

fn parse_senml(bytes: &[u8], now_ms: u64) -> Result<RawReadings, Refusal> {
	let pack: Vec<Map<String, Value>> = serde_json::from_slice(bytes).map_err(|e| {
		malformed(format!("not a SenML JSON pack (an array of record objects): {e}"))
	})?;
	let mut base = Base::default();
	let mut stamped_on_arrival = false;
	// Resolved time (ms) → metric → value in thousandths, and the first record of each time.
	let mut by_time: BTreeMap<u64, (BTreeMap<String, i64>, usize)> = BTreeMap::new();
	for (index, record) in pack.iter().enumerate() {
		if let Some(field) = record.keys().find(|k| k.ends_with('_')) {
			return Err(malformed(format!(
				"record {index}: field `{field}` must be understood, and this gateway does not \
				 know it"
			)));
		}
		if let Some(version) = number(record, "bver", index)? {
			if version > 10.0 {
				return Err(malformed(format!(
					"record {index}: SenML version {version} is newer than this gateway reads (10)"
				)));
			}
		}
		for field in ["vs", "vb", "vd", "s", "bs"] {
			if record.contains_key(field) {
				return Err(malformed(format!(
					"record {index}: `{field}`: only numeric values (`v`) are anchored"
				)));
			}
		}
		if let Some(name) = text(record, "bn", index)? {
			base.name = name.to_string();
		}
		if let Some(time) = number(record, "bt", index)? {
			base.time = time;
		}
		if let Some(value) = number(record, "bv", index)? {
			base.value = value;
		}
		let own = number(record, "v", index)?;
		let name = text(record, "n", index)?;
		let sets_base = ["bn", "bt", "bv", "bu", "bver"].iter().any(|f| record.contains_key(*f));
		if own.is_none() && name.is_none() && sets_base {
			// A record that only sets base fields for the records after it.
			continue;
		}
		let Some(v) = own else {
			return Err(malformed(format!("record {index} has no numeric value `v`")));
		};
		let metric = match name {
			Some(name) => name,
			None if !base.name.is_empty() => base.name.as_str(),
			None => return Err(malformed(format!("record {index} has no name (`n` or `bn`)"))),
		};
		if metric.is_empty() || metric.len() > MAX_METRIC_LEN {
			return Err(malformed(format!(
				"record {index}: metric name `{metric}` must have 1 to {MAX_METRIC_LEN} bytes"
			)));
		}
		let seconds = base.time + number(record, "t", index)?.unwrap_or(0.0);
		let time_ms = if seconds.abs() < RELATIVE_BELOW_S {
			stamped_on_arrival = true;
			now_ms as f64 + seconds * 1_000.0
		} else {
			seconds * 1_000.0
		};
		if !(0.0..=u64::MAX as f64).contains(&time_ms) {
			return Err(malformed(format!("record {index}: time {seconds} s is before 1970")));
		}
		let value = input::thousandths(base.value + v)
			.map_err(|e| malformed(format!("record {index}: {e}")))?;
		let (values, _) = by_time.entry(time_ms.round() as u64).or_insert((BTreeMap::new(), index));
		if values.insert(metric.to_string(), value).is_some() {
			return Err(malformed(format!(
				"record {index}: `{metric}` has two values at the same time"
			)));
		}
	}
	let readings = by_time
		.into_iter()
		.map(|(timestamp_ms, (values, first))| ReadingInput {
			origin: format!("SenML record {first}"),
			seq: None,
			timestamp_ms,
			values,
		})
		.collect();
	Ok(RawReadings { readings, stamped_on_arrival })
}

#[cfg(test)]
mod tests {
	use super::*;

	const NOW: u64 = 1_795_219_200_000;

	fn senml(text: &str) -> Result<RawReadings, Refusal> {
		parse_raw(text.as_bytes(), RawFormat::Senml, NOW)
	}

	fn values(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
		pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
	}

	#[test]
	fn a_senml_pack_resolves_base_fields_and_groups_by_time() {
		// RFC 8428's multi-record example, shaped: base name, base time, two times.
		let parsed = senml(
			r#"[{"bn":"urn:dev:ow:10e2073a01080063:","bt":1.320067464e9,"bu":"%RH","v":20},
			    {"u":"lon","n":"lon","v":24.30621},
			    {"n":"temp","u":"Cel","v":23.1,"t":60},
			    {"n":"lon","v":24.30622,"t":60}]"#,
		)
		.unwrap();
		assert!(!parsed.stamped_on_arrival);
		let times: Vec<u64> = parsed.readings.iter().map(|r| r.timestamp_ms).collect();
		assert_eq!(times, [1_320_067_464_000, 1_320_067_524_000]);
		// The first record has no `n`: it takes the base name.
		let first = values(&[("urn:dev:ow:10e2073a01080063:", 20_000), ("lon", 24_306)]);
		assert_eq!(parsed.readings[0].values, first);
		assert_eq!(parsed.readings[1].values, values(&[("lon", 24_306), ("temp", 23_100)]));
		// A record that only sets base fields.
		let parsed =
			senml(r#"[{"bn":"x:","bt":1.5e9},{"n":"t","v":1},{"n":"t","v":2,"t":1}]"#).unwrap();
		assert_eq!(parsed.readings.len(), 2);
		assert_eq!(parsed.readings[0].timestamp_ms, 1_500_000_000_000);
		let parsed = senml(r#"[{"bn":"d:","bv":10,"n":"t","v":1.5,"bt":2e9}]"#).unwrap();
		assert_eq!(parsed.readings[0].values, values(&[("t", 11_500)]));
	}

	#[test]
	fn relative_and_missing_times_are_stamped_on_arrival() {
		let parsed = senml(r#"[{"n":"t","v":1},{"n":"t","v":2,"t":-5}]"#).unwrap();
		assert!(parsed.stamped_on_arrival);
		let times: Vec<u64> = parsed.readings.iter().map(|r| r.timestamp_ms).collect();
		assert_eq!(times, [NOW - 5_000, NOW]);
	}

	#[test]
	fn senml_that_cannot_be_anchored_is_refused_with_the_reason() {
		let cases = [
			("{}", "not a SenML JSON pack"),
			("[]", "no reading"),
			(r#"[{"n":"t","vs":"on"}]"#, "only numeric values"),
			(r#"[{"n":"t","vb":true}]"#, "only numeric values"),
			(r#"[{"n":"t","v":1,"s":3}]"#, "only numeric values"),
			(r#"[{"n":"t"}]"#, "no numeric value"),
			(r#"[{"v":1}]"#, "no name"),
			(r#"[{"n":"t","v":"1"}]"#, "must be a number"),
			(r#"[{"n":7,"v":1}]"#, "must be a string"),
			(r#"[{"n":"t","v":1,"x_":1}]"#, "must be understood"),
			(r#"[{"bver":11,"n":"t","v":1}]"#, "newer"),
			(r#"[{"n":"t","v":1},{"n":"t","v":2}]"#, "two values at the same time"),
			(r#"[{"n":"","v":1}]"#, "1 to 32 bytes"),
			(r#"[{"n":"t","v":1e300}]"#, "does not fit"),
			(r#"[{"n":"t","v":1,"bt":-1e12}]"#, "before 1970"),
		];
		for (text, reason) in cases {
			let refusal = senml(text).expect_err(text);
			assert_eq!(refusal.kind, RefusalKind::Malformed, "{text}");
			assert!(refusal.reason.contains(reason), "{text}: {}", refusal.reason);
		}
	}

	#[test]
	fn json_lines_carry_provena_readings() {
		let text = "{\"seq\":3,\"timestamp_ms\":5,\"values\":{\"b\":1,\"a\":2.5}}\n\n\
		            {\"timestamp_ms\":6,\"values\":{\"a\":1}}\n";
		let parsed = parse_raw(text.as_bytes(), RawFormat::JsonLines, NOW).unwrap();
		assert!(!parsed.stamped_on_arrival);
		assert_eq!(parsed.readings.len(), 2);
		assert_eq!(parsed.readings[0].seq, Some(3));
		assert_eq!(parsed.readings[0].values, values(&[("a", 2_500), ("b", 1_000)]));
		assert_eq!(parsed.readings[1].seq, None);
		for bad in ["{\"timestamp_ms\":5}", "{\"timestamp_ms\":5,\"values\":{}}", "x", ""] {
			let refusal = parse_raw(bad.as_bytes(), RawFormat::JsonLines, NOW).expect_err(bad);
			assert_eq!(refusal.kind, RefusalKind::Malformed);
		}
	}
}
