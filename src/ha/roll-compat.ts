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
 *    no owner (test/unit/ha/roll-compat.test.ts checks this over random lists and absent sets),
 *    as long as some live node owns a bucket of the balanced map (otherwise the buckets go to
 *    nodes that own nothing, whose order the extra node changes).
 *
 * Hence the compatible differences, all about exactly one node X:
 *
 *   `extra-idle`:  X is in one list only, with configured weight 0, and X is not running: we do
 *                  not hear it and the peer does not report it alive or suspect.
 *   `extra-zero`:  X is in one list only, with configured weight 0, and X runs announcing weight
 *                  0. The side whose list names X checks the announcement (it hears X, or X is
 *                  itself); the side whose list does not name X drops X's heartbeats (unknown
 *                  node) and relies on that check, and on its hold for an unlisted node that
 *                  serves (config-agreement.ts `unlistedHoldUntil`): an X that announces another
 *                  weight, or answers any bucket, holds it. (Add: X starts at weight 0, then the
 *                  files gain X at weight 0 one node at a time, then X gets its weight. Remove:
 *                  X's weight is 0 and the files say so, then the files lose X one node at a time
 *                  while X still runs at weight 0, then X stops. So every node of both lists runs
 *                  during the hitless restarts: the longer list's majority never waits for a node
 *                  that does not run.)
 *   `weight-zero`: X is in both lists with equal name and addresses, its configured weight is 0
 *                  in exactly one of them, and X is running and announces weight 0: we hear it and
 *                  the peer reports it alive (then both lists use the announced 0 for X).
 *                  (Remove: `vmac weight 0` on X, then the files set X's weight to 0.)
 *
 * Anything else that differs (a second node, a non-zero weight, any other field) is a mismatch as
 * before (src/ha/config-agreement.ts). The conditions on X are re-checked on every heartbeat: once
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
  /**
   * Nodes outside our list heard within a dead time announcing weight 0 and no bucket in any
   * phase, while no unlisted node holds us (config-agreement.ts unlistedHoldUntil). Absent: none.
   */
  readonly unlistedIdle?: ReadonlySet<number>;
  /** Our configured nodes: a peer granting a bucket to a node outside them is never compatible. */
  readonly listed?: ReadonlySet<number>;
}

/** Which compatible difference (see header). */
export type RollWhy = 'extra-idle' | 'extra-zero' | 'weight-zero';

export type RollVerdict =
  | { readonly compatible: true; readonly why: RollWhy; readonly nodeId: number }
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
  senderId: number, peers: readonly PeerReport[], ctx: RollContext, senderWeight?: number, grantsTo: readonly number[] = [],
): RollVerdict {
  if (theirs === undefined || theirs.layout !== ours.layout) return NO;
  // It hands a bucket to a node we do not know: its map is not ours.
  if (ctx.listed !== undefined && grantsTo.some((to) => !ctx.listed?.has(to))) return NO;
  if (fields.length !== 1 || fields[0]?.field !== 'nodes') return NO;
  if (!ctx.liveOwner) return NO;
  const d = nodeListDelta(ours, theirs);
  if (d.kind === 'extra') {
    const x = d.nodeId;
    // (X the sender: a list always names its own node, so X would be in theirs only, and its
    // heartbeats never reach this rule: they are dropped as from an unknown node.)
    if (!d.zeroWeight || x === senderId) return NO;
    if (d.inOurs) {
      // X in our list only: we hear it (or are it) when it runs, and check that it announces 0.
      const running = x === ctx.selfId || ctx.heard.has(x);
      if (!running) return { compatible: true, why: 'extra-idle', nodeId: x };
      const announcesZero = x === ctx.selfId ? ctx.selfWeight === 0 : ctx.announced.get(x) === 0;
      return announcesZero ? { compatible: true, why: 'extra-zero', nodeId: x } : NO;
    }
    // X in their list only: we drop its heartbeats (unknown node) but read what they announce.
    // Not reported running: idle. Reported running: only while we hear it ourselves at weight 0
    // answering no bucket, and no unlisted node holds us (the peer hears it too, and checks).
    if (!reportedRunning(peers, x)) return { compatible: true, why: 'extra-idle', nodeId: x };
    return ctx.unlistedIdle?.has(x) === true ? { compatible: true, why: 'extra-zero', nodeId: x } : NO;
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
  unlisted?: { readonly idleAtMs: ReadonlyMap<number, number>; readonly holding: boolean; readonly nowMs: number; readonly deadMs: number; readonly listed: ReadonlySet<number> },
): RollContext {
  const announced = new Map<number, number>();
  for (const id of heard) { const w = m.peers.get(id)?.latest?.weight; if (w !== undefined) announced.set(id, w); }
  const ctx: RollContext = { heard: new Set(heard), selfId, selfWeight: t.weight, announced, liveOwner: t.base.some((o) => !t.absent.has(o)) };
  if (unlisted === undefined) return ctx;
  const idle = new Set<number>();
  if (!unlisted.holding) for (const [id, at] of unlisted.idleAtMs) if (unlisted.nowMs - at < unlisted.deadMs) idle.add(id);
  return { ...ctx, unlistedIdle: idle, listed: unlisted.listed };
}

/**
 * The unlisted nodes last heard idle (weight 0, no bucket in any phase): `idle` true records the
 * instant, false forgets the node (it announced a weight or a bucket).
 */
export function noteUnlisted(prev: ReadonlyMap<number, number>, id: number, idle: boolean, nowMs: number): ReadonlyMap<number, number> {
  if (!idle && !prev.has(id)) return prev;
  const next = new Map(prev);
  if (idle) next.set(id, nowMs);
  else next.delete(id);
  return next;
}

/** The log line of a tolerated difference. */
export function describeRoll(peerId: number, nodeId: number, why: RollWhy): string {
  if (why === 'extra-idle') return `node ${peerId} runs a node list that differs from ours only by node ${nodeId} (weight 0, not running): compatible during a roll, it stays a member`;
  if (why === 'extra-zero') return `node ${peerId} runs a node list that differs from ours only by node ${nodeId} (weight 0, running at weight 0): compatible during a roll, it stays a member`;
  return `node ${peerId} runs a node list that differs from ours only in node ${nodeId}'s configured weight, and node ${nodeId} announces weight 0: compatible during a roll, it stays a member`;
}
