//! A stateful property test of access control against a small reference model.
//!
//! Random sequences of grants, revocations, stale-grant removals, group changes, waiting,
//! transfers and decommissioning run on the pallet and on the model side by side. After every
//! step:
//! - each call succeeded exactly when the model says it may (so no manager-given grant ever
//!   outlives or exceeds the MANAGE grant it came from, and nothing the rules allow is refused);
//! - the stored grants and group memberships are the model's;
//! - every account's permissions on every device are the model's;
//! - nobody who cannot read a device (in service) holds its data key of the epoch in force:
//!   every loss of READ — a revoke, a narrowed grant, an expiry, a group change, a transfer —
//!   moved the epoch on past any key sealed to the lost reader (the steps include the owner
//!   sealing the key in force to a random account);
//! - `try_state` holds.
//!
//! At the end every deposit can be released: each grant is revoked by its scope's owner or
//! removed as stale, each sealed key removed, each group dissolved, and nothing stays held.

use crate::{mock::*, *};
use frame_support::traits::fungible::InspectHold;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const ACCOUNTS: [u64; 5] = [OWNER, MANAGER, GATEWAY, READER, OTHER_OWNER];
const DEVICES: [u8; 3] = [1, 2, 9];

#[derive(Clone, Copy, Debug)]
enum Target {
	Device(u8),
	Group(GroupId),
}

impl Target {
	fn scope(self) -> Scope {
		match self {
			Target::Device(n) => Scope::Device(device(n)),
			Target::Group(group) => Scope::Group(group),
		}
	}
}

#[derive(Clone, Debug)]
enum Step {
	Grant { by: u64, target: Target, grantee: u64, permissions: u8, lasts: Option<u64> },
	Revoke { by: u64, target: Target, grantee: u64 },
	RemoveStale { by: u64, target: Target, grantee: u64 },
	CreateGroup { owner: u64 },
	AddToGroup { by: u64, group: GroupId, device: u8 },
	RemoveFromGroup { by: u64, group: GroupId, device: u8 },
	DissolveGroup { by: u64, group: GroupId },
	Wait { blocks: u64 },
	Transfer { device: u8, to: u64 },
	Decommission { device: u8 },
	Seal { device: u8, reader: u64 },
}

/// A step as generated: numbers that [`Model::resolve`] turns into a [`Step`] against the
/// state so far, so that most steps name groups that exist, grants that exist and the account
/// that may act (uniform choices would fail almost every time and test little).
#[derive(Clone, Debug)]
enum Draw {
	Grant { actor: u8, target: u8, grantee: u8, permissions: u8, lasts: Option<u64> },
	Revoke { actor: u8, pick: u8 },
	RemoveStale { actor: u8, pick: u8 },
	CreateGroup { owner: u8 },
	AddToGroup { actor: u8, pick: u8, device: u8 },
	RemoveFromGroup { actor: u8, pick: u8, device: u8 },
	DissolveGroup { actor: u8, pick: u8 },
	Wait { blocks: u64 },
	Transfer { device: u8, to: u8 },
	Decommission { device: u8 },
	Seal { device: u8, reader: u8 },
}

fn draw() -> impl Strategy<Value = Draw> {
	let n = || any::<u8>();
	prop_oneof![
		8 => (n(), n(), n(), 1u8..16, prop::option::of(1u64..30)).prop_map(
			|(actor, target, grantee, permissions, lasts)| Draw::Grant {
				actor,
				target,
				grantee,
				permissions,
				lasts
			}
		),
		3 => (n(), n()).prop_map(|(actor, pick)| Draw::Revoke { actor, pick }),
		2 => (n(), n()).prop_map(|(actor, pick)| Draw::RemoveStale { actor, pick }),
		2 => n().prop_map(|owner| Draw::CreateGroup { owner }),
		4 => (n(), n(), n()).prop_map(|(actor, pick, device)| Draw::AddToGroup {
			actor,
			pick,
			device
		}),
		2 => (n(), n(), n()).prop_map(|(actor, pick, device)| Draw::RemoveFromGroup {
			actor,
			pick,
			device
		}),
		1 => (n(), n()).prop_map(|(actor, pick)| Draw::DissolveGroup { actor, pick }),
		3 => (1u64..12).prop_map(|blocks| Draw::Wait { blocks }),
		2 => (n(), n()).prop_map(|(device, to)| Draw::Transfer { device, to }),
		4 => (n(), n()).prop_map(|(device, reader)| Draw::Seal { device, reader }),
		1 => (any::<bool>(), n()).prop_map(|(rare, device)| if rare {
			Draw::Decommission { device }
		} else {
			Draw::Wait { blocks: 1 }
		}),
	]
}

