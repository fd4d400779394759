//! Readings as people write them: JSON Lines, CSV, or `metric=value` pairs on the command line.
//!
//! A JSON line is one object:
//!
//! ```json
//! {"timestamp_ms": 1732270000000, "values": {"temperature": 4.2, "humidity": 61}}
//! ```
//!
//! with an optional `"seq"`. A CSV file has a header: `timestamp_ms`, optionally `seq`, and one
//! column per metric (an empty cell leaves the metric out). Values are decimals; the chain keeps
//! them in thousandths (4.2 → 4200). A reading without `seq` gets the device's next one when it
//! is imported; one with the same timestamp as a stored reading is the same reading again.

use crate::Error;
use provena_primitives::telemetry::{MAX_METRIC_NAME_LEN, VALUE_SCALE};
use serde::Deserialize;
use std::{collections::BTreeMap, io::BufRead, path::Path};

/// The longest metric name the chain accepts (`MetricName`'s bound).
pub const MAX_METRIC_LEN: usize = MAX_METRIC_NAME_LEN as usize;

/// One reading as written, before it has a sequence number for sure.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadingInput {
	/// Where it came from, for error messages: `file:line`.
	pub origin: String,
	/// Its sequence number, if the source gives one.
	pub seq: Option<u64>,
	/// Device time in milliseconds since the Unix epoch.
	pub timestamp_ms: u64,
	/// Metric name → value in thousandths, sorted by name.
	pub values: BTreeMap<String, i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonReading {
	seq: Option<u64>,
	timestamp_ms: u64,
	values: BTreeMap<String, f64>,
}

/// A decimal value in the chain's fixed point (thousandths), refusing what does not fit.
pub fn thousandths(value: f64) -> Result<i64, String> {
	let scaled = (value * VALUE_SCALE as f64).round();
	if !scaled.is_finite() || scaled.abs() >= i64::MAX as f64 {
		return Err(format!("{value} does not fit a reading value"));
	}
	Ok(scaled as i64)
}

/// A chain value (fixed point, thousandths) as the decimal it stands for.
pub fn decimal(value: i64) -> f64 {
	value as f64 / VALUE_SCALE as f64
}

fn check_metric(name: &str) -> Result<(), String> {
	if name.is_empty() {
		return Err("a metric needs a name".into());
	}
	if name.len() > MAX_METRIC_LEN {
		return Err(format!("metric name `{name}` is longer than {MAX_METRIC_LEN} bytes"));
	}
	Ok(())
}

/// A metric name as the chain takes it, checked (`--public temperature`).
pub fn metric_name(name: &str) -> Result<provena_primitives::telemetry::MetricName, Error> {
	let name = name.trim();
	check_metric(name).map_err(Error::input)?;
	Ok(provena_primitives::telemetry::MetricName::truncate_from(name.as_bytes().to_vec()))
}

fn checked_values(values: BTreeMap<String, f64>) -> Result<BTreeMap<String, i64>, String> {
	if values.is_empty() {
		return Err("a reading needs at least one value".into());
	}
	values
		.into_iter()
		.map(|(name, value)| {
			check_metric(&name)?;
			Ok((name, thousandths(value)?))
		})
		.collect()
}

/// `metric=value` pairs from the command line, as one reading at `timestamp_ms`.
pub fn from_pairs(pairs: &[String], timestamp_ms: u64) -> Result<ReadingInput, Error> {
	let mut values = BTreeMap::new();
	for pair in pairs {
		let (name, value) = pair
			.split_once('=')
			.ok_or_else(|| Error::input(format!("`{pair}`: write a value as metric=number")))?;
		let value: f64 = value
			.trim()
			.parse()
			.map_err(|_| Error::input(format!("`{pair}`: `{value}` is not a number")))?;
		values.insert(name.trim().to_string(), value);
	}
	let values = checked_values(values).map_err(Error::input)?;
	Ok(ReadingInput { origin: "command line".into(), seq: None, timestamp_ms, values })
}

/// Readings from JSON Lines text; `name` is used in error messages.
pub fn from_json_lines(name: &str, text: impl BufRead) -> Result<Vec<ReadingInput>, Error> {
	let mut readings = Vec::new();
	for (index, line) in text.lines().enumerate() {
		let origin = format!("{name}:{}", index + 1);
		let line = line.map_err(|e| Error::input_from(format!("{origin}: cannot read"), e))?;
		if line.trim().is_empty() {
			continue;
		}
		let parsed: JsonReading = serde_json::from_str(&line)
			.map_err(|e| Error::input_from(format!("{origin}: not a reading"), e))?;
		let values =
			checked_values(parsed.values).map_err(|e| Error::input(format!("{origin}: {e}")))?;
		readings.push(ReadingInput {
			origin,
			seq: parsed.seq,
			timestamp_ms: parsed.timestamp_ms,
			values,
		});
	}
	Ok(readings)
}

