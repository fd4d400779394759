//! # Device registry
//!
//! The root of trust of Provena: which devices exist, who owns them, which key signs their
//! readings, and whether they are still in service.
//!
//! ## Overview
//!
//! An owner registers a device under a 32-byte [`DeviceId`] of their choosing (a hash of its
//! serial number, say), with the public key the device signs its readings with, that key's
//! signature proving its holder lets this owner register it as this device (a proof of
//! possession: see [`provena_primitives::possession_hash`]), and a short description. The
//! registry holds a deposit from the owner for as long as the record exists in full, so nobody
//! can bloat the chain's state for free.
//!
//! The owner then manages the device's life: updates its description, rotates its key (a
//! compromised or replaced secure element), suspends and resumes it, hands it to a new owner
//! (an offer the new owner must accept before it expires), and finally decommissions it.
//! Decommissioning releases the deposit and keeps a tombstone of the record (owner, key,
//! status): readings the device signed stay attributable to it, and its id can never be
//! registered again.
//!
//! Other pallets learn about devices through [`InspectDevice`] (implemented here), never by
//! depending on this crate: telemetry asks it for a device's key and status before accepting a
//! reading.
//!
//! ## Terminology
//!
//! - **Device id**: a device's stable identity, chosen by its owner ([`DeviceId`]).
//! - **Device key**: the sr25519 or ed25519 public key its readings are signed with
//!   ([`DeviceKey`]).
//! - **Status**: `Active` (readings accepted), `Suspended` (paused by the owner) or
//!   `Decommissioned` (retired for good) ([`DeviceStatus`]).
//! - **Deposit**: `DepositBase + DepositPerByte × metadata bytes`, held from the owner with the
//!   hold reason [`HoldReason::DeviceDeposit`].
//! - **Transfer**: an offer by the owner to a new owner, who takes over the device by accepting
//!   before the offer expires. Accepting installs the key the new owner proves it holds (which
//!   may be the same key, if the device and its secure element change hands), moves the
//!   deposit (never above the most the new owner agreed to pay) and starts a new ownership
//!   epoch: every grant and group membership of the old owner stops counting, for good.
//! - **Ownership epoch**: how many times a device has changed owner ([`Device::epoch`]).

#![cfg_attr(not(feature = "std"), no_std)]
// Code that runs in a block must never panic (STYLE.md 12): outside tests, clippy refuses
// unwrap, unchecked indexing and overflowing arithmetic; scripts/check-panics.py refuses expect.
#![cfg_attr(
	not(test),
	deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

extern crate alloc;