/// The `n`-th of `items`, cycling.
fn nth<T: Copy>(items: &[T], n: u8) -> Option<T> {
	(!items.is_empty()).then(|| items[n as usize % items.len()])
}

/// A grant as the model keeps it.
#[derive(Clone, Debug, PartialEq)]
struct ModelGrant {
	permissions: u8,
	expires: Option<u64>,
	owner: u64,
	epoch: u32,
	granted_by: u64,
}

/// A device as the model keeps it.
#[derive(Clone, Copy, Debug)]
struct ModelDevice {
	owner: u64,
	retired: bool,
	epoch: u32,
}

/// What the rules say access control holds, written independently of the pallet.
struct Model {
	now: u64,
	devices: BTreeMap<u8, ModelDevice>,
	/// Group number → owner.
	groups: BTreeMap<GroupId, u64>,
	next_group: GroupId,
	/// Device → (group, epoch it joined in).
	memberships: BTreeMap<u8, Vec<(GroupId, u32)>>,
	grants: BTreeMap<(Scope, u64), ModelGrant>,
}

/// Who may act on a scope: its owner, or these live MANAGE grants.
enum Actor {
	Owner,
	Manager(Vec<ModelGrant>),
}

impl Model {
	fn new() -> Self {
		let devices = [(1, OWNER), (2, OWNER), (9, OTHER_OWNER)]
			.into_iter()
			.map(|(n, owner)| (n, ModelDevice { owner, retired: false, epoch: 0 }))
			.collect();
		Model {
			now: 1,
			devices,
			groups: BTreeMap::new(),
			next_group: 0,
			memberships: BTreeMap::new(),
			grants: BTreeMap::new(),
		}
	}

	fn live(&self, grant: &ModelGrant) -> bool {
		grant.expires.is_none_or(|end| self.now < end)
	}

	/// The groups `n` is in in its current epoch.
	fn current_groups(&self, n: u8) -> Vec<GroupId> {
		let epoch = self.devices[&n].epoch;
		let joined = self.memberships.get(&n).cloned().unwrap_or_default();
		joined.into_iter().filter(|(_, e)| *e == epoch).map(|(group, _)| group).collect()
	}

	/// The live grants `who` holds on device `n` now: on it and through its current groups.
	fn live_grants(&self, who: u64, n: u8) -> Vec<ModelGrant> {
		let dev = self.devices[&n];
		let direct = self
			.grants
			.get(&(Scope::Device(device(n)), who))
			.filter(|g| g.epoch == dev.epoch && g.owner == dev.owner);
		let groups = self.current_groups(n);
		let through =
			groups.iter().filter_map(|group| self.grants.get(&(Scope::Group(*group), who)));
		direct.into_iter().chain(through).filter(|g| self.live(g)).cloned().collect()
	}

	fn permissions(&self, who: u64, n: u8) -> u8 {
		if self.devices[&n].retired {
			return 0;
		}
		self.live_grants(who, n).iter().fold(0, |all, g| all | g.permissions)
	}

	/// The scope's owner and epoch, and who `who` is on it; `None` if it cannot be acted on.
	fn actor(&self, who: u64, target: Target) -> Option<(u64, u32, Actor)> {
		let manage = |grants: Vec<ModelGrant>| -> Vec<ModelGrant> {
			grants.into_iter().filter(|g| g.permissions & Permissions::MANAGE != 0).collect()
		};
		let (owner, epoch, managers) = match target {
			Target::Device(n) => {
				let dev = self.devices[&n];
				if dev.retired {
					return None;
				}
				(dev.owner, dev.epoch, manage(self.live_grants(who, n)))
			},
			Target::Group(group) => {
				let owner = *self.groups.get(&group)?;
				let own = self.grants.get(&(Scope::Group(group), who)).filter(|g| self.live(g));
				(owner, 0, manage(own.cloned().into_iter().collect()))
			},
		};
		if who == owner {
			Some((owner, epoch, Actor::Owner))
		} else if managers.is_empty() {
			None
		} else {
			Some((owner, epoch, Actor::Manager(managers)))
		}
	}

