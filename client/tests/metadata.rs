//! The client's typed API is generated from `client/metadata/provena.scale`. This test fails when
//! that file is not what the current runtime serves, so a runtime change cannot silently leave the
//! client behind. `scripts/update-metadata.sh` (or `PROVENA_BLESS=1` on this test) rewrites it.

use codec::{Decode, Encode};

/// The metadata version the client is generated from.
const VERSION: u32 = 16;

#[tokio::test]
async fn the_checked_in_metadata_is_what_the_runtime_serves() {
	let node = provena_test_utils::Node::dev();
	let chain = provena_client::chain::Chain::connect(&node.url()).await.unwrap();
	let at = chain.finalized().await.unwrap();
	let reply = at
		.runtime_apis()
		.call_raw("Metadata_metadata_at_version", Some(&VERSION.encode()))
		.await
		.unwrap();
	let served: Option<Vec<u8>> = Decode::decode(&mut &reply[..]).unwrap();
	let served = served.unwrap_or_else(|| panic!("the runtime serves no v{VERSION} metadata"));

	let path = provena_test_utils::in_checkout("metadata/provena.scale");
	if std::env::var_os("PROVENA_BLESS").is_some() {
		std::fs::write(&path, &served).unwrap();
		eprintln!("wrote {} ({} bytes)", path.display(), served.len());
		return;
	}
	let checked_in = std::fs::read(&path).unwrap();
	assert!(
		checked_in == served,
		"{} ({} bytes) is not the metadata the runtime serves ({} bytes): run \
		 scripts/update-metadata.sh, then rebuild the client and fix what no longer compiles",
		path.display(),
		checked_in.len(),
		served.len()
	);

	// A transaction stays valid for `MORTALITY` blocks (at most the top of `MORTALITY_RANGE`)
	// after its birth block, whose hash the runtime must keep (`System::BlockHash`) that long.
	let kept = at
		.constants()
		.entry(provena_client::chain::api::constants().system().block_hash_count())
		.unwrap();
	assert!(
		u64::from(kept) >= *provena_client::chain::tx::MORTALITY_RANGE.end(),
		"the runtime keeps {kept} block hashes, fewer than the client's mortality"
	);
}
