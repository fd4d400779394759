// Access: who holds which grant on a device (directly or through its groups), until when; who
// holds its data key; and the grants, revocations and key changes of the blocks scanned.

import { snake } from '../chain.js';
import { badge, fill, h, short, table, when } from '../dom.js';
import { gateway } from '../gateway.js';
import { describe, devicesOf, permissionsText } from './common.js';

export function renderAccess(ctx, id, showError) {
  const { chain, view } = ctx;
  const picker = h('select', { 'aria-label': 'Device', onchange: (e) => { location.hash = `#/access/${e.target.value}`; } });
  const body = h('div', {}, h('p', { class: 'muted' }, 'Pick a device.'));
  fill(view, h('h1', {}, 'Access'), h('div', { class: 'toolbar' }, h('label', {}, 'Device ', picker)), body);
  let stopped = false;

  async function fillPicker() {
    const ids = new Set((await gateway.devices()).map((d) => d.device));
    const owner = localStorage.getItem('provena-dashboard-owner');
    if (owner) {
      try { for (const d of await devicesOf(await chain.atFinalized(), owner)) ids.add(d); } catch { /* not an account */ }
    }
    if (id) ids.add(id.toLowerCase());
    fill(picker, h('option', { value: '' }, '—'), [...ids].sort().map((d) => h('option', { value: d, selected: d === id?.toLowerCase() }, short(d))));
  }

  async function load() {
    if (!id || stopped) return;
    const device = id.toLowerCase();
    const api = chain.api;
    const at = await chain.atFinalized();
    const now = chain.finalized;
    const [direct, groups, epoch, sealed] = await Promise.all([
      at.query.accessControl.grants.entries({ Device: device }),
      at.query.accessControl.deviceGroups(device),
      at.query.accessControl.keyEpochs(device),
      at.query.accessControl.sealedKeys.entries(device),
    ]);
    const groupIds = groups.map((m) => snake(m.toJSON()).group);
    const viaGroups = await Promise.all(groupIds.map((g) => at.query.accessControl.grants.entries({ Group: g })));
    const grantRows = [];
    const addRows = (entries, scope) => {
      for (const [key, value] of entries) {
        const grant = snake(value.unwrap().toJSON());
        const expired = grant.expires !== null && grant.expires <= now;
        grantRows.push([
          h('span', { class: 'mono', title: key.args[1].toString() }, short(key.args[1].toString())),
          permissionsText(grant.permissions),
          scope,
          grant.expires === null ? 'no end' : `block #${grant.expires}${expired ? '' : ` (in ${grant.expires - now} blocks)`}`,
          expired ? badge('bad', 'expired') : badge('ok', 'in force'),
          h('span', { class: 'mono', title: String(grant.granted_by) }, short(String(grant.granted_by))),
        ]);
      }
    };
    addRows(direct, 'this device');
    viaGroups.forEach((entries, i) => addRows(entries, `group ${groupIds[i]}`));
    const keyEpoch = snake(epoch.toJSON());
    const readers = sealed.map(([key, value]) => {
      const s = snake(value.toJSON());
      return [h('span', { class: 'mono', title: key.args[1].toString() }, short(key.args[1].toString())), String(s.key?.epoch ?? '—')];
    });
    const history = chain.events.filter((e) => e.kind === 'access' && (
      e.fields.device === device || e.fields.scope?.device === device
      || (e.fields.scope?.group !== undefined && groupIds.includes(e.fields.scope.group))));
    if (stopped) return;
    fill(body,
      h('p', { class: 'muted' }, `As of finalized block #${now}.`),
      h('h2', {}, 'Grants in force and expired'),
      grantRows.length
        ? table([{ label: 'Grantee' }, { label: 'Permissions' }, { label: 'Through' }, { label: 'Until' }, { label: 'State' }, { label: 'Granted by', narrow: true }], grantRows, { id: 'grants-table' })
        : h('p', { class: 'muted' }, 'Nobody but the owner has access.'),
      h('h2', {}, 'Data key'),
      h('p', {}, `Epoch ${keyEpoch.epoch ?? 0}${keyEpoch.ends ? `, ends at block #${keyEpoch.ends}` : ''}. A new epoch starts whenever someone loses READ, so they cannot open what comes after.`),
      readers.length ? table([{ label: 'Reader' }, { label: 'Sealed epoch', num: true }], readers) : h('p', { class: 'muted' }, 'No data key sealed to anyone.'),
      h('h2', {}, 'History'),
      h('p', { class: 'muted' }, `Finalized blocks #${chain.scannedFrom}–#${chain.finalized}.${chain.backStopped ? ` ${chain.backStopped}.` : ''}`),
      history.length
        ? h('ul', { class: 'feed', id: 'access-history' }, history.map((e) => h('li', { class: 'access' }, h('span', { class: 'when' }, `block #${e.block} · ${when(e.time)}`), describe(e, api))))
        : h('p', { class: 'muted' }, 'No grant, revocation or key change in these blocks.'));
  }

  const run = () => load().catch((e) => { if (!stopped) showError(e); });
  fillPicker().catch((e) => { if (!stopped) showError(e); });
  const unsubscribe = chain.subscribe((reason) => { if (reason === 'events') run(); });
  run();
  return () => { stopped = true; unsubscribe(); };
}
