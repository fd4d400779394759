// Helpers shared by the zombienet js-script steps. Zombienet loads each step with require() and
// calls its `run(nodeName, networkInfo, args)`; the global `zombie` holds its Polkadot.js
// (ApiPromise, WsProvider, Keyring). scripts/start.sh uses finalizedNumber too.

const fs = require('node:fs');
const path = require('node:path');

/** The work directory scripts/test.sh made for this run (the client's store, keys, device id). */
function workDir() {
  const dir = process.env.PROVENA_ZN_WORK;
  if (!dir) throw new Error('PROVENA_ZN_WORK is not set: run the zombienet tests through scripts/test.sh');
  return dir;
}

/** The id of the device the submit-readings step registered. */
function probeDevice() {
  const file = path.join(workDir(), 'device');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: the submit-readings step did not register the device`);
  return fs.readFileSync(file, 'utf8').trim();
}

/** Polkadot.js connected to a node of the network, by name. */
async function connect(networkInfo, name) {
  const node = networkInfo.nodesByName[name];
  if (!node) throw new Error(`no node named ${name} in this network`);
  const provider = new zombie.WsProvider(node.wsUri);
  return zombie.ApiPromise.create({ provider, noInitWarn: true });
}

/** One JSON-RPC call over HTTP (the node serves HTTP and WebSocket on the same port). */
async function rpc(wsUri, method, params = [], timeoutMs = 2_000) {
  const url = wsUri.replace(/^ws/, 'http');
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await response.json();
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

/** The number of a node's finalized head, over plain JSON-RPC. */
async function finalizedNumber(wsUri) {
  const hash = await rpc(wsUri, 'chain_getFinalizedHead');
  const header = await rpc(wsUri, 'chain_getHeader', [hash]);
  return Number.parseInt(header.number, 16);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `attempt` every `everyMs` until it returns a value other than `undefined`, and returns
 * that value. After `withinMs` it throws the last reason `attempt` gave (through `why`).
 */
async function eventually(withinMs, everyMs, attempt) {
  const deadline = Date.now() + withinMs;
  let why = 'no attempt finished';
  for (;;) {
    const value = await attempt((reason) => { why = reason; });
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${withinMs / 1000} s: ${why}`);
    await sleep(everyMs);
  }
}

module.exports = { connect, eventually, finalizedNumber, probeDevice, rpc, sleep, workDir };
