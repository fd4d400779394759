//! The Provena events of a finalized transaction, decoded as the runtime's typed events.

use super::{api, tx::dispatch_error, Finalized};
use crate::{readings::Record, show_device, Error};
use provena_primitives::telemetry::Seq;

/// What the chain said about anchors and readings, for people and for tests.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ChainEvent {
	/// An anchor was stored.
	Anchored {
		/// The device, `0x`-hex.
		device: String,
		/// The device's anchor number.
		index: u64,
		/// Its first sequence number.
		first_seq: Seq,
		/// How many readings it commits.
		count: u32,
		/// The finalized block.
		block: u64,
	},
	/// Readings that never arrived.
	SequenceGap {
		/// The device.
		device: String,
		/// The first missing sequence number.
		from: Seq,
		/// The last missing one.
		to: Seq,
		/// The block.
		block: u64,
	},
	/// A public value broke an alert rule.
	AlertRaised {
		/// The device.
		device: String,
		/// The reading's sequence number.
		seq: Seq,
		/// The metric.
		metric: String,
		/// The value, in thousandths.
		value: i64,
		/// The rule's lower bound.
		min: Option<i64>,
		/// The rule's upper bound.
		max: Option<i64>,
		/// The block.
		block: u64,
	},
	/// The chain refused an anchor.
	AnchorRejected {
		/// The device.
		device: String,
		/// Its first sequence number.
		first_seq: Seq,
		/// The chain's reason, as `Pallet.Error`.
		error: String,
	},
}

/// What an anchoring transaction did to its anchors.
#[derive(Debug, Default)]
pub struct Outcomes {
	/// For each anchor, in call order, the chain's reason if it refused it (an
	/// [`Error::Dispatch`]).
	pub refused: Vec<Option<Error>>,
	/// What the chain said about the anchors it kept.
	pub said: Vec<ChainEvent>,
	/// The records the devices' logs made of the anchors it kept.
	pub records: Vec<Record>,
}

/// What an anchoring transaction of `count` anchors did (see [`Outcomes`]).
pub fn anchor_outcomes(finalized: &Finalized, count: usize) -> Result<Outcomes, Error> {
	let mut refused: Vec<Option<Error>> = (0..count).map(|_| None).collect();
	if finalized.dispatch_error()?.is_some() {
		// The whole call failed: every anchor in it was refused for the same reason.
		for slot in refused.iter_mut() {
			*slot = finalized.dispatch_error()?;
		}
		return Ok(Outcomes { refused, ..Default::default() });
	}
	let block = finalized.block_number;
	let (mut said, mut records) = (Vec::new(), Vec::new());
	for event in finalized.events.iter() {
		let event = event.map_err(|e| Error::metadata("an event", e))?;
		let decoded = event.decode_as::<api::Event>().map_err(|e| {
			Error::metadata(format!("{}.{}", event.pallet_name(), event.event_name()), e)
		})?;
		use api::telemetry::Event as T;
		let api::Event::Telemetry(telemetry) = decoded else { continue };
		match telemetry {
			T::AnchorRejected { position, error, .. } => {
				if let Some(slot) = refused.get_mut(position as usize) {
					*slot = Some(dispatch_error(&finalized.metadata, &error));
				}
			},
			T::Anchored { record } => {
				let record = record.0;
				said.push(ChainEvent::Anchored {
					device: show_device(&record.device),
					index: record.index,
					first_seq: record.first_seq,
					count: record.count,
					block,
				});
				records.push(record);
			},
			T::SequenceGap { device, from, to, .. } => {
				said.push(ChainEvent::SequenceGap {
					device: show_device(&device),
					from,
					to,
					block,
				});
			},
			T::AlertRaised { device, seq, metric, value, min, max, .. } => {
				said.push(ChainEvent::AlertRaised {
					device: show_device(&device),
					seq,
					metric: String::from_utf8_lossy(&metric.0).into_owned(),
					value,
					min,
					max,
					block,
				});
			},
			_ => {},
		}
	}
	Ok(Outcomes { refused, said, records })
}
