/**
 * Heartbeat decoding (the layout is in heartbeat-layout.ts): authenticates and parses one
 * datagram, never throws, and names why a datagram is not a heartbeat (a drop reason).
 */
import { checkMac, type HeartbeatKey } from './heartbeat-auth.js';
import type { Grant, HandoverSection, Heartbeat, PeerReport, WireFingerprint, WirePhase } from './heartbeat-types.js';
import {
  DIGEST_SIZE, FINGERPRINT_FIXED_SIZE, FLAG_HAS_QUORUM, GRANT_SIZE, HANDOVER_FIXED_SIZE, HEADER_SIZE, HEARTBEAT_MAGIC, HEARTBEAT_VERSION,
  HEARTBEAT_VERSION_FINGERPRINT, HEARTBEAT_VERSION_HANDOVER, MAC_SIZE, MAX_FINGERPRINT_SLOTS, MAX_MESSAGE_SIZE, MIN_MESSAGE_SIZE, MAX_MESSAGE_SIZE_V2, MAX_MESSAGE_SIZE_V3,
  MAX_NODE_ID, MAX_PEERS, MAX_WIRE_BUCKETS, OFF, PEER_ENTRY_SIZE, PEER_OFF, STATES, STATUSES, TYPES, WIRE_PHASES, fingerprintSize, handoverSize, messageSize,
} from './heartbeat-layout.js';

/** Why a datagram is not a heartbeat. Stable words: they name counters and log fields. */
export type DropReason = 'truncated' | 'oversized' | 'bad-magic' | 'bad-version' | 'bad-type' | 'bad-mac' | 'malformed';
export const DROP_REASONS: readonly DropReason[] = ['truncated', 'oversized', 'bad-magic', 'bad-version', 'bad-type', 'bad-mac', 'malformed'];

export type DecodeResult =
  | { readonly ok: true; readonly hb: Heartbeat }
  | { readonly ok: false; readonly reason: DropReason };

// Decode

/** Decodes and authenticates one datagram. Never throws, whatever the bytes. */
export function decodeHeartbeat(bytes: Uint8Array, key: HeartbeatKey): DecodeResult {
  const framing = checkFraming(bytes);
  if (framing !== undefined) return fail(framing);
  const macAt = bytes.length - MAC_SIZE;
  if (checkMac(key, bytes.subarray(0, macAt), bytes.subarray(macAt)) !== 'authentic') return fail('bad-mac');
  return parseAuthentic(new DataView(bytes.buffer, bytes.byteOffset, macAt), bytes);
}

/** Protocol identity and length rules: everything that can be judged without the key. */
function checkFraming(bytes: Uint8Array): DropReason | undefined {
  if (bytes.length >= 1 && bytes[OFF.magic] !== HEARTBEAT_MAGIC) return 'bad-magic';
  const version = bytes[OFF.version];
  if (bytes.length >= 2 && version !== HEARTBEAT_VERSION && version !== HEARTBEAT_VERSION_HANDOVER && version !== HEARTBEAT_VERSION_FINGERPRINT) return 'bad-version';
  if (bytes.length < MIN_MESSAGE_SIZE) return 'truncated';
  if (bytes.length > (version === HEARTBEAT_VERSION ? MAX_MESSAGE_SIZE : version === HEARTBEAT_VERSION_HANDOVER ? MAX_MESSAGE_SIZE_V2 : MAX_MESSAGE_SIZE_V3)) return 'oversized';
  const peerCount = bytes[OFF.peerCount] ?? 0;
  // More than 32 peers can never fit in a valid message: it declares an oversized one.
  if (peerCount > MAX_PEERS) return 'oversized';
  let declared = messageSize(peerCount);
  if (version === HEARTBEAT_VERSION_HANDOVER || version === HEARTBEAT_VERSION_FINGERPRINT) {
    const at = HEADER_SIZE + peerCount * PEER_ENTRY_SIZE;
    if (bytes.length < declared + HANDOVER_FIXED_SIZE) return 'truncated';
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const buckets = view.getUint16(at);
    const grants = view.getUint16(at + 2);
    if (buckets > MAX_WIRE_BUCKETS || grants > MAX_WIRE_BUCKETS) return 'oversized';
    declared += handoverSize(buckets, grants);
    if (version === HEARTBEAT_VERSION_FINGERPRINT) {
      const fpAt = at + handoverSize(buckets, grants);
      if (bytes.length < declared + FINGERPRINT_FIXED_SIZE) return 'truncated';
      const slots = view.getUint8(fpAt + 1);
      if (slots > MAX_FINGERPRINT_SLOTS) return 'oversized';
      declared += fingerprintSize(slots);
    }
  }
  if (bytes.length < declared) return 'truncated';
  if (bytes.length > declared) return 'oversized';
  return undefined;
}

