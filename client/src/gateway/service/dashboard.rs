//! What the gateway serves its dashboard: the dashboard's files (`--dashboard DIR`, the output
//! of `npm run build` in `dashboard/`) under `/dashboard/`, and a read API over the store.
//!
//! - `GET /v1/info`: the chain's genesis, the node URL the dashboard's browser connects to for
//!   chain state, and the silence threshold.
//! - `GET /v1/devices`: every device with readings in the store: sequence range, readings
//!   stored, in final anchors, pending, refused and not yet batched, sequence numbers that
//!   never arrived, when the gateway last heard from it and whether it is reported silent.
//! - `GET /v1/devices/<device>`: the same for one device, with the holes in its sequence
//!   numbers (`?holes=N`, newest first) and its newest anchors (`?anchors=N`) with their
//!   blocks and Merkle roots.
//! - `GET /v1/devices/<device>/readings`: its newest readings (`?newest=N`, default 500), or
//!   those after a sequence number (`?after=SEQ&limit=N`, what a live view polls), the oldest
//!   first, each with its values as decimals and where its anchor stands.
//! - `GET /v1/devices/<device>/readings/<seq>/proof`: the reading's proof bundle (see
//!   `docs/proof-bundle.md`), which `provena verify --bundle` checks offline; `409` until the
//!   reading is in a finalized anchor.
//!
//! The store holds readings in the clear, so with `--http-token-file` every `/v1` `GET` needs
//! the token too (the dashboard asks for it once and keeps it for the browser tab), and a
//! gateway listening beyond loopback without a token serves no readings at all. The
//! dashboard's files hold no data and are served to anyone.

use super::{json_answer as answer, json_error as refuse, Shared, StatusCode};
use crate::{
	display::reading_json,
	error::with_causes,
	parse_device, show_device,
	store::{AnchorState, DeviceSummary, Store, Window},
	Error,
};
use axum::{
	extract::{Path, RawQuery, State},
	http::{header, HeaderMap},
	response::{IntoResponse, Response},
	routing::get,
	Router,
};
use provena_primitives::DeviceId;
use serde_json::{json, Value};
use std::{path::PathBuf, sync::Arc, time::Duration};

/// The dashboard as the gateway serves it.
#[derive(Clone, Debug)]
pub struct DashboardOptions {
	/// The built dashboard (`dashboard/dist`), if the gateway serves it.
	pub dir: Option<PathBuf>,
	/// The node's WebSocket URL as the dashboard's browser reaches it.
	pub node_url: String,
}

/// Readings one request returns at most.
const MAX_READINGS: u32 = 5_000;
/// Readings returned when the request does not say.
const DEFAULT_READINGS: u32 = 500;
/// Anchors or holes one request returns at most.
const MAX_ROWS: u32 = 500;

/// The read API and, with a directory, the dashboard's files.
pub(super) fn routes(options: &DashboardOptions) -> Router<Arc<Shared>> {
	let api = Router::new()
		.route("/v1/info", get(info))
		.route("/v1/devices", get(devices))
		.route("/v1/devices/{device}", get(device))
		.route("/v1/devices/{device}/readings", get(readings))
		.route("/v1/devices/{device}/readings/{seq}/proof", get(proof));
	match &options.dir {
		Some(_) => api
			.route("/", get(|| async { axum::response::Redirect::to("/dashboard/") }))
			.route("/dashboard", get(|| async { axum::response::Redirect::to("/dashboard/") }))
			.route(
				"/dashboard/",
				get(|state: State<Arc<Shared>>| file(state, Path("index.html".to_string()))),
			)
			.route("/dashboard/{file}", get(file)),
		None => api,
	}
}

/// A request refused: the status and the reason, answered as JSON.
#[derive(Debug)]
struct Refused(StatusCode, String);

impl IntoResponse for Refused {
	fn into_response(self) -> Response {
		refuse(self.0, self.1)
	}
}

/// A store or node failure as the answer to give.
fn failed(error: &Error) -> Refused {
	let status = match error {
		Error::Input { .. } => StatusCode::CONFLICT,
		_ => StatusCode::SERVICE_UNAVAILABLE,
	};
	Refused(status, with_causes(error))
}

