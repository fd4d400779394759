// Alerts and gaps: what finalized blocks say went wrong (alerts raised by rules, sequence gaps,
// refused anchors), newest first, live; with the devices the gateway reports silent.

import { DEFAULT_HORIZON } from '../chain.js';
import { badge, fill, h, when } from '../dom.js';
import { gateway } from '../gateway.js';
import { describe, deviceLink } from './common.js';

const KINDS = { alert: 'Alerts', gap: 'Gaps', rejected: 'Refused anchors', rule: 'Rule changes' };

export function renderAlerts(ctx, _arg, showError) {
  const { chain, view } = ctx;
  const shown = new Set(['alert', 'gap', 'rejected']);
  const toggles = Object.entries(KINDS).map(([kind, label]) => {
    const box = h('input', { type: 'checkbox', checked: shown.has(kind), value: kind, onchange: (e) => {
      if (e.target.checked) shown.add(kind); else shown.delete(kind);
      draw();
    } });
    return h('label', {}, box, ` ${label}`);
  });
  const silentBox = h('div', {});
  const range = h('p', { class: 'muted' });
  const more = h('button', { type: 'button', onclick: async () => {
    more.disabled = true;
    more.textContent = 'Scanning…';
    await chain.scanBack(DEFAULT_HORIZON * 4, (at, lowest) => { more.textContent = `Scanning… #${at} (to #${lowest})`; });
    more.textContent = 'Look further back';
    more.disabled = Boolean(chain.backStopped) || chain.scannedFrom <= 1;
  } }, 'Look further back');
  const feed = h('ul', { class: 'feed', id: 'alert-feed' });
  fill(view,
    h('h1', {}, 'Alerts and gaps'),
    silentBox,
    h('div', { class: 'toolbar' }, toggles, more),
    range,
    feed);

  let stopped = false;

  function draw() {
    const events = chain.events.filter((e) => shown.has(e.kind));
    fill(range, `Finalized blocks #${chain.scannedFrom}–#${chain.finalized}, newest first: ${events.length} event(s).${chain.backStopped ? ` ${chain.backStopped}.` : ''}`);
    fill(feed, events.length
      ? events.map((e) => h('li', { class: e.kind, dataset: { kind: e.kind, block: String(e.block) } },
        h('span', { class: 'when' }, `block #${e.block} · ${when(e.time)}`),
        badge(e.kind === 'gap' ? 'warn' : e.kind === 'rule' ? 'muted' : 'bad', KINDS[e.kind].replace(/s$/, '').toLowerCase()), ' ',
        describe(e, chain.api)))
      : h('li', {}, 'Nothing in these blocks.'));
    more.disabled = Boolean(chain.backStopped) || chain.scannedFrom <= 1;
  }

  async function silent() {
    try {
      const all = await gateway.devices();
      const quiet = all.filter((d) => d.silent);
      const holes = all.filter((d) => d.missing > 0);
      if (stopped) return;
      fill(silentBox,
        quiet.length
          ? h('div', { class: 'notice', role: 'status', id: 'silent-devices' }, `${quiet.length} device(s) silent at this gateway: `,
            quiet.map((d, i) => [i ? ', ' : '', deviceLink(d.device), ` (nothing for ${d.last_heard_s} s)`]))
          : null,
        holes.length
          ? h('div', { class: 'notice', role: 'status', id: 'gateway-holes' }, `${holes.length} device(s) with readings that never reached this gateway (their later anchors wait): `,
            holes.map((d, i) => [i ? ', ' : '', deviceLink(d.device), ` (${d.missing} missing)`]))
          : null);
    } catch (error) {
      if (!stopped) showError(error);
    }
  }

  const unsubscribe = chain.subscribe((reason) => {
    if (reason === 'events') draw();
    if (reason === 'head') silent();
  });
  draw();
  silent();
  return () => { stopped = true; unsubscribe(); };
}
