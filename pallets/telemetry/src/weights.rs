//! PLACEHOLDER until `scripts/benchmark-weights.sh telemetry` generates this file.

use core::marker::PhantomData;
use frame_support::weights::Weight;

/// Weight functions needed for `pallet_telemetry`.
pub trait WeightInfo {
	fn anchor(v: u32) -> Weight;
	fn anchor_batch(n: u32) -> Weight;
	fn set_alert_rule() -> Weight;
	fn clear_alert_rule() -> Weight;
}

/// Placeholder.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn anchor(_v: u32) -> Weight {
		Weight::zero()
	}
	fn anchor_batch(_n: u32) -> Weight {
		Weight::zero()
	}
	fn set_alert_rule() -> Weight {
		Weight::zero()
	}
	fn clear_alert_rule() -> Weight {
		Weight::zero()
	}
}
impl WeightInfo for () {
	fn anchor(_v: u32) -> Weight {
		Weight::zero()
	}
	fn anchor_batch(_n: u32) -> Weight {
		Weight::zero()
	}
	fn set_alert_rule() -> Weight {
		Weight::zero()
	}
	fn clear_alert_rule() -> Weight {
		Weight::zero()
	}
}
