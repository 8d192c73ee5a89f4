/**
 * Heartbeat wire format v1: pure, byte-exact encode and decode, no I/O. All integers big-endian.
 *
 * ```
 * off  size  field
 * 0    1     magic 0x56 ('V')
 * 1    1     version = 1
 * 2    1     type: 1 heartbeat, 2 leave
 * 3    1     senderId 1..32
 * 4    8     incarnation u64 (≥ 1; 0 means "never heard" in peer reports, so it is not a valid own value)
 * 12   4     seq u32
 * 16   1     state: 0 active, 1 draining, 2 standby, 3 leaving
 * 17   1     flags: bit0 hasQuorum; other bits 0
 * 18   2     weight u16
 * 20   4     mapEpoch u32
 * 24   8     mapDigest
 * 32   1     linkId u8
 * 33   1     peerCount n (0..32)
 * 34   2     reserved, 0
 * 36   20·n  peer reports: u8 id (1..32, ≠ senderId, unique), u8 status (0..3), u16 reserved 0,
 *            u64 incarnationHeard, u32 lastSeqHeard, u32 ageMs
 * 36+20n 32  HMAC-SHA256(key, bytes[0 .. 36+20n))
 * ```
 *
 * Version 2 (hand-over) inserts a section between the peer reports and the MAC:
 *
 * ```
 * off     size      field
 * p=36+20n 2        bucketCount B (1..1024)
 * p+2     2         grantCount g (0..B)
 * p+4     4         restartWindowMs u32 (0: not restarting)
 * p+8     ceil(B/4) phases, 2 bits per bucket (0 none, 1 owned, 2 incoming, 3 draining);
 *                   bucket 0 in the two high bits of the first byte; unused low bits 0
 * p+8+⌈B/4⌉ 3·g    grants: u16 bucket (< B, ascending, unique), u8 node id (1..32)
 * then    32        HMAC-SHA256 over everything before it
 * ```
 * B and g are read before authentication, for framing only (like the peer count).
 *
 * Version 3 (config agreement) is version 2 plus a fingerprint section between the hand-over
 * section and the MAC (src/config/fingerprint.ts says what the slots hold):
 *
 * ```
 * off     size      field
 * q       1         layout (≥ 1; 1 = src/config/fingerprint.ts FINGERPRINT_FIELDS)
 * q+1     1         slot count k (1..64)
 * q+2     2         reserved, 0
 * q+4     8         config digest (over every field's full value)
 * q+12    4·k       slots u32, one per field in the layout's order
 * then    32        HMAC-SHA256 over everything before it
 * ```
 * k is read before authentication, for framing only. A layout this build does not know is
 * decoded all the same (the receiver reports the peer as differing in `fingerprint layout`).
 * Version 1 and 2 messages are still accepted; they carry no fingerprint, and the receiver
 * treats their sender as a node whose config it cannot check (config-agreement.ts).
 *
 * Decoding never throws: datagrams come from the network, and a bad one is a named outcome that
 * the daemon counts. Check order, and why:
 *  1. magic, version — they say whose protocol and which layout this is; checking them before any
 *     length rule means a future, larger v2 is counted as `bad-version`, not `oversized`.
 *  2. lengths — overall bounds, then the length the peer count declares (framing only: the peer
 *     count is the single field read before authentication, and only to find the MAC).
 *  3. MAC — constant-time; nothing else is interpreted before it passes.
 *  4. type, then field ranges (`malformed`) — only for authentic bytes, i.e. a key holder's bug.
 */
import { VmacError } from '../util/errors.js';
import { BUCKET_PHASES } from '../model/phases.js';
import { MAC_SIZE, checkMac, computeMac, type HeartbeatKey } from './heartbeat-auth.js';
import type { Grant, HandoverSection, Heartbeat, NodeState, PeerReport, PeerStatus, WireFingerprint, WirePhase } from './heartbeat-types.js';

