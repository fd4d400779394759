// This file is part of Provena. Licensed under the Apache License, Version 2.0.

//! The runtime's database weights: what one storage read and one storage write cost on
//! ParityDB, measured by `provena-node benchmark storage`. DO NOT EDIT: run
//! `scripts/benchmark-weights.sh db` again instead.
//!
//! Generated on 2026-12-03 (Y/M/D) by frame-benchmarking-cli 64.0.0,
//! on host `vm`, CPU `Intel(R) Xeon(R) Processor`.
//! State: block `Number(30)` of a dev chain that `provena-bench` filled
//! (its accounts, devices, credits and anchors).
//! Database: `ParityDb`, state version 1, trie cache off,
//! 1 warm-up round(s).
//! Writes: committed 1000 keys at a time; a write costs its share of a commit.
//! Each weight: the Average over all keys,
//! × 1.0 + 0 ns.
//!
//! The command:
//! ```text
//! provena-node benchmark storage --chain dev --base-path <a temporary base path> --database paritydb --state-version 1 --batch-size 1000 --header scripts/weight-header.txt --template-path scripts/db-weight-template.hbs --weight-path runtime/src/weights 
//! ```

#![cfg_attr(rustfmt, rustfmt_skip)]

/// The measured weights, as `frame_system::Config::DbWeight` takes them.
pub mod constants {
	use frame_support::weights::constants;
	use sp_core::parameter_types;
	use sp_weights::RuntimeDbWeight;

	parameter_types! {
		/// One read and one write of a storage item on ParityDB, measured on this chain's state.
		pub const ParityDbWeight: RuntimeDbWeight = RuntimeDbWeight {
			// Reading one item (every key of the state, once), in ns:
			// min 695, max 3_703_540,
			// average 4_125, median 2_916,
			// standard deviation 58018.89;
			// percentiles 75th 3_226, 95th 3_801,
			// 99th 9_833.
			// Value sizes in bytes: min 0, max 4_823_428,
			// average 1_294.
			read: 4_125 * constants::WEIGHT_REF_TIME_PER_NANOS,
			// Writing one item (every key of the state, once), in ns:
			// min 4_941, max 13_465,
			// average 7_347, median 5_208,
			// standard deviation 3544.79;
			// percentiles 75th 5_776, 95th 13_465,
			// 99th 13_465.
			write: 7_347 * constants::WEIGHT_REF_TIME_PER_NANOS,
		};
	}

	#[cfg(test)]
	mod tests {
		use super::ParityDbWeight;
		use sp_weights::constants::{WEIGHT_REF_TIME_PER_MICROS, WEIGHT_REF_TIME_PER_MILLIS};

		/// A measurement gone wrong (a cached run, a stalled disk) shows as a weight outside
		/// 1 µs to 1 ms.
		#[test]
		fn measured_weights_are_plausible() {
			for (what, weight) in
				[("read", ParityDbWeight::get().reads(1)), ("write", ParityDbWeight::get().writes(1))]
			{
				let time = weight.ref_time();
				assert!(time >= WEIGHT_REF_TIME_PER_MICROS, "a {what} under 1 µs: {time}");
				assert!(time <= WEIGHT_REF_TIME_PER_MILLIS, "a {what} over 1 ms: {time}");
			}
		}
	}
}
