// Polkadot.js as an explorer of a real dev node, the way Apps uses it: after a scenario that
// touches every storage item of DeviceRegistry, Telemetry and AccessControl, every event and
// extrinsic of every block, every storage entry and every constant of the three pallets decode,
// and re-encode to exactly the bytes the node serves (nothing left undecoded, nothing guessed).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { possessionProof, registerReadingTypes, signedReading } from './lib/anchor.mjs';
import { sendAndFinalize, sendGeneralAndFinalize, startDevNode } from './lib/node.mjs';

const PALLETS = ['deviceRegistry', 'telemetry', 'accessControl'];

let node;
let api;
let head; // the finalized block after the scenario
const who = {};
const scenario = {};

before(async () => {
  await cryptoWaitReady();
  node = await startDevNode();
  api = node.api;
  registerReadingTypes(api);
  const keyring = new Keyring({ type: 'sr25519' });
  for (const name of ['Alice', 'Bob', 'Charlie']) who[name] = keyring.addFromUri(`//${name}`);

  const thermometer = keyring.addFromUri('//Alice//device//explorer-1');
  const monitor = new Keyring({ type: 'ed25519' }).addFromUri('//Alice//device//explorer-2');
  const dev1 = blake2AsHex('serial:EXPLORER-1', 256);
  const dev2 = blake2AsHex('serial:EXPLORER-2', 256);
  const group = (await api.query.accessControl.nextGroupId()).toNumber();
  Object.assign(scenario, { dev1, dev2, group });

  // Bob publishes his encryption key while Alice, in one batch, registers two devices, makes a
  // group of the second, grants Bob SUBMIT|READ on the first (with a sealed data key) and
  // Charlie READ on the group, sets a 2–8 °C rule, and offers the second device to Charlie.
  const meta = (kind) => ({ kind, model: 'Explorer', firmware: blake2AsHex('firmware 1.0', 256), location: 'bay 1' });
  await Promise.all([
    sendAndFinalize(api, api.tx.accessControl.publishEncryptionKey(new Uint8Array(32).fill(7)), who.Bob),
    sendAndFinalize(api, api.tx.utility.batchAll([
      api.tx.deviceRegistry.register(dev1, { Sr25519: thermometer.publicKey }, meta('thermometer'),
        possessionProof(api, thermometer, dev1, who.Alice)),
      api.tx.deviceRegistry.register(dev2, { Ed25519: monitor.publicKey }, meta('heart-monitor'),
        possessionProof(api, monitor, dev2, who.Alice)),
      api.tx.accessControl.createGroup('ward 3'),
      api.tx.accessControl.addToGroup(group, dev2),
      api.tx.accessControl.grant({ Device: dev1 }, who.Bob.address, 1 | 2, null,
        { epoch: 0, sealed: u8aToHex(new Uint8Array(80).fill(1)) }),
      api.tx.accessControl.grant({ Group: group }, who.Charlie.address, 2, 1_000_000, null),
      api.tx.telemetry.setAlertRule(dev1, 'temp_c', 2_000, 8_000),
      api.tx.telemetry.buyCredits(dev1, 2),
      api.tx.deviceRegistry.offerTransfer(dev2, who.Charlie.address),
    ]), who.Alice),
  ]);

  // Bob, as the gateway, relays three thermometer readings: seq 0, then seq 3 (readings 1 and 2
  // never came: a gap) at 9.5 °C (an alert), then seq 1 again (stale: rejected).
  const now = Date.now();
  const reading = (seq, value, payload = null) => signedReading(api, thermometer,
    { device: dev1, seq, timestampMs: now - 10_000 + seq, values: { temp_c: value }, payload }).anchor;
  const sealed = new Uint8Array(40).fill(9);
  await sendAndFinalize(api, api.tx.telemetry.anchorBatch([
    { anchor: reading(0, 4_000, sealed), payload: u8aToHex(sealed) },
    { anchor: reading(3, 9_500), payload: null },
    { anchor: reading(1, 5_000), payload: null },
  ]), who.Bob);

  // The thermometer anchors seq 4 on its own authority: a general transaction Polkadot.js
  // builds, carrying only the device-signed anchor, paid by one of the credits Alice bought.
  scenario.general = await sendGeneralAndFinalize(api, node.provider,
    api.tx.telemetry.deviceAnchor(reading(4, 4_100), null));

  // A failed extrinsic: Charlie may not suspend Alice's device.
  await assert.rejects(sendAndFinalize(api, api.tx.deviceRegistry.suspend(dev1), who.Charlie),
    /deviceRegistry\.NotOwner/);
  // The refusal comes at inclusion: wait until its block is final too.
  const best = (await api.rpc.chain.getHeader()).number.toNumber();
  for (;;) {
    head = await api.rpc.chain.getFinalizedHead();
    if ((await api.rpc.chain.getHeader(head)).number.toNumber() >= best) break;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
});

after(async () => {
  await node?.stop();
});

/** The bytes the node stores at `key` at block `at` (the scenario's head by default), as hex. */
async function rawStorage(key, at = head) {
  // `.raw` skips Polkadot.js's decoding: the JSON-RPC result as the node sent it.
  return api.rpc.state.getStorage.raw(key, at);
}

/** The value inside an Option, or the value itself. */
function inner(value) {
  return value.toRawType().startsWith('Option<') ? value.unwrap() : value;
}

test('the chain reports PRV, 12 decimals, SS58 42, and Polkadot.js picked the newest metadata both speak', async (t) => {
  const { ss58Format, tokenDecimals, tokenSymbol } = api.registry.getChainProperties();
  assert.equal(ss58Format.unwrap().toNumber(), 42);
  assert.equal(tokenDecimals.unwrap()[0].toNumber(), 12);
  assert.equal(tokenSymbol.unwrap()[0].toString(), 'PRV');

  const served = (await api.call.metadata.metadataVersions()).map((v) => v.toNumber());
  const chosen = api.runtimeMetadata.version;
  assert.ok(served.includes(chosen), `chosen V${chosen} is one the node serves (${served})`);
  assert.ok(chosen >= 15, `V${chosen}: runtime APIs and their docs need V15 or later`);
  // It chose the newest the node serves, unless that one is newer than it knows.
  assert.ok(served.every((v) => v <= chosen || v > 16), `served ${served}, chosen V${chosen}`);
  t.diagnostic(`metadata: node serves V${served.join(', V')}; Polkadot.js chose V${chosen}`);
});

test('every event and extrinsic of every block decodes, and re-encodes to the bytes stored', async (t) => {
  const last = (await api.rpc.chain.getHeader(head)).number.toNumber();
  const seen = new Map();
  let extrinsics = 0;
  let general = 0;
  for (let n = 1; n <= last; n += 1) {
    const hash = await api.rpc.chain.getBlockHash(n);
    const at = await api.at(hash);
    const events = await at.query.system.events();
    assert.equal(u8aToHex(events.toU8a()), await rawStorage(api.query.system.events.key(), hash),
      `block #${n}: events re-encode`);
    for (const { event, phase } of events) {
      const name = `${event.section}.${event.method}`;
      assert.ok(api.events[event.section]?.[event.method]?.is(event), `#${n}: ${name} is in the metadata`);
      assert.equal(typeof event.toHuman(), 'object');
      assert.ok(phase.isApplyExtrinsic || phase.isFinalization || phase.isInitialization);
      seen.set(name, [...(seen.get(name) ?? []), event]);
    }
    const block = await api.rpc.chain.getBlock(hash);
    const raw = await api.rpc.chain.getBlock.raw(hash);
    const [first] = block.block.extrinsics;
    assert.equal(`${first.method.section}.${first.method.method}`, 'timestamp.set', `#${n} starts with its timestamp`);
    for (const [i, extrinsic] of block.block.extrinsics.entries()) {
      assert.ok(api.tx[extrinsic.method.section]?.[extrinsic.method.method], `#${n}: call ${extrinsic.method.section}.${extrinsic.method.method}`);
      assert.equal(typeof extrinsic.toHuman(), 'object');
      // A general transaction's encoding is its inner value's (see generalTransaction).
      const encoded = extrinsic.isGeneral() ? extrinsic.inner.toHex() : extrinsic.toHex();
      assert.equal(encoded, raw.block.extrinsics[i], `#${n}: extrinsic ${i} re-encodes`);
      if (extrinsic.isGeneral()) {
        general += 1;
        assert.equal(`${extrinsic.method.section}.${extrinsic.method.method}`, 'telemetry.deviceAnchor');
      }
      extrinsics += 1;
    }
  }
  t.diagnostic(`${last} blocks: ${extrinsics} extrinsics (${general} general), ${[...seen.values()].flat().length} events`);
  assert.equal(general, 1, 'the device-authorized anchor is the one general transaction');

  const expected = [
    'deviceRegistry.DeviceRegistered', 'deviceRegistry.TransferOffered',
    'accessControl.EncryptionKeyPublished', 'accessControl.GroupCreated',
    'accessControl.DeviceAddedToGroup', 'accessControl.Granted', 'telemetry.AlertRuleSet',
    'telemetry.Anchored', 'telemetry.SequenceGap', 'telemetry.AlertRaised',
    'telemetry.AnchorRejected', 'telemetry.BatchProcessed', 'telemetry.CreditsBought',
    'utility.BatchCompleted',
    'system.ExtrinsicFailed',
  ];
  for (const name of expected) assert.ok(seen.has(name), `${name} was seen`);

  // The decoded fields are the scenario's.
  const { dev1, dev2, group } = scenario;
  const registered = seen.get('deviceRegistry.DeviceRegistered').map((e) => e.data.device.toHex());
  assert.deepEqual(registered.sort(), [dev1, dev2].sort());
  const [gap] = seen.get('telemetry.SequenceGap');
  assert.deepEqual([gap.data.device.toHex(), gap.data.from.toNumber(), gap.data.to.toNumber()], [dev1, 1, 2]);
  const [alert] = seen.get('telemetry.AlertRaised');
  assert.equal(alert.data.seq.toNumber(), 3);
  assert.equal(alert.data.metric.toUtf8(), 'temp_c');
  assert.equal(alert.data.value.toNumber(), 9_500);
  assert.equal(alert.data.max.unwrap().toNumber(), 8_000);
  const anchored = seen.get('telemetry.Anchored').map((e) => e.data.record)
    .filter((record) => record.device.toHex() === dev1);
  assert.deepEqual(anchored.map((record) => record.firstSeq.toNumber()), [0, 3, 4]);
  // The general anchor: the device's own account is its submitter, and it spent a credit.
  const thermometerAccount = new Keyring({ type: 'sr25519' }).addFromUri('//Alice//device//explorer-1').address;
  assert.equal(anchored[2].submitter.toString(), thermometerAccount);
  assert.ok(scenario.general.events.some(({ event }) => api.events.system.ExtrinsicSuccess.is(event)));
  const [credits] = seen.get('telemetry.CreditsBought');
  assert.deepEqual([credits.data.device.toHex(), credits.data.count.toNumber()], [dev1, 2]);
  assert.equal(anchored[0].payloadHash.unwrap().toHex(), blake2AsHex(new Uint8Array(40).fill(9), 256));
  const [rejected] = seen.get('telemetry.AnchorRejected');
  assert.equal(rejected.data.position.toNumber(), 2);
  assert.equal(api.registry.findMetaError(rejected.data.error.asModule).name, 'StaleSequence');
  const [batch] = seen.get('telemetry.BatchProcessed');
  assert.deepEqual([batch.data.accepted.toNumber(), batch.data.rejected.toNumber()], [2, 1]);
  assert.equal(seen.get('accessControl.GroupCreated')[0].data.group.toNumber(), group);
  const failed = seen.get('system.ExtrinsicFailed').map((e) => e.data.dispatchError)
    .filter((error) => error.isModule).map((error) => api.registry.findMetaError(error.asModule));
  assert.ok(failed.some(({ section, name }) => section === 'deviceRegistry' && name === 'NotOwner'));
});

test('every storage entry of the three pallets decodes, and re-encodes to the bytes stored', async () => {
  const at = await api.at(head);
  const counts = {};
  for (const pallet of PALLETS) {
    for (const [name, item] of Object.entries(at.query[pallet])) {
      if (name === 'palletVersion') continue;
      let entries;
      if (item.creator.meta.type.isPlain) {
        entries = [[item.key(), await item()]];
      } else {
        entries = (await item.entries()).map(([key, value]) => [key.toHex(), value]);
      }
      for (const [key, value] of entries) {
        value.toHuman(); // what Apps shows: throws if a field cannot be rendered
        assert.equal(u8aToHex(inner(value).toU8a()), await rawStorage(key), `${pallet}.${name} at ${key}`);
      }
      counts[`${pallet}.${name}`] = entries.length;
    }
  }
  // The scenario put something in every one, so none of these checks ran on nothing.
  for (const [name, count] of Object.entries(counts)) assert.ok(count > 0, `${name} has entries`);
  assert.deepEqual(Object.keys(counts).sort(), [
    'accessControl.deviceGroups', 'accessControl.encryptionKeys', 'accessControl.grantCount',
    'accessControl.grants', 'accessControl.groups', 'accessControl.keyEpochs',
    'accessControl.nextGroupId', 'accessControl.sealedKeys', 'deviceRegistry.deployment', 'deviceRegistry.devices', 'deviceRegistry.devicesByOwner', 'deviceRegistry.pendingTransfers',
    'telemetry.alertRules', 'telemetry.deviceStates',
  ]);

  // And the decoded values are the scenario's.
  const { dev1, dev2, group } = scenario;
  const state = (await at.query.telemetry.deviceStates(dev1)).unwrap();
  assert.deepEqual([state.nextSeq.toNumber(), state.anchors.toNumber(), state.readings.toNumber(),
    state.missing.toNumber(), state.credits.toNumber()], [5, 3, 3, 2, 1]);
  // Three anchors: mountains of two and one, two peaks.
  assert.equal(state.peaks.length, 2);
  const [record] = await at.query.telemetry.alertRules(dev1);
  const { rule } = record;
  assert.deepEqual([rule.metric.toUtf8(), rule.min.unwrap().toNumber(), rule.max.unwrap().toNumber()],
    ['temp_c', 2_000, 8_000]);
  // Alice set it, in the device's first ownership epoch, and its deposit is the chain's.
  assert.deepEqual([record.payer.toString(), record.epoch.toNumber(), record.deposit.toBigInt()],
    [who.Alice.address, 0, api.consts.telemetry.ruleDeposit.toBigInt()]);
  const published = (await at.query.accessControl.encryptionKeys(who.Bob.address)).unwrap();
  assert.equal(published.key.toHex(), u8aToHex(new Uint8Array(32).fill(7)));
  assert.equal(published.deposit.toBigInt(), api.consts.accessControl.keyDeposit.toBigInt());
  const grant = (await at.query.accessControl.grants({ Device: dev1 }, who.Bob.address)).unwrap();
  assert.equal(grant.permissions.toNumber(), 3);
  const sealedKey = (await at.query.accessControl.sealedKeys(dev1, who.Bob.address)).unwrap();
  assert.deepEqual([sealedKey.key.epoch.toNumber(), sealedKey.key.sealed.length], [0, 80]);
  assert.equal(sealedKey.sealedBy.toString(), who.Alice.address);
  assert.equal((await at.query.accessControl.keyEpochs(dev1)).epoch.toNumber(), 0);
  assert.equal((await at.query.accessControl.groups(group)).unwrap().members.map((m) => m.toHex())[0], dev2);
  const offer = (await at.query.deviceRegistry.pendingTransfers(dev2)).unwrap();
  assert.equal(offer.to.toString(), who.Charlie.address);
  assert.ok(offer.expires.toNumber() > 0, 'the offer has an end');
  assert.equal((await at.query.deviceRegistry.devices(dev2)).unwrap().epoch.toNumber(), 0);
  assert.equal((await at.query.deviceRegistry.devices(dev2)).unwrap().key.isEd25519, true);
});

test('every constant of the three pallets decodes, and re-encodes to the bytes in the metadata', () => {
  const metadata = api.runtimeMetadata.asLatest;
  for (const pallet of PALLETS) {
    const raw = metadata.pallets.find((p) => p.name.toString() === pallet[0].toUpperCase() + pallet.slice(1));
    assert.ok(raw, `${pallet} is in the metadata`);
    const constants = Object.entries(api.consts[pallet]);
    assert.equal(constants.length, raw.constants.length);
    assert.ok(constants.length > 0, `${pallet} has constants`);
    for (const [name, value] of constants) {
      const bytes = raw.constants.find((c) => c.name.toString() === value.meta.name.toString()).value;
      assert.equal(u8aToHex(value.toU8a()), bytes.toHex(), `${pallet}.${name}`);
      assert.notEqual(value.toHuman(), undefined);
    }
  }
  assert.equal(api.consts.telemetry.maxBatchLen.toNumber(), 256);
});
