//! Nothing is stored for free, in the real runtime: an encryption key and an alert rule each
//! hold a deposit from whoever stored them. Before, both were written for the transaction fee
//! alone, so anyone could fill state with keys and rules that cost nothing to keep.
//!
//! These tests use only calls the runtime had before the deposits, so they ran (and failed) on
//! the code without them.

use frame_support::assert_ok;
use provena_primitives::telemetry::MetricName;
use provena_runtime::{AccessControl, AccountId, Balances, RuntimeOrigin, Telemetry};
use sp_keyring::Sr25519Keyring;

mod common;
use common::{dev_chain, thermometer_id};

fn reserved(who: &AccountId) -> u128 {
	Balances::reserved_balance(who)
}

#[test]
fn publishing_an_encryption_key_holds_a_deposit() {
	dev_chain().execute_with(|| {
		let eve = Sr25519Keyring::Eve.to_account_id();
		let before = reserved(&eve);
		assert_ok!(AccessControl::publish_encryption_key(
			RuntimeOrigin::signed(eve.clone()),
			[7; 32]
		));
		assert!(reserved(&eve) > before, "a published key holds nothing");
	});
}

#[test]
fn setting_an_alert_rule_holds_a_deposit() {
	dev_chain().execute_with(|| {
		let alice = Sr25519Keyring::Alice.to_account_id();
		let before = reserved(&alice);
		assert_ok!(Telemetry::set_alert_rule(
			RuntimeOrigin::signed(alice.clone()),
			thermometer_id(),
			MetricName::truncate_from(b"humidity_pct".to_vec()),
			None,
			Some(80_000),
		));
		assert!(reserved(&alice) > before, "an alert rule holds nothing");
		// Clearing it gives the deposit back.
		assert_ok!(Telemetry::clear_alert_rule(
			RuntimeOrigin::signed(alice.clone()),
			thermometer_id(),
			MetricName::truncate_from(b"humidity_pct".to_vec()),
		));
		assert_eq!(reserved(&alice), before);
	});
}
