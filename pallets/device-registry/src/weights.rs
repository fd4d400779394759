//! NOT YET GENERATED. `scripts/benchmark-weights.sh` replaces this file with the weights the
//! benchmarks measure; until it has run, every call weighs zero and must not reach a live chain.

#![allow(missing_docs)]

use core::marker::PhantomData;
use frame_support::weights::Weight;

/// The weight of each call of `pallet_device_registry`, from its benchmarks.
pub trait WeightInfo {
	fn register() -> Weight;
	fn update_metadata() -> Weight;
	fn rotate_key() -> Weight;
	fn suspend() -> Weight;
	fn resume() -> Weight;
	fn decommission() -> Weight;
	fn offer_transfer() -> Weight;
	fn accept_transfer() -> Weight;
	fn cancel_transfer() -> Weight;
}

/// Placeholder until the benchmarks have run: zero for every call.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T> WeightInfo for SubstrateWeight<T> {
	fn register() -> Weight { Weight::zero() }
	fn update_metadata() -> Weight { Weight::zero() }
	fn rotate_key() -> Weight { Weight::zero() }
	fn suspend() -> Weight { Weight::zero() }
	fn resume() -> Weight { Weight::zero() }
	fn decommission() -> Weight { Weight::zero() }
	fn offer_transfer() -> Weight { Weight::zero() }
	fn accept_transfer() -> Weight { Weight::zero() }
	fn cancel_transfer() -> Weight { Weight::zero() }
}

impl WeightInfo for () {
	fn register() -> Weight { Weight::zero() }
	fn update_metadata() -> Weight { Weight::zero() }
	fn rotate_key() -> Weight { Weight::zero() }
	fn suspend() -> Weight { Weight::zero() }
	fn resume() -> Weight { Weight::zero() }
	fn decommission() -> Weight { Weight::zero() }
	fn offer_transfer() -> Weight { Weight::zero() }
	fn accept_transfer() -> Weight { Weight::zero() }
	fn cancel_transfer() -> Weight { Weight::zero() }
}
