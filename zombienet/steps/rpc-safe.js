// Zombienet step: a validator's RPC is for this machine only, and serves only safe methods.
//  1. From a non-loopback address of this machine, the RPC port cannot even be reached: the
//     node listens on loopback (the step fails if it could connect, and says so if the machine
//     has no non-loopback IPv4 address to try from, instead of passing).
//  2. On loopback, an unsafe method (author_rotateKeys, which writes keys into the validator's
//     keystore) is refused, while a safe one (system_chain) answers.
//  3. Over HTTP, a browser page of another origin gets no CORS permission to read the answer,
//     while Polkadot.js Apps' origin does. (WebSocket connections are not subject to CORS, and
//     the node does not check their Origin: a page of any origin in a browser on this machine
//     can reach the safe methods over WebSocket. docs/deploy.md says so.)
//
// Usage: alice: js-script ./steps/rpc-safe.js within 30 seconds

const os = require('node:os');
const http = require('node:http');
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

/** The Access-Control-Allow-Origin the node answers an HTTP call from `origin` with. */
function allowedOrigin(url, origin) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'system_chain', params: [] });
    const request = http.request(url.replace(/^ws/, 'http'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin, 'content-length': Buffer.byteLength(body) },
      timeout: 5_000,
    }, (response) => {
      response.resume();
      resolve(response.headers['access-control-allow-origin']);
    });
    request.on('timeout', () => request.destroy(new Error('no answer within 5 s')));
    request.on('error', reject);
    request.end(body);
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

  const apps = await allowedOrigin(wsUri, 'https://polkadot.js.org');
  if (apps !== 'https://polkadot.js.org') throw new Error(`Polkadot.js Apps' origin is not allowed (${apps})`);
  const foreign = await allowedOrigin(wsUri, 'https://attacker.example');
  if (foreign === '*' || foreign === 'https://attacker.example') {
    throw new Error(`${nodeName} lets pages of any origin read its answers (CORS: ${foreign})`);
  }
  console.log(`      ${nodeName}: CORS allows https://polkadot.js.org, not https://attacker.example`);
  return 1;
}

module.exports = { run };
