// What the dashboard's browser test starts, all real: the dev node, the `provena` client (to
// register devices, set rules and grants, and to verify proof bundles), the gateway service
// serving the built dashboard, and Debian's Chromium driven by puppeteer-core.

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..');

function binary(env, name) {
  const target = process.env.CARGO_TARGET_DIR || path.join(repo, 'target');
  const file = process.env[env] || path.join(target, 'release', name);
  if (!existsSync(file)) {
    throw new Error(`${file} does not exist: build it with "cargo build --release -p ${name === 'provena' ? 'provena-client' : name}"`);
  }
  return file;
}

export const nodeBinary = () => binary('PROVENA_NODE', 'provena-node');
export const cliBinary = () => binary('PROVENA_CLI', 'provena');

/** Chromium: $PROVENA_CHROMIUM, else Debian's. */
export function chromiumBinary() {
  const file = process.env.PROVENA_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(file)) {
    throw new Error(`${file} does not exist: install Debian's chromium (scripts/test.sh dashboard does) or set PROVENA_CHROMIUM`);
  }
  return file;
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

/** A started process whose output is kept; `stop()` ends it (SIGTERM, then SIGKILL). */
export function start(file, args, options = {}) {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  const log = [];
  const keep = (chunk) => log.push(...chunk.toString().split('\n'));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    child,
    log,
    exited,
    tail: (n = 40) => log.slice(-n).join('\n'),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Waits until `check()` gives something truthy (checked every `every` ms), or fails with
 * `what` after `ms`. */
export async function until(what, ms, check, every = 500) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${ms / 1000} s${last ? ` (last error: ${last.message})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

/** The dev node on free ports, ready for RPC. */
export async function startNode(dir) {
  const rpc = await freePort();
  const node = start(nodeBinary(), ['--dev', '--base-path', path.join(dir, 'chain'), '--no-telemetry',
    '--rpc-port', `${rpc}`, '--port', `${await freePort()}`, '--prometheus-port', `${await freePort()}`,
    '--enable-offchain-indexing', 'true', '--rpc-methods', 'safe', '--rpc-cors', 'all']);
  await until('the node opens its RPC server', 90_000, () => {
    if (node.child.exitCode !== null) throw new Error(`the node exited:\n${node.tail()}`);
    return node.log.some((line) => line.includes('Running JSON-RPC server'));
  });
  node.url = `ws://127.0.0.1:${rpc}`;
  return node;
}

/** Runs `provena` with `args` against `url` (its own home in `dir`); returns stdout, or fails
 * with its output. */
export function provena(url, dir, args) {
  const out = spawnSync(cliBinary(), args, {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: cleanEnv({ PROVENA_URL: url, PROVENA_HOME: dir }),
    timeout: 180_000,
  });
  if (out.status !== 0) {
    throw new Error(`provena ${args.join(' ')} failed (${out.status}):\n${out.stdout}\n${out.stderr}`);
  }
  return out.stdout;
}

/** This process's environment without the caller's own `provena` settings, plus `extra`. */
export function cleanEnv(extra) {
  const env = { ...process.env, ...extra };
  for (const name of ['PROVENA_KEY', 'PROVENA_SURI', 'PROVENA_STORE', 'PROVENA_PASSWORD_FILE', 'PROVENA_URL', 'PROVENA_CHAIN_SPEC']) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

/** `provena … --json` as an object. */
export function provenaJson(url, dir, args) {
  return JSON.parse(provena(url, dir, [...args, '--json']));
}

/** A device key in `keys/` named after the device (what `gateway run --device-keys` reads),
 * registered with Alice as owner; returns the device id. */
export function aliceDevice(url, dir, name, kind) {
  const file = path.join(dir, `${name}.key`);
  provena(url, dir, ['key', 'generate', '--scheme', 'ed25519', '--out', file]);
  const { device_id: device } = provenaJson(url, dir, ['key', 'inspect', file]);
  provena(url, dir, ['device', 'register', '--suri', '//Alice', '--device-key', file, '--kind', kind]);
  mkdirSync(path.join(dir, 'keys'), { recursive: true });
  copyFileSync(file, path.join(dir, 'keys', `${device}.json`));
  return device;
}

/** The dev chain's raw chain spec, written to `dir` (what `provena verify` trusts). */
export function devChainSpec(dir) {
  const out = spawnSync(nodeBinary(), ['build-spec', '--chain', 'dev', '--raw'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (out.status !== 0) throw new Error(`build-spec failed: ${out.stderr}`);
  const file = path.join(dir, 'dev-spec.json');
  writeFileSync(file, out.stdout);
  return file;
}

/** An HTTP request to the gateway: { status, body } (JSON when it is). */
export async function http(port, method, target, body, headers = {}) {
  const response = await fetch(`http://127.0.0.1:${port}${target}`, { method, body, headers });
  const text = await response.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: response.status, body: parsed, headers: response.headers };
}
