// Devices: every device this gateway has readings of, and every device of an owner on chain,
// with where each stands; filtered and searched in the page, refreshed on each finalized block.

import { ago, badge, count, fill, h, table } from '../dom.js';
import { gateway } from '../gateway.js';
import { chainDevices, deviceLink, devicesOf } from './common.js';

const OWNER_KEY = 'provena-dashboard-owner';

export function renderDevices(ctx, _arg, showError) {
  const { chain, view } = ctx;
  const search = h('input', { type: 'search', placeholder: 'Search id, status or owner', 'aria-label': 'Search devices' });
  const filter = h('select', { 'aria-label': 'Show' },
    h('option', { value: 'all' }, 'All devices'),
    h('option', { value: 'silent' }, 'Silent'),
    h('option', { value: 'gaps' }, 'With gaps'),
    h('option', { value: 'alerts' }, 'With alerts'),
    h('option', { value: 'inactive' }, 'Not active'));
  const owner = h('input', { type: 'text', placeholder: 'Owner account (SS58), optional', 'aria-label': 'Owner', value: localStorage.getItem(OWNER_KEY) || '', size: 50 });
  const summary = h('p', { class: 'muted' });
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading devices…'));
  fill(view,
    h('h1', {}, 'Devices'),
    h('div', { class: 'toolbar' }, search, filter, owner),
    summary,
    list);

  let rows = [];
  let stopped = false;
  let busy = false;

  const alertsByDevice = () => {
    const counts = new Map();
    for (const event of chain.events) {
      if (event.kind === 'alert') counts.set(event.fields.device, (counts.get(event.fields.device) || 0) + 1);
    }
    return counts;
  };

  function draw() {
    const text = search.value.trim().toLowerCase();
    const alerts = alertsByDevice();
    const shown = rows.filter((row) => {
      if (text && !`${row.id} ${row.status} ${row.owner}`.toLowerCase().includes(text)) return false;
      switch (filter.value) {
        case 'silent': return row.silent;
        case 'gaps': return row.missingChain > 0 || row.missingHere > 0;
        case 'alerts': return alerts.has(row.id);
        case 'inactive': return row.status !== 'Active';
        default: return true;
      }
    });
    const silent = rows.filter((r) => r.silent).length;
    fill(summary, `${count(rows.length)} devices, ${count(silent)} silent, ${count(rows.filter((r) => r.missingChain || r.missingHere).length)} with gaps; showing ${count(shown.length)}.`);
    const columns = [
      { label: 'Device' }, { label: 'Status' }, { label: 'Last reading' },
      { label: 'Anchored on chain', num: true }, { label: 'Final here', num: true },
      { label: 'Pending', num: true, narrow: true }, { label: 'Missing on chain', num: true },
      { label: 'Holes here', num: true }, { label: 'Alerts', num: true, narrow: true },
      { label: 'Credits', num: true, narrow: true }, { label: 'Liveness' },
    ];
    fill(list, shown.length === 0
      ? h('p', { class: 'muted' }, rows.length ? 'No device matches.' : 'This gateway has no readings yet, and no owner is given.')
      : table(columns, shown.map((row) => [
        deviceLink(row.id),
        row.status === 'Active' ? badge('ok', 'active') : badge(row.status === 'unregistered' ? 'muted' : 'warn', row.status.toLowerCase()),
        row.lastReading ? h('span', { title: new Date(row.lastReading).toISOString() }, ago(Date.now() - row.lastReading)) : '—',
        count(row.chainReadings), count(row.finalized), count(row.pending),
        row.missingChain ? badge('warn', count(row.missingChain)) : '0',
        row.missingHere ? badge('warn', count(row.missingHere)) : '0',
        alerts.get(row.id) ? badge('bad', count(alerts.get(row.id))) : '0',
        count(row.credits),
        row.silent ? badge('bad', 'silent', `nothing for ${row.heard} s`) : row.heard === null ? badge('muted', 'not heard', 'not since the gateway started') : badge('ok', 'publishing'),
      ]), { id: 'devices-table' }));
  }

  async function load() {
    if (busy || stopped) return;
    busy = true;
    try {
      const here = await gateway.devices();
      const ids = new Set(here.map((d) => d.device));
      const ownerText = owner.value.trim();
      const at = await chain.atFinalized();
      if (ownerText) {
        try {
          for (const id of await devicesOf(at, ownerText)) ids.add(id);
          localStorage.setItem(OWNER_KEY, ownerText);
        } catch (e) {
          fill(summary, `“${ownerText}” is not an account: ${e.message}`);
        }
      }
      const onChain = await chainDevices(at, [...ids]);
      const byId = new Map(here.map((d) => [d.device, d]));
      rows = [...ids].sort().map((id) => {
        const g = byId.get(id);
        const c = onChain.get(id) || {};
        return {
          id,
          status: c.registry ? String(c.registry.status) : 'unregistered',
          owner: c.registry ? String(c.registry.owner) : '',
          lastReading: g ? g.last_reading_ms : (c.state ? c.state.last_device_time_ms : null),
          chainReadings: c.state ? c.state.readings : 0,
          finalized: g ? g.finalized : null,
          pending: g ? g.pending + g.unbatched : null,
          missingChain: c.state ? c.state.missing : 0,
          missingHere: g ? g.missing : 0,
          credits: c.state ? c.state.credits : 0,
          silent: g ? g.silent : false,
          heard: g ? g.last_heard_s : null,
        };
      });
      if (!stopped) draw();
    } catch (error) {
      if (!stopped) showError(error);
    } finally {
      busy = false;
    }
  }

  search.addEventListener('input', draw);
  filter.addEventListener('change', draw);
  owner.addEventListener('change', load);
  const unsubscribe = chain.subscribe((reason) => { if (reason === 'head') load(); });
  load();
  return () => { stopped = true; unsubscribe(); };
}
