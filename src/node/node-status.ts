/**
 * The status projection: what `vmac status`, the metrics and the dashboard show of one node,
 * computed from the node reducer's state (node-reducer.ts) and the interpreter's own tallies.
 */
import type { DropCounters } from '../cluster/heartbeat-receiver.js';
import type { PeerStatus } from '../cluster/heartbeat-types.js';
import { hasQuorum, leaseVerdict, peerStatus } from '../cluster/membership.js';
import { disagreeing } from '../cluster/map-agreement.js';
import type { FenceStatus } from '../fencing/fence-runner.js';
import type { TieBreakerState, TwoNodeVerdict } from '../cluster/quorum-policy.js';
import type { Standing } from '../cluster/config-agreement.js';
import { wireState } from '../takeover/ownership-reducer.js';
import { inPhase, wireGrants } from '../takeover/handover.js';
import type { NodeState } from './node-reducer.js';

export interface ClusterStatus {
  readonly self: { id: number; name: string; state: string; incarnation: string; servingSinceMs: number | null };
  readonly quorum: { has: boolean; lease: string; size: number };
  readonly view: { epoch: number; digest: string; absent: number[]; disagreeing: number[] };
  readonly owned: readonly number[];
  readonly nodes: { id: number; name: string; status: PeerStatus; state: string | null; lastHeardMsAgo: number | null; digest: string | null; links: (number | null)[] }[];
  /** flowMessages: datagrams on the heartbeat sockets handed to the per-flow UDP runner (its own codec judges them). */
  readonly heartbeats: { sent: number; received: DropCounters; perLinkReceived: number[]; flowMessages: number };
  readonly moves: number;
  readonly fencing?: FenceStatus;
  readonly quorumPolicy?: { policy: string; tieBreaker: TieBreakerState | null; verdict: TwoNodeVerdict | null; holdBack: number[] };
  readonly handover: { incoming: number[]; draining: number[]; grants: { bucket: number; to: number }[]; weight: number };
  /** Config agreement (config-agreement.ts): our fingerprint, our standing, the peers that differ. */
  readonly config?: { fingerprint: string; standing: Standing; differing: { id: number; digest: string; sinceMsAgo: number; serving: boolean; fields: { field: string; ours: string; theirs: string }[] }[] };
}

/** What only the interpreter knows: its I/O tallies and the other runners' status. */
export interface StatusExtras {
  readonly names: ReadonlyMap<number, string>;
  readonly sent: number;
  /** Datagrams the interpreter handed to the per-flow UDP runner. */
  readonly flowMessages: number;
  readonly moves: number;
  readonly fencing?: FenceStatus;
  /** The tie-breaker's state (absent: none configured). */
  readonly tieBreaker: TieBreakerState | null;
}

export function statusOf(s: NodeState, x: StatusExtras, now: number): ClusterStatus {
  const { p, m, t } = s;
  const self = p.selfId;
  return {
    self: { id: self, name: x.names.get(self) ?? String(self), state: wireState(t.self), incarnation: p.incarnation.toString(), servingSinceMs: s.servingSinceMs },
    quorum: { has: hasQuorum(m, now), lease: t.lastVerdict ?? leaseVerdict(m, now), size: Math.floor(p.nodes.length / 2) + 1 },
    view: { epoch: t.epoch, digest: t.digest, absent: [...t.absent].sort((a, b) => a - b), disagreeing: disagreeing(s.agreement) },
    owned: t.owned,
    nodes: p.nodes.map((n) => {
      const ps = m.peers.get(n.id);
      return {
        id: n.id, name: x.names.get(n.id) ?? String(n.id), status: peerStatus(m, n.id, now),
        state: n.id === self ? wireState(t.self) : (ps?.latest?.state ?? null),
        lastHeardMsAgo: n.id === self ? 0 : ps?.lastHeardMs == null ? null : Math.round(now - ps.lastHeardMs),
        digest: n.id === self ? t.digest : (ps?.latest?.mapDigest ?? null),
        links: (s.linkHeard.get(n.id) ?? []).map((h) => (h === null ? null : Math.round(now - h))),
      };
    }),
    heartbeats: { sent: x.sent, received: { ...s.counters }, perLinkReceived: [...s.perLinkReceived], flowMessages: x.flowMessages },
    moves: x.moves,
    ...(x.fencing ? { fencing: x.fencing } : {}),
    ...(p.quorum?.policy === 'two-node' || p.fencing ? { quorumPolicy: { policy: p.quorum?.policy ?? 'majority', tieBreaker: x.tieBreaker, verdict: s.verdict, holdBack: [...(t.holdBack ?? [])] } } : {}),
    handover: { incoming: inPhase(t.handover, 'incoming'), draining: inPhase(t.handover, 'draining'), grants: wireGrants(t.handover), weight: t.weight },
    config: { fingerprint: p.fingerprint.digest, standing: s.configStanding, differing: [...s.configPeers].map(([id, d]) => ({ id, digest: d.digest, sinceMsAgo: Math.round(now - d.sinceMs), serving: d.serving, fields: d.fields.map((f) => ({ ...f })) })) },
  };
}
