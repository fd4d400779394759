// The chain as the dashboard sees it, through Polkadot.js: finalized heads, and the events of
// finalized blocks that an operator watches (alerts, gaps, refused anchors, grants and
// revocations), scanned back from the finalized head to a horizon and followed live.

import { ApiPromise, WsProvider } from '@polkadot/api';

/** The events the feed keeps, by `section.method`, with the kind the page colours them by. */
const KEPT = {
  'telemetry.AlertRaised': 'alert',
  'telemetry.SequenceGap': 'gap',
  'telemetry.AnchorRejected': 'rejected',
  'telemetry.AlertRuleSet': 'rule',
  'telemetry.AlertRuleCleared': 'rule',
  'accessControl.Granted': 'access',
  'accessControl.Revoked': 'access',
  'accessControl.StaleGrantRemoved': 'access',
  'accessControl.KeySealed': 'access',
  'accessControl.KeyEpochStarted': 'access',
  'accessControl.SealedKeyRemoved': 'access',
  'accessControl.DeviceAddedToGroup': 'access',
  'accessControl.DeviceRemovedFromGroup': 'access',
};

/** Blocks scanned back from the finalized head when the page opens. A node that is not an
 * archive keeps the state (and so the events) of its last 256 blocks only. */
export const DEFAULT_HORIZON = 240;

/** The device an event is about, as 0x-hex, if it names one. */
export function eventDevice(fields) {
  if (typeof fields.device === 'string') return fields.device;
  if (fields.scope && typeof fields.scope.device === 'string') return fields.scope.device;
  return null;
}

export class Chain {
  constructor(url) {
    this.url = url;
    this.api = null;
    this.finalized = 0;
    /** Kept events, newest first: { block, hash, index, kind, name, fields, time }. */
    this.events = [];
    /** The lowest block scanned, and whether scanning back stopped (pruned state). */
    this.scannedFrom = null;
    this.scannedTo = 0;
    this.backStopped = null;
    this.listeners = new Set();
    this.status = 'connecting';
  }

  /** Calls `listener(reason)` when something changed: `status`, `head`, `events`. */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(reason) {
    for (const listener of this.listeners) {
      try { listener(reason); } catch (e) { console.warn('a listener failed', e); }
    }
  }

  async connect() {
    const provider = new WsProvider(this.url, 2_000);
    provider.on('disconnected', () => { this.status = 'disconnected'; this.emit('status'); });
    provider.on('connected', () => { this.status = 'connected'; this.emit('status'); });
    this.api = await ApiPromise.create({ provider, noInitWarn: true });
    this.status = 'connected';
    this.finalizedHash = await this.api.rpc.chain.getFinalizedHead();
    const header = await this.api.rpc.chain.getHeader(this.finalizedHash);
    this.finalized = header.number.toNumber();
    this.scannedTo = this.finalized;
    this.scannedFrom = this.finalized + 1;
    this.emit('head');
    await this.api.rpc.chain.subscribeFinalizedHeads((head) => this.onFinalized(head.number.toNumber(), head.hash));
  }

  /** The chain's state at the finalized head: what every view shows, so that what the chain
   * says and what the gateway calls final agree. */
  atFinalized() {
    return this.api.at(this.finalizedHash);
  }

  async onFinalized(number, hash) {
    if (number <= this.finalized) return;
    this.finalized = number;
    this.finalizedHash = hash;
    // Finalized heads may jump: every block in between is final too.
    const from = this.scannedTo + 1;
    this.scannedTo = number;
    for (let n = from; n <= number; n += 1) {
      try {
        const found = await this.eventsOf(n);
        this.events.unshift(...found.reverse());
      } catch (e) {
        console.warn(`cannot read the events of block #${n}: ${e.message}`);
      }
    }
    this.emit('head');
    this.emit('events');
  }

  /** Scans `blocks` more blocks back, reporting progress; stops where the node has no state. */
  async scanBack(blocks = DEFAULT_HORIZON, progress = () => {}) {
    const lowest = Math.max(1, this.scannedFrom - blocks);
    const found = [];
    for (let n = this.scannedFrom - 1; n >= lowest; n -= 1) {
      try {
        found.push(...await this.eventsOf(n));
      } catch (e) {
        this.backStopped = `the node keeps no state before block #${n + 1} (${e.message}); an archive node (--state-pruning archive) serves older history`;
        break;
      }
      this.scannedFrom = n;
      if ((this.scannedFrom - lowest) % 20 === 0) progress(this.scannedFrom, lowest);
    }
    // Scanned newest first: they go after everything newer.
    this.events.push(...found);
    this.emit('events');
  }

  /** The kept events of block `n`, the last first. */
  async eventsOf(n) {
    const hash = await this.api.rpc.chain.getBlockHash(n);
    const at = await this.api.at(hash);
    const records = await at.query.system.events();
    const kept = [];
    records.forEach((record, index) => {
      const { section, method, data } = record.event;
      const name = `${section}.${method}`;
      const kind = KEPT[name];
      if (!kind) return;
      const names = data.names || [];
      const values = data.toJSON();
      const fields = {};
      names.forEach((field, i) => { fields[snakeName(field)] = snake(values[i]); });
      kept.push({ block: n, hash: hash.toHex(), index, kind, name, fields });
    });
    if (kept.length) {
      const time = (await at.query.timestamp.now()).toNumber();
      for (const event of kept) event.time = time;
    }
    return kept.reverse();
  }

  /** The `telemetry.Anchored` records of block `hash`. */
  async anchoredAt(hash) {
    const at = await this.api.at(hash);
    const records = await at.query.system.events();
    return records
      .filter((r) => r.event.section === 'telemetry' && r.event.method === 'Anchored')
      .map((r) => snake(r.event.data[0].toJSON()));
  }
}

function snakeName(name) {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Polkadot.js writes struct fields in camelCase; the chain's names are snake_case. */
export function snake(value) {
  if (Array.isArray(value)) return value.map(snake);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [snakeName(k), snake(v)]));
  }
  return value;
}

/** A metric name as the chain stores it (bytes as 0x-hex, or text) as text. */
export function metricText(value) {
  if (typeof value !== 'string' || !value.startsWith('0x')) return String(value);
  const bytes = value.slice(2).match(/../g) || [];
  return new TextDecoder().decode(new Uint8Array(bytes.map((b) => parseInt(b, 16))));
}
