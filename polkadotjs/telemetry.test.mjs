// Polkadot.js against a real dev node: Telemetry's metadata and docs, a reading anchored with a
// device signature made by Polkadot.js itself (a third implementation of the reading format,
// beside the runtime and the Rust client), and the runtime API `verify_reading` called
// through the metadata.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { readingLeaf, registerReadingTypes, signedReading } from './lib/anchor.mjs';
import { sendAndFinalize, startDevNode } from './lib/node.mjs';

let node;
let api;

before(async () => {
  await cryptoWaitReady();
  node = await startDevNode();
  api = node.api;
  registerReadingTypes(api);
});

after(async () => {
  await node?.stop();
});

test('every Telemetry call, storage item, constant, event and error is documented', () => {
  const calls = Object.entries(api.tx.telemetry);
  assert.deepEqual(calls.map(([name]) => name).sort(),
    ['anchor', 'anchorBatch', 'clearAlertRule', 'setAlertRule']);
  for (const [name, call] of calls) assert.ok(call.meta.docs.length > 0, `call ${name} has docs`);
  const storage = Object.entries(api.query.telemetry).filter(([name]) => name !== 'palletVersion');
  assert.deepEqual(storage.map(([name]) => name).sort(), ['alertRules', 'anchors', 'deviceStates']);
  for (const [name, item] of storage) assert.ok(item.creator.meta.docs.length > 0, `storage ${name}`);
  for (const section of [api.consts.telemetry, api.events.telemetry, api.errors.telemetry]) {
    for (const [name, item] of Object.entries(section)) {
      assert.ok(item.meta.docs.length > 0, `${name} has docs`);
    }
  }
  assert.equal(api.consts.telemetry.maxBatchLen.toNumber(), 256);
});

test('the telemetry runtime API is described in the metadata', () => {
  assert.equal(typeof api.call.telemetryApi?.verifyReading, 'function');
  assert.equal(typeof api.call.telemetryApi?.anchors, 'function');
  assert.equal(typeof api.call.telemetryApi?.deviceState, 'function');
});

test('a reading signed in Polkadot.js is anchored, and verify_reading proves it', async () => {
  const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
  const deviceKey = new Keyring({ type: 'sr25519' }).addFromUri('//Alice//device/1');
  const device = blake2AsHex('provena-demo:cold-chain-thermometer-1', 256);
  const now = Date.now();

  const { anchor, leaf } = signedReading(api, deviceKey,
    { device, seq: 0, timestampMs: now - 2_000, values: { temp_c: 4_250 } });

  const { events } = await sendAndFinalize(api, api.tx.telemetry.anchor(anchor, null), alice);
  const anchored = events.find(({ event }) => api.events.telemetry.Anchored.is(event));
  assert.ok(anchored, 'Anchored was emitted');
  assert.equal(anchored.event.data.root.toHex(), u8aToHex(leaf));

  // Verified through the runtime API, by name, from metadata.
  const verified = await api.call.telemetryApi.verifyReading(device, 0, leaf, []);
  assert.ok(verified.isOk, `verify_reading: ${verified.toString()}`);
  assert.equal(verified.asOk.index.toNumber(), 0);
  assert.equal(verified.asOk.anchor.submitter.toString(), alice.address);
  assert.ok(verified.asOk.anchor.chainTimeMs.toNumber() > now - 60_000);

  // A tampered reading does not verify.
  const tampered = readingLeaf(api,
    { device, seq: 0, timestampMs: now - 2_000, values: { temp_c: 4_251 } });
  const refused = await api.call.telemetryApi.verifyReading(device, 0, tampered, []);
  assert.ok(refused.isErr);
  assert.equal(refused.asErr.toString(), 'ProofMismatch');

  const state = await api.call.telemetryApi.deviceState(device);
  assert.equal(state.unwrap().nextSeq.toNumber(), 1);

  // Replaying the same anchor is refused with the pallet's named error.
  await assert.rejects(sendAndFinalize(api, api.tx.telemetry.anchor(anchor, null), alice),
    /telemetry\.StaleSequence/);
});
