// Polkadot.js against a real dev node: AccessControl's metadata and docs, a grant given from
// Polkadot.js, and the AccessControlApi runtime API reporting it, then nothing once revoked; an
// encryption key's deposit held as Balances reports it, and released when it is withdrawn.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
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

test('every AccessControl call, storage item, constant, event and error is documented', () => {
  const calls = Object.entries(api.tx.accessControl);
  assert.deepEqual(calls.map(([name]) => name).sort(), [
    'addToGroup', 'createGroup', 'dissolveGroup', 'grant', 'publishEncryptionKey', 'removeFromGroup',
    'removeSealedKey', 'removeStale', 'revoke', 'rotateDataKey', 'sealKey', 'withdrawEncryptionKey',
  ]);
  for (const [name, call] of calls) assert.ok(call.meta.docs.length > 0, `call ${name} has docs`);
  for (const [name, item] of Object.entries(api.query.accessControl)) {
    if (name !== 'palletVersion') assert.ok(item.creator.meta.docs.length > 0, `storage ${name}`);
  }
  for (const section of [api.consts.accessControl, api.events.accessControl, api.errors.accessControl]) {
    for (const [name, item] of Object.entries(section)) {
      assert.ok(item.meta.docs.length > 0, `${name} has docs`);
    }
  }
});

test('a grant given in Polkadot.js shows in AccessControlApi until revoked, which moves the key epoch', async () => {
  const keyring = new Keyring({ type: 'sr25519' });
  const alice = keyring.addFromUri('//Alice');
  const gateway = keyring.addFromUri('//Dave');
  const device = blake2AsHex('provena-demo:ward-3-ecg-1', 256);
  const scope = { Device: device };

  const before = await api.call.accessControlApi.permissions(gateway.address, device);
  assert.equal(before.toNumber(), 0);
  const epochBefore = (await api.call.accessControlApi.keyEpoch(device)).unwrap().toNumber();

  const submitAndRead = 1 | 2;
  const { events } = await sendAndFinalize(api,
    api.tx.accessControl.grant(scope, gateway.address, submitAndRead, null, null), alice);
  assert.ok(events.some(({ event }) => api.events.accessControl.Granted.is(event)));

  const granted = await api.call.accessControlApi.permissions(gateway.address, device);
  assert.equal(granted.toNumber(), submitAndRead);
  const page = await api.call.accessControlApi.grants(device, null, 10);
  assert.ok(page.next.isNone, 'one page holds it');
  assert.equal(page.grants.length, 1);
  const [grantScope, grantee, grant] = page.grants[0];
  assert.equal(grantScope.asDevice.toHex(), device);
  assert.equal(grantee.toString(), gateway.address);
  assert.equal(grant.grantedBy.toString(), alice.address);

  // Revoking READ moves the device's data key to a new epoch.
  const revoked = await sendAndFinalize(api, api.tx.accessControl.revoke(scope, gateway.address), alice);
  assert.ok(revoked.events.some(({ event }) => api.events.accessControl.KeyEpochStarted.is(event)));
  const after = await api.call.accessControlApi.permissions(gateway.address, device);
  assert.equal(after.toNumber(), 0);
  const epochAfter = (await api.call.accessControlApi.keyEpoch(device)).unwrap().toNumber();
  assert.equal(epochAfter, epochBefore + 1);
  assert.ok((await api.call.accessControlApi.keyEpoch(blake2AsHex('never registered', 256))).isNone);

  // A stranger cannot grant on Alice's device: the pallet's named error comes back.
  await assert.rejects(
    sendAndFinalize(api, api.tx.accessControl.grant(scope, gateway.address, 1, null, null), gateway),
    /accessControl\.NotAuthorized/);
});

test('a published encryption key holds its deposit in Balances until it is withdrawn', async () => {
  const eve = new Keyring({ type: 'sr25519' }).addFromUri('//Eve');
  const deposit = api.consts.accessControl.keyDeposit.toBigInt();
  assert.ok(deposit > 0n);
  const accessHold = async () => {
    const holds = await api.query.balances.holds(eve.address);
    const found = holds.find((hold) => hold.id.isAccessControl && hold.id.asAccessControl.isAccessDeposit);
    return found ? found.amount.toBigInt() : 0n;
  };
  const reservedBefore = (await api.query.system.account(eve.address)).data.reserved.toBigInt();

  // A key of small order is refused with the pallet's named error.
  await assert.rejects(
    sendAndFinalize(api, api.tx.accessControl.publishEncryptionKey(new Uint8Array(32)), eve),
    /accessControl\.WeakEncryptionKey/);
  const key = new Uint8Array(32).fill(0x2e);
  await sendAndFinalize(api, api.tx.accessControl.publishEncryptionKey(key), eve);
  const published = (await api.query.accessControl.encryptionKeys(eve.address)).unwrap();
  assert.equal(published.key.toHex(), u8aToHex(key));
  assert.equal(published.deposit.toBigInt(), deposit);
  assert.equal(await accessHold(), deposit);
  const reserved = (await api.query.system.account(eve.address)).data.reserved.toBigInt();
  assert.equal(reserved - reservedBefore, deposit);

  const { events } = await sendAndFinalize(api, api.tx.accessControl.withdrawEncryptionKey(), eve);
  assert.ok(events.some(({ event }) => api.events.accessControl.EncryptionKeyWithdrawn.is(event)));
  assert.ok((await api.query.accessControl.encryptionKeys(eve.address)).isNone);
  assert.equal(await accessHold(), 0n);

  // Withdrawing again names the pallet's error.
  await assert.rejects(sendAndFinalize(api, api.tx.accessControl.withdrawEncryptionKey(), eve),
    /accessControl\.NoEncryptionKey/);
});
