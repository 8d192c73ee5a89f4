/**
 * Heartbeat wire format: the layout byte by byte, its sizes, offsets and code tables (the encoder
 * is heartbeat-codec.ts, the decoder heartbeat-decode.ts). Wire format v1; all integers big-endian.
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
import { BUCKET_PHASES } from '../model/phases.js';
import { MAC_SIZE } from './heartbeat-auth.js';
import type { NodeState, PeerStatus, WirePhase } from './heartbeat-types.js';

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
export const WIRE_PHASES: readonly WirePhase[] = BUCKET_PHASES;

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


/** Header offsets, named so the layout above can be checked against the code line by line. */
export const OFF = {
  magic: 0, version: 1, type: 2, senderId: 3, incarnation: 4, seq: 12, state: 16, flags: 17,
  weight: 18, mapEpoch: 20, mapDigest: 24, linkId: 32, peerCount: 33, reserved: 34,
} as const;
/** Offsets inside one peer report. */
export const PEER_OFF = { id: 0, status: 1, reserved: 2, incarnationHeard: 4, lastSeqHeard: 12, ageMs: 16 } as const;
export const DIGEST_SIZE = 8;
export const FLAG_HAS_QUORUM = 0x01;

/** Code ↔ name tables: the index is the wire code (types start at 1). */
export const TYPES = [undefined, 'heartbeat', 'leave'] as const;
export const STATES: readonly NodeState[] = ['active', 'draining', 'standby', 'leaving'];
export const STATUSES: readonly PeerStatus[] = ['unknown', 'alive', 'suspect', 'dead'];

export const U16_MAX = 0xffff;
export const U32_MAX = 0xffff_ffff;
export const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** Total message size for `n` peer reports, MAC included. */
export function messageSize(peerCount: number): number {
  return HEADER_SIZE + peerCount * PEER_ENTRY_SIZE + MAC_SIZE;
}
