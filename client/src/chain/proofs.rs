//! Building proof bundles from a node's answers: the log proofs (`provena_proof`), a storage
//! proof of the device's record (`state_getReadProof`), headers (`chain_getHeader`) and GRANDPA
//! finality proofs (`provena_finalityProof`, which answers as `grandpa_proveFinality` does).
//! Nothing the node says is believed here; the bundle is checked by [`crate::bundle::verify`]
//! like any other.

use super::{device_hex, Chain, RawProof};
use crate::{
	bundle::{device_state_key, scheduled_change, Bundle, Header},
	readings::Record,
	Error,
};
use codec::{Decode, Encode};
use provena_primitives::{telemetry::Reading, DeviceId};
use subxt::{rpcs::rpc_params, utils::H256};

/// GRANDPA's finality proof as `provena_finalityProof` (and `grandpa_proveFinality`) encode it.
#[derive(Decode)]
struct FinalityProof {
	/// The block the justification finalizes.
	block: H256,
	/// The SCALE-encoded justification.
	justification: Vec<u8>,
	/// The headers after the block asked for, up to `block`.
	unknown_headers: Vec<Header>,
}

impl Chain {
	/// The header of the block with `hash`, as its SCALE bytes decode, checked to hash to it.
	pub async fn header(&self, hash: H256) -> Result<Header, Error> {
		let header =
			self.rpc.chain_get_header(Some(hash)).await.map_err(|e| self.lost(e))?.ok_or_else(
				|| Error::Node(format!("{} has no header for block {hash:?}", self.url)),
			)?;
		let header = Header::decode(&mut &header.encode()[..])
			.map_err(|e| Error::Node(format!("a header does not decode: {e}")))?;
		if sp_runtime::traits::Header::hash(&header) != hash {
			return Err(Error::Node(format!("{} served a header that is not {hash:?}", self.url)));
		}
		Ok(header)
	}

	/// GRANDPA's finality proof for block `number` (which must be final): the justification of
	/// the last block of its authority set, or the node's latest justification if its set is
	/// the current one, with the headers after `number` up to the justified block if `headers`.
	async fn prove_finality(&self, number: u32, headers: bool) -> Result<FinalityProof, Error> {
		let params = rpc_params![number, headers];
		let encoded: String =
			self.raw.request("provena_finalityProof", params).await.map_err(|e| match e {
				subxt::rpcs::Error::User(e) => Error::Node(format!(
					"{} cannot prove the finality of block #{number}: {} (code {})",
					self.url, e.message, e.code
				)),
				e => self.lost(e),
			})?;
		let bytes = hex::decode(encoded.trim_start_matches("0x"))
			.map_err(|e| Error::Node(format!("a finality proof is not hex: {e}")))?;
		FinalityProof::decode(&mut &bytes[..])
			.map_err(|e| Error::Node(format!("a finality proof does not decode: {e}")))
	}

	/// A proof bundle for `readings` of `device` (each with its Merkle path in its anchor),
	/// which must all be anchored and final: their records and log proofs at the finalized
	/// head, a storage proof of the device's record there, the headers to the block the node's
	/// GRANDPA justification finalizes, and every authority set change since genesis.
	pub async fn proof_bundle(
		&self,
		device: DeviceId,
		readings: &[(Reading, Vec<H256>)],
	) -> Result<Bundle, Error> {
		for (reading, _) in readings {
			check_utf8(reading)?;
		}
		// The records covering the readings, all at the block of the first answer.
		let mut at: Option<H256> = None;
		let mut records: Vec<(Record, Vec<H256>)> = Vec::new();
		let mut placed = Vec::new();
		for (reading, path) in readings {
			let seq = reading.seq;
			let known = records.iter().position(|(record, _)| record.covers(seq));
			let index = match known {
				Some(index) => index,
				None => {
					let params = rpc_params![device_hex(&device), seq, at];
					let raw = self
						.log_call::<RawProof>("provena_proof", params)
						.await?
						.ok_or_else(|| {
							Error::input(format!(
								"reading {seq} is not anchored in a finalized block yet"
							))
						})?;
					at.get_or_insert(raw.at);
					records.push((raw.record.decode()?, raw.log_proof));
					records.len() - 1
				},
			};
			placed.push((reading.clone(), path.clone(), index as u32));
		}
		let at = at.ok_or_else(|| Error::input("a proof bundle needs at least one reading"))?;
		let state_header = self.header(at).await?;
		let key = device_state_key(&device);
		let read = self
			.rpc
			.state_get_read_proof([key.as_slice()], Some(at))
			.await
			.map_err(|e| self.lost(e))?;
		let state_proof: Vec<Vec<u8>> = read.proof.into_iter().map(|node| node.0).collect();

		// The authority set changes up to the state block's set: the justification of each
		// earlier set's last block, which schedules the next set.
		let number = state_header.number;
		let mut set_changes = Vec::new();
		let mut from = 1u32;
		let finality = loop {
			// Without the headers between: a set can be long, and only its last block is needed.
			let proof = self.prove_finality(from.min(number), false).await?;
			let justified = self.header(proof.block).await?;
			if justified.number >= number {
				// The state block's own set: ask again from the state block, with the headers
				// up to the justified block.
				break self.prove_finality(number, true).await?;
			}
			// An earlier block justified for an earlier set must be that set's last block,
			// which schedules the next set.
			if scheduled_change(&justified).is_none() {
				return Err(Error::Node(format!(
					"{} proved block #{from} final with a justification of #{}, which is neither \
					 at or after the state block #{number} nor the end of an authority set; try \
					 again",
					self.url, justified.number
				)));
			}
			from = justified.number.saturating_add(1);
			set_changes.push((justified, proof.justification));
		};
		Ok(Bundle::new(
			self.genesis_hash(),
			device,
			&placed,
			&records,
			&state_header,
			&state_proof,
			&finality.unknown_headers,
			&finality.justification,
			&set_changes,
		))
	}
}

/// A bundle writes metric names as text: refuse one that is not UTF-8 rather than alter it.
fn check_utf8(reading: &Reading) -> Result<(), Error> {
	for value in &reading.values {
		if std::str::from_utf8(&value.metric).is_err() {
			return Err(Error::input(format!(
				"reading {} has a metric name that is not UTF-8: a proof bundle cannot carry it",
				reading.seq
			)));
		}
	}
	Ok(())
}
