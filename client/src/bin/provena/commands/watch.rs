//! `provena watch`: finalized blocks as they come, with every Provena event (alerts
//! highlighted).

use crate::context::Context;
use anyhow::Result;
use clap::Args;
use provena_client::{chain::api, display::to_json};
use serde_json::json;
use subxt::ext::scale_value::{Composite, Value, ValueDef};

/// Follow finalized blocks and print Provena events (alerts highlighted).
#[derive(Args, Debug)]
pub struct Watch {
	/// Stop after this many finalized blocks (default: run until Ctrl-C).
	#[arg(long)]
	blocks: Option<u64>,
}

/// Runs `provena watch`.
pub async fn run(ctx: &Context, args: Watch) -> Result<()> {
	let chain = ctx.connect().await?;
	// The stream opens with some blocks finalized before now (the node's recent history):
	// following starts at the finalized head, and `--blocks` counts from there.
	let from = chain.finalized().await?.block_number();
	let mut blocks = chain.client.stream_blocks().await.map_err(|e| chain.lost(e))?;
	let mut seen = 0;
	let color = !ctx.out.json && std::io::IsTerminal::is_terminal(&std::io::stdout());
	ctx.out.note(format!("Following finalized blocks of {} (Ctrl-C stops)", chain.url));
	while let Some(block) = blocks.next().await {
		let block = block.map_err(|e| chain.lost(e))?;
		let number = block.number();
		if number < from {
			continue;
		}
		let at = block.at().await.map_err(|e| chain.lost(e))?;
		let events = at.events().fetch().await.map_err(|e| chain.lost(e))?;
		for event in events.iter() {
			let event = event.map_err(|e| provena_client::Error::metadata("an event", e))?;
			let typed = event
				.decode_as::<api::Event>()
				.map_err(|e| provena_client::Error::metadata("an event", e))?;
			let alert =
				matches!(typed, api::Event::Telemetry(api::telemetry::Event::AlertRaised { .. }));
			if !matches!(
				typed,
				api::Event::DeviceRegistry(_)
					| api::Event::Telemetry(_)
					| api::Event::AccessControl(_)
			) {
				continue;
			}
			let fields = event
				.decode_fields_unchecked_as::<Composite<()>>()
				.map(|fields| to_json(&Value { value: ValueDef::Composite(fields), context: () }))
				.unwrap_or_default();
			let (pallet, name) = (event.pallet_name(), event.event_name());
			if ctx.out.json {
				println!(
					"{}",
					json!({ "block": number, "pallet": pallet, "event": name, "fields": fields })
				);
			} else if alert {
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