	/// Whether one of `managers` alone covers a grant of `permissions` until `expires`.
	fn covers(managers: &[ModelGrant], permissions: u8, expires: Option<u64>) -> bool {
		permissions & Permissions::DELEGATE == 0
			&& managers.iter().any(|m| {
				let may_give = permissions & Permissions::MANAGE == 0
					|| m.permissions & Permissions::DELEGATE != 0;
				let in_time = match (m.expires, expires) {
					(None, _) => true,
					(Some(limit), Some(end)) => end <= limit,
					(Some(_), None) => false,
				};
				may_give && in_time
			})
	}

	fn stale(&self, scope: &Scope, grant: &ModelGrant) -> bool {
		if !self.live(grant) {
			return true;
		}
		match scope {
			Scope::Device(id) => {
				let dev = self.devices[&id[0]];
				dev.retired || dev.epoch != grant.epoch || dev.owner != grant.owner
			},
			Scope::Group(_) => false,
		}
	}

	/// The account acting on a scope owned by `owner`: the owner three times in four (the
	/// others then try managers' and strangers' calls), else any account.
	fn actor_for(owner: u64, actor: u8) -> u64 {
		if actor < 192 {
			owner
		} else {
			ACCOUNTS[actor as usize % ACCOUNTS.len()]
		}
	}

	/// Turns a drawn step into a concrete one against the model's state.
	fn resolve(&self, draw: &Draw) -> Step {
		let any_account = |n: u8| ACCOUNTS[n as usize % ACCOUNTS.len()];
		let any_device = |n: u8| DEVICES[n as usize % DEVICES.len()];
		let groups: Vec<GroupId> = self.groups.keys().copied().collect();
		// A group number past the last one now and then, to try unknown groups.
		let group = |pick: u8| match nth(&groups, pick) {
			Some(group) if pick < 240 => group,
			_ => self.next_group + 1,
		};
		let owner_of = |target: Target| match target {
			Target::Device(n) => self.devices[&n].owner,
			Target::Group(group) => self.groups.get(&group).copied().unwrap_or(OWNER),
		};
		let grant_key = |pick: u8| {
			let keys: Vec<(Scope, u64)> = self.grants.keys().copied().collect();
			nth(&keys, pick).map(|(scope, grantee)| {
				let target = match scope {
					Scope::Device(id) => Target::Device(id[0]),
					Scope::Group(group) => Target::Group(group),
				};
				(target, grantee)
			})
		};
		match *draw {
			Draw::Grant { actor, target, grantee, permissions, lasts } => {
				let target = if target % 3 == 0 && !groups.is_empty() {
					Target::Group(group(target))
				} else {
					Target::Device(any_device(target))
				};
				// Managers act too: a grantee of a MANAGE grant on this scope, when there is one.
				let managers: Vec<u64> = self
					.grants
					.iter()
					.filter(|((scope, _), g)| {
						*scope == target.scope() && g.permissions & Permissions::MANAGE != 0
					})
					.map(|((_, who), _)| *who)
					.collect();
				let by = match nth(&managers, actor) {
					Some(manager) if actor % 2 == 0 => manager,
					_ => Self::actor_for(owner_of(target), actor),
				};
				Step::Grant { by, target, grantee: any_account(grantee), permissions, lasts }
			},
			Draw::Revoke { actor, pick } => match grant_key(pick) {
				Some((target, grantee)) => {
					Step::Revoke { by: Self::actor_for(owner_of(target), actor), target, grantee }
				},
				None => Step::Wait { blocks: 1 },
			},
			Draw::RemoveStale { actor, pick } => match grant_key(pick) {
				Some((target, grantee)) => {
					Step::RemoveStale { by: any_account(actor), target, grantee }
				},
				None => Step::Wait { blocks: 1 },
			},
			// Mostly by an account that owns a device, so the group can have members.
			Draw::CreateGroup { owner } => {
				let owner = if owner < 200 {
					owner_of(Target::Device(any_device(owner)))
				} else {
					any_account(owner)
				};
				Step::CreateGroup { owner }
			},
			Draw::AddToGroup { actor, pick, device } => {
				let group = group(pick);
				let owner = owner_of(Target::Group(group));
				let owned: Vec<u8> =
					DEVICES.into_iter().filter(|n| self.devices[n].owner == owner).collect();
				let device = match nth(&owned, device) {
					Some(n) if device < 224 => n,
					_ => any_device(device),
				};
				Step::AddToGroup { by: Self::actor_for(owner, actor), group, device }
			},
			Draw::RemoveFromGroup { actor, pick, device } => {
				let group = group(pick);
				let by = Self::actor_for(owner_of(Target::Group(group)), actor);
				let members: Vec<u8> = self.members(group).into_iter().collect();
				let device = match nth(&members, device) {
					Some(n) if device < 224 => n,
					_ => any_device(device),
				};
				Step::RemoveFromGroup { by, group, device }
			},
			Draw::DissolveGroup { actor, pick } => {
				let group = group(pick);
				Step::DissolveGroup {
					by: Self::actor_for(owner_of(Target::Group(group)), actor),
					group,
				}
			},
			Draw::Wait { blocks } => Step::Wait { blocks },
			Draw::Transfer { device, to } => {
				Step::Transfer { device: any_device(device), to: any_account(to) }
			},
			Draw::Decommission { device } => Step::Decommission { device: any_device(device) },
			Draw::Seal { device, reader } => {
				Step::Seal { device: any_device(device), reader: any_account(reader) }
			},
		}
	}