pub use pallet::*;
pub use provena_primitives::{DeviceId, DeviceInfo, DeviceKey, DeviceStatus, InspectDevice};
pub use types::{Device, DeviceMetadata, MetadataInput, TransferOffer};
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::Precision,
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		traits::{Saturating, StaticLookup, Zero},
		MultiSignature,
	};

	/// The balance type of the currency deposits are held in.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

	/// A device record as this runtime stores it.
	pub type DeviceOf<T> = Device<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as Config>::MaxFieldLength,
	>;

	/// An open transfer offer as this runtime stores it.
	pub type TransferOfferOf<T> =
		TransferOffer<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;

	/// The current version of this pallet's storage layout. Version 1 added the ownership
	/// epoch to device records and an expiry to transfer offers; development chains restart
	/// from genesis, so there is no migration.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// The registry's configuration.
	#[pallet::config]
	pub trait Config:
		frame_system::Config<RuntimeEvent: From<Event<Self>>, Hash = sp_core::H256>
	{
		/// The currency deposits are held in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reasons, which include this pallet's.
		type RuntimeHoldReason: From<HoldReason>;

		/// The deposit held for every device record, whatever its metadata.
		#[pallet::constant]
		type DepositBase: Get<BalanceOf<Self>>;

		/// The deposit held for each byte of a device's metadata.
		#[pallet::constant]
		type DepositPerByte: Get<BalanceOf<Self>>;

		/// The most bytes a metadata text field (kind, model, location) may hold.
		#[pallet::constant]
		type MaxFieldLength: Get<u32>;

		/// How many blocks a transfer offer stays open.
		#[pallet::constant]
		type TransferOfferLifetime: Get<BlockNumberFor<Self>>;

		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit for a registered device's record.
		#[codec(index = 0)]
		DeviceDeposit,
	}

	/// Every device ever registered, by id; decommissioned devices stay as a record.
	#[pallet::storage]
	pub type Devices<T: Config> = StorageMap<_, Blake2_128Concat, DeviceId, DeviceOf<T>>;

	/// The devices each account owns, decommissioned ones included: lists an owner's devices
	/// without scanning all devices.
	#[pallet::storage]
	pub type DevicesByOwner<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Blake2_128Concat,
		DeviceId,
		(),
		OptionQuery,
	>;

	/// Open ownership transfers: the device, the account it is offered to and until when. At
	/// most one per device; an expired offer stays until it is replaced, withdrawn or the
	/// device is decommissioned.
	#[pallet::storage]
	pub type PendingTransfers<T: Config> =
		StorageMap<_, Blake2_128Concat, DeviceId, TransferOfferOf<T>, OptionQuery>;

	/// This network's deployment: 32 bytes fixed in genesis and never changed. Two networks
	/// built from the same validators and balances still differ in it, so their genesis hashes
	/// differ, and every device signature (which commits to the genesis hash) is worth nothing
	/// on any other network. `provena-node build-spec --chain production:FILE` draws it at
	/// random unless the file names it; the development presets leave it zero.
	#[pallet::storage]
	pub type Deployment<T: Config> = StorageValue<_, sp_core::H256, ValueQuery>;

	/// What the registry reports.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A device was registered, and its deposit held from its owner.
		DeviceRegistered {
			device: DeviceId,
			owner: T::AccountId,
			key: DeviceKey,
			deposit: BalanceOf<T>,
		},
		/// A device's metadata changed; its deposit is now `deposit`.
		MetadataUpdated { device: DeviceId, deposit: BalanceOf<T> },
		/// A device now signs its readings with `key`; the old key is no longer accepted.
		KeyRotated { device: DeviceId, key: DeviceKey },
		/// A device was taken out of service by its owner.
		DeviceSuspended { device: DeviceId },
		/// A suspended device is back in service.
		DeviceResumed { device: DeviceId },
		/// A device was retired for good, and its deposit released to its owner.
		DeviceDecommissioned { device: DeviceId, owner: T::AccountId, released: BalanceOf<T> },
		/// An owner offered a device to another account, until block `expires`.
		TransferOffered {
			device: DeviceId,
			from: T::AccountId,
			to: T::AccountId,
			expires: BlockNumberFor<T>,
		},
		/// An open transfer offer was withdrawn by the owner.
		TransferCancelled { device: DeviceId },
		/// A device changed owner: it now signs with `key`, its deposit moved from the old owner
		/// to the new one, and its ownership epoch is now `epoch`.
		DeviceTransferred {
			device: DeviceId,
			from: T::AccountId,
			to: T::AccountId,
			key: DeviceKey,
			epoch: u32,
		},
	}

	/// Why a registry call failed.
	#[pallet::error]
	pub enum Error<T> {
		/// No device is registered under this id.
		NotFound,
		/// A device is already registered under this id.
		AlreadyExists,
		/// Only the device's owner may do this.
		NotOwner,
		/// The device is decommissioned: nothing about it can change, and its id can never be
		/// registered again.
		Decommissioned,
		/// Only an active device can be suspended.
		NotActive,
		/// Only a suspended device can be resumed.
		NotSuspended,
		/// The new key is the key the device already has.
		KeyUnchanged,
		/// A metadata field (kind, model or location) is longer than `MaxFieldLength`.
		FieldTooLong,
		/// The account's free balance cannot cover the device deposit.
		InsufficientBalance,
		/// The account already owns the device.
		AlreadyOwner,
		/// The device has no open transfer offer.
		NoTransferOffered,
		/// The device's open transfer offer is for another account.
		NotOfferedToYou,
		/// The transfer offer has expired; the owner may offer the device again.
		OfferExpired,
		/// The device's deposit is more than the most the caller agreed to pay (it may have
		/// grown since the offer: the owner can change the metadata).
		DepositAboveLimit,
		/// The proof is not the device key's signature of `possession_hash(genesis, device,
		/// caller)`: only the key's holder may have it registered, for this device and owner.
		PossessionUnproven,
	}

	/// Devices registered at genesis, with their deposits held from their owners, and the
	/// network's [`Deployment`].
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// (device id, owner, key, metadata) of each device.
		pub devices: alloc::vec::Vec<(DeviceId, T::AccountId, DeviceKey, MetadataInput)>,
		/// The network's deployment value (see [`Deployment`]).
		pub deployment: sp_core::H256,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			Deployment::<T>::put(self.deployment);
			for (device, owner, key, metadata) in &self.devices {
				Pallet::<T>::do_register(owner.clone(), *device, *key, metadata.clone())
					// allow-panic: a genesis that cannot be built must stop the chain starting.
					.expect("a genesis device is valid and its owner can pay the deposit");
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		/// The limits fit together: a device record is never free, a transfer offer lives at
		/// least a block, and a registration with the longest metadata fits one extrinsic's
		/// weight and a block's length.
		fn integrity_test() {
			assert!(!T::DepositBase::get().is_zero(), "a device record must hold a deposit");
			assert!(!T::DepositPerByte::get().is_zero(), "metadata bytes must hold a deposit");
			assert!(
				!T::TransferOfferLifetime::get().is_zero(),
				"a transfer offer must stay open for at least a block"
			);
			let block = <T as frame_system::Config>::BlockWeights::get();
			let limit = block.get(DispatchClass::Normal).max_extrinsic.unwrap_or(block.max_block);
			for (call, weight) in [
				("register", T::WeightInfo::register()),
				("update_metadata", T::WeightInfo::update_metadata()),
				("accept_transfer", T::WeightInfo::accept_transfer()),
			] {
				assert!(weight.all_lte(limit), "{call} weighs {weight:?}, more than {limit:?}");
			}
			let length = <T as frame_system::Config>::BlockLength::get();
			let room = u64::from(*length.max.get(DispatchClass::Normal));
			let metadata = DeviceMetadata::<T::MaxFieldLength>::max_encoded_len() as u64;
			assert!(
				metadata.saturating_add(1024) <= room,
				"a registration with full metadata ({metadata} bytes) does not fit a block"
			);
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers a device, owned by the caller, that signs its readings with `key`.
		///
		/// - `origin`: signed; becomes the owner and pays the deposit.
		/// - `device`: the device's id; never registered before (not even if decommissioned).
		/// - `key`: the sr25519 or ed25519 public key the device signs readings with.
		/// - `metadata`: kind, model, firmware hash and location; each text at most
		///   `MaxFieldLength` bytes.
		/// - `proof`: `key`'s signature of
		///   [`possession_hash`](provena_primitives::possession_hash)`(genesis, device, caller)`,
		///   so only whoever holds the key can register it, and only for this device, owner and
		///   chain.
		///
		/// Holds `DepositBase + DepositPerByte × metadata bytes` from the caller.
		///
		/// Emits `DeviceRegistered`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register())]
		pub fn register(
			origin: OriginFor<T>,
			device: DeviceId,
			key: DeviceKey,
			metadata: MetadataInput,
			proof: MultiSignature,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::ensure_possession(&owner, &device, &key, &proof)?;
			Self::do_register(owner, device, key, metadata)
		}

		/// Replaces a device's metadata; the deposit follows the new size.
		///
		/// - `origin`: signed by the device's owner.
		/// - `device`: a device that is not decommissioned.
		/// - `metadata`: the new kind, model, firmware hash and location.
		///
		/// Holds more from the owner, or releases the difference, so the deposit matches the new
		/// metadata.
		///
		/// Emits `MetadataUpdated`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_metadata())]
		pub fn update_metadata(
			origin: OriginFor<T>,
			device: DeviceId,
			metadata: MetadataInput,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Self::owned_and_live(&who, &device)?;
			let metadata = Self::bound_metadata(metadata)?;
			let deposit = Self::deposit_for(&metadata);

			Self::adjust_deposit(&who, record.deposit, deposit)?;
			record.metadata = metadata;
			record.deposit = deposit;
			Devices::<T>::insert(device, record);

			Self::deposit_event(Event::MetadataUpdated { device, deposit });
			Ok(())
		}

		/// Makes a device sign with a new key; readings signed with the old key are refused from
		/// now on (those already anchored stay valid).
		///
		/// - `origin`: signed by the device's owner.
		/// - `device`: a device that is not decommissioned.
		/// - `key`: the new public key, different from the current one.
		/// - `proof`: the new key's signature of
		///   [`possession_hash`](provena_primitives::possession_hash)`(genesis, device, caller)`.
		///
		/// Emits `KeyRotated`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::rotate_key())]
		pub fn rotate_key(
			origin: OriginFor<T>,
			device: DeviceId,
			key: DeviceKey,
			proof: MultiSignature,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Self::owned_and_live(&who, &device)?;
			ensure!(record.key != key, Error::<T>::KeyUnchanged);
			Self::ensure_possession(&who, &device, &key, &proof)?;

			record.key = key;
			Devices::<T>::insert(device, record);

			Self::deposit_event(Event::KeyRotated { device, key });
			Ok(())
		}

		/// Takes an active device out of service; its readings are refused until it is resumed.
		///
		/// - `origin`: signed by the device's owner.
		/// - `device`: an active device.
		///
		/// Emits `DeviceSuspended`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::suspend())]
		pub fn suspend(origin: OriginFor<T>, device: DeviceId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Self::owned_and_live(&who, &device)?;
			ensure!(record.status == DeviceStatus::Active, Error::<T>::NotActive);

			record.status = DeviceStatus::Suspended;
			Devices::<T>::insert(device, record);

			Self::deposit_event(Event::DeviceSuspended { device });
			Ok(())
		}

		/// Puts a suspended device back in service.
		///
		/// - `origin`: signed by the device's owner.
		/// - `device`: a suspended device.
		///
		/// Emits `DeviceResumed`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::resume())]
		pub fn resume(origin: OriginFor<T>, device: DeviceId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Self::owned_and_live(&who, &device)?;
			ensure!(record.status == DeviceStatus::Suspended, Error::<T>::NotSuspended);

			record.status = DeviceStatus::Active;
			Devices::<T>::insert(device, record);

			Self::deposit_event(Event::DeviceResumed { device });
			Ok(())
		}

		/// Retires a device for good. Its record stays as a tombstone (owner, key, status and
		/// epoch, so its past readings stay attributable; the description goes, since no deposit
		/// pays for it any more) and its id can never be registered again; any open transfer
		/// offer is withdrawn.
		///
		/// - `origin`: signed by the device's owner.
		/// - `device`: an active or suspended device.
		///
		/// Releases the whole deposit to the owner.
		///
		/// Emits `DeviceDecommissioned`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::decommission())]
		pub fn decommission(origin: OriginFor<T>, device: DeviceId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Self::owned_and_live(&who, &device)?;

			let released = record.deposit;
			Self::release_deposit(&who, released)?;
			record.status = DeviceStatus::Decommissioned;
			record.deposit = Zero::zero();
			record.metadata = DeviceMetadata {
				kind: BoundedVec::new(),
				model: BoundedVec::new(),
				firmware: None,
				location: BoundedVec::new(),
			};
			Devices::<T>::insert(device, record);
			PendingTransfers::<T>::remove(device);

			Self::deposit_event(Event::DeviceDecommissioned { device, owner: who, released });
			Ok(())
		}

		/// Offers a device to another account, which becomes its owner by accepting within
		/// `TransferOfferLifetime` blocks. A new offer replaces an open one.
		///
		/// - `origin`: signed by the device's owner.
		/// - `device`: a device that is not decommissioned.
		/// - `to`: the account offered the device; not the owner.
		///
		/// Emits `TransferOffered`.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::offer_transfer())]
		pub fn offer_transfer(
			origin: OriginFor<T>,
			device: DeviceId,
			to: AccountIdLookupOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let to = T::Lookup::lookup(to)?;
			Self::owned_and_live(&who, &device)?;
			ensure!(to != who, Error::<T>::AlreadyOwner);

			let expires = frame_system::Pallet::<T>::block_number()
				.saturating_add(T::TransferOfferLifetime::get());
			PendingTransfers::<T>::insert(device, TransferOffer { to: to.clone(), expires });

			Self::deposit_event(Event::TransferOffered { device, from: who, to, expires });
			Ok(())
		}

		/// Accepts a device offered to the caller, who becomes its owner in a new ownership
		/// epoch: the old owner's grants and group memberships stop counting.
		///
		/// - `origin`: signed by the account the device was offered to, before the offer
		///   expires.
		/// - `device`: a device with an open offer to the caller.
		/// - `key`: the key the device signs with from now on. It may be the device's current
		///   key (the device changes hands with its secure element), but only its holder can
		///   prove possession for the new owner.
		/// - `proof`: `key`'s signature of
		///   [`possession_hash`](provena_primitives::possession_hash)`(genesis, device, caller)`.
		/// - `max_deposit`: the most the caller agrees to have held; the call fails if the
		///   device's deposit is higher.
		///
		/// Holds the device's deposit from the caller and releases it to the previous owner.
		///
		/// Emits `DeviceTransferred`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::accept_transfer())]
		pub fn accept_transfer(
			origin: OriginFor<T>,
			device: DeviceId,
			key: DeviceKey,
			proof: MultiSignature,
			max_deposit: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Devices::<T>::get(device).ok_or(Error::<T>::NotFound)?;
			let offer = PendingTransfers::<T>::get(device).ok_or(Error::<T>::NoTransferOffered)?;
			ensure!(offer.to == who, Error::<T>::NotOfferedToYou);
			// Decommissioning withdraws offers, so an offered device is always live.
			ensure!(record.status != DeviceStatus::Decommissioned, Error::<T>::Decommissioned);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now < offer.expires, Error::<T>::OfferExpired);
			ensure!(record.deposit <= max_deposit, Error::<T>::DepositAboveLimit);
			Self::ensure_possession(&who, &device, &key, &proof)?;
			let epoch = record.epoch.checked_add(1).ok_or(sp_runtime::ArithmeticError::Overflow)?;

			let from = record.owner.clone();
			Self::hold_deposit(&who, record.deposit)?;
			Self::release_deposit(&from, record.deposit)?;
			DevicesByOwner::<T>::remove(&from, device);
			DevicesByOwner::<T>::insert(&who, device, ());
			record.owner = who.clone();
			record.key = key;
			record.epoch = epoch;
			Devices::<T>::insert(device, record);
			PendingTransfers::<T>::remove(device);

			Self::deposit_event(Event::DeviceTransferred { device, from, to: who, key, epoch });
			Ok(())
		}

		/// Withdraws an open transfer offer.
		///
		/// - `origin`: signed by the device's owner.
		/// - `device`: a device with an open offer.
		///
		/// Emits `TransferCancelled`.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::cancel_transfer())]
		pub fn cancel_transfer(origin: OriginFor<T>, device: DeviceId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let record = Devices::<T>::get(device).ok_or(Error::<T>::NotFound)?;
			ensure!(record.owner == who, Error::<T>::NotOwner);
			ensure!(PendingTransfers::<T>::contains_key(device), Error::<T>::NoTransferOffered);

			PendingTransfers::<T>::remove(device);

			Self::deposit_event(Event::TransferCancelled { device });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Registers `device` for `owner`: the `register` call without its origin, also used
		/// for genesis devices.
		pub fn do_register(
			owner: T::AccountId,
			device: DeviceId,
			key: DeviceKey,
			metadata: MetadataInput,
		) -> DispatchResult {
			if let Some(existing) = Devices::<T>::get(device) {
				ensure!(
					existing.status != DeviceStatus::Decommissioned,
					Error::<T>::Decommissioned
				);
				return Err(Error::<T>::AlreadyExists.into());
			}
			let metadata = Self::bound_metadata(metadata)?;
			let deposit = Self::deposit_for(&metadata);

			Self::hold_deposit(&owner, deposit)?;
			let registered_at = frame_system::Pallet::<T>::block_number();
			let status = DeviceStatus::Active;
			let record = Device {
				owner: owner.clone(),
				key,
				status,
				metadata,
				registered_at,
				deposit,
				epoch: 0,
			};
			Devices::<T>::insert(device, record);
			DevicesByOwner::<T>::insert(&owner, device, ());

			Self::deposit_event(Event::DeviceRegistered { device, owner, key, deposit });
			Ok(())
		}

		/// Whether `proof` is `key`'s signature letting `owner` register it as (or rotate to
		/// it) `device` on this chain.
		fn ensure_possession(
			owner: &T::AccountId,
			device: &DeviceId,
			key: &DeviceKey,
			proof: &MultiSignature,
		) -> DispatchResult {
			let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
			let message = provena_primitives::possession_hash(&genesis, device, owner);
			ensure!(key.verify(&message, proof), Error::<T>::PossessionUnproven);
			Ok(())
		}

		/// The device's record, if `who` owns it and it is not decommissioned.
		fn owned_and_live(
			who: &T::AccountId,
			device: &DeviceId,
		) -> Result<DeviceOf<T>, DispatchError> {
			let record = Devices::<T>::get(device).ok_or(Error::<T>::NotFound)?;
			ensure!(record.owner == *who, Error::<T>::NotOwner);
			ensure!(record.status != DeviceStatus::Decommissioned, Error::<T>::Decommissioned);
			Ok(record)
		}

		/// Checks each metadata field against `MaxFieldLength`.
		fn bound_metadata(
			input: MetadataInput,
		) -> Result<DeviceMetadata<T::MaxFieldLength>, DispatchError> {
			let field = |bytes: alloc::vec::Vec<u8>| {
				BoundedVec::try_from(bytes).map_err(|_| Error::<T>::FieldTooLong)
			};
			Ok(DeviceMetadata {
				kind: field(input.kind)?,
				model: field(input.model)?,
				firmware: input.firmware,
				location: field(input.location)?,
			})
		}

		/// The deposit a record with `metadata` costs.
		pub fn deposit_for(metadata: &DeviceMetadata<T::MaxFieldLength>) -> BalanceOf<T> {
			T::DepositPerByte::get()
				.saturating_mul(metadata.charged_bytes().into())
				.saturating_add(T::DepositBase::get())
		}

		fn hold_deposit(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
			T::Currency::hold(&HoldReason::DeviceDeposit.into(), who, amount)
				.map_err(|_| Error::<T>::InsufficientBalance.into())
		}

		fn release_deposit(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
			T::Currency::release(&HoldReason::DeviceDeposit.into(), who, amount, Precision::Exact)
				.map(|_| ())
		}

		/// Moves `who`'s held deposit from `old` to `new`; nothing happens when they are equal.
		fn adjust_deposit(
			who: &T::AccountId,
			old: BalanceOf<T>,
			new: BalanceOf<T>,
		) -> DispatchResult {
			if new > old {
				Self::hold_deposit(who, new.saturating_sub(old))
			} else if new < old {
				Self::release_deposit(who, old.saturating_sub(new))
			} else {
				Ok(())
			}
		}

		/// Checks the registry's invariants: every live device is indexed under its owner and
		/// its deposit is held; every index entry and transfer offer points at a live record;
		/// each owner's held total equals the deposits of their devices.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			use frame_support::traits::fungible::InspectHold;
			let mut held: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			for (device, record) in Devices::<T>::iter() {
				ensure!(
					DevicesByOwner::<T>::contains_key(&record.owner, device),
					"a device is missing from its owner's index"
				);
				if record.status == DeviceStatus::Decommissioned {
					ensure!(
						record.deposit.is_zero(),
						"a decommissioned device still has a deposit"
					);
					ensure!(
						record.metadata.charged_bytes() == 0,
						"a decommissioned device kept its description"
					);
				} else {
					ensure!(
						record.deposit == Self::deposit_for(&record.metadata),
						"a device's deposit does not match its metadata"
					);
				}
				let total = held.entry(record.owner.clone()).or_insert_with(Zero::zero);
				*total = total.saturating_add(record.deposit);
			}
			for (owner, device, ()) in DevicesByOwner::<T>::iter() {
				let record =
					Devices::<T>::get(device).ok_or("an owner index entry has no device")?;
				ensure!(record.owner == owner, "an owner index entry names the wrong owner");
			}
			for (device, offer) in PendingTransfers::<T>::iter() {
				let record = Devices::<T>::get(device).ok_or("a transfer offer has no device")?;
				ensure!(
					record.status != DeviceStatus::Decommissioned,
					"a retired device is on offer"
				);
				ensure!(record.owner != offer.to, "a device is offered to its own owner");
			}
			for (owner, total) in held {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::DeviceDeposit.into(), &owner)
						== total,
					"an owner's held deposit differs from the sum of their devices' deposits"
				);
			}
			Ok(())
		}
	}

	impl<T: Config> InspectDevice<T::AccountId> for Pallet<T> {
		fn device(id: &DeviceId) -> Option<DeviceInfo<T::AccountId>> {
			Devices::<T>::get(id).map(|record| DeviceInfo {
				owner: record.owner,
				key: record.key,
				status: record.status,
				epoch: record.epoch,
			})
		}
	}

	/// How a call names an account (an address, or an index where the runtime has them).
	type AccountIdLookupOf<T> = <<T as frame_system::Config>::Lookup as StaticLookup>::Source;
}