/** Interprets authentic bytes (lengths already consistent). */
function parseAuthentic(view: DataView, bytes: Uint8Array): DecodeResult {
  const type = TYPES[view.getUint8(OFF.type)];
  if (type === undefined) return fail('bad-type');
  const senderId = view.getUint8(OFF.senderId);
  const incarnation = view.getBigUint64(OFF.incarnation);
  const state = STATES[view.getUint8(OFF.state)];
  const flags = view.getUint8(OFF.flags);
  const headerOk = validNodeId(senderId) && incarnation > 0n && state !== undefined &&
    (flags & ~FLAG_HAS_QUORUM) === 0 && view.getUint16(OFF.reserved) === 0;
  if (!headerOk) return fail('malformed');
  const peers = parsePeers(view, senderId);
  if (peers === undefined) return fail('malformed');
  const wireVersion = view.getUint8(OFF.version);
  const version = wireVersion === HEARTBEAT_VERSION_FINGERPRINT ? HEARTBEAT_VERSION_FINGERPRINT : wireVersion === HEARTBEAT_VERSION_HANDOVER ? HEARTBEAT_VERSION_HANDOVER : HEARTBEAT_VERSION;
  let handover: HandoverSection | undefined;
  let fingerprint: WireFingerprint | undefined;
  if (version !== HEARTBEAT_VERSION) {
    const at = HEADER_SIZE + peers.length * PEER_ENTRY_SIZE;
    handover = parseHandover(view, at);
    if (handover === undefined) return fail('malformed');
    if (version === HEARTBEAT_VERSION_FINGERPRINT) {
      fingerprint = parseFingerprint(view, bytes, at + handoverSize(handover.phases.length, handover.grants.length));
      if (fingerprint === undefined) return fail('malformed');
    }
  }
  const hb: Heartbeat = {
    version, type, senderId, incarnation,
    seq: view.getUint32(OFF.seq),
    state,
    hasQuorum: (flags & FLAG_HAS_QUORUM) !== 0,
    weight: view.getUint16(OFF.weight),
    mapEpoch: view.getUint32(OFF.mapEpoch),
    mapDigest: Buffer.from(bytes.buffer, bytes.byteOffset + OFF.mapDigest, DIGEST_SIZE).toString('hex'),
    linkId: view.getUint8(OFF.linkId),
    peers,
    ...(handover ? { handover } : {}),
    ...(fingerprint ? { fingerprint } : {}),
  };
  return { ok: true, hb };
}

/** The v3 fingerprint section (length already framed), or undefined if a field is out of range. */
function parseFingerprint(view: DataView, bytes: Uint8Array, at: number): WireFingerprint | undefined {
  const layout = view.getUint8(at);
  const count = view.getUint8(at + 1);
  if (layout < 1 || count < 1 || view.getUint16(at + 2) !== 0) return undefined;
  const digest = Buffer.from(bytes.buffer, bytes.byteOffset + at + 4, DIGEST_SIZE).toString('hex');
  const slots: number[] = [];
  for (let i = 0; i < count; i++) slots.push(view.getUint32(at + FINGERPRINT_FIXED_SIZE + 4 * i));
  return { layout, digest, slots };
}

/** The v2 section (lengths already framed), or undefined if any field is out of range. */
function parseHandover(view: DataView, at: number): HandoverSection | undefined {
  const buckets = view.getUint16(at);
  const count = view.getUint16(at + 2);
  if (buckets < 1 || count > buckets) return undefined;
  const phasesAt = at + HANDOVER_FIXED_SIZE;
  const phases: WirePhase[] = [];
  for (let i = 0; i < buckets; i++) phases.push(WIRE_PHASES[(view.getUint8(phasesAt + (i >> 2)) >> (6 - 2 * (i & 3))) & 3] as WirePhase);
  const padBits = (4 - (buckets & 3)) & 3;
  if (padBits > 0 && (view.getUint8(phasesAt + (buckets >> 2)) & ((1 << (2 * padBits)) - 1)) !== 0) return undefined;
  const grantsAt = phasesAt + Math.ceil(buckets / 4);
  const grants: Grant[] = [];
  let prev = -1;
  for (let i = 0; i < count; i++) {
    const bucket = view.getUint16(grantsAt + i * GRANT_SIZE);
    const to = view.getUint8(grantsAt + i * GRANT_SIZE + 2);
    if (bucket <= prev || bucket >= buckets || !validNodeId(to)) return undefined;
    prev = bucket;
    grants.push({ bucket, to });
  }
  return { phases, grants, restartWindowMs: view.getUint32(at + 4) };
}

/** The peer reports, or undefined if any is out of range, repeated, or about the sender itself. */
function parsePeers(view: DataView, senderId: number): PeerReport[] | undefined {
  const count = view.getUint8(OFF.peerCount);
  const peers: PeerReport[] = [];
  const seen = new Set<number>([senderId]);
  for (let i = 0; i < count; i++) {
    const at = HEADER_SIZE + i * PEER_ENTRY_SIZE;
    const id = view.getUint8(at + PEER_OFF.id);
    const status = STATUSES[view.getUint8(at + PEER_OFF.status)];
    if (!validNodeId(id) || seen.has(id) || status === undefined || view.getUint16(at + PEER_OFF.reserved) !== 0) return undefined;
    seen.add(id);
    peers.push({
      id, status,
      incarnationHeard: view.getBigUint64(at + PEER_OFF.incarnationHeard),
      lastSeqHeard: view.getUint32(at + PEER_OFF.lastSeqHeard),
      ageMs: view.getUint32(at + PEER_OFF.ageMs),
    });
  }
  return peers;
}

function validNodeId(id: number): boolean {
  return id >= 1 && id <= MAX_NODE_ID;
}

function fail(reason: DropReason): DecodeResult {
  return { ok: false, reason };
}