	/// Applies `step` to the model if the rules allow it; whether they do.
	fn apply(&mut self, step: &Step) -> bool {
		match *step {
			Step::Grant { by, target, grantee, permissions, lasts } => {
				let expires = lasts.map(|blocks| self.now + blocks);
				if !Permissions(permissions).is_valid() {
					return false;
				}
				let Some((owner, epoch, actor)) = self.actor(by, target) else { return false };
				let key = (target.scope(), grantee);
				if let Actor::Manager(managers) = &actor {
					let replaced = self.grants.get(&key);
					let old_ok = replaced
						.is_none_or(|old| Self::covers(managers, old.permissions, old.expires));
					if !Self::covers(managers, permissions, expires) || !old_ok {
						return false;
					}
				}
				self.grants
					.insert(key, ModelGrant { permissions, expires, owner, epoch, granted_by: by });
				true
			},
			Step::Revoke { by, target, grantee } => {
				let key = (target.scope(), grantee);
				let Some(grant) = self.grants.get(&key).cloned() else { return false };
				let Some((_, _, actor)) = self.actor(by, target) else { return false };
				if let Actor::Manager(managers) = &actor {
					if !Self::covers(managers, grant.permissions, grant.expires) {
						return false;
					}
				}
				self.grants.remove(&key);
				true
			},
			Step::RemoveStale { target, grantee, .. } => {
				let key = (target.scope(), grantee);
				match self.grants.get(&key) {
					Some(grant) if self.stale(&key.0, grant) => {
						self.grants.remove(&key);
						true
					},
					_ => false,
				}
			},
			Step::CreateGroup { owner } => {
				self.groups.insert(self.next_group, owner);
				self.next_group += 1;
				true
			},
			Step::AddToGroup { by, group, device: n } => {
				let dev = self.devices[&n];
				if self.groups.get(&group) != Some(&by) || dev.owner != by || dev.retired {
					return false;
				}
				let joined = self.memberships.get(&n).cloned().unwrap_or_default();
				let (current, stale): (Vec<_>, Vec<_>) =
					joined.into_iter().partition(|(_, e)| *e == dev.epoch);
				if current.iter().any(|(g, _)| *g == group)
					|| current.len() as u32 >= MaxGroupsPerDevice::get()
				{
					return false;
				}
				let rejoins = stale.iter().any(|(g, _)| *g == group);
				if !rejoins && self.members(group).len() as u32 >= MaxGroupSize::get() {
					return false;
				}
				let mut now_in = current;
				now_in.push((group, dev.epoch));
				self.memberships.insert(n, now_in);
				true
			},
			Step::RemoveFromGroup { by, group, device: n } => {
				if self.groups.get(&group) != Some(&by) || !self.members(group).contains(&n) {
					return false;
				}
				self.leave(n, group);
				true
			},
			Step::DissolveGroup { by, group } => {
				let has_grants = self.grants.keys().any(|(scope, _)| *scope == Scope::Group(group));
				if self.groups.get(&group) != Some(&by) || has_grants {
					return false;
				}
				for n in self.members(group) {
					self.leave(n, group);
				}
				self.groups.remove(&group);
				true
			},
			Step::Wait { blocks } => {
				self.now += blocks;
				true
			},
			Step::Transfer { device: n, to } => {
				let dev = self.devices.get_mut(&n).unwrap();
				if dev.retired || dev.owner == to {
					return false;
				}
				dev.owner = to;
				dev.epoch += 1;
				true
			},
			Step::Decommission { device: n } => {
				let dev = self.devices.get_mut(&n).unwrap();
				let done = !dev.retired;
				dev.retired = true;
				done
			},
			// The owner seals the key in force to an account: only to a reader.
			Step::Seal { device: n, reader } => {
				self.permissions(reader, n) & Permissions::READ != 0
			},
		}
	}

