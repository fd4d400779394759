// Starts the real provena-node for a test, on free ports, and connects Polkadot.js to it.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { u8aToHex } from '@polkadot/util';
import { blake2AsHex } from '@polkadot/util-crypto';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The node binary: $PROVENA_NODE, else $CARGO_TARGET_DIR/release/provena-node. */
export function nodeBinary() {
  const target = process.env.CARGO_TARGET_DIR || path.join(repo, 'target');
  const binary = process.env.PROVENA_NODE || path.join(target, 'release', 'provena-node');
  if (!existsSync(binary)) {
    throw new Error(`${binary} does not exist: build it with "cargo build --release -p provena-node"`);
  }
  return binary;
}

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** What the node logs once its JSON-RPC server accepts connections: the readiness rule the
 * Rust harness (test-utils) uses too. */
export const READY_LINE = 'Running JSON-RPC server';

/**
 * Starts `provena-node --dev --tmp --rpc-methods safe` on free ports, waits until its log says the RPC server
 * runs, and connects an ApiPromise to it. Returns { api, provider, stop, log }; `stop` disconnects and
 * kills the node. A node that exits or is not ready within 90 s fails with its log's tail.
 */
export async function startDevNode() {
  const [rpc, p2p, prometheus] = [await freePort(), await freePort(), await freePort()];
  const args = ['--dev', '--tmp', '--no-telemetry', '--rpc-port', `${rpc}`, '--port', `${p2p}`,
    '--prometheus-port', `${prometheus}`, '--enable-offchain-indexing', 'true',
    // What a public RPC node serves: Polkadot.js needs no more.
    '--rpc-methods', 'safe'];
  const child = spawn(nodeBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const log = [];
  let ready;
  const readySeen = new Promise((resolve) => { ready = resolve; });
  child.stderr.on('data', (chunk) => {
    const text = chunk.toString();
    log.push(...text.split('\n'));
    if (log.some((line) => line.includes(READY_LINE))) ready();
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));

  const stop = async (api) => {
    if (api) await api.disconnect().catch(() => {});
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const tail = () => log.slice(-30).join('\n');

  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), 90_000); });
  const outcome = await Promise.race([readySeen.then(() => 'ready'), exited.then(() => 'exited'), timeout]);
  clearTimeout(timer);
  if (outcome === 'exited') {
    throw new Error(`provena-node exited with ${child.exitCode}:\n${tail()}`);
  }
  if (outcome === 'timeout') {
    await stop();
    throw new Error(`provena-node did not open its RPC server within 90 s:\n${tail()}`);
  }
  const provider = new WsProvider(`ws://127.0.0.1:${rpc}`, false);
  try {
    await provider.connect();
    const api = await ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });
    return { api, provider, stop: () => stop(api), log };
  } catch (error) {
    await provider.disconnect().catch(() => {});
    await stop();
    throw new Error(`cannot connect Polkadot.js to the node: ${error}\n${tail()}`);
  }
}

/**
 * Signs and sends `tx`, resolving once its block is finalized with the block's events of this
 * extrinsic; rejects with the pallet error's name if it failed.
 */
export function sendAndFinalize(api, tx, signer) {
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {};
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (dispatchError) {
        unsubscribe();
        if (dispatchError.isModule) {
          const { section, name } = api.registry.findMetaError(dispatchError.asModule);
          reject(new Error(`${section}.${name}`));
        } else {
          reject(new Error(dispatchError.toString()));
        }
      } else if (status.isFinalized) {
        unsubscribe();
        resolve({ blockHash: status.asFinalized, events });
      }
    }).then((unsub) => { unsubscribe = unsub; }, reject);
  });
}

/**
 * The bytes of `call` as a general (v5) transaction, built by Polkadot.js: no signer, no
 * account, only the call (whose own argument carries the authorization, e.g. a device's
 * signature) and the transaction extensions' data (immortal, nonce and tip zero).
 *
 * Polkadot.js 16.5.6 decodes general transactions, but its `Extrinsic` wrapper encodes one with
 * the length and the version byte twice (it adds its own around the `GeneralExtrinsic` inner
 * value, which already carries them), so the inner value's encoding is the transaction.
 */
export function generalTransaction(api, call) {
  const xt = api.createType('Extrinsic', {
    payload: { method: call.method, era: api.createType('ExtrinsicEra', '0x00'), nonce: 0, tip: 0 },
    transactionExtensionVersion: 0,
  }, { version: 5, preamble: 'general' });
  assert.ok(xt.isGeneral(), 'a general transaction');
  return xt.inner.toU8a();
}

/**
 * Sends `call` as a general transaction (see `generalTransaction`) through the node's plain
 * `author_submitExtrinsic`, and resolves once a finalized block holds it, with the block and
 * the events of its extrinsic.
 */
export async function sendGeneralAndFinalize(api, provider, call) {
  const bytes = generalTransaction(api, call);
  const hash = await provider.send('author_submitExtrinsic', [u8aToHex(bytes)]);
  assert.equal(hash, blake2AsHex(bytes, 256), 'the node hashed the bytes sent');
  for (let tries = 0; tries < 120; tries += 1) {
    const blockHash = await api.rpc.chain.getFinalizedHead();
    const raw = await api.rpc.chain.getBlock.raw(blockHash);
    const index = raw.block.extrinsics.findIndex((hex) => blake2AsHex(hex, 256) === hash);
    if (index >= 0) {
      const events = (await (await api.at(blockHash)).query.system.events())
        .filter(({ phase }) => phase.isApplyExtrinsic && phase.asApplyExtrinsic.eq(index));
      return { hash, blockHash, events };
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  throw new Error(`general transaction ${hash} not finalized within 120 s`);
}
