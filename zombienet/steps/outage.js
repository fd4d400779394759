// Zombienet step pair around a validator's outage. "watch,VICTIM" starts sampling, once a second,
// whether VICTIM's RPC answers and the finalized height of the node this step runs on, then
// returns at once; the .zndsl then kills VICTIM. "check,MIN" stops sampling and asserts that
// while VICTIM was down (its RPC refusing connections for at least 20 s) this node finalized at
// least MIN new blocks: GRANDPA went on with 3 of 4 validators.
//
// Both calls load this same module (require caches it), so they share the samples.
//
// Usage: alice: js-script ./steps/outage.js with "watch,dave" within 30 seconds
//        dave: restart after 60 seconds
//        alice: js-script ./steps/outage.js with "check,5" within 30 seconds

const { finalizedNumber, rpc } = require('./lib.js');

let sampling; // { timer, samples: [{ at, victimUp, finalized }], victim }

async function sample(observerUri, victimUri, samples) {
  const victimUp = await rpc(victimUri, 'system_health', [], 900).then(() => true, () => false);
  const finalized = await finalizedNumber(observerUri).catch(() => undefined);
  samples.push({ at: Date.now(), victimUp, finalized });
}

async function run(nodeName, networkInfo, args) {
  const [mode, arg] = args;
  const observer = networkInfo.nodesByName[nodeName].wsUri;
  if (mode === 'watch') {
    const victim = networkInfo.nodesByName[arg];
    if (!victim) throw new Error(`no node named ${arg}`);
    if (sampling) clearInterval(sampling.timer);
    const samples = [];
    const timer = setInterval(() => sample(observer, victim.wsUri, samples), 1_000);
    sampling = { samples, victim: arg, timer };
    // Stop on its own if the check never comes (a step in between failed).
    setTimeout(() => clearInterval(timer), 600_000).unref();
    return 0;
  }
  if (mode === 'check') {
    if (!sampling) throw new Error('"check" without "watch" before it');
    clearInterval(sampling.timer);
    const down = sampling.samples.filter((s) => !s.victimUp && s.finalized !== undefined);
    const { victim } = sampling;
    sampling = undefined;
    if (down.length < 20) throw new Error(`${victim} was seen down for ${down.length} s only (want ≥ 20 s)`);
    const gained = down[down.length - 1].finalized - down[0].finalized;
    const seconds = Math.round((down[down.length - 1].at - down[0].at) / 1000);
    console.log(`      while ${victim} was down (${seconds} s), ${nodeName} finalized #${down[0].finalized} → #${down[down.length - 1].finalized}`);
    const minimum = Number(arg);
    if (!(gained >= minimum)) throw new Error(`finality stalled while ${victim} was down: ${gained} new finalized blocks in ${seconds} s (want ≥ ${minimum})`);
    return gained;
  }
  throw new Error('usage: with "watch,NODE" or "check,MIN_BLOCKS"');
}

module.exports = { run };
