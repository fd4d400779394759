// Zombienet step: a validator's RPC is for this machine only, and serves only safe methods.
//  1. From a non-loopback address of this machine, the RPC port cannot even be reached: the
//     node listens on loopback (the step fails if it could connect, and says so if the machine
//     has no non-loopback IPv4 address to try from, instead of passing).
//  2. On loopback, an unsafe method (author_rotateKeys, which writes keys into the validator's
//     keystore) is refused, while a safe one (system_chain) answers.
//  3. A page of another origin is refused (CORS), as Polkadot.js Apps' origin is accepted
//     (apps-origin.js).
//
// Usage: alice: js-script ./steps/rpc-safe.js within 30 seconds

const os = require('node:os');
const WebSocket = require('ws');
const { rpc } = require('./lib.js');

function nonLoopbackIPv4() {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses || []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  return undefined;
}

/** 'open', or why a WebSocket to `url` from `origin` did not open. */
function tryOpen(url, origin) {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, origin ? { origin } : {});
    const timer = setTimeout(() => { socket.terminate(); resolve('timeout'); }, 5_000);
    socket.once('open', () => { clearTimeout(timer); socket.close(); resolve('open'); });
    socket.once('unexpected-response', (_request, response) => {
      clearTimeout(timer);
      resolve(`HTTP ${response.statusCode}`);
    });
    socket.once('error', (error) => { clearTimeout(timer); resolve(error.code || error.message); });
  });
}

async function run(nodeName, networkInfo) {
  const { wsUri } = networkInfo.nodesByName[nodeName];
  const port = new URL(wsUri).port;

  const address = nonLoopbackIPv4();
  if (!address) throw new Error('this machine has no non-loopback IPv4 address to test from');
  const outside = await tryOpen(`ws://${address}:${port}`);
  if (outside === 'open') throw new Error(`${nodeName}'s RPC answers on ${address}:${port}, not only on loopback`);
  console.log(`      ${nodeName}: ws://${address}:${port} cannot be reached (${outside})`);

  let refused;
  try {
    await rpc(wsUri, 'author_rotateKeys');
  } catch (error) {
    refused = error.message;
  }
  if (!refused) throw new Error(`${nodeName} ran the unsafe author_rotateKeys`);
  if (!/unsafe/i.test(refused)) throw new Error(`author_rotateKeys failed, but not as unsafe: ${refused}`);
  const chain = await rpc(wsUri, 'system_chain');
  console.log(`      ${nodeName}: author_rotateKeys refused (${refused}); system_chain answers ${chain}`);

  const foreign = await tryOpen(wsUri, 'https://attacker.example');
  if (foreign === 'open') throw new Error(`${nodeName} accepts pages of any origin (CORS)`);
  console.log(`      ${nodeName}: a page from https://attacker.example is refused (${foreign})`);
  return 1;
}

module.exports = { run };
