/**
 * Two node lists during a rolling add or removal, pure: when a peer whose config differs from
 * ours only in the node list may still count as agreeing.
 *
 * A roll changes the files one node at a time, so for a while two versions run. They may act as
 * one cluster only while they compute the same bucket map and their quorums intersect:
 *
 *  - quorums: majorities of two node lists that differ by one node intersect (as in single-server
 *    membership changes), so at most one group can hold a quorum whatever the views;
 *  - maps: the map is the balanced map of the configured nodes under the weights in use (the
 *    announced weight of a node heard, else its configured weight), with the absent nodes'
 *    buckets moved along fixed successions (src/hash/failover.ts). A node of weight 0 owns nothing
 *    in that map and is last in every succession, so adding it to the list or removing it changes
 *    no owner (test/unit/cluster/roll-compat.test.ts checks this over random lists and absent sets),
 *    as long as some live node owns a bucket of the balanced map (otherwise the buckets go to
 *    nodes that own nothing, whose order the extra node changes).
 *
 * Hence the two compatible differences, both about exactly one node X:
 *
 *   `extra-idle`:  X is in one list only, with configured weight 0, and X is not running: we do
 *                  not hear it and the peer does not report it alive or suspect. (Add: files gain
 *                  X at weight 0, then X starts. Remove: X's files weight is 0, X stops, then the
 *                  files lose X.)
 *   `weight-zero`: X is in both lists with equal name and addresses, its configured weight is 0
 *                  in exactly one of them, and X is running and announces weight 0: we hear it and
 *                  the peer reports it alive (then both lists use the announced 0 for X).
 *                  (Remove: `vmac weight 0` on X, then the files set X's weight to 0.)
 *
 * Anything else that differs (a second node, a non-zero weight, any other field) is a mismatch as
 * before (src/cluster/config-agreement.ts). The conditions on X are re-checked on every heartbeat: once
 * X starts (or stops announcing 0) the peers of the other version become differing, and the
 * majority rule of config-agreement.ts decides who serves, as for any mismatch.
 */
import { FINGERPRINT_FIELD_COUNT, FINGERPRINT_FIELDS, nodeSlotsOf, type Fingerprint, type FieldDifference } from '../config/fingerprint.js';
import type { PeerReport } from './heartbeat-types.js';

/** How two node lists differ, from their per-node slots. */
export type NodeListDelta =
  | { readonly kind: 'other' }
  | { readonly kind: 'extra'; readonly nodeId: number; readonly zeroWeight: boolean; readonly inOurs: boolean }
  | { readonly kind: 'weight'; readonly nodeId: number; readonly zeroInOurs: boolean };

const ZERO = 0x800000;

/** The one node entry two lists differ in, or `other`. */
export function nodeListDelta(ours: Fingerprint, theirs: Fingerprint): NodeListDelta {
  const a = nodeSlotsOf(ours);
  const b = nodeSlotsOf(theirs);
  if (a.size === 0 || b.size === 0) return { kind: 'other' };
  const onlyA = [...a.keys()].filter((id) => !b.has(id));
  const onlyB = [...b.keys()].filter((id) => !a.has(id));
  const changed = [...a.keys()].filter((id) => b.has(id) && b.get(id) !== a.get(id));
  if (onlyA.length + onlyB.length + changed.length !== 1) return { kind: 'other' };
  const extra = onlyA[0] ?? onlyB[0];
  if (extra !== undefined) {
    const slot = a.get(extra) ?? b.get(extra) ?? 0;
    return { kind: 'extra', nodeId: extra, zeroWeight: (slot & ZERO) !== 0, inOurs: onlyA.length === 1 };
  }
  const id = changed[0] as number;
  const sa = a.get(id) ?? 0;
  const sb = b.get(id) ?? 0;
  // Same id, name and addresses; only the weight-zero bit differs.
  if (((sa ^ sb) >>> 0) !== ZERO) return { kind: 'other' };
  return { kind: 'weight', nodeId: id, zeroInOurs: (sa & ZERO) !== 0 };
}

/** What this node knows at the moment of the peer's heartbeat. */
export interface RollContext {
  readonly heard: ReadonlySet<number>; // peers we hear (membership), self excluded
  readonly selfId: number;
  readonly selfWeight: number; // what we announce
  readonly announced: ReadonlyMap<number, number>; // latest announced weight of each heard peer
  readonly liveOwner: boolean; // some live node owns a bucket of our balanced map
}

