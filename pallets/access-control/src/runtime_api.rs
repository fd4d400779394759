//! The runtime API clients and Polkadot.js ask about access.

use crate::{DeviceId, GrantsPage, Permissions, Scope};
use codec::Codec;

sp_api::decl_runtime_apis! {
	/// Who may do what with a device, now.
	///
	/// Version 2: `grants` answers a page at a time. Version 3: `key_epoch`.
	#[api_version(3)]
	pub trait AccessControlApi<AccountId, Grant>
	where
		AccountId: Codec,
		Grant: Codec,
	{
		/// The permissions `who` holds on `device` at this block, directly or through the
		/// owner's groups; expired grants and grants of a former owner count for nothing.
		fn permissions(who: AccountId, device: DeviceId) -> Permissions;

		/// The grants that apply to `device` in its current ownership epoch, live or expired,
		/// with the scope each is on: on the device itself, then on each of its groups. At most
		/// `limit` grants are looked at per call (capped at [`crate::MAX_GRANTS_PAGE`]); pass the
		/// answer's `next` as `after` for the following page, until `next` is `None`.
		fn grants(
			device: DeviceId,
			after: Option<(Scope, AccountId)>,
			limit: u32,
		) -> GrantsPage<AccountId, Grant>;

		/// The data-key epoch in force for `device` at this block: payloads are encrypted
		/// under its key, and readers are given that key. `None` for a device never
		/// registered.
		fn key_epoch(device: DeviceId) -> Option<u32>;
	}
}
