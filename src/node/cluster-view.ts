/**
 * Views of the cluster computed from one node's state, for the consumers outside the node
 * reducer: the per-flow UDP runner's view of who holds a moving bucket. Pure functions of the
 * state and the time; the membership is queried once per view.
 */
import { agreedDead } from '../ha/membership.js';
import type { BucketPhase } from '../model/phases.js';
import { inPhase } from '../takeover/handover.js';
import type { FlowView } from '../takeover/udp-flow-handover.js';
import type { NodeState } from './node-reducer.js';

/** Our moving buckets and the live peers holding each, for the flow runner. */
export function flowViewOf(s: Pick<NodeState, 'm' | 't' | 'p'>, nowMs: number): FlowView {
  const { m, t } = s;
  const dead = agreedDead(m, nowMs);
  return {
    selfId: s.p.selfId, draining: new Set(inPhase(t.handover, 'draining')), incoming: new Set(inPhase(t.handover, 'incoming')),
    holders(b) {
      const out: { id: number; phase: BucketPhase }[] = [];
      for (const p of m.peers.values()) {
        const ph = dead.has(p.id) ? 'none' : (p.latest?.handover?.phases[b] ?? 'none');
        if (ph !== 'none') out.push({ id: p.id, phase: ph });
      }
      return out;
    },
  };
}

/** Peers heard within a dead time whose state is active: healthy owners that could take our buckets. */
export function healthyPeersOf(s: Pick<NodeState, 'm'>, deadMs: number, nowMs: number): number {
  let n = 0;
  for (const p of s.m.peers.values()) if (p.lastHeardMs !== null && nowMs - p.lastHeardMs < deadMs && p.latest?.state === 'active') n++;
  return n;
}