	/// The devices listed in `group`, whatever epoch they joined in.
	fn members(&self, group: GroupId) -> BTreeSet<u8> {
		self.memberships
			.iter()
			.filter(|(_, joined)| joined.iter().any(|(g, _)| *g == group))
			.map(|(n, _)| *n)
			.collect()
	}

	fn leave(&mut self, n: u8, group: GroupId) {
		if let Some(joined) = self.memberships.get_mut(&n) {
			joined.retain(|(g, _)| *g != group);
			if joined.is_empty() {
				self.memberships.remove(&n);
			}
		}
	}
}

/// Runs `step` on the pallet (or on the mock registry, for transfers and decommissioning).
fn run(step: &Step) -> bool {
	let origin = RuntimeOrigin::signed;
	match *step {
		Step::Grant { by, target, grantee, permissions, lasts } => {
			let expires = lasts.map(|blocks| System::block_number() + blocks);
			let p = Permissions(permissions);
			AccessControl::grant(origin(by), target.scope(), grantee, p, expires, None).is_ok()
		},
		Step::Revoke { by, target, grantee } => {
			AccessControl::revoke(origin(by), target.scope(), grantee).is_ok()
		},
		Step::RemoveStale { by, target, grantee } => {
			AccessControl::remove_stale(origin(by), target.scope(), grantee).is_ok()
		},
		Step::CreateGroup { owner } => {
			AccessControl::create_group(origin(owner), Default::default()).is_ok()
		},
		Step::AddToGroup { by, group, device: n } => {
			AccessControl::add_to_group(origin(by), group, device(n)).is_ok()
		},
		Step::RemoveFromGroup { by, group, device: n } => {
			AccessControl::remove_from_group(origin(by), group, device(n)).is_ok()
		},
		Step::DissolveGroup { by, group } => {
			AccessControl::dissolve_group(origin(by), group).is_ok()
		},
		Step::Wait { blocks } => {
			System::set_block_number(System::block_number() + blocks);
			true
		},
		Step::Transfer { device: n, to } => {
			let info = <Directory as InspectDevice<u64>>::device(&device(n)).unwrap();
			if info.status == DeviceStatus::Decommissioned || info.owner == to {
				return false;
			}
			Directory::transfer(device(n), to);
			true
		},
		Step::Decommission { device: n } => {
			let info = <Directory as InspectDevice<u64>>::device(&device(n)).unwrap();
			if info.status == DeviceStatus::Decommissioned {
				return false;
			}
			Directory::set_status(device(n), DeviceStatus::Decommissioned);
			true
		},
		Step::Seal { device: n, reader } => {
			let owner = <Directory as InspectDevice<u64>>::device(&device(n)).unwrap().owner;
			let epoch = AccessControl::key_epoch(&device(n)).unwrap();
			let key = EpochKey { epoch, sealed: vec![0x5a; 80].try_into().unwrap() };
			AccessControl::seal_key(origin(owner), device(n), reader, key).is_ok()
		},
	}
}

