//! Chain values for people: event fields as JSON with byte strings shown as hex (ids, keys,
//! hashes) or text (names), instead of lists of numbers.

use crate::{input::decimal, show_device};
use provena_primitives::telemetry::Reading;
use serde_json::{json, Map, Value as Json};
use subxt::ext::scale_value::{Composite, Primitive, Value, ValueDef};

/// A decoded chain value as JSON.
pub fn to_json(value: &Value<()>) -> Json {
	match &value.value {
		ValueDef::Composite(composite) => composite_json(composite),
		ValueDef::Variant(variant) if variant.values.is_empty() => json!(variant.name),
		ValueDef::Variant(variant) => {
			json!({ variant.name.clone(): composite_json(&variant.values) })
		},
		ValueDef::BitSequence(bits) => json!(format!("{bits:?}")),
		ValueDef::Primitive(primitive) => match primitive {
			Primitive::Bool(b) => json!(b),
			Primitive::Char(c) => json!(c.to_string()),
			Primitive::String(s) => json!(s),
			Primitive::U128(n) => {
				u64::try_from(*n).map(|n| json!(n)).unwrap_or_else(|_| json!(n.to_string()))
			},
			Primitive::I128(n) => {
				i64::try_from(*n).map(|n| json!(n)).unwrap_or_else(|_| json!(n.to_string()))
			},
			Primitive::U256(n) | Primitive::I256(n) => json!(format!("0x{}", hex::encode(n))),
		},
	}
}

fn byte(value: &Value<()>) -> Option<u8> {
	match &value.value {
		ValueDef::Primitive(Primitive::U128(n)) => u8::try_from(*n).ok(),
		_ => None,
	}
}

fn composite_json(composite: &Composite<()>) -> Json {
	match composite {
		Composite::Named(fields) => Json::Object(
			fields.iter().map(|(name, v)| (name.clone(), to_json(v))).collect::<Map<_, _>>(),
		),
		Composite::Unnamed(values) => {
			let bytes: Option<Vec<u8>> = values.iter().map(byte).collect();
			match bytes {
				Some(bytes) if bytes.len() > 1 => {
					let printable = bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ');
					if printable && bytes.len() != 32 {
						json!(String::from_utf8_lossy(&bytes))
					} else {
						json!(format!("0x{}", hex::encode(&bytes)))
					}
				},
				// A newtype (an account id, a bounded vector): show what it wraps.
				_ if values.len() == 1 => to_json(&values[0]),
				_ => Json::Array(values.iter().map(to_json).collect()),
			}
		},
	}
}

/// A reading as JSON: its device, sequence number, time, values (as decimals) and payload hash.
pub fn reading_json(reading: &Reading) -> Json {
	let values: Map<String, Json> = reading
		.values
		.iter()
		.map(|m| (String::from_utf8_lossy(&m.metric).into_owned(), json!(decimal(m.value))))
		.collect();
	json!({
		"device": show_device(&reading.device),
		"seq": reading.seq,
		"timestamp_ms": reading.timestamp_ms,
		"values": values,
		"payload_hash": reading.payload_hash.map(|h| format!("0x{}", hex::encode(h))),
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn ids_become_hex_names_become_text() {
		let id = Value::unnamed_composite((0..32u8).map(|b| Value::u128(b as u128)));
		let name = Value::unnamed_composite(b"temperature".iter().map(|b| Value::u128(*b as u128)));
		let event = Value::named_composite([
			("device", Value::unnamed_composite([id])),
			("metric", name),
			("min", Value::variant("Some", Composite::unnamed([Value::i128(2000)]))),
			("max", Value::variant("None", Composite::unnamed([]))),
		]);
		let shown = to_json(&event);
		assert_eq!(shown["device"], format!("0x{}", hex::encode((0..32u8).collect::<Vec<_>>())));
		assert_eq!(shown["metric"], "temperature");
		assert_eq!(shown["min"], json!({ "Some": 2000 }));
		assert_eq!(shown["max"], "None");
	}
}
