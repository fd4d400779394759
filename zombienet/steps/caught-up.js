// Zombienet step, run on a validator after it was killed and started again on its own base path:
// it catches up with Alice's finalized chain, holds exactly Alice's blocks from genesis to there
// (nothing lost, nothing forked), and authors finalized blocks again.
//
// Usage: dave: js-script ./steps/caught-up.js within 200 seconds
// Returns the height it caught up to.

const { connect, eventually } = require('./lib.js');

/** The Aura slot in a header's pre-runtime digest. */
function auraSlot(api, header) {
  for (const log of header.digest.logs) {
    if (log.isPreRuntime) {
      const [engine, data] = log.asPreRuntime;
      if (engine.toString() === 'aura') return api.createType('u64', data).toBigInt();
    }
  }
  throw new Error(`block #${header.number} has no Aura digest`);
}

/** The height of the node's finalized head. */
async function finalizedHeight(api) {
  return (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
}

async function run(nodeName, networkInfo) {
  if (nodeName === 'alice') throw new Error('caught-up compares a node with alice: run it on another node');
  await zombie.util.cryptoWaitReady();
  const alice = await connect(networkInfo, 'alice');
  const node = await connect(networkInfo, nodeName);
  try {
    // 1. Catch up with what Alice has finalized now.
    const target = await finalizedHeight(alice);
    await eventually(150_000, 2_000, async (why) => {
      const mine = await finalizedHeight(node);
      if (mine >= target) return mine;
      why(`${nodeName} finalized #${mine}, Alice #${target}`);
      return undefined;
    });

    // 2. The same blocks, from the first to the target: what it had before the kill survived,
    //    and what was finalized while it was down arrived.
    for (let n = 1; n <= target; n += 1) {
      const [a, b] = await Promise.all([alice.rpc.chain.getBlockHash(n), node.rpc.chain.getBlockHash(n)]);
      if (!a.eq(b)) throw new Error(`block #${n}: alice ${a.toHex()}, ${nodeName} ${b.toHex()}`);
    }

    // 3. It authors again: a block after the target whose Aura slot is its own gets finalized.
    const own = new zombie.Keyring({ type: 'sr25519' })
      .addFromUri(`//${nodeName[0].toUpperCase()}${nodeName.slice(1)}`).address;
    const authorities = (await node.query.aura.authorities()).map((key) => node.createType('AccountId', key).toString());
    const index = authorities.indexOf(own);
    if (index < 0) throw new Error(`${nodeName} (${own}) is not an Aura authority`);
    let next = target + 1;
    const authored = await eventually(120_000, 3_000, async (why) => {
      const finalized = await finalizedHeight(node);
      for (; next <= finalized; next += 1) {
        const header = await node.rpc.chain.getHeader(await node.rpc.chain.getBlockHash(next));
        if (Number(auraSlot(node, header) % BigInt(authorities.length)) === index) return next;
      }
      why(`no finalized block of ${nodeName} in #${target + 1}..#${finalized}`);
      return undefined;
    });
    console.log(`      ${nodeName}: caught up to #${target} with the same ${target} blocks as alice; authored #${authored}`);
    return target;
  } finally {
    await Promise.all([alice.disconnect(), node.disconnect()]);
  }
}

module.exports = { run };
