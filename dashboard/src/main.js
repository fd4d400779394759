// The dashboard's shell: connects to the gateway (readings) and the node (chain state), routes
// `#/devices`, `#/device/<id>`, `#/alerts` and `#/access[/<id>]`, and keeps the header's chain
// status current. Each view returns a function that stops what it started.

import { Chain, DEFAULT_HORIZON } from './chain.js';
import { fill, h } from './dom.js';
import { gateway, GatewayError, NeedsToken, setToken } from './gateway.js';
import { renderAccess } from './views/access.js';
import { renderAlerts } from './views/alerts.js';
import { renderDevice } from './views/device.js';
import { renderDevices } from './views/devices.js';

const view = document.getElementById('view');
const status = document.getElementById('chain-status');
const footer = document.getElementById('footer');

const ctx = { chain: null, info: null, view };
let stopView = () => {};

function showStatus() {
  const chain = ctx.chain;
  if (!chain) return;
  const scanned = chain.scannedFrom <= chain.finalized ? `, events from #${chain.scannedFrom}` : '';
  fill(status, chain.status === 'connected'
    ? `finalized #${chain.finalized.toLocaleString('en-US')}${scanned}`
    : `node ${chain.status}: reconnecting…`);
}

/** Asks for the gateway's HTTP token, then starts again. */
function askToken(reason) {
  fill(view,
    h('h1', {}, 'This gateway wants its HTTP token'),
    h('p', { class: 'muted' }, reason || 'The gateway keeps readings in the clear, so it shows them only to whoever holds the token of its --http-token-file. It is kept for this browser tab only.'),
    h('form', {
      onsubmit: (e) => {
        e.preventDefault();
        setToken(new FormData(e.target).get('token'));
        start();
      },
    },
    h('label', { for: 'token' }, 'Token '),
    h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, minlength: 16 }),
    ' ',
    h('button', { type: 'submit' }, 'Open')));
}

function showError(error) {
  if (error instanceof NeedsToken) return askToken();
  fill(view, h('div', { class: 'error', role: 'alert' }, error.message || String(error)));
}

function route() {
  stopView();
  stopView = () => {};
  const [, name = 'devices', arg] = (location.hash || '#/devices').split('/');
  for (const link of document.querySelectorAll('header nav a')) {
    link.classList.toggle('active', link.dataset.view === name || (name === 'device' && link.dataset.view === 'devices'));
  }
  const renderers = { devices: renderDevices, device: renderDevice, alerts: renderAlerts, access: renderAccess };
  const render = renderers[name] || renderDevices;
  fill(view, h('p', { class: 'muted' }, 'Loading…'));
  try {
    const stop = render(ctx, arg ? decodeURIComponent(arg) : null, showError);
    stopView = typeof stop === 'function' ? stop : () => {};
  } catch (error) {
    showError(error);
  }
}

async function start() {
  try {
    ctx.info = await gateway.info();
  } catch (error) {
    return showError(error);
  }
  if (!ctx.chain) {
    ctx.chain = new Chain(ctx.info.node_url);
    ctx.chain.subscribe(showStatus);
    fill(footer, `Gateway ${location.host} · node ${ctx.info.node_url} · genesis ${ctx.info.genesis.slice(0, 10)}… · provena ${ctx.info.version}`);
    try {
      await ctx.chain.connect();
    } catch (error) {
      fill(status, 'node unreachable');
      return showError(new GatewayError(0, `cannot reach the node at ${ctx.info.node_url}: ${error.message}`));
    }
    showStatus();
    // History first for the newest blocks; the views redraw as it arrives.
    ctx.chain.scanBack(DEFAULT_HORIZON, showStatus).then(showStatus);
  }
  if (!ctx.routing) {
    ctx.routing = true;
    window.addEventListener('hashchange', route);
  }
  route();
}

start();
