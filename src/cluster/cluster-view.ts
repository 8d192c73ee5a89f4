/**
 * What membership tells the rest of the node, computed once per decision: who a quorum agrees is
 * dead, who we hear, and what each peer's latest heartbeat announces (state, weight, map digest,
 * bucket phases, grants). Takeover and hand-over (src/takeover/) read this view, never the raw
 * membership state or the peers' wire heartbeats; the lease arithmetic over our own proofs of
 * being heard is offered as functions of the same instant.
 */
import type { BucketPhase } from '../model/phases.js';
import type { Grant, NodeState } from './heartbeat-types.js';
import { agreedDead, confirmsPresence, hasQuorum, heardByQuorumUntil, heardPeers, leaseGrant, peerStatus, type LeaseVerdict, type MembershipState } from './membership.js';

/** What one peer's latest heartbeat announces. */
export interface AnnouncedPeer {
  readonly id: number;
  readonly state: NodeState;
  /** A planned stop: its message type is `leave` or its state `leaving`. */
  readonly leaving: boolean;
  /** Out of the map by its own choice: leaving or draining. */
  readonly plannedOut: boolean;
  /** Its lease runs (the heartbeat's quorum flag): it can answer what we hand it. */
  readonly serving: boolean;
  readonly weight: number;
  readonly mapDigest: string;
  /** Its bucket phases (index = bucket; null: a heartbeat without a hand-over section). */
  readonly phases: readonly BucketPhase[] | null;
  readonly grants: readonly Grant[];
}

export interface ClusterView {
  readonly selfId: number;
  readonly nowMs: number;
  readonly deadMs: number;
  readonly marginMs: number;
  /** The longest lease (timing.leaseMs). */
  readonly leaseMs: number;
  /** The sequence number our next heartbeat will carry. */
  readonly nextSeq: number;
  /** Every peer, in membership order (config order). */
  readonly peerIds: readonly number[];
  /** Peers a quorum agrees are dead (their lease ran out: they hold nothing). */
  readonly dead: ReadonlySet<number>;
  /** Peers we hear (alive or suspect). */
  readonly heard: ReadonlySet<number>;
  /** The peers dead in our own view, sorted ids joined by commas (a change is news to tell). */
  readonly deadInOwnView: string;
  /** The latest heartbeat of every peer heard at least once, in membership order. */
  readonly announced: ReadonlyMap<number, AnnouncedPeer>;
  /** The grants peers' latest heartbeats address to us, as `peer:bucket` in membership order. */
  readonly grantsToSelf: string;
  /** The buckets of those grants. */
  readonly grantedToSelf: ReadonlySet<number>;
  /** `peer` acknowledged our heartbeat `seq` (or a later one) of this incarnation. */
  acked(peer: number, seq: number): boolean;
  /** `peer` confirmed, acknowledging a heartbeat of ours sent at or after `sinceMs`, that it hears us. */
  confirmsPresence(peer: number, sinceMs: number): boolean;
  /** How long our lease may be extended now (membership.ts leaseGrant). */
  leaseGrant(): { verdict: LeaseVerdict; leaseMs: number };
  hasQuorum(): boolean;
  /** Until when a quorum provably hears us. */
  heardByQuorumUntil(): number;
}

const NO_BUCKETS: ReadonlySet<number> = new Set();

export function clusterView(m: MembershipState, nowMs: number): ClusterView {
  const selfId = m.cfg.selfId;
  const announced = new Map<number, AnnouncedPeer>();
  const ownDead: number[] = [];
  let grantsToSelf = '';
  let grantedToSelf: Set<number> | null = null;
  for (const p of m.peers.values()) {
    if (peerStatus(m, p.id, nowMs) === 'dead') ownDead.push(p.id);
    const l = p.latest;
    if (l === null) continue;
    const grants = l.handover?.grants ?? [];
    for (const g of grants) {
      if (g.to !== selfId) continue;
      grantsToSelf += `${grantsToSelf === '' ? '' : ','}${p.id}:${g.bucket}`;
      (grantedToSelf ??= new Set()).add(g.bucket);
    }
    const leaving = l.type === 'leave' || l.state === 'leaving';
    announced.set(p.id, {
      id: p.id, state: l.state, leaving, plannedOut: leaving || l.state === 'draining', serving: l.hasQuorum, weight: l.weight, mapDigest: l.mapDigest,
      phases: l.handover?.phases ?? null, grants,
    });
  }
  return {
    selfId, nowMs, deadMs: m.cfg.deadMs, marginMs: m.cfg.marginMs, leaseMs: m.cfg.leaseMs, nextSeq: m.nextSeq, peerIds: [...m.peers.keys()],
    dead: agreedDead(m, nowMs), heard: new Set(heardPeers(m, nowMs)), deadInOwnView: ownDead.sort((a, b) => a - b).join(','),
    announced, grantsToSelf, grantedToSelf: grantedToSelf ?? NO_BUCKETS,
    acked(peer, seq) {
      const r = m.peers.get(peer)?.latest?.peers.find((x) => x.id === selfId);
      return r !== undefined && r.incarnationHeard === m.incarnation && r.lastSeqHeard >= seq;
    },
    confirmsPresence: (peer, sinceMs) => confirmsPresence(m, peer, sinceMs),
    leaseGrant: () => leaseGrant(m, nowMs),
    hasQuorum: () => hasQuorum(m, nowMs),
    heardByQuorumUntil: () => heardByQuorumUntil(m),
  };
}