/// The numbers a query string gives (`a=1&b=2`), or which one is not a number.
fn numbers(query: Option<&str>, allowed: &[&str]) -> Result<Vec<(String, u64)>, Refused> {
	let mut out = Vec::new();
	for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
		let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
		if !allowed.contains(&key) {
			return Err(Refused(
				StatusCode::BAD_REQUEST,
				format!("unknown parameter `{key}`; this takes {}", allowed.join(", ")),
			));
		}
		let Ok(number) = value.parse::<u64>() else {
			return Err(Refused(
				StatusCode::BAD_REQUEST,
				format!("`{key}` takes a whole number, not `{value}`"),
			));
		};
		out.push((key.to_string(), number));
	}
	Ok(out)
}

fn number(numbers: &[(String, u64)], key: &str) -> Option<u64> {
	numbers.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v)
}

/// The device a path names, or the `400` to answer.
fn device_of(text: &str) -> Result<DeviceId, Refused> {
	parse_device(text).map_err(|e| Refused(StatusCode::BAD_REQUEST, e.to_string()))
}

/// The device a path names and the numbers its query gives, or the `400` to answer.
fn device_query(
	device: &str,
	query: Option<&str>,
	allowed: &[&str],
) -> Result<(DeviceId, Vec<(String, u64)>), Refused> {
	Ok((device_of(device)?, numbers(query, allowed)?))
}

impl Shared {
	/// `None` if the request may read the store, else the answer to give: a page of another
	/// site is refused; with a token, the request must carry it; without one, only a gateway
	/// listening on loopback serves its readings (anyone who reaches another address could
	/// read them all), and only to requests that name it by its address.
	fn refuse_read(&self, headers: &HeaderMap) -> Option<Response> {
		if self.token.is_none() && !self.http_loopback {
			return Some(refuse(
				StatusCode::FORBIDDEN,
				"this gateway listens beyond loopback without --http-token-file, so it serves \
				 no readings: give it a token file (the dashboard asks for the token)",
			));
		}
		self.refuse_request(headers, true)
	}

	/// How long ago the gateway last heard from `device` (since it started), and whether it
	/// reports it silent.
	fn heard_of(&self, device: &DeviceId) -> (Option<Duration>, bool) {
		let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
		match seen.get(device) {
			Some((last, silent)) => (Some(last.elapsed()), *silent),
			None => (None, false),
		}
	}

	fn summary_json(&self, summary: &DeviceSummary) -> Value {
		let (heard, silent) = self.heard_of(&summary.device);
		json!({
			"device": show_device(&summary.device),
			"first_seq": summary.first_seq,
			"last_seq": summary.last_seq,
			"last_reading_ms": summary.last_reading_ms,
			"stored": summary.stored,
			"missing": summary.missing(),
			"finalized": summary.finalized,
			"pending": summary.pending,
			"failed": summary.failed,
			"unbatched": summary.unbatched,
			"last_heard_s": heard.map(|d| d.as_secs()),
			"silent": silent,
		})
	}
}

fn anchor_json(state: &AnchorState) -> Value {
	json!({
		"id": state.id,
		"status": state.status.as_str(),
		"block_number": state.block.map(|(n, _)| n),
		"block_hash": state.block.map(|(_, h)| format!("{h:?}")),
	})
}

/// Runs `read` on the dashboard's store connection.
async fn with_store<T>(
	shared: &Shared,
	read: impl FnOnce(&Store) -> Result<T, Error>,
) -> Result<T, Refused> {
	let store = shared.view.lock().await;
	read(&store).map_err(|e| failed(&e))
}

async fn info(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
	if let Some(refused) = shared.refuse_read(&headers) {
		return refused;
	}
	answer(
		StatusCode::OK,
		json!({
			"genesis": format!("{:?}", shared.chain.borrow().genesis_hash()),
			"node_url": shared.dashboard.node_url,
			"silent_after_s": shared.silent_after.map(|d| d.as_secs()),
			"version": env!("CARGO_PKG_VERSION"),
		}),
	)
}

