// A device: its readings per metric as charts (the alert rule's bounds drawn as a band, alerts
// marked, gaps left open), each with its numbers as a table; its anchors with their blocks,
// finality and a check against the chain; its gaps and alerts; a proof bundle for any reading.
// New readings appear as their blocks are finalized.

import uPlot from 'uplot';
import { ago, badge, count, fill, h, short, table, when } from '../dom.js';
import { gateway } from '../gateway.js';
import { bounds, chainDevices, describe, rulesOf } from './common.js';

/** Readings drawn at most (the newest). */
const WINDOW = 500;

const COLOURS = ['#0b5cad', '#6639ba', '#0a7b83', '#8a4600', '#b0006e'];

export function renderDevice(ctx, id, showError) {
  const { chain, view } = ctx;
  if (!/^0x[0-9a-fA-F]{64}$/.test(id || '')) {
    fill(view, h('div', { class: 'error' }, `“${id}” is not a device id (0x and 64 hex digits).`));
    return undefined;
  }
  id = id.toLowerCase();
  const stats = h('div', { class: 'grid' });
  const rulesBox = h('p', { class: 'muted' });
  const charts = h('div', {}, h('p', { class: 'muted' }, 'Loading readings…'));
  const gapsBox = h('div', {});
  const alertsBox = h('div', {});
  const readingsBox = h('div', {});
  const anchorsBox = h('div', {});
  const notice = h('div', {});
  fill(view,
    h('h1', {}, 'Device ', h('span', { class: 'mono' }, id)),
    h('p', {}, h('a', { href: `#/access/${id}` }, 'Who has access to this device →')),
    notice,
    stats,
    h('h2', {}, 'Alert rules'), rulesBox,
    h('h2', {}, 'Readings'), charts,
    h('h2', {}, 'Gaps'), gapsBox,
    h('h2', {}, 'Alerts'), alertsBox,
    h('h2', {}, 'Latest readings and their proofs'), readingsBox,
    h('h2', {}, 'Anchors'), anchorsBox);

  let readings = [];
  let detail = null;
  let rules = [];
  let onChain = null;
  let stopped = false;
  let busy = false;
  const plots = [];
  const verified = new Map();

  const alertEvents = () => chain.events.filter((e) => e.fields.device === id && (e.kind === 'alert' || e.kind === 'gap' || e.kind === 'rejected'));

  function drawStats() {
    const reg = onChain?.registry;
    const state = onChain?.state;
    const stat = (label, value, title) => h('div', { class: 'stat', title }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
    fill(stats,
      stat('Status', reg ? String(reg.status) : 'not registered'),
      stat('Owner', reg ? short(String(reg.owner)) : '—', reg ? String(reg.owner) : undefined),
      stat('Last reading', detail ? ago(Date.now() - detail.last_reading_ms) : '—', detail ? when(detail.last_reading_ms) : undefined),
      stat('Liveness', detail?.silent ? badge('bad', 'silent') : detail?.last_heard_s === null ? badge('muted', 'not heard') : badge('ok', 'publishing')),
      stat('Anchored on chain', count(state?.readings ?? 0), `${count(state?.anchors ?? 0)} anchors; next sequence number ${state?.next_seq ?? 0}`),
      stat('Final here', count(detail?.finalized)),
      stat('Pending here', count(detail ? detail.pending + detail.unbatched : null)),
      stat('Missing on chain', count(state?.missing ?? 0)),
      stat('Holes here', count(detail?.missing)),
      stat('Credits', count(state?.credits ?? 0)));
  }

  function drawRules() {
    fill(rulesBox, rules.length
      ? rules.map((r, i) => [i ? ' · ' : '', h('span', {}, `${r.metric}: ${bounds(r)}`)])
      : 'No alert rule on this device.');
  }

  /** The seq → alert event map of this device. */
  function alertsBySeq() {
    const map = new Map();
    for (const e of chain.events) {
      if (e.kind === 'alert' && e.fields.device === id) map.set(Number(e.fields.seq), e);
    }
    return map;
  }

  function drawCharts() {
    for (const plot of plots.splice(0)) plot.destroy();
    const metrics = [...new Set(readings.flatMap((r) => Object.keys(r.values)))].sort();
    if (!metrics.length) {
      fill(charts, h('p', { class: 'muted' }, 'No readings of this device at this gateway.'));
      return;
    }
    const alerts = alertsBySeq();
    fill(charts);
    metrics.forEach((metric, index) => {
      const rule = rules.find((r) => r.metric === metric) || null;
      const xs = [];
      const ys = [];
      const marks = [];
      const rows = [];
      let previous = null;
      let breaks = 0;
      for (const r of readings) {
        if (!(metric in r.values)) continue;
        if (previous && r.seq > previous.seq + 1) {
          // Readings that never arrived: the line stops here.
          xs.push((previous.timestamp_ms + r.timestamp_ms) / 2000);
          ys.push(null);
          marks.push(null);
          breaks += 1;
          rows.push([`${previous.seq + 1}–${r.seq - 1}`, '—', '—', badge('warn', 'never arrived')]);
        }
        const value = r.values[metric];
        const alert = alerts.get(r.seq);
        const outside = rule && ((rule.min !== null && value < rule.min) || (rule.max !== null && value > rule.max));
        xs.push(r.timestamp_ms / 1000);
        ys.push(value);
        marks.push(alert && alert.fields.metric && metricMatches(alert.fields.metric, metric) ? value : null);
        rows.push([String(r.seq), when(r.timestamp_ms), String(value),
          alert ? badge('bad', `alert (block #${alert.block})`) : outside ? badge('warn', 'outside the rule') : '']);
        previous = r;
      }
      const marked = marks.filter((m) => m !== null).length;
      const holder = h('div', { class: 'plot' });
      const box = h('section', { class: 'chart', dataset: { metric, alerts: String(marked), gaps: String(breaks), points: String(ys.filter((y) => y !== null).length) } },
        h('h3', {}, metric),
        h('div', { class: 'legend-note' },
          rule ? `Green band: the rule (${bounds(rule)}). ` : 'No rule on this metric. ',
          marked ? `Red points: ${marked} alert(s) the chain raised. ` : '',
          breaks ? `${breaks} gap(s): the line stops where readings never arrived.` : ''),
        holder,
        h('details', {}, h('summary', {}, `The numbers (${count(ys.filter((y) => y !== null).length)} readings)`),
          table([{ label: 'Seq', num: true }, { label: 'Device time' }, { label: metric, num: true }, { label: 'Note' }], rows.slice().reverse())));
      charts.append(box);
      const colour = COLOURS[index % COLOURS.length];
      const width = Math.max(280, holder.clientWidth || charts.clientWidth || 600);
      const plot = new uPlot({
        width,
        height: 220,
        scales: {
          x: { time: true },
          y: {
            range: (u, lo, hi) => {
              const low = Math.min(lo ?? 0, rule?.min ?? lo ?? 0);
              const high = Math.max(hi ?? 1, rule?.max ?? hi ?? 1);
              const pad = (high - low) * 0.1 || 1;
              return [low - pad, high + pad];
            },
          },
        },
        series: [
          { label: 'device time' },
          { label: metric, stroke: colour, width: 2, spanGaps: false, points: { show: ys.length < 60 } },
          { label: 'alert', stroke: '#c62828', fill: '#c62828', paths: () => null, points: { show: true, size: 11, width: 2, stroke: '#c62828', fill: '#ffffff' } },
        ],
        axes: [{}, { label: metric, size: 60 }],
        hooks: {
          drawClear: [(u) => drawBand(u, rule)],
        },
      }, [xs, ys, marks], holder);
      plots.push(plot);
    });
  }

  function drawGaps() {
    const holes = detail?.holes || [];
    const chainGaps = chain.events.filter((e) => e.kind === 'gap' && e.fields.device === id);
    fill(gapsBox,
      holes.length
        ? h('ul', {}, holes.map((g) => h('li', {}, `Readings ${g.from}–${g.to} (${count(g.to - g.from + 1)}) never reached this gateway; later anchors wait for them.`)))
        : h('p', { class: 'muted' }, 'No hole in the readings this gateway holds.'),
      chainGaps.length
        ? h('ul', {}, chainGaps.map((e) => h('li', {}, `Block #${e.block}: readings ${e.fields.from}–${e.fields.to} were never anchored on chain.`)))
        : h('p', { class: 'muted' }, `No gap recorded on chain since block #${chain.scannedFrom}.`));
  }

  function drawAlerts() {
    const events = alertEvents();
    fill(alertsBox, events.length
      ? h('ul', { class: 'feed' }, events.map((e) => h('li', { class: e.kind }, h('span', { class: 'when' }, `#${e.block} · ${when(e.time)}`), describe(e, chain.api))))
      : h('p', { class: 'muted' }, `No alert, gap or refusal since block #${chain.scannedFrom}.`));
  }

  function drawReadings() {
    const latest = readings.slice(-15).reverse();
    fill(readingsBox, latest.length === 0 ? h('p', { class: 'muted' }, 'None yet.') : table(
      [{ label: 'Seq', num: true }, { label: 'Device time' }, { label: 'Values' }, { label: 'Anchor' }, { label: 'Block', num: true }, { label: 'Proof' }],
      latest.map((r) => [
        String(r.seq), when(r.timestamp_ms),
        Object.entries(r.values).map(([k, v]) => `${k} ${v}`).join(', '),
        statusBadge(r.anchor?.status),
        r.anchor?.block_number ? `#${r.anchor.block_number}` : '—',
        r.anchor?.status === 'finalized'
          ? h('button', { type: 'button', class: 'proof', dataset: { seq: String(r.seq) }, onclick: (e) => download(r.seq, e.target) }, 'Download proof')
          : h('span', { class: 'muted' }, 'when final'),
      ]), { id: 'readings-table' }));
  }

  async function download(seq, button) {
    button.disabled = true;
    const label = button.textContent;
    button.textContent = 'Proving…';
    try {
      const { blob, name } = await gateway.proof(id, seq);
      const url = URL.createObjectURL(blob);
      const link = h('a', { href: url, download: name });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      button.textContent = 'Downloaded';
      button.dataset.done = name;
    } catch (error) {
      button.textContent = label;
      fill(notice, h('div', { class: 'error', role: 'alert' }, `No proof of reading ${seq}: ${error.message}`));
    } finally {
      button.disabled = false;
    }
  }

  function drawAnchors() {
    const anchors = detail?.anchors || [];
    fill(anchorsBox, anchors.length === 0 ? h('p', { class: 'muted' }, 'None yet.') : table(
      [{ label: 'Readings' }, { label: 'Count', num: true }, { label: 'Status' }, { label: 'Block', num: true }, { label: 'Root', narrow: true }, { label: 'On chain' }],
      anchors.map((a) => [
        `${a.first_seq}–${a.first_seq + a.count - 1}`, String(a.count), statusBadge(a.status, a.error),
        a.block_number ? `#${a.block_number}` : '—',
        h('span', { class: 'mono', title: a.root }, short(a.root)),
        verificationBadge(a),
      ]), { id: 'anchors-table' }));
  }

  function verificationBadge(anchor) {
    const result = verified.get(anchor.id);
    if (anchor.status !== 'finalized' || !anchor.block_hash) return badge('muted', 'waiting for finality');
    if (!result) return badge('muted', 'checking…');
    if (result === 'verified') return badge('ok', '✓ root matches the chain', 'The block\'s Anchored event has this device, first reading and Merkle root');
    return badge('bad', result);
  }

  /** Compares each final anchor's root with the `Anchored` event of its block. */
  async function verifyAnchors() {
    for (const a of detail?.anchors || []) {
      if (a.status !== 'finalized' || !a.block_hash || verified.has(a.id)) continue;
      try {
        const records = await chain.anchoredAt(a.block_hash);
        const record = records.find((r) => r.device === id && Number(r.first_seq) === a.first_seq);
        verified.set(a.id, !record ? 'not in its block' : record.root === a.root ? 'verified' : 'root differs from the chain');
      } catch (e) {
        verified.set(a.id, `cannot check: ${e.message}`);
      }
    }
    if (!stopped) drawAnchors();
  }

  function drawAll() {
    drawStats();
    drawRules();
    drawCharts();
    drawGaps();
    drawAlerts();
    drawReadings();
    drawAnchors();
  }

  async function load() {
    if (busy || stopped) return;
    busy = true;
    try {
      // The newest window each time: the anchors of readings already shown change state too.
      const at = await chain.atFinalized();
      const [d, r, c, latest] = await Promise.all([
        gateway.device(id).catch((e) => (e.status === 404 ? null : Promise.reject(e))),
        rulesOf(at, id),
        chainDevices(at, [id]),
        gateway.newest(id, WINDOW),
      ]);
      detail = d;
      rules = r;
      onChain = c.get(id);
      readings = latest;
      if (!d && !stopped) fill(notice, h('div', { class: 'notice' }, 'This gateway has no readings of this device; what the chain knows is below.'));
      if (!stopped) {
        drawAll();
        verifyAnchors();
      }
    } catch (error) {
      if (!stopped) showError(error);
    } finally {
      busy = false;
    }
  }

  const unsubscribe = chain.subscribe((reason) => {
    if (reason === 'head') load();
    else if (reason === 'events' && !busy) { drawCharts(); drawGaps(); drawAlerts(); }
  });
  const resize = () => { for (const plot of plots) plot.setSize({ width: Math.max(280, plot.root.parentElement.clientWidth), height: 220 }); };
  window.addEventListener('resize', resize);
  load();
  return () => {
    stopped = true;
    unsubscribe();
    window.removeEventListener('resize', resize);
    for (const plot of plots.splice(0)) plot.destroy();
  };
}

function metricMatches(chainMetric, metric) {
  if (typeof chainMetric !== 'string') return false;
  if (!chainMetric.startsWith('0x')) return chainMetric === metric;
  const bytes = chainMetric.slice(2).match(/../g) || [];
  return new TextDecoder().decode(new Uint8Array(bytes.map((b) => parseInt(b, 16)))) === metric;
}

function statusBadge(status, error) {
  switch (status) {
    case 'finalized': return badge('ok', 'finalized');
    case 'in_block': return badge('warn', 'in a block');
    case 'submitted': return badge('warn', 'sent');
    case 'signed': return badge('muted', 'signed, not sent');
    case 'failed': return badge('bad', 'refused', error || undefined);
    default: return badge('muted', 'not batched');
  }
}

/** The rule's band, under the line: between min and max (open sides reach the plot's edge). */
function drawBand(u, rule) {
  if (!rule) return;
  const { left, top, width, height } = u.bbox;
  const y = (v) => Math.min(top + height, Math.max(top, u.valToPos(v, 'y', true)));
  const upper = rule.max === null ? top : y(rule.max);
  const lower = rule.min === null ? top + height : y(rule.min);
  const c = u.ctx;
  c.save();
  c.fillStyle = 'rgba(26, 127, 55, 0.13)';
  c.fillRect(left, upper, width, lower - upper);
  c.strokeStyle = 'rgba(26, 127, 55, 0.6)';
  c.setLineDash([4, 4]);
  c.beginPath();
  if (rule.max !== null) { c.moveTo(left, upper); c.lineTo(left + width, upper); }
  if (rule.min !== null) { c.moveTo(left, lower); c.lineTo(left + width, lower); }
  c.stroke();
  c.restore();
}
