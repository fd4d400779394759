// Polkadot.js against a real dev node: Telemetry's metadata and docs, a reading anchored with a
// device signature made by Polkadot.js itself (a third implementation of the reading format,
// beside the runtime and the Rust client), the device's log listed by the node's
// `provena_history`, and the runtime API `verify_reading` called through the metadata with the
// record and inclusion proof `provena_proof` serves.

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
    ['anchor', 'anchorBatch', 'buyCredits', 'clearAlertRule', 'deviceAnchor', 'setAlertRule']);
  for (const [name, call] of calls) assert.ok(call.meta.docs.length > 0, `call ${name} has docs`);
  const storage = Object.entries(api.query.telemetry).filter(([name]) => name !== 'palletVersion');
  assert.deepEqual(storage.map(([name]) => name).sort(), ['alertRules', 'deviceStates']);
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
  assert.equal(anchored.event.data.record.root.toHex(), u8aToHex(leaf));

  // The node serves the device's log: its history, and the record's inclusion proof, both
  // read at a finalized block it names.
  const history = await node.provider.send('provena_history', [device, 0, 100, null]);
  assert.equal(history.anchors, 1);
  assert.deepEqual(history.records.map((r) => [r.index, r.first_seq, r.count]), [[0, 0, 1]]);
  assert.equal(history.records[0].submitter, alice.address);
  const served = await node.provider.send('provena_proof', [device, 0]);
  assert.equal(served.record.encoded, history.records[0].encoded);
  assert.equal(served.record.root, u8aToHex(leaf));

  // Verified through the runtime API, by name, from metadata, at the block the proof is for.
  const at = await api.at(served.at);
  const verify = (seq, candidate) => at.call.telemetryApi.verifyReading(
    device, seq, candidate, [], served.record.encoded, served.log_proof);
  const verified = await verify(0, leaf);
  assert.ok(verified.isOk, `verify_reading: ${verified.toString()}`);
  assert.equal(verified.asOk.index.toNumber(), 0);
  assert.equal(verified.asOk.submitter.toString(), alice.address);
  assert.ok(verified.asOk.chainTimeMs.toNumber() > now - 60_000);

  // A tampered reading does not verify; nor does the reading claimed at another seq.
  const tampered = readingLeaf(api,
    { device, seq: 0, timestampMs: now - 2_000, values: { temp_c: 4_251 } });
  const refused = await verify(0, tampered);
  assert.ok(refused.isErr);
  assert.equal(refused.asErr.toString(), 'ProofMismatch');
  assert.equal((await verify(1, leaf)).asErr.toString(), 'NotCovered');

  const state = await api.call.telemetryApi.deviceState(device);
  assert.equal(state.unwrap().nextSeq.toNumber(), 1);

  // Replaying the same anchor is refused with the pallet's named error.
  await assert.rejects(sendAndFinalize(api, api.tx.telemetry.anchor(anchor, null), alice),
    /telemetry\.StaleSequence/);
});
