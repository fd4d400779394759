//! PLACEHOLDER until `scripts/benchmark-weights.sh access-control` generates this file.

use core::marker::PhantomData;
use frame_support::weights::Weight;

/// Weight functions needed for `pallet_access_control`.
pub trait WeightInfo {
	fn create_group() -> Weight;
	fn add_to_group() -> Weight;
	fn remove_from_group() -> Weight;
	fn dissolve_group(m: u32) -> Weight;
	fn grant() -> Weight;
	fn revoke() -> Weight;
	fn remove_expired() -> Weight;
	fn publish_encryption_key() -> Weight;
}

/// Placeholder.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn create_group() -> Weight {
		Weight::zero()
	}
	fn add_to_group() -> Weight {
		Weight::zero()
	}
	fn remove_from_group() -> Weight {
		Weight::zero()
	}
	fn dissolve_group(_m: u32) -> Weight {
		Weight::zero()
	}
	fn grant() -> Weight {
		Weight::zero()
	}
	fn revoke() -> Weight {
		Weight::zero()
	}
	fn remove_expired() -> Weight {
		Weight::zero()
	}
	fn publish_encryption_key() -> Weight {
		Weight::zero()
	}
}
impl WeightInfo for () {
	fn create_group() -> Weight {
		Weight::zero()
	}
	fn add_to_group() -> Weight {
		Weight::zero()
	}
	fn remove_from_group() -> Weight {
		Weight::zero()
	}
	fn dissolve_group(_m: u32) -> Weight {
		Weight::zero()
	}
	fn grant() -> Weight {
		Weight::zero()
	}
	fn revoke() -> Weight {
		Weight::zero()
	}
	fn remove_expired() -> Weight {
		Weight::zero()
	}
	fn publish_encryption_key() -> Weight {
		Weight::zero()
	}
}
