// The dashboard in a real headless Chromium against a real dev node and a real gateway
// service, with two simulated devices posting readings to the gateway: every view loads
// without a console error; a new reading reaches its chart within one finality period; an
// out-of-range reading shows in the alert feed and on the chart; a gap shows; a proof bundle
// downloaded from the page verifies with `provena verify --bundle`; grants and their history
// show. Screenshots of each view go to $PROVENA_DASHBOARD_OUT (default dashboard/test-output).

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import puppeteer from 'puppeteer-core';
import {
  aliceDevice, chromiumBinary, cleanEnv, cliBinary, devChainSpec, freePort, here, http, provena, start,
  startNode, until,
} from './harness.mjs';

const BOB = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';
const CHARLIE = '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y';
/** One finality period on the dev chain, generously: a 6 s block, GRANDPA's vote on it, and
 * the page's refresh on the next finalized head. */
const FINALITY_PERIOD_MS = 18_000;

const dist = path.resolve(here, '..', 'dist');
const out = path.resolve(process.env.PROVENA_DASHBOARD_OUT || path.join(here, '..', 'test-output'));
let dir; let node; let gateway; let port; let browser; let page; let spec;
let fridge; let pump;
const errors = [];
const t0 = Date.now() - 3_600_000;

/** Readings `seqs` of `device` posted to the gateway as the device would (JSON Lines). */
async function post(device, seqs, value) {
  const lines = seqs.map((seq) => JSON.stringify({
    seq, timestamp_ms: t0 + seq * 60_000, values: { [device === fridge ? 'temp_c' : 'flow_l_min']: value(seq) },
  })).join('\n');
  const reply = await http(port, 'POST', `/v1/devices/${device}/readings`, `${lines}\n`);
  assert.equal(reply.status, 202, JSON.stringify(reply.body));
}

/** The gateway's view of a device. */
async function detail(device) {
  const reply = await http(port, 'GET', `/v1/devices/${device}`);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body;
}

async function screenshot(name) {
  await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
}

async function open(hash) {
  await page.goto(`http://127.0.0.1:${port}/dashboard/${hash}`, { waitUntil: 'domcontentloaded' });
}

