/**
 * What a heartbeat says, decoded and authenticated. The wire format is in heartbeat-codec.ts;
 * the membership reducer only ever sees this type.
 */
import type { BucketPhase } from '../model/phases.js';

export type NodeState = 'active' | 'draining' | 'standby' | 'leaving';
export type PeerStatus = 'unknown' | 'alive' | 'suspect' | 'dead';

/** What the sender believes about one peer (it lists every configured node but itself). */
export interface PeerReport {
  readonly id: number;
  readonly status: PeerStatus;
  /** The incarnation of that peer the sender last heard (0n: never heard). */
  readonly incarnationHeard: bigint;
  /** The highest sequence number of that incarnation the sender received. */
  readonly lastSeqHeard: number;
  /** Milliseconds since the sender last heard that peer on any link (0xffffffff: never). */
  readonly ageMs: number;
}

/** Phase of one bucket on the sender's kernel: the one phase vocabulary (model/phases.ts). */
export type WirePhase = BucketPhase;

/** The old owner of a bucket being handed over names its new owner (the only node that may take it). */
export interface Grant { readonly bucket: number; readonly to: number }

/** v2 only: the sender's per-bucket hand-over state, and an announced restart window. */
export interface HandoverSection {
  readonly phases: readonly WirePhase[]; // index = bucket, length = the cluster's bucket count
  readonly grants: readonly Grant[];
  /**
   * > 0: the sender is restarting its daemon and set its kernel lease to at most this long from
   * the send time; peers do not call it dead before they heard it last + this + their dead time.
   */
  readonly restartWindowMs: number;
}

/** v3 only: the sender's config fingerprint (src/config/fingerprint.ts). */
export interface WireFingerprint {
  readonly layout: number; // u8 ≥ 1
  readonly digest: string; // 16 hex digits (8 bytes)
  readonly slots: readonly number[]; // u32 each, 1..64
}

export interface Heartbeat {
  readonly version: 1 | 2 | 3; // 2 carries `handover`; 3 carries `handover` and `fingerprint`
  readonly type: 'heartbeat' | 'leave';
  readonly senderId: number; // 1..32
  readonly incarnation: bigint; // u64, changes on every restart (ms since the epoch at start)
  readonly seq: number; // u32, +1 per message of this incarnation, shared by all links
  readonly state: NodeState;
  readonly hasQuorum: boolean;
  readonly weight: number; // u16
  readonly mapEpoch: number; // u32
  readonly mapDigest: string; // 16 hex digits (8 bytes)
  readonly linkId: number; // u8, which heartbeat link the sender sent this copy on
  readonly peers: readonly PeerReport[]; // at most 32
  readonly handover?: HandoverSection; // present exactly when version is 2 or 3
  readonly fingerprint?: WireFingerprint; // present exactly when version is 3
}
