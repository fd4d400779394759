//! # Access control
//!
//! Who may do what with whose devices, until when — enforced where data is written, and sealed
//! cryptographically where it is read.
//!
//! ## Overview
//!
//! A device's owner gives **grants**: a grantee receives permissions (SUBMIT, READ, MANAGE,
//! DELEGATE) on a **scope** — one device, or a **group** of the owner's devices (a hospital
//! ward, a shipment) — optionally until a block. Telemetry asks this pallet, through
//! [`DevicePermissions`], whether an account may anchor for a device or manage its rules, so a
//! SUBMIT grant really lets a gateway anchor and revoking it (or its expiry) really stops it.
//!
//! READ is enforced by encryption: accounts publish an x25519 public key, and each reader of a
//! device is given the device's data key sealed to that key ([`SealedKeys`]). Only the reader
//! can open it.
//!
//! ## Data-key epochs
//!
//! A device's data key changes **epoch** whenever someone loses READ on it, so that what is
//! encrypted afterwards needs a key the lost reader is never given. [`KeyEpochs`] stores the
//! epoch; [`Pallet::key_epoch`] (and the `key_epoch` runtime API) answers the one in force:
//! - revoking a READ grant, replacing one with a grant without READ, and taking a device out
//!   of a group with grants start the next epoch at once (`KeyEpochStarted`);
//! - an epoch ends by itself at the earliest end of the READ grants of the readers its key was
//!   sealed to (a narrowed grant brings that end forward), and when the device changes owner;
//! - `seal_key` gives a live reader the key of the epoch in force and nothing else, and
//!   `rotate_data_key` starts a new epoch on purpose.
//!
//! The keys themselves never touch the chain in the clear: the client derives them from the
//! owner's secret, so that a key opens its epoch and every earlier one, and no later one.
//!
//! Every grant, revocation, cleanup and group change is an event: the access history is itself
//! on-chain and immutable.
//!
//! ## Delegation without escalation
//!
//! - The owner may grant anything, on the device or on their groups.
//! - A MANAGE grantee may grant and revoke SUBMIT and READ within its scope, never beyond its
//!   MANAGE grant's expiry.
//! - MANAGE can be passed on only by a grantee whose MANAGE grant also carries DELEGATE, and
//!   DELEGATE only by the owner, only together with MANAGE.
//! - Each of a manager's MANAGE grants (on the device, or on a group of it) is a limit of its
//!   own: what a manager gives must fit within one of them. Grants without MANAGE lend no
//!   authority, neither their end nor their flags.
//! - A manager can neither replace nor revoke a grant it could not give.
//! - A grant on a device, and a device's place in a group, count only in the device's
//!   ownership epoch they were given in: a transfer ends the old owner's grants and group
//!   memberships for good, even if the device later comes back. The old owner's memberships
//!   give way (and their deposits go back) when the new owner puts the device in a group.
//! - From its expiry block on, a grant authorizes nothing, cleaned up or not.
//! - A grant that can never count again is **stale**: expired, on a decommissioned device, or
//!   from an earlier ownership epoch. Anyone may remove it, and its deposit returns to whoever
//!   paid it, so nothing stays locked.
//!
//! ## Terminology
//!
//! - **Scope**: a device, or a group of devices ([`Scope`]).
//! - **Grant**: permissions on a scope for one grantee ([`Grant`]).
//! - **Deposit**: held with [`HoldReason::AccessDeposit`] for every grant, every sealed key
//!   (per byte), every group (base + per member) and every published encryption key, released
//!   on revoke, cleanup, removal, dissolution or withdrawal.

#![cfg_attr(not(feature = "std"), no_std)]
// Code that runs in a block must never panic (STYLE.md 12): outside tests, clippy refuses
// unwrap, unchecked indexing and overflowing arithmetic; scripts/check-panics.py refuses expect.
#![cfg_attr(
	not(test),
	deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

extern crate alloc;

pub use pallet::*;
pub use provena_primitives::{
	DeviceId, DeviceInfo, DevicePermissions, DeviceStatus, GrantPath, InspectDevice,
};
pub use types::{
	EpochKey, Grant, GrantsPage, Group, GroupId, KeyEpoch, Membership, Permissions, PublishedKey,
	Scope, SealedKey,
};
pub use weights::WeightInfo;

/// The bytes a sealed key's entry takes besides the sealed key itself (its epoch, sealer,
/// deposit and storage key), which its deposit counts too.
pub const SEALED_KEY_ENTRY_BYTES: u32 = 128;

/// The most grants one call of the `grants` runtime API looks at.
pub const MAX_GRANTS_PAGE: u32 = 256;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod model_tests;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

