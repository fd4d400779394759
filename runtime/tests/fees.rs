//! Block space is priced: every byte of an extrinsic pays, and the weight fee's multiplier
//! follows congestion. Before, a planck per byte and a constant multiplier made a block of
//! large remarks practically free however busy the chain was.

use frame_support::dispatch::DispatchClass;
use pallet_transaction_payment::Multiplier;
use provena_runtime::{Runtime, System, MICRO_UNIT};
use sp_runtime::{
	traits::{Convert, One},
	BuildStorage, FixedPointNumber, Perbill,
};

fn chain() -> sp_io::TestExternalities {
	frame_system::GenesisConfig::<Runtime>::default().build_storage().unwrap().into()
}

type FeeMultiplierUpdate = <Runtime as pallet_transaction_payment::Config>::FeeMultiplierUpdate;

/// The multiplier after a block whose normal extrinsics used `fullness` of their share.
fn after_block(previous: Multiplier, fullness: Perbill) -> Multiplier {
	let weights = <Runtime as frame_system::Config>::BlockWeights::get();
	let normal = weights.get(DispatchClass::Normal).max_total.expect("normal has a limit");
	System::set_block_consumed_resources(normal * fullness, 0);
	FeeMultiplierUpdate::convert(previous)
}

#[test]
fn every_byte_of_an_extrinsic_pays() {
	chain().execute_with(|| {
		let fee = pallet_transaction_payment::Pallet::<Runtime>::length_to_fee;
		assert_eq!(fee(1), MICRO_UNIT);
		assert_eq!(fee(100 * 1024), 100 * 1024 * MICRO_UNIT);
	});
}

#[test]
fn the_fee_multiplier_rises_with_full_blocks_and_rests_at_one() {
	chain().execute_with(|| {
		let one = Multiplier::one();
		// A block at the target (a quarter full) leaves it where it was.
		assert_eq!(after_block(one, Perbill::from_percent(25)), one);
		let first = after_block(one, Perbill::one());
		assert!(first > one, "{first:?}");
		// An hour of full blocks (600 of 6 s) raises it by a few percent.
		let mut multiplier = one;
		for _ in 0..600 {
			multiplier = after_block(multiplier, Perbill::one());
		}
		assert!(multiplier > first, "{multiplier:?}");
		assert!(multiplier < Multiplier::saturating_from_rational(11, 10), "{multiplier:?}");
		// Empty blocks bring it back down, never below the nominal fee.
		for _ in 0..10_000 {
			multiplier = after_block(multiplier, Perbill::zero());
		}
		assert_eq!(multiplier, one);
	});
}
