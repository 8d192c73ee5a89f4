/**
 * Heartbeat wire format: pure, byte-exact encode and decode, no I/O. The layout, byte by byte, is
 * documented in heartbeat-layout.ts; decoding (never throws, names its drop reason) is in
 * heartbeat-decode.ts; this module encodes, validates, and is the codec port both are used through.
 */
import { VmacError } from '../util/errors.js';
import { computeMac, type HeartbeatKey } from './heartbeat-auth.js';
import type { HandoverSection, Heartbeat, PeerReport, WireFingerprint } from './heartbeat-types.js';
import { decodeHeartbeat, type DecodeResult } from './heartbeat-decode.js';
import {
  FINGERPRINT_FIXED_SIZE, FLAG_HAS_QUORUM, GRANT_SIZE, HANDOVER_FIXED_SIZE, HEADER_SIZE, HEARTBEAT_MAGIC, HEARTBEAT_VERSION, HEARTBEAT_VERSION_FINGERPRINT, HEARTBEAT_VERSION_HANDOVER, MAC_SIZE,
  MAX_FINGERPRINT_SLOTS, MAX_NODE_ID, MAX_PEERS, MAX_WIRE_BUCKETS, OFF, PEER_ENTRY_SIZE, PEER_OFF, STATES, STATUSES, TYPES, U16_MAX, U32_MAX, U64_MAX, WIRE_PHASES,
  fingerprintSize, handoverSize, messageSize,
} from './heartbeat-layout.js';

export {
  FINGERPRINT_FIXED_SIZE, GRANT_SIZE, HANDOVER_FIXED_SIZE, HEADER_SIZE, HEARTBEAT_MAGIC, HEARTBEAT_VERSION, HEARTBEAT_VERSION_FINGERPRINT, HEARTBEAT_VERSION_HANDOVER,
  MAC_SIZE, MAX_FINGERPRINT_SLOTS, MAX_MESSAGE_SIZE, MAX_MESSAGE_SIZE_V2, MAX_MESSAGE_SIZE_V3, MAX_NODE_ID, MAX_PEERS, MAX_WIRE_BUCKETS, MIN_MESSAGE_SIZE,
  PEER_ENTRY_SIZE, fingerprintSize, handoverSize, messageSize,
} from './heartbeat-layout.js';
export { DROP_REASONS, decodeHeartbeat, type DecodeResult, type DropReason } from './heartbeat-decode.js';

/**
 * Encode and decode as a port. The daemon always uses WIRE_CODEC; the deterministic simulator may
 * hand messages over by reference instead (test/sim), where the bytes are not what is under test.
 */
export interface HeartbeatCodec {
  readonly encode: (hb: Heartbeat, key: HeartbeatKey) => Uint8Array;
  readonly decode: (bytes: Uint8Array, key: HeartbeatKey) => DecodeResult;
}

// ---------------------------------------------------------------------------------------------
// Encode

/**
 * Serialises and signs a heartbeat. Throws VMAC_HEARTBEAT_INVALID for a value the wire cannot
 * carry or a peer would reject as malformed: that is our own bug, and sending it would only make
 * every peer count `malformed`.
 */
export function encodeHeartbeat(hb: Heartbeat, key: HeartbeatKey): Uint8Array {
  validateHeartbeat(hb);
  const hoSize = hb.handover ? handoverSize(hb.handover.phases.length, hb.handover.grants.length) : 0;
  const ext = hoSize + (hb.fingerprint ? fingerprintSize(hb.fingerprint.slots.length) : 0);
  const size = messageSize(hb.peers.length) + ext;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  writeHeader(view, bytes, hb);
  hb.peers.forEach((p, i) => writePeer(view, HEADER_SIZE + i * PEER_ENTRY_SIZE, p));
  if (hb.handover) writeHandover(view, HEADER_SIZE + hb.peers.length * PEER_ENTRY_SIZE, hb.handover);
  if (hb.fingerprint) writeFingerprint(view, bytes, HEADER_SIZE + hb.peers.length * PEER_ENTRY_SIZE + hoSize, hb.fingerprint);
  const macAt = size - MAC_SIZE;
  bytes.set(computeMac(key, bytes.subarray(0, macAt)), macAt);
  return bytes;
}

