// This file is part of Provena. Licensed under the Apache License, Version 2.0.

//! The runtime's database weights: what one storage read and one storage write cost on
//! ParityDB, measured by `provena-node benchmark storage`. DO NOT EDIT: run
//! `scripts/benchmark-weights.sh db` again instead.
//!
//! Generated on 2026-12-04 (Y/M/D) by frame-benchmarking-cli 64.0.0,
//! on host `vm`, CPU `AMD EPYC`.
//! State: block `Number(31)` of a dev chain that `provena-bench` filled
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
			// min 962, max 4_689_006,
			// average 6_109, median 4_499,
			// standard deviation 73403.87;
			// percentiles 75th 4_989, 95th 6_102,
			// 99th 20_338.
			// Value sizes in bytes: min 0, max 4_836_024,
			// average 1_278.
			read: 6_109 * constants::WEIGHT_REF_TIME_PER_NANOS,
			// Writing one item (every key of the state, once), in ns:
			// min 7_190, max 19_719,
			// average 10_936, median 8_068,
			// standard deviation 5101.35;
			// percentiles 75th 8_769, 95th 19_719,
			// 99th 19_719.
			write: 10_936 * constants::WEIGHT_REF_TIME_PER_NANOS,
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
