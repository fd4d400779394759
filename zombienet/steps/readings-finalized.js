// Zombienet step: on the node it runs on, the probe device's readings are finalized, all of
// them; the node serves the device's log (provena_history), and each record is in the block
// it names, with its Telemetry.Anchored event there.
//
// Usage: NODE: js-script ./steps/readings-finalized.js with "EXPECTED" within 150 seconds
// Returns the number of readings the node's finalized state holds for the device.

const { connect, eventually, probeDevice, rpc } = require('./lib.js');

async function run(nodeName, networkInfo, args) {
  const expected = Number(args[0]);
  if (!Number.isInteger(expected) || expected <= 0) throw new Error('usage: with "EXPECTED"');
  const device = probeDevice();
  const api = await connect(networkInfo, nodeName);
  try {
    const { finalized, state } = await eventually(120_000, 2_000, async (why) => {
      const hash = await api.rpc.chain.getFinalizedHead();
      const atHash = await api.at(hash);
      const found = await atHash.query.telemetry.deviceStates(device);
      const readings = found.isSome ? found.unwrap().readings.toNumber() : 0;
      if (readings >= expected) return { finalized: hash, state: found.unwrap() };
      why(`${nodeName} has ${readings} of ${expected} readings finalized`);
      return undefined;
    });
    const finalizedNumber = (await api.rpc.chain.getHeader(finalized)).number.toNumber();
    if (state.readings.toNumber() !== expected || state.missing.toNumber() !== 0) {
      throw new Error(`${nodeName}: device state ${state.toString()}, expected ${expected} readings and none missing`);
    }

    // This node serves the device's log (from its own offchain-indexed storage), and every
    // record points at a finalized block of this node that holds its Anchored event.
    const log = await rpc(networkInfo.nodesByName[nodeName].wsUri, 'provena_history',
      [device, 0, Number.MAX_SAFE_INTEGER, null], 30_000);
    // (Read at the node's finalized head then, which is never older than the one above.)
    if (log.anchors !== state.anchors.toNumber()) {
      throw new Error(`${nodeName}: the served log has ${log.anchors} records, the state ${state.anchors}`);
    }
    const records = log.records;
    let covered = 0;
    for (const record of records) {
      const block = record.block;
      if (block > log.at_number) throw new Error(`${nodeName}: anchor ${record.index} in block ${block}, beyond finalized ${log.at_number}`);
      const blockHash = await api.rpc.chain.getBlockHash(block);
      const events = await (await api.at(blockHash)).query.system.events();
      const found = events.some(({ event }) => api.events.telemetry.Anchored.is(event) &&
        event.data.record.toHex() === record.encoded);
      if (!found) throw new Error(`${nodeName}: block #${block} (${blockHash.toHex()}) has no Anchored event for record ${record.index}`);
      covered += record.count;
    }
    if (covered !== expected) throw new Error(`${nodeName}: anchors cover ${covered} readings, expected ${expected}`);
    console.log(`      ${nodeName}: ${expected} readings in ${records.length} anchors, finalized at #${finalizedNumber}`);
    return covered;
  } finally {
    await api.disconnect();
  }
}

module.exports = { run };