before(async () => {
  assert.ok(existsSync(path.join(dist, 'index.html')), 'build the dashboard first: npm run build');
  mkdirSync(out, { recursive: true });
  dir = mkdtempSync(path.join(tmpdir(), 'provena-dashboard-'));
  node = await startNode(dir);
  spec = devChainSpec(dir);
  fridge = aliceDevice(node.url, dir, 'fridge', 'thermometer');
  pump = aliceDevice(node.url, dir, 'pump', 'flow-meter');
  provena(node.url, dir, ['rule', 'set', '--device', fridge, '--metric', 'temp_c', '--min', '2', '--max', '8', '--suri', '//Alice']);
  provena(node.url, dir, ['encryption-key', 'publish', '--suri', '//Bob']);
  provena(node.url, dir, ['grant', 'add', '--device', fridge, '--to', BOB, '--read', '--expires', '100000', '--suri', '//Alice']);
  provena(node.url, dir, ['grant', 'add', '--device', fridge, '--to', CHARLIE, '--submit', '--suri', '//Alice']);
  provena(node.url, dir, ['grant', 'revoke', '--device', fridge, '--to', CHARLIE, '--suri', '//Alice']);

  port = await freePort();
  gateway = start(cliBinary(), ['--url', node.url, 'gateway', 'run', '--suri', '//Alice', '--pay', 'account',
    '--http', `127.0.0.1:${port}`, '--device-keys', path.join(dir, 'keys'), '--batch-size', '5',
    '--batch-age', '1', '--silent-after', '600', '--dashboard', dist, '--store', path.join(dir, 'gateway.db')],
  { cwd: dir, env: cleanEnv({ PROVENA_HOME: dir, PROVENA_LOG: 'info' }) });
  await until('the gateway answers /healthz', 60_000, async () => {
    if (gateway.child.exitCode !== null) throw new Error(`the gateway exited:\n${gateway.tail()}`);
    return (await http(port, 'GET', '/healthz')).status === 200;
  });
  const seqs = [...Array(10).keys()];
  await post(fridge, seqs, (seq) => 4 + seq / 10);
  await post(pump, seqs, (seq) => 12 + (seq % 3));
  await until('the first readings are final', 120_000, async () =>
    (await detail(fridge)).finalized === 10 && (await detail(pump)).finalized === 10);

  browser = await puppeteer.launch({
    executablePath: chromiumBinary(),
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run'],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  page.on('requestfailed', (request) => errors.push(`request: ${request.url()} ${request.failure()?.errorText}`));
});

after(async () => {
  await browser?.close();
  await gateway?.stop();
  await node?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard in Chromium', () => {
  test('the read API serves only plain dashboard files and whole numbers', async () => {
    assert.equal((await http(port, 'GET', '/dashboard/..%2Fgateway.db')).status, 404);
    assert.equal((await http(port, 'GET', '/dashboard/.hidden.js')).status, 404);
    const index = await http(port, 'GET', '/dashboard/');
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-security-policy'), /default-src 'self'/);
    assert.equal((await http(port, 'GET', `/v1/devices/${fridge}/readings?newest=-1`)).status, 400);
    assert.equal((await http(port, 'GET', '/v1/devices/0x12/readings')).status, 400);
    const unknown = await http(port, 'GET', `/v1/devices/0x${'ab'.repeat(32)}`);
    assert.equal(unknown.status, 404);
    const notFinal = await http(port, 'GET', `/v1/devices/${fridge}/readings/999/proof`);
    assert.equal(notFinal.status, 404);
  });

  test('the devices view lists every device with where it stands, on a phone too', async () => {
    await open('#/devices');
    await page.waitForFunction(() => document.querySelectorAll('#devices-table tbody tr').length === 2, { timeout: 30_000 });
    const rows = await page.$$eval('#devices-table tbody tr', (trs) => trs.map((tr) => tr.innerText));
    for (const row of rows) {
      assert.match(row, /active/);
      assert.match(row, /publishing/);
    }
    await screenshot('devices');
    await page.setViewport({ width: 390, height: 844, isMobile: true });
    await open('#/devices');
    await page.waitForSelector('#devices-table');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page is ${overflow} px wider than a phone`);
    await screenshot('devices-phone');
    await page.setViewport({ width: 1280, height: 900 });
  });

  test('a new reading reaches its chart within one finality period', async () => {
    await open(`#/device/${fridge}`);
    await page.waitForSelector('.chart[data-metric="temp_c"][data-points="10"]', { timeout: 30_000 });
    await post(fridge, [10], () => 5.5);
    const posted = Date.now();
    await page.waitForSelector('.chart[data-metric="temp_c"][data-points="11"]', { timeout: FINALITY_PERIOD_MS });
    console.log(`# the reading was on the chart ${((Date.now() - posted) / 1000).toFixed(1)} s after it was posted`);
    // And its anchor is shown final once it is, with the root checked against its block.
    await until('reading 10 is final at the gateway', 90_000, async () => (await detail(fridge)).finalized === 11);
    await page.waitForFunction(() => [...document.querySelectorAll('#readings-table tbody tr')]
      .some((tr) => tr.cells[0].innerText === '10' && /finalized/.test(tr.innerText)), { timeout: FINALITY_PERIOD_MS });
    await page.waitForFunction(() => /root matches the chain/.test(document.querySelector('#anchors-table')?.innerText || ''), { timeout: 30_000 });
  });

  test('an out-of-range reading shows in the alert feed and on the chart', async () => {
    await post(fridge, [11], () => 12.5);
    await page.waitForSelector('.chart[data-metric="temp_c"][data-alerts="1"]', { timeout: 90_000 });
    const note = await page.$eval('.chart[data-metric="temp_c"] details table', (t) => t.textContent);
    assert.match(note, /12\.5/);
    assert.match(note, /alert \(block #\d+\)/);
    await screenshot('device');
    await open('#/alerts');
    const alert = await page.waitForSelector('#alert-feed li[data-kind="alert"]', { timeout: 30_000 });
    const text = await alert.evaluate((li) => li.innerText);
    assert.match(text, /temp_c = 12\.5 at reading 11 broke its rule \(2 to 8\)/);
  });

  test('a gap shows where readings never arrived', async () => {
    await post(fridge, [12, 13, 16, 17], (seq) => 4 + seq / 20);
    await until('the gateway stores readings 16 and 17', 10_000, async () => (await detail(fridge)).last_seq === 17);
    const gateway = await detail(fridge);
    assert.equal(gateway.missing, 2);
    assert.deepEqual(gateway.holes, [{ from: 14, to: 15 }]);
    await open(`#/device/${fridge}`);
    await page.waitForSelector('.chart[data-metric="temp_c"][data-gaps="1"]', { timeout: 30_000 });
    const gaps = await page.evaluate(() => document.body.innerText);
    assert.match(gaps, /Readings 14–15 \(2\) never reached this gateway/);
    await screenshot('device-gap');
    // A reading anchored past the chain's next sequence number (the owner's own `provena
    // submit`, account-paid): the chain records the gap, and the feed shows it.
    const file = path.join(dir, 'pump-late.jsonl');
    writeFileSync(file, `${JSON.stringify({ seq: 15, timestamp_ms: t0 + 15 * 60_000, values: { flow_l_min: 13 } })}\n`);
    provena(node.url, dir, ['submit', '--device', pump, '--device-key', path.join(dir, 'pump.key'), '--suri', '//Alice', '--file', file]);
    await open('#/alerts');
    const gap = await page.waitForSelector('#alert-feed li[data-kind="gap"]', { timeout: 60_000 });
    assert.match(await gap.evaluate((li) => li.innerText), /readings 10–14 \(5\) were never anchored/);
    assert.match(await page.$eval('#gateway-holes', (n) => n.innerText), /1 device\(s\) with readings that never reached this gateway.*\(2 missing\)/s);
    await open('#/devices');
    // The devices view counts the hole in its "Holes here" column.
    await page.waitForFunction((id) => [...document.querySelectorAll('#devices-table tbody tr')]
      .some((tr) => tr.querySelector('a')?.title === id && tr.cells[7].innerText.trim() === '2'), { timeout: 30_000 }, fridge);
  });

  test('a proof bundle downloaded from the page verifies offline', async () => {
    const downloads = path.join(dir, 'downloads');
    mkdirSync(downloads);
    const session = await page.createCDPSession();
    await session.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
    await open(`#/device/${fridge}`);
    const button = await page.waitForSelector('button.proof', { timeout: 30_000 });
    const seq = await button.evaluate((b) => b.dataset.seq);
    await button.click();
    const file = await until('the bundle is downloaded', 60_000, () =>
      readdirSync(downloads).find((name) => name.endsWith('.json')));
    const verified = provena(node.url, dir, ['verify', '--bundle', path.join(downloads, file), '--chain-spec', spec]);
    assert.match(verified, new RegExp(`VERIFIED: reading ${seq} of device`));
    assert.doesNotMatch(verified, /NOT VERIFIED/);
  });

  test('the alerts view shows the alert and the gap together', async () => {
    await open('#/alerts');
    await page.waitForSelector('#alert-feed li[data-kind="gap"]', { timeout: 30_000 });
    await page.waitForSelector('#alert-feed li[data-kind="alert"]', { timeout: 30_000 });
    await screenshot('alerts');
  });

  test('the access view shows who holds which grant, and the history', async () => {
    await open(`#/access/${fridge}`);
    await page.waitForSelector('#grants-table', { timeout: 30_000 });
    const grants = await page.$eval('#grants-table', (t) => t.innerText);
    assert.match(grants, /READ/);
    assert.match(grants, /in force/);
    assert.doesNotMatch(grants, /SUBMIT/, 'the revoked grant is gone');
    const history = await page.waitForSelector('#access-history', { timeout: 30_000 });
    const text = await history.evaluate((ul) => ul.innerText);
    assert.match(text, /was granted READ on device/);
    assert.match(text, /was granted SUBMIT on device/);
    assert.match(text, /lost its grant/);
    await screenshot('access');
  });

  test('no view logged an error', () => {
    assert.deepEqual(errors, []);
  });
});
