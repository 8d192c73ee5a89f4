/**
 * What consumers outside the node reducer see of it: the per-flow UDP runner's view of who holds
 * a moving bucket (from the cluster view, cluster/cluster-view.ts), and the healthy peers count.
 * Pure functions of the state and the time.
 */
import type { ClusterView } from '../cluster/cluster-view.js';
import type { BucketPhase } from '../model/phases.js';
import { inPhase } from '../takeover/handover.js';
import type { TakeoverState } from '../takeover/ownership-reducer.js';
import type { FlowView } from '../takeover/udp-flow-handover.js';
import type { NodeState } from './node-reducer.js';

/** Our moving buckets and the live peers holding each, for the flow runner; `release`: the drain is for health (hand flows over at once). */
export function flowViewOf(v: ClusterView, t: TakeoverState): FlowView {
  return {
    selfId: v.selfId, draining: new Set(inPhase(t.handover, 'draining')), incoming: new Set(inPhase(t.handover, 'incoming')), release: t.healthHold === true,
    holders(b) {
      const out: { id: number; phase: BucketPhase }[] = [];
      for (const p of v.announced.values()) {
        const ph = v.dead.has(p.id) ? 'none' : (p.phases?.[b] ?? 'none');
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
