//! The one way commands speak: human text by default, one JSON value per result with `--json`,
//! progress and notes on stderr (never in JSON mode), warnings on stderr in every mode.

use provena_client::{chain::Finalized, input::decimal};
use serde_json::{json, Value};

/// Where a command's results go, and in which form.
#[derive(Clone, Copy, Debug)]
pub struct Output {
	/// JSON instead of text.
	pub json: bool,
}

impl Output {
	/// Prints a result: `value` as one line of JSON with `--json`, else `human`.
	pub fn print(&self, value: Value, human: impl AsRef<str>) {
		if self.json {
			println!("{value}");
		} else {
			println!("{}", human.as_ref());
		}
	}

	/// Prints what a finalized transaction did: its block and hashes, and `extra` fields.
	pub fn finalized(&self, what: &str, finalized: &Finalized, extra: Value) {
		let mut value = json!({
			"ok": true,
			"block": finalized.block_number,
			"block_hash": format!("{:?}", finalized.block_hash),
			"tx_hash": format!("{:?}", finalized.tx_hash),
		});
		if let (Value::Object(map), Value::Object(more)) = (&mut value, extra) {
			map.extend(more);
		}
		self.print(value, format!("{what} (finalized in block #{})", finalized.block_number));
	}

	/// A note for people on stderr; nothing in JSON mode.
	pub fn note(&self, line: impl AsRef<str>) {
		if !self.json {
			eprintln!("{}", line.as_ref());
		}
	}

	/// A warning on stderr, in JSON mode too: something went wrong and the command is riding it
	/// out (a lost node it is trying to reach again). Stdout stays one JSON value per result.
	pub fn warn(&self, line: impl AsRef<str>) {
		eprintln!("{}", line.as_ref());
	}

	/// Whether a progress bar belongs on stderr: text mode on a terminal.
	pub fn progress_bar(&self) -> bool {
		!self.json && std::io::IsTerminal::is_terminal(&std::io::stderr())
	}
}

/// An alert bound as people read it (`-` when there is none).
pub fn bound(bound: Option<i64>) -> String {
	bound.map(|b| decimal(b).to_string()).unwrap_or_else(|| "-".into())
}

/// Permission bits as names, e.g. `SUBMIT|READ`.
pub fn permission_names(bits: u8) -> String {
	let names: Vec<&str> = provena_primitives::permission::NAMED
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

pub use provena_client::display::reading_json;