export type RollVerdict =
  | { readonly compatible: true; readonly why: 'extra-idle' | 'weight-zero'; readonly nodeId: number }
  | { readonly compatible: false };

const NO: RollVerdict = { compatible: false };

function reportedRunning(peers: readonly PeerReport[], id: number): boolean {
  const p = peers.find((r) => r.id === id);
  return p !== undefined && (p.status === 'alive' || p.status === 'suspect');
}

/**
 * Whether a peer whose config differs from ours in `fields` may count as agreeing (see header).
 * `senderId`, `peers`, `senderWeight`: the heartbeat's sender, its reports about its own configured
 * nodes, and the weight it announces.
 */
export function rollCompatible(
  fields: readonly FieldDifference[], ours: Fingerprint, theirs: Fingerprint | undefined,
  senderId: number, peers: readonly PeerReport[], ctx: RollContext, senderWeight?: number,
): RollVerdict {
  if (theirs === undefined || theirs.layout !== ours.layout) return NO;
  if (fields.length !== 1 || fields[0]?.field !== 'nodes') return NO;
  if (!ctx.liveOwner) return NO;
  const d = nodeListDelta(ours, theirs);
  if (d.kind === 'extra') {
    if (!d.zeroWeight || d.nodeId === ctx.selfId || d.nodeId === senderId) return NO;
    // X in our list: we would hear it. X only in theirs: we drop its heartbeats, the peer reports it.
    if (ctx.heard.has(d.nodeId) || reportedRunning(peers, d.nodeId)) return NO;
    return { compatible: true, why: 'extra-idle', nodeId: d.nodeId };
  }
  if (d.kind === 'weight') {
    const x = d.nodeId;
    // X the sender itself: this very heartbeat says its weight (membership has not heard it yet).
    const announcesZero = x === ctx.selfId ? ctx.selfWeight === 0 : x === senderId ? senderWeight === 0 : ctx.heard.has(x) && ctx.announced.get(x) === 0;
    const peerHearsX = x === senderId || reportedRunning(peers, x);
    if (!announcesZero || !peerHearsX) return NO;
    return { compatible: true, why: 'weight-zero', nodeId: x };
  }
  return NO;
}

/**
 * A hitless restart's successor may adopt its predecessor's table when the two configs are equal
 * or differ only as a roll allows (`extra` with weight 0, or `weight` of one node): the map the
 * successor computes is then the predecessor's as long as the roll's conditions hold, which its
 * runtime re-checks from its first heartbeat on.
 */
export function adoptableAcrossRoll(ours: Fingerprint, predecessor: Fingerprint): boolean {
  if (ours.digest === predecessor.digest) return true;
  if (ours.layout !== predecessor.layout) return false;
  const nodesAt = FINGERPRINT_FIELDS.findIndex((f) => f.name === 'nodes');
  for (let i = 0; i < FINGERPRINT_FIELD_COUNT; i++) if (i !== nodesAt && ours.slots[i] !== predecessor.slots[i]) return false;
  const d = nodeListDelta(ours, predecessor);
  return (d.kind === 'extra' && d.zeroWeight) || d.kind === 'weight';
}

/** The roll context from membership and takeover state (no copy of either is kept). */
export function rollContextOf(
  m: { readonly peers: ReadonlyMap<number, { readonly latest: { readonly weight: number } | null }> },
  heard: readonly number[],
  t: { readonly base: readonly number[]; readonly absent: ReadonlySet<number>; readonly weight: number },
  selfId: number,
): RollContext {
  const announced = new Map<number, number>();
  for (const id of heard) { const w = m.peers.get(id)?.latest?.weight; if (w !== undefined) announced.set(id, w); }
  return { heard: new Set(heard), selfId, selfWeight: t.weight, announced, liveOwner: t.base.some((o) => !t.absent.has(o)) };
}

/** The log line of a tolerated difference. */
export function describeRoll(peerId: number, nodeId: number, why: 'extra-idle' | 'weight-zero'): string {
  return why === 'extra-idle'
    ? `node ${peerId} runs a node list that differs from ours only by node ${nodeId} (weight 0, not running): compatible during a roll, it stays a member`
    : `node ${peerId} runs a node list that differs from ours only in node ${nodeId}'s configured weight, and node ${nodeId} announces weight 0: compatible during a roll, it stays a member`;
}
