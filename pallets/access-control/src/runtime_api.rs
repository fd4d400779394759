//! The runtime API clients and Polkadot.js ask about access.

use crate::{DeviceId, Permissions, Scope};
use alloc::vec::Vec;
use codec::Codec;

sp_api::decl_runtime_apis! {
	/// Who may do what with a device, now.
	pub trait AccessControlApi<AccountId, Grant>
	where
		AccountId: Codec,
		Grant: Codec,
	{
		/// The permissions `who` holds on `device` at this block, directly or through the
		/// owner's groups; expired grants and grants of a former owner count for nothing.
		fn permissions(who: AccountId, device: DeviceId) -> Permissions;

		/// Every grant that applies to `device`: on the device itself and on its groups, with
		/// the scope each is on, live or expired.
		fn grants(device: DeviceId) -> Vec<(Scope, AccountId, Grant)>;
	}
}