function writeHeader(view: DataView, bytes: Uint8Array, hb: Heartbeat): void {
  view.setUint8(OFF.magic, HEARTBEAT_MAGIC);
  view.setUint8(OFF.version, hb.version);
  view.setUint8(OFF.type, TYPES.indexOf(hb.type));
  view.setUint8(OFF.senderId, hb.senderId);
  view.setBigUint64(OFF.incarnation, hb.incarnation);
  view.setUint32(OFF.seq, hb.seq);
  view.setUint8(OFF.state, STATES.indexOf(hb.state));
  view.setUint8(OFF.flags, hb.hasQuorum ? FLAG_HAS_QUORUM : 0);
  view.setUint16(OFF.weight, hb.weight);
  view.setUint32(OFF.mapEpoch, hb.mapEpoch);
  bytes.set(Buffer.from(hb.mapDigest, 'hex'), OFF.mapDigest);
  view.setUint8(OFF.linkId, hb.linkId);
  view.setUint8(OFF.peerCount, hb.peers.length);
  view.setUint16(OFF.reserved, 0);
}

function writePeer(view: DataView, at: number, p: PeerReport): void {
  view.setUint8(at + PEER_OFF.id, p.id);
  view.setUint8(at + PEER_OFF.status, STATUSES.indexOf(p.status));
  view.setUint16(at + PEER_OFF.reserved, 0);
  view.setBigUint64(at + PEER_OFF.incarnationHeard, p.incarnationHeard);
  view.setUint32(at + PEER_OFF.lastSeqHeard, p.lastSeqHeard);
  view.setUint32(at + PEER_OFF.ageMs, p.ageMs);
}

function writeHandover(view: DataView, at: number, h: HandoverSection): void {
  const b = h.phases.length;
  view.setUint16(at, b);
  view.setUint16(at + 2, h.grants.length);
  view.setUint32(at + 4, h.restartWindowMs);
  const phasesAt = at + HANDOVER_FIXED_SIZE;
  h.phases.forEach((p, i) => {
    const byte = phasesAt + (i >> 2);
    view.setUint8(byte, view.getUint8(byte) | (WIRE_PHASES.indexOf(p) << (6 - 2 * (i & 3))));
  });
  const grantsAt = phasesAt + Math.ceil(b / 4);
  h.grants.forEach((g, i) => {
    view.setUint16(grantsAt + i * GRANT_SIZE, g.bucket);
    view.setUint8(grantsAt + i * GRANT_SIZE + 2, g.to);
  });
}

function writeFingerprint(view: DataView, bytes: Uint8Array, at: number, f: WireFingerprint): void {
  view.setUint8(at, f.layout);
  view.setUint8(at + 1, f.slots.length);
  view.setUint16(at + 2, 0);
  bytes.set(Buffer.from(f.digest, 'hex'), at + 4);
  f.slots.forEach((v, i) => view.setUint32(at + FINGERPRINT_FIXED_SIZE + 4 * i, v));
}

function validateFingerprint(f: WireFingerprint | undefined, version: number): void {
  if (version !== HEARTBEAT_VERSION_FINGERPRINT) {
    if (f !== undefined) invalid('fingerprint (only in version 3)', 'present');
    return;
  }
  if (f === undefined) invalid('fingerprint (required in version 3)', 'absent');
  checkInt('fingerprint.layout', f.layout, 1, 0xff);
  checkInt('fingerprint.slots.length', f.slots.length, 1, MAX_FINGERPRINT_SLOTS);
  for (const v of f.slots) checkInt('fingerprint.slots[]', v, 0, U32_MAX);
  if (!/^[0-9a-f]{16}$/.test(f.digest)) invalid('fingerprint.digest (16 lowercase hex digits)', f.digest);
}