async fn devices(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
	if let Some(refused) = shared.refuse_read(&headers) {
		return refused;
	}
	match with_store(&shared, Store::device_summaries).await {
		Ok(summaries) => {
			let list: Vec<Value> = summaries.iter().map(|s| shared.summary_json(s)).collect();
			answer(StatusCode::OK, json!({ "devices": list }))
		},
		Err(refused) => refused.into_response(),
	}
}

async fn device(
	State(shared): State<Arc<Shared>>,
	Path(device): Path<String>,
	RawQuery(query): RawQuery,
	headers: HeaderMap,
) -> Response {
	if let Some(refused) = shared.refuse_read(&headers) {
		return refused;
	}
	let (device, query) = match device_query(&device, query.as_deref(), &["holes", "anchors"]) {
		Ok(parsed) => parsed,
		Err(refused) => return refused.into_response(),
	};
	let holes = number(&query, "holes").unwrap_or(50).min(MAX_ROWS as u64) as u32;
	let anchors = number(&query, "anchors").unwrap_or(20).min(MAX_ROWS as u64) as u32;
	let read = with_store(&shared, |store| {
		let summary = store.device_summary(&device)?;
		Ok((summary, store.holes(&device, holes)?, store.recent_anchors(&device, anchors)?))
	})
	.await;
	let (summary, holes, anchors) = match read {
		Ok((Some(summary), holes, anchors)) => (summary, holes, anchors),
		Ok((None, ..)) => {
			return refuse(
				StatusCode::NOT_FOUND,
				format!("this gateway has no readings of device {}", show_device(&device)),
			)
		},
		Err(refused) => return refused.into_response(),
	};
	let mut body = shared.summary_json(&summary);
	body["holes"] = holes.iter().map(|(from, to)| json!({ "from": from, "to": to })).collect();
	body["anchors"] = anchors
		.iter()
		.map(|a| {
			let mut row = anchor_json(&a.state);
			row["first_seq"] = json!(a.first_seq);
			row["count"] = json!(a.count);
			row["root"] = json!(format!("{:?}", a.root));
			row["error"] = json!(a.error);
			row
		})
		.collect();
	answer(StatusCode::OK, body)
}

async fn readings(
	State(shared): State<Arc<Shared>>,
	Path(device): Path<String>,
	RawQuery(query): RawQuery,
	headers: HeaderMap,
) -> Response {
	if let Some(refused) = shared.refuse_read(&headers) {
		return refused;
	}
	let (device, query) =
		match device_query(&device, query.as_deref(), &["newest", "after", "limit"]) {
			Ok(parsed) => parsed,
			Err(refused) => return refused.into_response(),
		};
	let cap = |n: u64| n.clamp(1, MAX_READINGS as u64) as u32;
	let window = match (number(&query, "after"), number(&query, "newest")) {
		(Some(_), Some(_)) => {
			return refuse(StatusCode::BAD_REQUEST, "give either `newest` or `after`, not both")
		},
		(Some(after), None) => Window::After(after, cap(number(&query, "limit").unwrap_or(500))),
		(None, newest) => Window::Newest(cap(newest.unwrap_or(DEFAULT_READINGS as u64))),
	};
	match with_store(&shared, |store| store.readings_of(&device, window)).await {
		Ok(rows) => {
			let list: Vec<Value> = rows
				.iter()
				.map(|row| {
					let mut value = reading_json(&row.reading);
					value["anchor"] = row.anchor.as_ref().map_or(Value::Null, anchor_json);
					value
				})
				.collect();
			answer(StatusCode::OK, json!({ "device": show_device(&device), "readings": list }))
		},
		Err(refused) => refused.into_response(),
	}
}

