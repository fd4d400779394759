// Polkadot.js against a real dev node: the chain's properties, DeviceRegistry's metadata and
// docs (what Apps shows), the genesis demo devices, and registering a device.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { possessionProof } from './lib/anchor.mjs';
import { sendAndFinalize, startDevNode } from './lib/node.mjs';

let node;
let api;

before(async () => {
  await cryptoWaitReady();
  node = await startDevNode();
  api = node.api;
});

after(async () => {
  await node?.stop();
});

test('the chain reports PRV with 12 decimals and SS58 format 42', () => {
  assert.deepEqual(api.registry.chainTokens, ['PRV']);
  assert.deepEqual(api.registry.chainDecimals, [12]);
  assert.equal(api.registry.chainSS58, 42);
});

test('Polkadot.js reads metadata V14 or later', () => {
  assert.ok(api.runtimeMetadata.version >= 14, `metadata v${api.runtimeMetadata.version}`);
});

test('every DeviceRegistry call, storage item, constant, event and error is documented', () => {
  const pallet = api.runtimeMetadata.asLatest.pallets.find((p) => p.name.toString() === 'DeviceRegistry');
  assert.ok(pallet, 'DeviceRegistry is in the metadata');

  const calls = Object.entries(api.tx.deviceRegistry);
  assert.deepEqual(calls.map(([name]) => name).sort(), [
    'acceptTransfer', 'cancelTransfer', 'decommission', 'offerTransfer', 'register', 'resume',
    'rotateKey', 'suspend', 'updateMetadata',
  ]);
  for (const [name, call] of calls) {
    assert.ok(call.meta.docs.length > 0, `call ${name} has docs`);
  }

  const storage = Object.entries(api.query.deviceRegistry);
  assert.deepEqual(storage.map(([name]) => name).sort(), [
    'deployment', 'devices', 'devicesByOwner', 'palletVersion', 'pendingTransfers',
  ].sort());
  for (const [name, item] of storage) {
    if (name === 'palletVersion') continue;
    assert.ok(item.creator.meta.docs.length > 0, `storage ${name} has docs`);
  }

  for (const [name, constant] of Object.entries(api.consts.deviceRegistry)) {
    assert.ok(constant.meta.docs.length > 0, `constant ${name} has docs`);
  }
  for (const [name, event] of Object.entries(api.events.deviceRegistry)) {
    assert.ok(event.meta.docs.length > 0, `event ${name} has docs`);
  }
  for (const [name, error] of Object.entries(api.errors.deviceRegistry)) {
    assert.ok(error.meta.docs.length > 0, `error ${name} has docs`);
  }
});

test("Polkadot.js reads the deployment value, zero on the dev chain", async () => {
  const deployment = await api.query.deviceRegistry.deployment();
  assert.equal(deployment.toHex(), `0x${'00'.repeat(32)}`);
});

test('the dev chain starts with two demo devices of Alice', async () => {
  const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
  const owned = await api.query.deviceRegistry.devicesByOwner.keys(alice.address);
  assert.equal(owned.length, 2);

  // Their keys are the ones derived from //Alice//device/1 (sr25519) and //Alice//device//2 (ed25519).
  const sr = new Keyring({ type: 'sr25519' }).addFromUri('//Alice//device/1');
  const ed = new Keyring({ type: 'ed25519' }).addFromUri('//Alice//device//2');
  const keys = [];
  for (const key of owned) {
    const [, id] = key.args;
    const device = (await api.query.deviceRegistry.devices(id)).unwrap();
    assert.equal(device.owner.toString(), alice.address);
    assert.equal(device.status.toString(), 'Active');
    keys.push(device.key.toJSON());
  }
  const expected = [{ sr25519: u8aToHex(sr.publicKey) }, { ed25519: u8aToHex(ed.publicKey) }];
  const sort = (list) => list.map((k) => JSON.stringify(k)).sort();
  assert.deepEqual(sort(keys), sort(expected));
});

test('Bob registers a device from Polkadot.js and its deposit is held', async () => {
  const bob = new Keyring({ type: 'sr25519' }).addFromUri('//Bob');
  const deviceKey = new Keyring({ type: 'ed25519' }).addFromUri('//Bob//device//pjs');
  const device = blake2AsHex('serial:PJS-0001', 256);
  const metadata = { kind: 'thermometer', model: 'Acme TX-200', firmware: null, location: 'dock 4' };

  const reservedBefore = (await api.query.system.account(bob.address)).data.reserved.toBigInt();
  const tx = api.tx.deviceRegistry.register(device, { Ed25519: deviceKey.publicKey }, metadata,
    possessionProof(api, deviceKey, device, bob));
  const { events } = await sendAndFinalize(api, tx, bob);

  const registered = events.find(({ event }) => api.events.deviceRegistry.DeviceRegistered.is(event));
  assert.ok(registered, 'DeviceRegistered was emitted');
  const { device: id, owner, deposit } = registered.event.data;
  assert.equal(id.toHex(), device);
  assert.equal(owner.toString(), bob.address);

  const record = (await api.query.deviceRegistry.devices(device)).unwrap();
  assert.equal(record.owner.toString(), bob.address);
  assert.equal(record.status.toString(), 'Active');
  assert.equal(record.metadata.location.toUtf8(), 'dock 4');
  assert.equal(record.key.asEd25519.toHex(), u8aToHex(deviceKey.publicKey));

  // The deposit is a hold: it shows in the account's reserved balance.
  const reservedAfter = (await api.query.system.account(bob.address)).data.reserved.toBigInt();
  assert.equal(reservedAfter - reservedBefore, deposit.toBigInt());

  // Registering the same id again fails with the pallet's named error.
  await assert.rejects(sendAndFinalize(api, tx, bob), /deviceRegistry\.AlreadyExists/);
});