function validateHandover(h: HandoverSection | undefined, version: number): void {
  if (version === HEARTBEAT_VERSION) {
    if (h !== undefined) invalid('handover (only in versions 2 and 3)', 'present');
    return;
  }
  if (h === undefined) invalid('handover (required in versions 2 and 3)', 'absent');
  checkInt('handover.phases.length', h.phases.length, 1, MAX_WIRE_BUCKETS);
  for (const p of h.phases) if (!WIRE_PHASES.includes(p)) invalid('handover.phases[]', p);
  if (h.grants.length > h.phases.length) invalid('handover.grants.length', h.grants.length);
  let prev = -1;
  for (const g of h.grants) {
    checkInt('handover.grants[].bucket', g.bucket, prev + 1, h.phases.length - 1);
    checkInt('handover.grants[].to', g.to, 1, MAX_NODE_ID);
    prev = g.bucket;
  }
  checkInt('handover.restartWindowMs', h.restartWindowMs, 0, U32_MAX);
}

/** Enforces exactly the rules the decoder enforces, so encode → decode always round-trips. */
function validateHeartbeat(hb: Heartbeat): void {
  if (hb.version !== HEARTBEAT_VERSION && hb.version !== HEARTBEAT_VERSION_HANDOVER && hb.version !== HEARTBEAT_VERSION_FINGERPRINT) invalid('version', hb.version);
  validateHandover(hb.handover, hb.version);
  validateFingerprint(hb.fingerprint, hb.version);
  if (!TYPES.includes(hb.type)) invalid('type', hb.type);
  if (!STATES.includes(hb.state)) invalid('state', hb.state);
  checkInt('senderId', hb.senderId, 1, MAX_NODE_ID);
  checkBig('incarnation', hb.incarnation, 1n);
  checkInt('seq', hb.seq, 0, U32_MAX);
  checkInt('weight', hb.weight, 0, U16_MAX);
  checkInt('mapEpoch', hb.mapEpoch, 0, U32_MAX);
  checkInt('linkId', hb.linkId, 0, 0xff);
  if (!/^[0-9a-f]{16}$/.test(hb.mapDigest)) invalid('mapDigest (16 lowercase hex digits)', hb.mapDigest);
  if (hb.peers.length > MAX_PEERS) invalid('peers.length', hb.peers.length);
  const seen = new Set<number>();
  for (const p of hb.peers) {
    checkInt('peers[].id', p.id, 1, MAX_NODE_ID);
    if (p.id === hb.senderId || seen.has(p.id)) invalid('peers[].id (duplicate or the sender itself)', p.id);
    seen.add(p.id);
    if (!STATUSES.includes(p.status)) invalid('peers[].status', p.status);
    checkBig('peers[].incarnationHeard', p.incarnationHeard, 0n);
    checkInt('peers[].lastSeqHeard', p.lastSeqHeard, 0, U32_MAX);
    checkInt('peers[].ageMs', p.ageMs, 0, U32_MAX);
  }
}

function checkInt(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) invalid(`${field} (${min}..${max})`, value);
}

function checkBig(field: string, value: bigint, min: bigint): void {
  if (typeof value !== 'bigint' || value < min || value > U64_MAX) invalid(`${field} (u64 ≥ ${min})`, value);
}

function invalid(field: string, value: unknown): never {
  const shown = typeof value === 'bigint' ? `${value}n` : JSON.stringify(value);
  throw new VmacError('VMAC_HEARTBEAT_INVALID', `cannot encode heartbeat: bad ${field}: ${shown}`, { field, value: String(value) });
}


/** The wire format (heartbeat-layout.ts): what every daemon sends and reads. */
export const WIRE_CODEC: HeartbeatCodec = { encode: encodeHeartbeat, decode: decodeHeartbeat };