/// Checks the pallet's state against the model's.
fn check(model: &Model, step: usize) -> Result<(), TestCaseError> {
	let stored: BTreeMap<(Scope, u64), ModelGrant> = Grants::<Test>::iter()
		.map(|(scope, who, g)| {
			let grant = ModelGrant {
				permissions: g.permissions.0,
				expires: g.expires,
				owner: g.owner,
				epoch: g.epoch,
				granted_by: g.granted_by,
			};
			((scope, who), grant)
		})
		.collect();
	prop_assert_eq!(&stored, &model.grants, "grants after step {}", step);
	for n in DEVICES {
		let mut stored: Vec<(GroupId, u32)> =
			DeviceGroups::<Test>::get(device(n)).iter().map(|m| (m.group, m.epoch)).collect();
		let mut expected = model.memberships.get(&n).cloned().unwrap_or_default();
		stored.sort();
		expected.sort();
		prop_assert_eq!(stored, expected, "memberships of device {} after step {}", n, step);
		for who in ACCOUNTS {
			prop_assert_eq!(
				AccessControl::permissions_on(&who, &device(n)).0,
				model.permissions(who, n),
				"permissions of {} on device {} after step {}",
				who,
				n,
				step
			);
			// The short search telemetry uses finds SUBMIT exactly when the full one does.
			let path = <Directory as InspectDevice<u64>>::device(&device(n)).and_then(|info| {
				<AccessControl as DevicePermissions<u64>>::submit_path(&who, &device(n), &info)
			});
			prop_assert_eq!(
				path.is_some(),
				model.permissions(who, n) & Permissions::SUBMIT != 0,
				"SUBMIT path of {} on device {} after step {}",
				who,
				n,
				step
			);
		}
	}
	// Nobody who cannot read a device in service holds its key of the epoch in force.
	for (device_id, reader, sealed) in SealedKeys::<Test>::iter() {
		let n = device_id[0];
		if model.devices[&n].retired {
			continue;
		}
		let in_force = AccessControl::key_epoch(&device_id).unwrap();
		prop_assert!(sealed.key.epoch <= in_force, "a key of a future epoch after step {}", step);
		if sealed.key.epoch == in_force {
			prop_assert!(
				model.permissions(reader, n) & Permissions::READ != 0,
				"{} holds device {}'s key of epoch {} in force but cannot read it, after step {}",
				reader,
				n,
				in_force,
				step
			);
		}
	}
	AccessControl::do_try_state()
		.map_err(|e| TestCaseError::fail(format!("try_state after step {step}: {e:?}")))?;
	Ok(())
}

/// Releases every deposit the way a user can: revoke or remove each grant, dissolve each group.
fn release_everything() -> Result<(), TestCaseError> {
	let origin = RuntimeOrigin::signed;
	for (scope, grantee, grant) in Grants::<Test>::iter().collect::<Vec<_>>() {
		let removed = if AccessControl::is_stale(&scope, &grant) {
			AccessControl::remove_stale(origin(READER), scope, grantee)
		} else {
			let owner = match scope {
				Scope::Device(id) => <Directory as InspectDevice<u64>>::device(&id).unwrap().owner,
				Scope::Group(group) => Groups::<Test>::get(group).unwrap().owner,
			};
			AccessControl::revoke(origin(owner), scope, grantee).map(|_| ()).map_err(|e| e.error)
		};
		prop_assert!(
			removed.is_ok(),
			"{:?} {} could not be removed: {:?}",
			scope,
			grantee,
			removed
		);
	}
	// With no grant left nobody reads, so anyone may remove every sealed key.
	for (device_id, reader, _) in SealedKeys::<Test>::iter().collect::<Vec<_>>() {
		let removed = AccessControl::remove_sealed_key(origin(READER), device_id, reader);
		prop_assert!(removed.is_ok(), "{}'s key could not be removed: {:?}", reader, removed);
	}
	for (group, record) in Groups::<Test>::iter().collect::<Vec<_>>() {
		let dissolved = AccessControl::dissolve_group(origin(record.owner), group);
		prop_assert!(dissolved.is_ok(), "group {} could not be dissolved: {:?}", group, dissolved);
	}
	for who in ACCOUNTS {
		let held = Balances::balance_on_hold(&HoldReason::AccessDeposit.into(), &who);
		prop_assert_eq!(held, 0, "{} still has a deposit held", who);
	}
	Ok(())
}

proptest! {
	// 10,000 sequences of up to 60 steps each in release builds, as `scripts/test.sh` and CI
	// run the tests (about 12 s); 1,000 in a debug build, which is some 40 times slower.
	#![proptest_config(ProptestConfig {
		cases: if cfg!(debug_assertions) { 1_000 } else { 10_000 },
		..ProptestConfig::default()
	})]

	#[test]
	fn access_control_follows_its_model(draws in prop::collection::vec(draw(), 1..60)) {
		ExtBuilder::new().build().execute_with(|| {
			let mut model = Model::new();
			for (index, draw) in draws.iter().enumerate() {
				let step = &model.resolve(draw);
				let expected = model.apply(step);
				let happened = run(step);
				prop_assert_eq!(happened, expected, "step {} {:?}", index, step);
				check(&model, index)?;
			}
			release_everything()
		})?;
	}
}