export { MAC_SIZE } from './heartbeat-auth.js';
export const HEARTBEAT_MAGIC = 0x56;
export const HEARTBEAT_VERSION = 1;
/** The hand-over version: v1 plus the section above. Both are accepted; we send 2. */
export const HEARTBEAT_VERSION_HANDOVER = 2;
/** The config-agreement version: v2 plus the fingerprint section. Accepted with 1 and 2; we send 3. */
export const HEARTBEAT_VERSION_FINGERPRINT = 3;
export const FINGERPRINT_FIXED_SIZE = 12;
export const MAX_FINGERPRINT_SLOTS = 64;
/** Bucket count a v2 message can carry: 1024 buckets is 256 bytes of phases, below any MTU with 32 peers. */
export const MAX_WIRE_BUCKETS = 1024;
export const HANDOVER_FIXED_SIZE = 8;
export const GRANT_SIZE = 3;
export const HEADER_SIZE = 36;
export const PEER_ENTRY_SIZE = 20;
export const MAX_PEERS = 32;
export const MAX_NODE_ID = 32;
/** Smallest valid message: a header with no peers, plus the MAC (68 bytes). */
export const MIN_MESSAGE_SIZE = HEADER_SIZE + MAC_SIZE;
/** Largest valid message: 36 + 32·20 + 32 = 708 bytes, well under any link MTU. */
export const MAX_MESSAGE_SIZE = HEADER_SIZE + MAX_PEERS * PEER_ENTRY_SIZE + MAC_SIZE;
/** Largest valid v2 message: 32 peers, 1024 buckets, every one granted (4,044 bytes; IP fragments it). */
export const MAX_MESSAGE_SIZE_V2 = MAX_MESSAGE_SIZE + HANDOVER_FIXED_SIZE + MAX_WIRE_BUCKETS / 4 + MAX_WIRE_BUCKETS * GRANT_SIZE;
const WIRE_PHASES: readonly WirePhase[] = BUCKET_PHASES;

/** Largest valid v3 message: the largest v2 one plus a fingerprint of 64 slots. */
export const MAX_MESSAGE_SIZE_V3 = MAX_MESSAGE_SIZE_V2 + FINGERPRINT_FIXED_SIZE + 4 * MAX_FINGERPRINT_SLOTS;

/** Size of the v3 fingerprint section for k slots. */
export function fingerprintSize(slots: number): number {
  return FINGERPRINT_FIXED_SIZE + 4 * slots;
}

/** Size of the v2 section for B buckets and g grants. */
export function handoverSize(buckets: number, grants: number): number {
  return HANDOVER_FIXED_SIZE + Math.ceil(buckets / 4) + grants * GRANT_SIZE;
}

/** Why a datagram is not a heartbeat. Stable words: they name counters and log fields. */
export type DropReason = 'truncated' | 'oversized' | 'bad-magic' | 'bad-version' | 'bad-type' | 'bad-mac' | 'malformed';
export const DROP_REASONS: readonly DropReason[] = ['truncated', 'oversized', 'bad-magic', 'bad-version', 'bad-type', 'bad-mac', 'malformed'];

export type DecodeResult =
  | { readonly ok: true; readonly hb: Heartbeat }
  | { readonly ok: false; readonly reason: DropReason };

/** Header offsets, named so the layout above can be checked against the code line by line. */
const OFF = {
  magic: 0, version: 1, type: 2, senderId: 3, incarnation: 4, seq: 12, state: 16, flags: 17,
  weight: 18, mapEpoch: 20, mapDigest: 24, linkId: 32, peerCount: 33, reserved: 34,
} as const;
/** Offsets inside one peer report. */
const PEER_OFF = { id: 0, status: 1, reserved: 2, incarnationHeard: 4, lastSeqHeard: 12, ageMs: 16 } as const;
const DIGEST_SIZE = 8;
const FLAG_HAS_QUORUM = 0x01;

/** Code ↔ name tables: the index is the wire code (types start at 1). */
const TYPES = [undefined, 'heartbeat', 'leave'] as const;
const STATES: readonly NodeState[] = ['active', 'draining', 'standby', 'leaving'];
const STATUSES: readonly PeerStatus[] = ['unknown', 'alive', 'suspect', 'dead'];

const U16_MAX = 0xffff;
const U32_MAX = 0xffff_ffff;
const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** Total message size for `n` peer reports, MAC included. */
export function messageSize(peerCount: number): number {
  return HEADER_SIZE + peerCount * PEER_ENTRY_SIZE + MAC_SIZE;
}

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

// ---------------------------------------------------------------------------------------------
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

/** The wire format above: what every daemon sends and reads. */
export const WIRE_CODEC: HeartbeatCodec = { encode: encodeHeartbeat, decode: decodeHeartbeat };