async fn proof(
	State(shared): State<Arc<Shared>>,
	Path((device, seq)): Path<(String, String)>,
	headers: HeaderMap,
) -> Response {
	if let Some(refused) = shared.refuse_read(&headers) {
		return refused;
	}
	let device = match device_of(&device) {
		Ok(device) => device,
		Err(refused) => return refused.into_response(),
	};
	let Ok(seq) = seq.parse::<u64>() else {
		return refuse(StatusCode::BAD_REQUEST, format!("`{seq}` is not a sequence number"));
	};
	let stored = match with_store(&shared, |store| store.reading(&device, seq)).await {
		Ok(Some(stored)) => stored,
		Ok(None) => {
			return refuse(
				StatusCode::NOT_FOUND,
				format!("reading {seq} of device {} is not in this store", show_device(&device)),
			)
		},
		Err(refused) => return refused.into_response(),
	};
	let Some(path) = stored.proof else {
		return refuse(
			StatusCode::CONFLICT,
			format!("reading {seq} is not in an anchor yet; it has no proof until it is final"),
		);
	};
	let chain = shared.chain.borrow().clone();
	match chain.proof_bundle(device, &[(stored.reading, path)]).await {
		Ok(bundle) => match serde_json::to_string_pretty(&bundle) {
			Ok(text) => {
				let name = format!(
					"attachment; filename=\"provena-proof-{}-{seq}.json\"",
					&show_device(&device)[..10]
				);
				(
					StatusCode::OK,
					[
						(header::CONTENT_TYPE, "application/json".to_string()),
						(header::CONTENT_DISPOSITION, name),
					],
					text,
				)
					.into_response()
			},
			Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, format!("a bundle: {e}")),
		},
		Err(error) => failed(&error).into_response(),
	}
}

/// The content type of a dashboard file, by its extension; `None` for anything else.
fn content_type(name: &str) -> Option<&'static str> {
	Some(match name.rsplit_once('.')?.1 {
		"html" => "text/html; charset=utf-8",
		"js" | "mjs" => "text/javascript; charset=utf-8",
		"css" => "text/css; charset=utf-8",
		"svg" => "image/svg+xml",
		"png" => "image/png",
		"json" | "map" => "application/json",
		"txt" => "text/plain; charset=utf-8",
		"wasm" => "application/wasm",
		_ => return None,
	})
}

/// A file of the dashboard's directory: a plain name (no path, no leading dot) with a known
/// extension, served with headers that keep the page to its own origin's scripts.
async fn file(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
	let Some(dir) = &shared.dashboard.dir else {
		return refuse(StatusCode::NOT_FOUND, "this gateway serves no dashboard");
	};
	let plain = !name.starts_with('.')
		&& name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
	let (true, Some(kind)) = (plain, content_type(&name)) else {
		return refuse(StatusCode::NOT_FOUND, format!("no dashboard file `{name}`"));
	};
	// Small files read whole; the page loads four of them.
	match std::fs::read(dir.join(&name)) {
		Ok(bytes) => (
			StatusCode::OK,
			[
				(header::CONTENT_TYPE, kind),
				(header::CACHE_CONTROL, "no-cache"),
				(header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
				(header::REFERRER_POLICY, "no-referrer"),
				(header::X_FRAME_OPTIONS, "DENY"),
				(
					header::CONTENT_SECURITY_POLICY,
					"default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
					 connect-src 'self' ws: wss:; img-src 'self' data: blob:; \
					 style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
				),
			],
			bytes,
		)
			.into_response(),
		Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
			refuse(StatusCode::NOT_FOUND, format!("no dashboard file `{name}`"))
		},
		Err(e) => refuse(
			StatusCode::INTERNAL_SERVER_ERROR,
			format!("cannot read {}: {e}", dir.join(&name).display()),
		),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn only_plain_names_with_known_extensions_are_dashboard_files() {
		assert_eq!(content_type("index.html"), Some("text/html; charset=utf-8"));
		assert_eq!(content_type("app.js"), Some("text/javascript; charset=utf-8"));
		assert_eq!(content_type("gateway.db"), None);
		assert_eq!(content_type("README"), None);
	}

	#[test]
	fn query_numbers_are_whole_and_named() {
		let parsed = numbers(Some("after=5&limit=10"), &["after", "limit"]).unwrap();
		assert_eq!(number(&parsed, "after"), Some(5));
		assert_eq!(number(&parsed, "limit"), Some(10));
		assert!(numbers(Some("after=-1"), &["after"]).is_err());
		assert!(numbers(Some("sql=1"), &["after"]).is_err());
		assert!(numbers(None, &["after"]).unwrap().is_empty());
	}
}
