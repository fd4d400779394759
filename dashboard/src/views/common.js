// What several views share: chain state of devices, and events as sentences.

import { metricText, snake } from '../chain.js';
import { count, decimal, h, short } from '../dom.js';

/** Registry and telemetry state of `ids` (0x-hex), by id: { registry, state } or nulls. */
export async function chainDevices(api, ids) {
  if (!ids.length) return new Map();
  const [registry, states] = await Promise.all([
    api.query.deviceRegistry.devices.multi(ids),
    api.query.telemetry.deviceStates.multi(ids),
  ]);
  return new Map(ids.map((id, i) => [id, {
    registry: registry[i].isSome ? snake(registry[i].unwrap().toJSON()) : null,
    state: states[i].isSome ? snake(states[i].unwrap().toJSON()) : null,
  }]));
}

/** The devices of `owner` (SS58 or hex) on chain, as 0x-hex. */
export async function devicesOf(api, owner) {
  const keys = await api.query.deviceRegistry.devicesByOwner.keys(owner);
  return keys.map((key) => key.args[1].toHex());
}

/** A device's alert rules: [{ metric, min, max }] with decimal bounds (null when open). */
export async function rulesOf(api, id) {
  const records = await api.query.telemetry.alertRules(id);
  return records.map((record) => {
    const { rule } = snake(record.toJSON());
    return {
      metric: metricText(rule.metric),
      min: rule.min === null ? null : decimal(rule.min),
      max: rule.max === null ? null : decimal(rule.max),
    };
  });
}

/** A rule's bounds as text: "2 to 8", "at least 2", "at most 8". */
export function bounds({ min, max }) {
  if (min !== null && max !== null) return `${min} to ${max}`;
  if (min !== null) return `at least ${min}`;
  if (max !== null) return `at most ${max}`;
  return 'any value';
}

/** Permission bits as words. */
export function permissionsText(bits) {
  const names = [];
  if (bits & 1) names.push('SUBMIT');
  if (bits & 2) names.push('READ');
  if (bits & 4) names.push('MANAGE');
  if (bits & 8) names.push('DELEGATE');
  return names.join(', ') || 'none';
}

/** An account or device link. */
export function deviceLink(id) {
  return h('a', { href: `#/device/${id}`, class: 'mono', title: id }, short(id));
}

function scopeText(scope) {
  if (!scope) return '';
  if (scope.device) return `device ${short(scope.device)}`;
  if (scope.group !== undefined) return `group ${scope.group}`;
  return JSON.stringify(scope);
}

function errorText(error) {
  if (error && error.module) {
    return `module error ${JSON.stringify(error.module)}`;
  }
  return typeof error === 'object' ? JSON.stringify(error) : String(error);
}

/** What an event says, as a sentence (parts: text and elements). */
export function describe(event, api) {
  const f = event.fields;
  switch (event.name) {
    case 'telemetry.AlertRaised': {
      const limits = bounds({ min: f.min === null ? null : decimal(f.min), max: f.max === null ? null : decimal(f.max) });
      return [`${metricText(f.metric)} = ${decimal(f.value)} at reading ${f.seq} broke its rule (${limits}) on `, deviceLink(f.device)];
    }
    case 'telemetry.SequenceGap':
      return [`readings ${f.from}–${f.to} (${count(f.to - f.from + 1)}) were never anchored for `, deviceLink(f.device)];
    case 'telemetry.AnchorRejected': {
      let reason = errorText(f.error);
      if (api && f.error && f.error.module) {
        try {
          const { section, name } = api.registry.findMetaError({
            index: api.createType('u8', f.error.module.index),
            error: api.createType('[u8; 4]', f.error.module.error),
          });
          reason = `${section}.${name}`;
        } catch { /* keep the raw error */ }
      }
      return [`the anchor from reading ${f.first_seq} was refused (${reason}) for `, deviceLink(f.device)];
    }
    case 'telemetry.AlertRuleSet':
      return [`rule set: ${metricText(f.rule.metric)} ${bounds({ min: f.rule.min === null ? null : decimal(f.rule.min), max: f.rule.max === null ? null : decimal(f.rule.max) })} on `, deviceLink(f.device)];
    case 'telemetry.AlertRuleCleared':
      return [`rule cleared: ${metricText(f.metric)} on `, deviceLink(f.device)];
    case 'accessControl.Granted':
      return [`${short(f.grantee)} was granted ${permissionsText(f.permissions)} on ${scopeText(f.scope)}${f.expires ? ` until block #${f.expires}` : ''} by ${short(f.by)}`];
    case 'accessControl.Revoked':
      return [`${short(f.grantee)} lost its grant on ${scopeText(f.scope)} (revoked by ${short(f.by)})`];
    case 'accessControl.StaleGrantRemoved':
      return [`${short(f.grantee)}'s expired grant on ${scopeText(f.scope)} was removed by ${short(f.by)}`];
    case 'accessControl.KeySealed':
      return [`the data key of epoch ${f.epoch} was sealed to ${short(f.reader)} for `, deviceLink(f.device)];
    case 'accessControl.KeyEpochStarted':
      return [`data-key epoch ${f.epoch} started (READ lost by someone) for `, deviceLink(f.device)];
    case 'accessControl.SealedKeyRemoved':
      return [`${short(f.reader)}'s sealed key was removed for `, deviceLink(f.device)];
    case 'accessControl.DeviceAddedToGroup':
      return ['joined group ', String(f.group), ': ', deviceLink(f.device)];
    case 'accessControl.DeviceRemovedFromGroup':
      return ['left group ', String(f.group), ': ', deviceLink(f.device)];
    default:
      return [event.name];
  }
}
