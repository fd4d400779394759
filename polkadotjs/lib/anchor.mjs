// Device-signed anchors made by Polkadot.js itself: a third implementation of the reading and
// anchor formats, beside the runtime and the Rust client.

import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsU8a } from '@polkadot/util-crypto';

/** Registers the off-chain reading type (provena_primitives::telemetry::Reading), field for field. */
export function registerReadingTypes(api) {
  api.registry.register({
    ProvenaMeasurement: { metric: 'Bytes', value: 'i64' },
    ProvenaReading: {
      device: '[u8; 32]',
      seq: 'u64',
      timestampMs: 'u64',
      values: 'Vec<ProvenaMeasurement>',
      payloadHash: 'Option<[u8; 32]>',
    },
  });
}

/** A reading's leaf: blake2-256 of "provena:leaf:v2:" ++ its SCALE encoding. Values are in thousandths. */
export function readingLeaf(api, { device, seq, timestampMs, values }) {
  const reading = api.createType('ProvenaReading', {
    device, seq, timestampMs, payloadHash: null,
    values: Object.entries(values).map(([metric, value]) => ({ metric, value })),
  });
  return blake2AsU8a(u8aConcat(stringToU8a('provena:leaf:v2:'), reading.toU8a()), 256);
}

/**
 * One reading as an anchor of one, its values public (so alert rules see them), signed by
 * `deviceKey` (a keyring pair): the device signs
 * blake2-256("provena:anchor:2" ++ genesis hash ++ SCALE(statement)). The statement commits the
 * `payload` (bytes) that travels with the anchor, if any, by its blake2-256 hash.
 * Returns { anchor, leaf }; `anchor` fits `telemetry.anchor` and batch items.
 */
export function signedReading(api, deviceKey, { device, seq, timestampMs, values, payload = null }) {
  const leaf = readingLeaf(api, { device, seq, timestampMs, values });
  const statement = {
    device, firstSeq: seq, count: 1, root: leaf,
    time: { firstMs: timestampMs, lastMs: timestampMs },
    payloadHash: payload === null ? null : u8aToHex(blake2AsU8a(payload, 256)),
    values: Object.entries(values).map(([metric, value]) => ({ seq, metric, value })),
  };
  // The statement's type comes from the call's metadata.
  const anchorType = api.tx.telemetry.anchor.meta.args[0].type.toString();
  const signature = deviceKey.type === 'ed25519' ? 'Ed25519' : 'Sr25519';
  const unsigned = api.createType(anchorType, { statement, signature: { [signature]: new Uint8Array(64) } });
  const signingHash = blake2AsU8a(
    u8aConcat(stringToU8a('provena:anchor:2'), api.genesisHash.toU8a(), unsigned.statement.toU8a()), 256);
  return { anchor: { statement, signature: { [signature]: deviceKey.sign(signingHash) } }, leaf };
}

/**
 * A device key's proof of possession for `deviceRegistry.register` and `rotateKey`: `deviceKey`
 * (a keyring pair) signs blake2-256("provena:possess:1" ++ genesis hash ++ device id ++ owner's
 * 32 account bytes), letting `owner` (an address or a keyring pair) register it as `device`
 * on this chain. Returns a MultiSignature argument.
 */
export function possessionProof(api, deviceKey, device, owner) {
  const ownerId = api.createType('AccountId32', typeof owner === 'string' ? owner : owner.address);
  const message = blake2AsU8a(u8aConcat(
    stringToU8a('provena:possess:1'), api.genesisHash.toU8a(), api.createType('[u8; 32]', device).toU8a(),
    ownerId.toU8a()), 256);
  const scheme = deviceKey.type === 'ed25519' ? 'Ed25519' : 'Sr25519';
  return { [scheme]: deviceKey.sign(message) };
}