/// What benchmarks need from the runtime: registered devices that change owner.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Registers `device` for `owner` (funding `owner` as needed).
	fn register_device(owner: &AccountId, device: DeviceId);
	/// Hands `device` to `to` as an accepted transfer does (funding `to` as needed).
	fn transfer_device(device: DeviceId, to: &AccountId);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::Precision,
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::{Saturating, Zero};

	/// The balance type deposits are held in.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

	/// A grant as this runtime stores it.
	pub type GrantOf<T> =
		Grant<<T as frame_system::Config>::AccountId, BlockNumberFor<T>, BalanceOf<T>>;

	/// A sealed data key of one epoch, as a call carries it.
	pub type EpochKeyOf<T> = EpochKey<<T as Config>::MaxSealedKeyLen>;

	/// A reader's sealed data key as this runtime stores it.
	pub type SealedKeyOf<T> = SealedKey<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		<T as Config>::MaxSealedKeyLen,
	>;

	/// Where a device's data key stands, as this runtime stores it.
	pub type KeyEpochOf<T> = KeyEpoch<BlockNumberFor<T>>;

	/// A group as this runtime stores it.
	pub type GroupOf<T> = Group<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		<T as Config>::MaxGroupNameLen,
		<T as Config>::MaxGroupSize,
	>;

	/// An x25519 public key.
	pub type EncryptionKey = [u8; 32];

	/// A published encryption key as this runtime stores it.
	pub type PublishedKeyOf<T> = PublishedKey<BalanceOf<T>>;

	/// Version 1 added ownership epochs to grants and group memberships; version 2 added a
	/// deposit to published encryption keys; version 3 moved sealed keys out of grants into
	/// per-device, per-reader entries with data-key epochs. Development chains restart from
	/// genesis, so there is no migration.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(3);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Access control's configuration.
	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// Where devices and their owners are looked up (the device registry).
		type Devices: InspectDevice<Self::AccountId>;

		/// The currency deposits are held in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reasons, which include this pallet's.
		type RuntimeHoldReason: From<HoldReason>;

		/// The deposit held for every grant.
		#[pallet::constant]
		type GrantDeposit: Get<BalanceOf<Self>>;

		/// The deposit held for every group.
		#[pallet::constant]
		type GroupDeposit: Get<BalanceOf<Self>>;

		/// The deposit held per byte of a sealed key, and per group member (32 bytes each).
		#[pallet::constant]
		type DepositPerByte: Get<BalanceOf<Self>>;

		/// The deposit held for every published encryption key.
		#[pallet::constant]
		type KeyDeposit: Get<BalanceOf<Self>>;

		/// The most devices a group may hold.
		#[pallet::constant]
		type MaxGroupSize: Get<u32>;

		/// The most groups a device may belong to.
		#[pallet::constant]
		type MaxGroupsPerDevice: Get<u32>;

		/// The most bytes a group's name may have.
		#[pallet::constant]
		type MaxGroupNameLen: Get<u32>;

		/// The most bytes a sealed data key may have.
		#[pallet::constant]
		type MaxSealedKeyLen: Get<u32>;

		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;

		/// Sets up devices for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper<Self::AccountId>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit for a grant, a group or a published encryption key.
		#[codec(index = 0)]
		AccessDeposit,
	}

	/// The number the next group gets.
	#[pallet::storage]
	pub type NextGroupId<T: Config> = StorageValue<_, GroupId, ValueQuery>;

	/// Every group, by number.
	#[pallet::storage]
	pub type Groups<T: Config> = StorageMap<_, Twox64Concat, GroupId, GroupOf<T>>;

	/// The groups each device belongs to, each with the ownership epoch it joined in (only
	/// the current epoch's count).
	#[pallet::storage]
	pub type DeviceGroups<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		DeviceId,
		BoundedVec<Membership, T::MaxGroupsPerDevice>,
		ValueQuery,
	>;

	/// Every grant, by scope and grantee.
	#[pallet::storage]
	pub type Grants<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, Scope, Blake2_128Concat, T::AccountId, GrantOf<T>>;

	/// How many grants each scope has (a group with grants cannot be dissolved).
	#[pallet::storage]
	pub type GrantCount<T: Config> = StorageMap<_, Blake2_128Concat, Scope, u32, ValueQuery>;

	/// The x25519 public key each account publishes so data keys can be sealed to it, with
	/// the deposit held for it.
	#[pallet::storage]
	pub type EncryptionKeys<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, PublishedKeyOf<T>>;

	/// Where each device's data key stands: its epoch as last written, and when that epoch
	/// ends by itself (see [`Pallet::key_epoch`] for the epoch in force).
	#[pallet::storage]
	pub type KeyEpochs<T: Config> =
		StorageMap<_, Blake2_128Concat, DeviceId, KeyEpochOf<T>, ValueQuery>;

	/// Each reader's newest sealed data key for each device. The key of an epoch also opens
	/// every earlier epoch's payloads, so one entry per reader is enough.
	#[pallet::storage]
	pub type SealedKeys<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		DeviceId,
		Blake2_128Concat,
		T::AccountId,
		SealedKeyOf<T>,
	>;

	/// What access control reports: the access log.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A group was created.
		GroupCreated { group: GroupId, owner: T::AccountId },
		/// A device joined a group.
		DeviceAddedToGroup { group: GroupId, device: DeviceId },
		/// A device left a group.
		DeviceRemovedFromGroup { group: GroupId, device: DeviceId },
		/// A group was dissolved and its deposit released.
		GroupDissolved { group: GroupId },
		/// `grantee` received `permissions` on `scope` until `expires` (or for good), from `by`.
		Granted {
			scope: Scope,
			grantee: T::AccountId,
			permissions: Permissions,
			expires: Option<BlockNumberFor<T>>,
			by: T::AccountId,
		},
		/// `grantee`'s grant on `scope` was revoked by `by`.
		Revoked { scope: Scope, grantee: T::AccountId, by: T::AccountId },
		/// `grantee`'s stale grant on `scope` (expired, on a decommissioned device, or from an
		/// earlier ownership epoch) was removed by `by`; its deposit went back.
		StaleGrantRemoved { scope: Scope, grantee: T::AccountId, by: T::AccountId },
		/// `who` published the x25519 key data keys are sealed to.
		EncryptionKeyPublished { who: T::AccountId, key: EncryptionKey },
		/// `who` withdrew its encryption key; its deposit went back. Keys already sealed to it
		/// stay where they are.
		EncryptionKeyWithdrawn { who: T::AccountId },
		/// `by` sealed `device`'s data key of `epoch` to `reader`.
		KeySealed { device: DeviceId, reader: T::AccountId, epoch: u32, by: T::AccountId },
		/// `device`'s data key moved to `epoch`: someone lost READ on it, or its owner rotated
		/// the key. Payloads are encrypted under the new epoch's key from now on, and its
		/// remaining readers need it sealed to them (`provena rotate --resume`).
		KeyEpochStarted { device: DeviceId, epoch: u32 },
		/// `reader`'s sealed key for `device` was removed by `by` (the reader can no longer
		/// read the device); its deposit went back.
		SealedKeyRemoved { device: DeviceId, reader: T::AccountId, by: T::AccountId },
	}

	/// Why an access-control call failed.
	#[pallet::error]
	pub enum Error<T> {
		/// No device is registered under this id.
		NotFound,
		/// No group has this number.
		GroupNotFound,
		/// The device is decommissioned.
		Decommissioned,
		/// Only the group's owner may do this.
		NotOwner,
		/// The caller may not do this: it neither owns the scope nor holds MANAGE on it.
		NotAuthorized,
		/// The grant would give, replace or revoke more than the caller may: MANAGE needs
		/// DELEGATE in the caller's MANAGE grant, DELEGATE needs the owner, and a manager's
		/// grants end by the end of the MANAGE grant they come from.
		Escalation,
		/// The permissions are empty, carry undefined flags, or carry DELEGATE without MANAGE.
		InvalidPermissions,
		/// The expiry block has already been reached.
		AlreadyExpired,
		/// The grantee has no grant on this scope.
		GrantNotFound,
		/// The grant still counts (not expired, its device live and still in the epoch it was
		/// given in); only the scope's owner or a manager may revoke it.
		NotStale,
		/// Only the device's owner may put it in their group.
		NotDeviceOwner,
		/// The device is already in the group.
		AlreadyInGroup,
		/// The device is not in the group.
		NotInGroup,
		/// The group already holds `MaxGroupSize` devices.
		GroupFull,
		/// The device already belongs to `MaxGroupsPerDevice` groups.
		TooManyGroups,
		/// The group still has grants; revoke them first.
		GroupHasGrants,
		/// The account's free balance cannot cover the deposit.
		InsufficientBalance,
		/// The account has no published encryption key.
		NoEncryptionKey,
		/// The encryption key is a point of small order (all zeros among them): anything
		/// sealed to it could be opened by anyone.
		WeakEncryptionKey,
		/// A sealed key goes with a READ grant on one device; a group's readers get each
		/// device's key with `seal_key`.
		KeyNeedsDeviceRead,
		/// The sealed key is for another epoch than the device's current one; seal the
		/// current epoch's key.
		StaleKeyEpoch,
		/// The reader holds no live READ on the device.
		NotAReader,
		/// The reader has no sealed key for this device.
		SealedKeyNotFound,
		/// The reader can still read the device; only its owner or a manager may remove its
		/// key.
		StillAReader,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		/// The limits fit together: nothing is stored for free, and the heaviest calls (a
		/// full group dissolved, a device joining with every group place taken) fit one
		/// extrinsic's weight.
		fn integrity_test() {
			assert!(!T::GrantDeposit::get().is_zero(), "a grant must hold a deposit");
			assert!(!T::GroupDeposit::get().is_zero(), "a group must hold a deposit");
			assert!(!T::DepositPerByte::get().is_zero(), "bytes stored must hold a deposit");
			assert!(!T::KeyDeposit::get().is_zero(), "an encryption key must hold a deposit");
			assert!(T::MaxGroupSize::get() > 0, "MaxGroupSize must admit a device");
			assert!(T::MaxGroupsPerDevice::get() > 0, "MaxGroupsPerDevice must admit a group");

			let block = <T as frame_system::Config>::BlockWeights::get();
			let limit = block.get(DispatchClass::Normal).max_extrinsic.unwrap_or(block.max_block);
			for (call, weight) in [
				("dissolve_group", T::WeightInfo::dissolve_group(T::MaxGroupSize::get())),
				("add_to_group", T::WeightInfo::add_to_group()),
				("grant", T::WeightInfo::grant()),
				("grant_group", T::WeightInfo::grant_group(T::MaxGroupSize::get())),
				("revoke_group", T::WeightInfo::revoke_group(T::MaxGroupSize::get())),
			] {
				assert!(weight.all_lte(limit), "{call} weighs {weight:?}, more than {limit:?}");
			}
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Creates an empty group owned by the caller.
		///
		/// - `origin`: signed; becomes the owner and pays the deposit.
		/// - `name`: at most `MaxGroupNameLen` bytes.
		///
		/// Holds `GroupDeposit`. Emits `GroupCreated`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create_group())]
		pub fn create_group(
			origin: OriginFor<T>,
			name: BoundedVec<u8, T::MaxGroupNameLen>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let group = NextGroupId::<T>::get();
			let next = group.checked_add(1).ok_or(sp_runtime::ArithmeticError::Overflow)?;
			let deposit = T::GroupDeposit::get();

			Self::hold(&owner, deposit)?;
			NextGroupId::<T>::put(next);
			let members = BoundedVec::new();
			Groups::<T>::insert(group, Group { owner: owner.clone(), name, members, deposit });

			Self::deposit_event(Event::GroupCreated { group, owner });
			Ok(())
		}

		/// Puts one of the caller's devices in one of the caller's groups. Memberships the device
		/// kept from an earlier owner (which count for nothing) are dropped first, and their
		/// deposits released to their groups' owners, so they never fill the device's places.
		///
		/// - `origin`: signed by the owner of both.
		/// - `group`, `device`: the device joins the group; grants on the group then apply to
		///   it.
		///
		/// Holds `DepositPerByte × 32` more for the member. Emits `DeviceAddedToGroup`, and
		/// `DeviceRemovedFromGroup` for each earlier owner's group it leaves.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::add_to_group())]
		pub fn add_to_group(
			origin: OriginFor<T>,
			group: GroupId,
			device: DeviceId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Self::owned_group(&who, group)?;
			let info = T::Devices::device(&device).ok_or(Error::<T>::NotFound)?;
			ensure!(info.owner == who, Error::<T>::NotDeviceOwner);
			ensure!(info.status != DeviceStatus::Decommissioned, Error::<T>::Decommissioned);
			let (stale, mut memberships): (Vec<Membership>, Vec<Membership>) =
				DeviceGroups::<T>::get(device).into_iter().partition(|m| m.epoch != info.epoch);
			ensure!(!memberships.iter().any(|m| m.group == group), Error::<T>::AlreadyInGroup);
			memberships.push(Membership { group, epoch: info.epoch });
			let memberships = BoundedVec::<_, T::MaxGroupsPerDevice>::try_from(memberships)
				.map_err(|_| Error::<T>::TooManyGroups)?;
			// A stale place in this very group is taken over, with its deposit; any other is
			// given up.
			let rejoins = stale.iter().any(|m| m.group == group);
			if !rejoins {
				record.members.try_push(device).map_err(|_| Error::<T>::GroupFull)?;
			}
			let extra = if rejoins { Zero::zero() } else { Self::member_deposit() };
			let left: Vec<_> = stale
				.iter()
				.filter(|m| m.group != group)
				.filter_map(|m| Groups::<T>::get(m.group).map(|g| (m.group, g)))
				.collect();

			Self::hold(&who, extra)?;
			record.deposit = record.deposit.saturating_add(extra);
			Groups::<T>::insert(group, record);
			DeviceGroups::<T>::insert(device, memberships);
			for (old, mut old_record) in left {
				let released = Self::member_deposit().min(old_record.deposit);
				Self::release(&old_record.owner, released)?;
				old_record.members.retain(|d| *d != device);
				old_record.deposit = old_record.deposit.saturating_sub(released);
				Groups::<T>::insert(old, old_record);
				Self::deposit_event(Event::DeviceRemovedFromGroup { group: old, device });
			}

			Self::deposit_event(Event::DeviceAddedToGroup { group, device });
			Ok(())
		}

		/// Takes a device out of a group; grants on the group stop applying to it.
		///
		/// - `origin`: signed by the group's owner.
		///
		/// When the group has grants, the device's data key starts a new epoch: its readers
		/// through the group get no key to what is encrypted from now on.
		///
		/// Releases the member's deposit. Emits `DeviceRemovedFromGroup`, and `KeyEpochStarted`
		/// when the group has grants.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::remove_from_group())]
		pub fn remove_from_group(
			origin: OriginFor<T>,
			group: GroupId,
			device: DeviceId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Self::owned_group(&who, group)?;
			let position =
				record.members.iter().position(|d| *d == device).ok_or(Error::<T>::NotInGroup)?;
			let released = Self::member_deposit().min(record.deposit);

			Self::release(&who, released)?;
			record.members.remove(position);
			record.deposit = record.deposit.saturating_sub(released);
			Groups::<T>::insert(group, record);
			Self::leave(&device, group);

			Self::deposit_event(Event::DeviceRemovedFromGroup { group, device });
			// The group's readers may have read the device through it: they lose READ.
			if GrantCount::<T>::get(Scope::Group(group)) > 0 {
				Self::start_key_epoch(&device, &who);
			}
			Ok(())
		}

		/// Dissolves a group: its devices leave it and its whole deposit is released.
		///
		/// - `origin`: signed by the group's owner.
		/// - `group`: a group without grants (revoke them first).
		///
		/// Emits `GroupDissolved`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::dissolve_group(T::MaxGroupSize::get()))]
		pub fn dissolve_group(origin: OriginFor<T>, group: GroupId) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let record = Self::owned_group(&who, group)?;
			ensure!(GrantCount::<T>::get(Scope::Group(group)) == 0, Error::<T>::GroupHasGrants);

			Self::release(&who, record.deposit)?;
			for device in record.members.iter() {
				Self::leave(device, group);
			}
			Groups::<T>::remove(group);

			Self::deposit_event(Event::GroupDissolved { group });
			Ok(Some(T::WeightInfo::dissolve_group(record.members.len() as u32)).into())
		}

		/// Gives `grantee` `permissions` on `scope`, replacing any grant it has there.
		///
		/// - `origin`: signed by the scope's owner, or by a holder of MANAGE on it (see
		///   "Delegation without escalation" in the pallet docs).
		/// - `scope`: a device that is not decommissioned, or a group.
		/// - `permissions`: SUBMIT (1), READ (2), MANAGE (4), DELEGATE (8), combined; DELEGATE only
		///   with MANAGE.
		/// - `expires`: the first block at which the grant no longer counts; `None` for no end.
		/// - `sealed_key`: with READ on a device only, the device's data key of its current
		///   epoch sealed to the grantee's published x25519 key (stored as by `seal_key`).
		///   A group's readers get each device's key with `seal_key`.
		///
		/// Replacing a READ grant with one that cannot read starts a new data-key epoch on the
		/// scope's devices (`KeyEpochStarted`); replacing it with one that ends sooner makes the
		/// current epoch end no later.
		///
		/// Holds `GrantDeposit` (and `DepositPerByte × sealed key bytes`) from the caller, and
		/// releases a replaced grant's deposit to whoever paid it. Emits `Granted`, and
		/// `KeySealed` with a sealed key.
		#[pallet::call_index(4)]
		#[pallet::weight(Pallet::<T>::grant_weight(*scope, None))]
		pub fn grant(
			origin: OriginFor<T>,
			scope: Scope,
			grantee: T::AccountId,
			permissions: Permissions,
			expires: Option<BlockNumberFor<T>>,
			sealed_key: Option<EpochKeyOf<T>>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			ensure!(permissions.is_valid(), Error::<T>::InvalidPermissions);
			let now = frame_system::Pallet::<T>::block_number();
			if let Some(end) = expires {
				ensure!(end > now, Error::<T>::AlreadyExpired);
			}
			let sealed_for = match (&scope, &sealed_key) {
				(_, None) => None,
				(Scope::Device(device), Some(_)) if permissions.has(Permissions::READ) => {
					Some(*device)
				},
				_ => return Err(Error::<T>::KeyNeedsDeviceRead.into()),
			};
			let Authority { owner, epoch, managers } = Self::authority(&who, &scope)?;
			let replaced = Grants::<T>::get(scope, &grantee);
			if let Some(managers) = &managers {
				Self::ensure_within(managers, permissions, expires)?;
				if let Some(old) = &replaced {
					Self::ensure_within(managers, old.permissions, old.expires)?;
				}
			}
			let deposit = T::GrantDeposit::get();

			Self::hold(&who, deposit)?;
			match &replaced {
				Some(old) => Self::release(&old.granted_by, old.deposit)?,
				None => GrantCount::<T>::mutate(scope, |count| count.saturating_inc()),
			}
			Grants::<T>::insert(
				scope,
				&grantee,
				Grant { permissions, expires, owner, epoch, granted_by: who.clone(), deposit },
			);
			let touched = match &replaced {
				Some(old) if old.permissions.has(Permissions::READ) => {
					Self::narrow_read(&scope, &old.owner, old.expires, permissions, expires)
				},
				_ => 0,
			};
			Self::deposit_event(Event::Granted {
				scope,
				grantee: grantee.clone(),
				permissions,
				expires,
				by: who.clone(),
			});
			if let (Some(device), Some(key)) = (sealed_for, sealed_key) {
				let info = T::Devices::device(&device).ok_or(Error::<T>::NotFound)?;
				Self::seal(&who, &device, &info, &grantee, key)?;
			}
			Ok(Some(Self::grant_weight(scope, Some(touched))).into())
		}

		/// Takes `grantee`'s grant on `scope` away.
		///
		/// - `origin`: signed by the scope's owner, or by a holder of MANAGE on it who could
		///   have given that grant.
		///
		/// Revoking a READ grant starts a new data-key epoch on the scope's devices
		/// (`KeyEpochStarted` for each): what is encrypted from now on needs a key the
		/// grantee is never given.
		///
		/// Releases the grant's deposit to whoever paid it. Emits `Revoked`.
		#[pallet::call_index(5)]
		#[pallet::weight(Pallet::<T>::revoke_weight(*scope, None))]
		pub fn revoke(
			origin: OriginFor<T>,
			scope: Scope,
			grantee: T::AccountId,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let grant = Grants::<T>::get(scope, &grantee).ok_or(Error::<T>::GrantNotFound)?;
			if let Some(managers) = &Self::authority(&who, &scope)?.managers {
				Self::ensure_within(managers, grant.permissions, grant.expires)?;
			}

			Self::remove_grant(&scope, &grantee, &grant)?;
			let touched = match grant.permissions.has(Permissions::READ) {
				true => Self::narrow_read(
					&scope,
					&grant.owner,
					grant.expires,
					Permissions::none(),
					None,
				),
				false => 0,
			};

			Self::deposit_event(Event::Revoked { scope, grantee, by: who });
			Ok(Some(Self::revoke_weight(scope, Some(touched))).into())
		}

		/// Removes a stale grant: one that can never count again because it has expired, its
		/// device is decommissioned, or its device has changed owner since it was given.
		/// Anyone may call it; the deposit goes back to whoever paid it.
		///
		/// - `origin`: signed by anyone.
		/// - `scope`, `grantee`: a stale grant.
		///
		/// Emits `StaleGrantRemoved`.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::remove_stale())]
		pub fn remove_stale(
			origin: OriginFor<T>,
			scope: Scope,
			grantee: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let grant = Grants::<T>::get(scope, &grantee).ok_or(Error::<T>::GrantNotFound)?;
			ensure!(Self::is_stale(&scope, &grant), Error::<T>::NotStale);

			Self::remove_grant(&scope, &grantee, &grant)?;

			Self::deposit_event(Event::StaleGrantRemoved { scope, grantee, by: who });
			Ok(())
		}

		/// Publishes (or replaces) the caller's x25519 public key, which owners seal data keys
		/// to.
		///
		/// - `origin`: signed; pays the deposit.
		/// - `key`: a 32-byte x25519 public key, not of small order (all zeros is one).
		///
		/// Holds `KeyDeposit` (a replacement holds the difference if the deposit changed since).
		/// Emits `EncryptionKeyPublished`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::publish_encryption_key())]
		pub fn publish_encryption_key(origin: OriginFor<T>, key: EncryptionKey) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(
				!provena_primitives::is_weak_encryption_key(&key),
				Error::<T>::WeakEncryptionKey
			);
			let deposit = T::KeyDeposit::get();
			let held = EncryptionKeys::<T>::get(&who).map_or_else(Zero::zero, |old| old.deposit);
			if deposit > held {
				Self::hold(&who, deposit.saturating_sub(held))?;
			} else {
				Self::release(&who, held.saturating_sub(deposit))?;
			}

			EncryptionKeys::<T>::insert(&who, PublishedKey { key, deposit });

			Self::deposit_event(Event::EncryptionKeyPublished { who, key });
			Ok(())
		}

		/// Withdraws the caller's encryption key and returns its deposit. Owners can no longer
		/// seal data keys to it; keys already sealed to it stay.
		///
		/// - `origin`: signed by an account with a published key.
		///
		/// Emits `EncryptionKeyWithdrawn`.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::withdraw_encryption_key())]
		pub fn withdraw_encryption_key(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let published = EncryptionKeys::<T>::get(&who).ok_or(Error::<T>::NoEncryptionKey)?;

			Self::release(&who, published.deposit)?;
			EncryptionKeys::<T>::remove(&who);

			Self::deposit_event(Event::EncryptionKeyWithdrawn { who });
			Ok(())
		}

		/// Gives a reader of a device the device's data key of its current epoch, sealed to
		/// the reader's published encryption key, replacing the reader's older key. This is
		/// how a group's readers get each device's key, and how readers get the new key after
		/// the epoch moved on (`provena rotate --resume`).
		///
		/// - `origin`: signed by the device's owner, or a holder of MANAGE on it.
		/// - `device`: a device that is not decommissioned.
		/// - `reader`: holds a live READ grant on the device, directly or through a group.
		/// - `key`: the key of the device's current epoch ([`Pallet::key_epoch`]), sealed.
		///
		/// The current epoch ends no later than the reader's READ does. Holds
		/// `DepositPerByte × sealed key bytes` from the caller and releases the replaced key's
		/// deposit to whoever paid it. Emits `KeySealed`.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::seal_key())]
		pub fn seal_key(
			origin: OriginFor<T>,
			device: DeviceId,
			reader: T::AccountId,
			key: EpochKeyOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::authority(&who, &Scope::Device(device))?;
			let info = T::Devices::device(&device).ok_or(Error::<T>::NotFound)?;
			Self::seal(&who, &device, &info, &reader, key)
		}

		/// Starts a new data-key epoch for a device now, as losing a reader does: for a key
		/// the owner believes exposed. Its readers then need the new key
		/// (`provena rotate --resume` seals it to them).
		///
		/// - `origin`: signed by the device's owner, or a holder of MANAGE on it.
		/// - `device`: a device that is not decommissioned.
		///
		/// Emits `KeyEpochStarted`.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::rotate_data_key())]
		pub fn rotate_data_key(origin: OriginFor<T>, device: DeviceId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let Authority { owner, .. } = Self::authority(&who, &Scope::Device(device))?;
			Self::start_key_epoch(&device, &owner);
			Ok(())
		}

		/// Removes the sealed key of an account that can no longer read the device (its READ
		/// revoked or expired, the device transferred or decommissioned). Anyone may call it;
		/// the deposit goes back to whoever sealed the key.
		///
		/// - `origin`: signed by anyone.
		/// - `device`, `reader`: a sealed key whose reader holds no live READ on the device.
		///
		/// Emits `SealedKeyRemoved`.
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::remove_sealed_key())]
		pub fn remove_sealed_key(
			origin: OriginFor<T>,
			device: DeviceId,
			reader: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let key = SealedKeys::<T>::get(device, &reader).ok_or(Error::<T>::SealedKeyNotFound)?;
			let reads = T::Devices::device(&device)
				.filter(|info| info.status != DeviceStatus::Decommissioned)
				.is_some_and(|info| Self::read_end(&reader, &device, &info).is_some());
			ensure!(!reads, Error::<T>::StillAReader);

			Self::release(&key.sealed_by, key.deposit)?;
			SealedKeys::<T>::remove(device, &reader);

			Self::deposit_event(Event::SealedKeyRemoved { device, reader, by: who });
			Ok(())
		}
	}

	/// One live MANAGE grant of a caller acting on a scope it does not own: what it may give
	/// (MANAGE too if the same grant carries DELEGATE) and until when.
	#[derive(Clone, Copy)]
	pub(crate) struct Manager<BlockNumber> {
		permissions: Permissions,
		expires: Option<BlockNumber>,
	}

	/// Who may act on a scope, as [`Pallet::authority`] finds it.
	pub(crate) struct Authority<AccountId, BlockNumber> {
		/// The scope's owner.
		owner: AccountId,
		/// The device's ownership epoch (zero for a group).
		epoch: u32,
		/// `None` if the owner acts; else the caller's live MANAGE grants on the scope, at
		/// most one per scope that covers the device: its own and its groups'.
		managers: Option<Vec<Manager<BlockNumber>>>,
	}

	impl<T: Config> Pallet<T> {
		/// The scope's owner and epoch, and `None` if `who` is that owner, or `who`'s live
		/// MANAGE grants on the scope (for a device: on it or on a group of it, in its current
		/// epoch). Grants without MANAGE give no authority, not even their end or their
		/// DELEGATE flag.
		fn authority(
			who: &T::AccountId,
			scope: &Scope,
		) -> Result<Authority<T::AccountId, BlockNumberFor<T>>, DispatchError> {
			let manage = |grant: GrantOf<T>| {
				grant
					.permissions
					.has(Permissions::MANAGE)
					.then_some(Manager { permissions: grant.permissions, expires: grant.expires })
			};
			let (owner, epoch, managers): (_, _, Vec<_>) = match scope {
				Scope::Device(device) => {
					let info = T::Devices::device(device).ok_or(Error::<T>::NotFound)?;
					ensure!(
						info.status != DeviceStatus::Decommissioned,
						Error::<T>::Decommissioned
					);
					if *who == info.owner {
						return Ok(Authority {
							owner: info.owner,
							epoch: info.epoch,
							managers: None,
						});
					}
					let managers = Self::live_grants(who, device, &info)
						.map(|(_, grant)| grant)
						.filter_map(manage)
						.collect();
					(info.owner, info.epoch, managers)
				},
				Scope::Group(group) => {
					let owner = Groups::<T>::get(group).ok_or(Error::<T>::GroupNotFound)?.owner;
					if *who == owner {
						return Ok(Authority { owner, epoch: 0, managers: None });
					}
					let managers = Grants::<T>::get(scope, who)
						.filter(|grant| grant.owner == owner && Self::is_live(grant))
						.and_then(manage)
						.into_iter()
						.collect();
					(owner, 0, managers)
				},
			};
			ensure!(!managers.is_empty(), Error::<T>::NotAuthorized);
			Ok(Authority { owner, epoch, managers: Some(managers) })
		}

		/// Whether one of a manager's MANAGE grants alone covers giving (or replacing, or
		/// revoking) a grant of `permissions` ending at `expires`: never DELEGATE, MANAGE only
		/// from a grant that also carries DELEGATE, and no later end than that grant's.
		fn ensure_within(
			managers: &[Manager<BlockNumberFor<T>>],
			permissions: Permissions,
			expires: Option<BlockNumberFor<T>>,
		) -> DispatchResult {
			ensure!(!permissions.has(Permissions::DELEGATE), Error::<T>::Escalation);
			let covers = |manager: &Manager<BlockNumberFor<T>>| {
				let may_give = !permissions.has(Permissions::MANAGE)
					|| manager.permissions.has(Permissions::DELEGATE);
				let ends_in_time = match (manager.expires, expires) {
					(None, _) => true,
					(Some(limit), Some(end)) => end <= limit,
					(Some(_), None) => false,
				};
				may_give && ends_in_time
			};
			ensure!(managers.iter().any(covers), Error::<T>::Escalation);
			Ok(())
		}

		/// Whether a grant still counts at this block.
		pub fn is_live(grant: &GrantOf<T>) -> bool {
			grant.expires.is_none_or(|end| frame_system::Pallet::<T>::block_number() < end)
		}

		/// Whether a grant can never count again: expired, or on a device that is gone,
		/// decommissioned or in a later ownership epoch than the grant's.
		pub fn is_stale(scope: &Scope, grant: &GrantOf<T>) -> bool {
			if !Self::is_live(grant) {
				return true;
			}
			match scope {
				Scope::Device(device) => T::Devices::device(device).is_none_or(|info| {
					info.status == DeviceStatus::Decommissioned
						|| info.epoch != grant.epoch
						|| info.owner != grant.owner
				}),
				// Groups never change owner, and cannot be dissolved while they have grants.
				Scope::Group(_) => false,
			}
		}

		/// The live grants `who` holds on `device` (as `info` describes it) in its current
		/// ownership epoch, each with where it was found: directly, then through the groups it
		/// joined in that epoch (at most `1 + MaxGroupsPerDevice`). Lazy: the device's groups
		/// are read only once its own grant has been passed, and each group's grant only when
		/// reached. A membership of this epoch is always of a group of the current owner, who
		/// added it.
		fn live_grants<'a>(
			who: &'a T::AccountId,
			device: &DeviceId,
			info: &'a DeviceInfo<T::AccountId>,
		) -> impl Iterator<Item = (GrantPath, GrantOf<T>)> + 'a {
			let device = *device;
			let direct = core::iter::once_with(move || {
				Grants::<T>::get(Scope::Device(device), who)
					.filter(|grant| grant.epoch == info.epoch && grant.owner == info.owner)
			})
			.flatten()
			.map(|grant| (GrantPath::Direct, grant));
			let through_groups = core::iter::once_with(move || DeviceGroups::<T>::get(device))
				.flat_map(move |groups| {
					groups.into_iter().filter(move |membership| membership.epoch == info.epoch)
				})
				.zip(1u32..)
				.filter_map(move |(membership, n)| {
					let grant = Grants::<T>::get(Scope::Group(membership.group), who)?;
					Some((GrantPath::Group(n), grant))
				});
			direct.chain(through_groups).filter(|(_, grant)| Self::is_live(grant))
		}

		/// The live permissions `who` holds on `device` now, directly or through groups.
		pub fn permissions_on(who: &T::AccountId, device: &DeviceId) -> Permissions {
			match T::Devices::device(device) {
				Some(info) if info.status != DeviceStatus::Decommissioned => {
					Self::live_grants(who, device, &info)
						.fold(Permissions::none(), |all, (_, grant)| all.union(grant.permissions))
				},
				_ => Permissions::none(),
			}
		}

		/// A page of the grants that apply to `device` in its current ownership epoch: on it,
		/// then on each group it joined in that epoch, in storage order within a scope. Starts
		/// after `after` (a scope and grantee from the previous page's `next`) and looks at no
		/// more than `limit` grants (at most [`MAX_GRANTS_PAGE`]), so one call's work is
		/// bounded however many grants there are.
		pub fn grants_on(
			device: &DeviceId,
			after: Option<(Scope, T::AccountId)>,
			limit: u32,
		) -> GrantsPage<T::AccountId, GrantOf<T>> {
			let mut page = GrantsPage { grants: Vec::new(), next: None };
			let Some(info) = T::Devices::device(device) else { return page };
			let mut scopes = alloc::vec![Scope::Device(*device)];
			scopes.extend(
				DeviceGroups::<T>::get(device)
					.into_iter()
					.filter(|membership| membership.epoch == info.epoch)
					.map(|membership| Scope::Group(membership.group)),
			);
			let (first, mut resume) = match after {
				None => (0, None),
				Some((scope, who)) => match scopes.iter().position(|s| *s == scope) {
					Some(index) => (index, Some(Grants::<T>::hashed_key_for(scope, who))),
					// That scope no longer applies: nothing follows it.
					None => return page,
				},
			};
			let limit = limit.clamp(1, MAX_GRANTS_PAGE);
			let mut looked_at = 0u32;
			for scope in scopes.into_iter().skip(first) {
				let entries = match resume.take() {
					Some(key) => Grants::<T>::iter_prefix_from(scope, key),
					None => Grants::<T>::iter_prefix(scope),
				};
				for (who, grant) in entries {
					looked_at = looked_at.saturating_add(1);
					let applies = match scope {
						Scope::Device(_) => grant.epoch == info.epoch,
						Scope::Group(_) => true,
					};
					let last = (scope, who.clone());
					if applies {
						page.grants.push((scope, who, grant));
					}
					if looked_at == limit {
						page.next = Some(last);
						return page;
					}
				}
			}
			page
		}

		/// The data-key epoch in force for `device` now: payloads are encrypted under its key,
		/// and readers are given that key. `None` for a device never registered.
		pub fn key_epoch(device: &DeviceId) -> Option<u32> {
			let info = T::Devices::device(device)?;
			Some(Self::epoch_in_force(&KeyEpochs::<T>::get(device), &info))
		}

		/// The epoch in force given the stored state: one past it once the device changed
		/// owner or the epoch's end was reached.
		fn epoch_in_force(stored: &KeyEpochOf<T>, info: &DeviceInfo<T::AccountId>) -> u32 {
			let now = frame_system::Pallet::<T>::block_number();
			let ended =
				stored.owner_epoch != info.epoch || stored.ends.is_some_and(|end| now >= end);
			if ended {
				stored.epoch.saturating_add(1)
			} else {
				stored.epoch
			}
		}

		/// Starts the epoch after the stored one for `device`, if `owner` owns it (a device
		/// that changed owner is left to its new owner, and one never registered has no
		/// key). If the stored epoch had already ended by itself, the new one is the epoch
		/// that was in force: no key of it was ever sealed.
		fn start_key_epoch(device: &DeviceId, owner: &T::AccountId) {
			let Some(info) = T::Devices::device(device).filter(|info| info.owner == *owner) else {
				return;
			};
			let epoch = KeyEpochs::<T>::mutate(device, |stored| {
				*stored = KeyEpoch {
					epoch: stored.epoch.saturating_add(1),
					owner_epoch: info.epoch,
					ends: None,
				};
				stored.epoch
			});
			Self::deposit_event(Event::KeyEpochStarted { device: *device, epoch });
		}

		/// A READ grant of `owner`'s on `scope` that ended `old_expires` now gives
		/// `permissions` until `expires`: without READ, each of the scope's devices starts a
		/// new epoch; with an earlier end, each one's current epoch ends no later. Devices
		/// `owner` no longer owns are left alone. Returns how many devices it looked at.
		fn narrow_read(
			scope: &Scope,
			owner: &T::AccountId,
			old_expires: Option<BlockNumberFor<T>>,
			permissions: Permissions,
			expires: Option<BlockNumberFor<T>>,
		) -> u32 {
			let devices: Vec<DeviceId> = match scope {
				Scope::Device(device) => alloc::vec![*device],
				Scope::Group(group) => {
					Groups::<T>::get(group).map(|g| g.members.into_inner()).unwrap_or_default()
				},
			};
			let sooner = match (old_expires, expires) {
				(_, None) => None,
				(None, Some(end)) => Some(end),
				(Some(old), Some(end)) => (end < old).then_some(end),
			};
			for device in &devices {
				if !permissions.has(Permissions::READ) {
					Self::start_key_epoch(device, owner);
				} else if let Some(end) = sooner {
					let owned = T::Devices::device(device).is_some_and(|i| i.owner == *owner);
					if owned {
						KeyEpochs::<T>::mutate(device, |stored| {
							stored.ends = Some(stored.ends.map_or(end, |ends| ends.min(end)));
						});
					}
				}
			}
			devices.len() as u32
		}

		/// Until when `reader` may read `device` (as `info` describes it): `None` if it holds
		/// no live READ grant, `Some(None)` if one of them has no end, else the latest end.
		fn read_end(
			reader: &T::AccountId,
			device: &DeviceId,
			info: &DeviceInfo<T::AccountId>,
		) -> Option<Option<BlockNumberFor<T>>> {
			Self::live_grants(reader, device, info)
				.filter(|(_, grant)| grant.permissions.has(Permissions::READ))
				.map(|(_, grant)| grant.expires)
				.reduce(|a, b| match (a, b) {
					(Some(a), Some(b)) => Some(a.max(b)),
					_ => None,
				})
		}

		/// Stores `key` as `reader`'s sealed key for `device`, sealed by `by`: checks that it
		/// is of the epoch in force and that the reader can read, makes that epoch the stored
		/// one, and ends it no later than the reader's READ.
		fn seal(
			by: &T::AccountId,
			device: &DeviceId,
			info: &DeviceInfo<T::AccountId>,
			reader: &T::AccountId,
			key: EpochKeyOf<T>,
		) -> DispatchResult {
			let stored = KeyEpochs::<T>::get(device);
			let current = Self::epoch_in_force(&stored, info);
			ensure!(key.epoch == current, Error::<T>::StaleKeyEpoch);
			let reader_end = Self::read_end(reader, device, info).ok_or(Error::<T>::NotAReader)?;
			let mut next = match current == stored.epoch {
				true => stored,
				false => KeyEpoch { epoch: current, owner_epoch: info.epoch, ends: None },
			};
			if let Some(end) = reader_end {
				next.ends = Some(next.ends.map_or(end, |ends| ends.min(end)));
			}
			let deposit = Self::sealed_key_deposit(&key);
			let replaced = SealedKeys::<T>::get(device, reader);

			Self::hold(by, deposit)?;
			if let Some(old) = replaced {
				Self::release(&old.sealed_by, old.deposit)?;
			}
			KeyEpochs::<T>::insert(device, next);
			SealedKeys::<T>::insert(
				device,
				reader,
				SealedKey { key, sealed_by: by.clone(), deposit },
			);

			Self::deposit_event(Event::KeySealed {
				device: *device,
				reader: reader.clone(),
				epoch: current,
				by: by.clone(),
			});
			Ok(())
		}

		/// The deposit a sealed key costs: `DepositPerByte` for each of its bytes and for the
		/// [`SEALED_KEY_ENTRY_BYTES`] its entry takes besides.
		pub fn sealed_key_deposit(key: &EpochKeyOf<T>) -> BalanceOf<T> {
			let bytes = (key.sealed.len() as u32).saturating_add(SEALED_KEY_ENTRY_BYTES);
			T::DepositPerByte::get().saturating_mul(bytes.into())
		}

		/// The weight of `grant` on `scope`: on a group, with `touched` of its devices looked
		/// at (`None`: as many as a group may hold).
		pub(crate) fn grant_weight(scope: Scope, touched: Option<u32>) -> Weight {
			match scope {
				Scope::Device(_) => T::WeightInfo::grant(),
				Scope::Group(_) => {
					T::WeightInfo::grant_group(touched.unwrap_or_else(T::MaxGroupSize::get))
				},
			}
		}

		/// The weight of `revoke` on `scope`, as [`Self::grant_weight`] counts it.
		pub(crate) fn revoke_weight(scope: Scope, touched: Option<u32>) -> Weight {
			match scope {
				Scope::Device(_) => T::WeightInfo::revoke(),
				Scope::Group(_) => {
					T::WeightInfo::revoke_group(touched.unwrap_or_else(T::MaxGroupSize::get))
				},
			}
		}

		fn remove_grant(
			scope: &Scope,
			grantee: &T::AccountId,
			grant: &GrantOf<T>,
		) -> DispatchResult {
			Self::release(&grant.granted_by, grant.deposit)?;
			Grants::<T>::remove(scope, grantee);
			GrantCount::<T>::mutate_exists(scope, |count| {
				let left = count.unwrap_or(0).saturating_sub(1);
				*count = (left > 0).then_some(left);
			});
			Ok(())
		}

		/// Takes `group` off `device`'s membership list, dropping an emptied list.
		fn leave(device: &DeviceId, group: GroupId) {
			DeviceGroups::<T>::mutate_exists(device, |groups| {
				let list = groups.get_or_insert_with(BoundedVec::new);
				list.retain(|m| m.group != group);
				if list.is_empty() {
					*groups = None;
				}
			});
		}

		fn owned_group(who: &T::AccountId, group: GroupId) -> Result<GroupOf<T>, DispatchError> {
			let record = Groups::<T>::get(group).ok_or(Error::<T>::GroupNotFound)?;
			ensure!(record.owner == *who, Error::<T>::NotOwner);
			Ok(record)
		}

		/// The deposit one group member costs: 32 bytes.
		pub fn member_deposit() -> BalanceOf<T> {
			T::DepositPerByte::get().saturating_mul(32u32.into())
		}

		fn hold(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
			if amount.is_zero() {
				return Ok(());
			}
			T::Currency::hold(&HoldReason::AccessDeposit.into(), who, amount)
				.map_err(|_| Error::<T>::InsufficientBalance.into())
		}

		fn release(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
			if amount.is_zero() {
				return Ok(());
			}
			T::Currency::release(&HoldReason::AccessDeposit.into(), who, amount, Precision::Exact)
				.map(|_| ())
		}

		/// Checks access control's invariants: grant counts match the grants, group
		/// memberships are mirrored in both directions, every deposit matches its formula, and
		/// every account's held total equals the deposits it paid for grants, groups and keys.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			use frame_support::traits::fungible::InspectHold;
			let mut held: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			let mut counts: BTreeMap<Scope, u32> = BTreeMap::new();
			for (scope, _, grant) in Grants::<T>::iter() {
				let count = counts.entry(scope).or_default();
				*count = count.saturating_add(1);
				ensure!(
					grant.deposit == T::GrantDeposit::get(),
					"a grant's deposit is not GrantDeposit"
				);
				let total = held.entry(grant.granted_by.clone()).or_insert_with(Zero::zero);
				*total = total.saturating_add(grant.deposit);
			}
			for (scope, count) in GrantCount::<T>::iter() {
				ensure!(counts.remove(&scope) == Some(count), "a grant count is wrong");
			}
			ensure!(counts.is_empty(), "a scope's grants are not counted");
			for (group, record) in Groups::<T>::iter() {
				ensure!(group < NextGroupId::<T>::get(), "a group number was never given");
				let expected = Self::member_deposit()
					.saturating_mul((record.members.len() as u32).into())
					.saturating_add(T::GroupDeposit::get());
				ensure!(record.deposit == expected, "a group's deposit does not match its size");
				for device in record.members.iter() {
					ensure!(
						DeviceGroups::<T>::get(device).iter().any(|m| m.group == group),
						"a member is not indexed"
					);
				}
				let total = held.entry(record.owner.clone()).or_insert_with(Zero::zero);
				*total = total.saturating_add(record.deposit);
			}
			for (device, _, sealed) in SealedKeys::<T>::iter() {
				ensure!(
					sealed.deposit == Self::sealed_key_deposit(&sealed.key),
					"a sealed key's deposit does not match its length"
				);
				ensure!(
					sealed.key.epoch <= KeyEpochs::<T>::get(device).epoch,
					"a key is sealed for an epoch that never began"
				);
				let total = held.entry(sealed.sealed_by.clone()).or_insert_with(Zero::zero);
				*total = total.saturating_add(sealed.deposit);
			}
			for (who, published) in EncryptionKeys::<T>::iter() {
				ensure!(
					published.deposit == T::KeyDeposit::get(),
					"an encryption key's deposit is not KeyDeposit"
				);
				let total = held.entry(who).or_insert_with(Zero::zero);
				*total = total.saturating_add(published.deposit);
			}
			for (device, groups) in DeviceGroups::<T>::iter() {
				ensure!(!groups.is_empty(), "an empty membership list is stored");
				let epoch = T::Devices::device(&device).map_or(0, |info| info.epoch);
				for membership in groups {
					let record = Groups::<T>::get(membership.group)
						.ok_or("a device is in a missing group")?;
					ensure!(record.members.contains(&device), "a membership is not mirrored");
					ensure!(membership.epoch <= epoch, "a membership is from a future epoch");
				}
			}
			for (who, total) in held {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::AccessDeposit.into(), &who) == total,
					"an account's held deposit differs from what it paid"
				);
			}
			Ok(())
		}
	}

	impl<T: Config> DevicePermissions<T::AccountId> for Pallet<T> {
		/// Looks where [`Pallet::permissions_on`] looks, in the same order, and stops at the
		/// first live grant with SUBMIT: the device's own grant, then its current-epoch groups.
		fn submit_path(
			who: &T::AccountId,
			device: &DeviceId,
			info: &DeviceInfo<T::AccountId>,
		) -> Option<GrantPath> {
			if info.status == DeviceStatus::Decommissioned {
				return None;
			}
			Self::live_grants(who, device, info)
				.find(|(_, grant)| grant.permissions.has(Permissions::SUBMIT))
				.map(|(path, _)| path)
		}

		fn may_manage(who: &T::AccountId, device: &DeviceId) -> bool {
			Self::permissions_on(who, device).has(Permissions::MANAGE)
		}

		fn submit_path_weight(path: Option<GrantPath>) -> Weight {
			match path {
				Some(GrantPath::Direct) => T::WeightInfo::submit_path_direct(),
				Some(GrantPath::Group(n)) => T::WeightInfo::submit_path_through_groups(n),
				None => T::WeightInfo::submit_path_through_groups(T::MaxGroupsPerDevice::get()),
			}
		}
	}
}
