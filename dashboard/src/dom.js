// Building the page without HTML strings: every text a device or the chain supplies (metric
// names, values, errors) goes in as text, never as markup.

/** An element: `h('a', { href: '#/x', class: 'y' }, 'text', child, …)`. `on*` attributes take
 * functions; `null`, `undefined` and `false` children are left out. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what `el` holds with `children`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A table: `columns` are `{ label, num }`, `rows` arrays of cells (text or elements). */
export function table(columns, rows, attrs = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', attrs,
      h('thead', {}, h('tr', {}, columns.map((c) =>
        h('th', { class: [c.num ? 'num' : '', c.narrow ? 'hide-narrow' : ''].join(' ').trim() || null, scope: 'col' }, c.label)))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell, i) =>
        h('td', { class: [columns[i]?.num ? 'num' : '', columns[i]?.narrow ? 'hide-narrow' : ''].join(' ').trim() || null }, cell)))))));
}

/** A coloured badge: kind is ok, warn, bad or muted. */
export function badge(kind, text, title) {
  return h('span', { class: `badge ${kind}`, title }, text);
}

/** `0x1234…abcd` for a long hex id. */
export function short(hex) {
  return hex && hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex;
}

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function ago(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** A time as the browser's locale writes it, with seconds. */
export function when(ms) {
  return ms ? new Date(ms).toLocaleString(undefined, { hour12: false }) : '—';
}

/** A number with thousands separators. */
export function count(n) {
  return n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US');
}

/** A chain value in thousandths as the decimal it stands for. */
export function decimal(thousandths) {
  return Number(thousandths) / 1000;
}
