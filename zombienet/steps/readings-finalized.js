// Zombienet step: on the node it runs on, the probe device's readings are finalized, all of
// them, each anchor in the block its record names, with its Telemetry.Anchored event there.
//
// Usage: NODE: js-script ./steps/readings-finalized.js with "EXPECTED" within 150 seconds
// Returns the number of readings the node's finalized state holds for the device.

const { connect, eventually, probeDevice } = require('./lib.js');

async function run(nodeName, networkInfo, args) {
  const expected = Number(args[0]);
  if (!Number.isInteger(expected) || expected <= 0) throw new Error('usage: with "EXPECTED"');
  const device = probeDevice();
  const api = await connect(networkInfo, nodeName);
  try {
    const { at, finalized, state } = await eventually(120_000, 2_000, async (why) => {
      const hash = await api.rpc.chain.getFinalizedHead();
      const atHash = await api.at(hash);
      const found = await atHash.query.telemetry.deviceStates(device);
      const readings = found.isSome ? found.unwrap().readings.toNumber() : 0;
      if (readings >= expected) return { at: atHash, finalized: hash, state: found.unwrap() };
      why(`${nodeName} has ${readings} of ${expected} readings finalized`);
      return undefined;
    });
    const finalizedNumber = (await api.rpc.chain.getHeader(finalized)).number.toNumber();
    if (state.readings.toNumber() !== expected || state.missing.toNumber() !== 0) {
      throw new Error(`${nodeName}: device state ${state.toString()}, expected ${expected} readings and none missing`);
    }

    // Every anchor record points at a finalized block of this node that holds its event.
    const records = await at.query.telemetry.anchors.entries(device);
    let covered = 0;
    for (const [key, value] of records) {
      const record = value.unwrap();
      const block = record.block.toNumber();
      if (block > finalizedNumber) throw new Error(`${nodeName}: anchor ${key.args[1]} in block ${block}, beyond finalized ${finalizedNumber}`);
      const blockHash = await api.rpc.chain.getBlockHash(block);
      const events = await (await api.at(blockHash)).query.system.events();
      const found = events.some(({ event }) => api.events.telemetry.Anchored.is(event) &&
        event.data.device.toHex() === device && event.data.firstSeq.eq(record.firstSeq) &&
        event.data.root.eq(record.root));
      if (!found) throw new Error(`${nodeName}: block #${block} (${blockHash.toHex()}) has no Anchored event for seq ${record.firstSeq}`);
      covered += record.count.toNumber();
    }
    if (covered !== expected) throw new Error(`${nodeName}: anchors cover ${covered} readings, expected ${expected}`);
    console.log(`      ${nodeName}: ${expected} readings in ${records.length} anchors, finalized at #${finalizedNumber}`);
    return covered;
  } finally {
    await api.disconnect();
  }
}

module.exports = { run };