/// Readings from CSV text with a header row.
pub fn from_csv(name: &str, text: impl std::io::Read) -> Result<Vec<ReadingInput>, Error> {
	let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text);
	let header = reader
		.headers()
		.map_err(|e| Error::input_from(format!("{name}:1: not a CSV header"), e))?
		.clone();
	let column = |wanted: &str| header.iter().position(|h| h == wanted);
	let time_col = column("timestamp_ms")
		.ok_or_else(|| Error::input(format!("{name}:1: the header needs a timestamp_ms column")))?;
	let seq_col = column("seq");
	for metric in header.iter().filter(|h| *h != "timestamp_ms" && *h != "seq") {
		check_metric(metric).map_err(|e| Error::input(format!("{name}:1: {e}")))?;
	}

	let mut readings = Vec::new();
	for (index, record) in reader.records().enumerate() {
		let origin = format!("{name}:{}", index + 2);
		let bad = |e: String| Error::input(format!("{origin}: {e}"));
		let record = record.map_err(|e| bad(e.to_string()))?;
		let number = |col: usize, what: &str| -> Result<u64, Error> {
			let cell = record.get(col).unwrap_or_default();
			cell.parse().map_err(|_| bad(format!("{what} `{cell}` is not a whole number")))
		};
		let timestamp_ms = number(time_col, "timestamp_ms")?;
		let seq = seq_col.map(|col| number(col, "seq")).transpose()?;
		let mut values = BTreeMap::new();
		for (col, metric) in header.iter().enumerate() {
			if col == time_col || Some(col) == seq_col {
				continue;
			}
			let cell = record.get(col).unwrap_or_default();
			if cell.is_empty() {
				continue;
			}
			let value: f64 =
				cell.parse().map_err(|_| bad(format!("{metric} `{cell}` is not a number")))?;
			values.insert(metric.to_string(), value);
		}
		let values = checked_values(values).map_err(bad)?;
		readings.push(ReadingInput { origin, seq, timestamp_ms, values });
	}
	Ok(readings)
}

/// Readings from a file: CSV when its name ends in `.csv`, else JSON Lines; `-` is standard
/// input (JSON Lines).
pub fn from_file(path: &Path) -> Result<Vec<ReadingInput>, Error> {
	if path == Path::new("-") {
		return from_json_lines("stdin", std::io::stdin().lock());
	}
	let name = path.display().to_string();
	let file = std::fs::File::open(path)
		.map_err(|e| Error::input_from(format!("cannot open {name}"), e))?;
	if path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("csv")) {
		from_csv(&name, file)
	} else {
		from_json_lines(&name, std::io::BufReader::new(file))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn json_lines_parse_and_name_the_bad_line() {
		let text = "{\"timestamp_ms\": 10, \"values\": {\"t\": 4.2}}\n\n\
		            {\"seq\": 3, \"timestamp_ms\": 11, \"values\": {\"t\": -0.5, \"h\": 61}}\n";
		let readings = from_json_lines("r.jsonl", text.as_bytes()).unwrap();
		assert_eq!(readings.len(), 2);
		assert_eq!(readings[0].values["t"], 4_200);
		assert_eq!(readings[1].seq, Some(3));
		assert_eq!(readings[1].values["t"], -500);
		assert_eq!(readings[1].origin, "r.jsonl:3");

		let bad = "{\"timestamp_ms\": 10, \"values\": {\"t\": 1}}\n{\"timestamp_ms\": 11, \"values\": {\"t\": }\n";
		let err = from_json_lines("r.jsonl", bad.as_bytes()).unwrap_err().to_string();
		assert!(err.starts_with("r.jsonl:2: not a reading"), "{err}");

		let empty = "{\"timestamp_ms\": 10, \"values\": {}}\n";
		let err = from_json_lines("r.jsonl", empty.as_bytes()).unwrap_err().to_string();
		assert!(err.contains("r.jsonl:1: a reading needs at least one value"), "{err}");

		let long = format!("{{\"timestamp_ms\": 1, \"values\": {{\"{}\": 1}}}}", "m".repeat(33));
		let err = from_json_lines("r.jsonl", long.as_bytes()).unwrap_err().to_string();
		assert!(err.contains("longer than 32"), "{err}");
	}

	#[test]
	fn csv_parses_with_optional_cells_and_names_the_bad_row() {
		let text = "timestamp_ms,temperature,humidity\n10,4.2,61\n11,,60\n";
		let readings = from_csv("r.csv", text.as_bytes()).unwrap();
		assert_eq!(readings.len(), 2);
		assert_eq!(readings[1].values.len(), 1);
		assert_eq!(readings[1].values["humidity"], 60_000);

		let bad = "timestamp_ms,temperature\n10,4.2\n11,warm\n";
		let err = from_csv("r.csv", bad.as_bytes()).unwrap_err().to_string();
		assert!(err.starts_with("r.csv:3: temperature `warm`"), "{err}");

		let no_time = "time,temperature\n10,4.2\n";
		assert!(from_csv("r.csv", no_time.as_bytes()).is_err());
	}

	#[test]
	fn pairs_parse_and_refuse_what_is_not_a_number() {
		let reading = from_pairs(&["t=4.25".into(), "hr = 72".into()], 5).unwrap();
		assert_eq!(reading.values["t"], 4_250);
		assert_eq!(reading.values["hr"], 72_000);
		assert!(from_pairs(&["t".into()], 5).is_err());
		assert!(from_pairs(&["t=hot".into()], 5).is_err());
		assert!(from_pairs(&[], 5).is_err());
	}
}
