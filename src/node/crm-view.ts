/**
 * Pure projections between the daemon and the transition engine (transition.ts):
 *  - crmViewOf: the membership the engine places on, from the cluster's status (the same
 *    heartbeat liveness and quorum the bucket map uses): members are this node and the peers
 *    heard alive (or suspect, not yet dead) whose config fingerprint is ours; serving nodes hold
 *    buckets (`active`); a peer whose last heartbeat said `leaving` left on purpose (after
 *    stopping its singletons: CrmRunner.leave) and is no member from then on.
 *  - crmStatusOf: what `vmac resources` shows of the engine's state (crm_mon's view): every
 *    singleton and group member, where it should run and where it runs, the phases and failure
 *    counts each member reported, pending actions, nodes not known clean, operator constraints.
 */
import type { ClusterStatus } from './node-status.js';
import { standbyOf } from '../crm/operator.js';
import { reportOf, type CrmState, type LocalPhase } from '../crm/transition.js';

export interface CrmView {
  readonly members: readonly string[];
  readonly quorate: boolean;
  readonly serving: readonly string[];
  readonly cleanLeave: readonly string[];
}

export function crmViewOf(st: Pick<ClusterStatus, 'self' | 'quorum' | 'nodes' | 'config'>): CrmView {
  const differing = new Set((st.config?.differing ?? []).map((d) => d.id));
  const members = st.nodes.filter((n) => n.id === st.self.id || ((n.status === 'alive' || n.status === 'suspect') && n.state !== 'leaving' && !differing.has(n.id))).map((n) => n.name).sort();
  return {
    members,
    quorate: st.quorum.has,
    serving: st.nodes.filter((n) => members.includes(n.name) && n.state === 'active').map((n) => n.name).sort(),
    cleanLeave: st.nodes.filter((n) => !members.includes(n.name) && n.state === 'leaving').map((n) => n.name).sort(),
  };
}

export function sameView(a: CrmView | null, b: CrmView): boolean {
  return a !== null && JSON.stringify(a) === JSON.stringify(b);
}

const RUNNING: readonly LocalPhase[] = ['starting', 'started', 'failed', 'stopping', 'stop-failed'];
const PENDING: readonly LocalPhase[] = ['claiming', 'starting', 'stopping'];

export interface CrmResourceStatus {
  readonly name: string;
  readonly kind: 'singleton' | 'member';
  readonly group: string | null;
  /** Where the placement wants it (null: stopped), and why not placed. */
  readonly target: string | null;
  readonly stoppedBecause: string | null;
  /** Nodes where it runs (or may: starting, failed, stopping, stop-failed). */
  readonly runningOn: readonly string[];
  readonly phases: Readonly<Record<string, LocalPhase>>;
  readonly failures: Readonly<Record<string, number>>;
  readonly pending: readonly { node: string; phase: LocalPhase }[];
  readonly bannedOn: readonly string[];
}

export interface CrmStatus {
  readonly self: string;
  readonly quorate: boolean;
  readonly members: readonly string[];
  readonly standby: readonly string[];
  readonly resources: readonly CrmResourceStatus[];
  /** Nodes outside the view not known to run nothing: waiting for a fence (or the self-stop grace). */
  readonly unclean: readonly { node: string; fence: string; stopFailed: boolean }[];
  readonly fenced: readonly string[];
  readonly operator: CrmState['operator'];
}

export function crmStatusOf(s: CrmState, nowMs: number): CrmStatus {
  const self = s.cfg.self;
  const own = reportOf(s, nowMs);
  const reports = { ...Object.fromEntries(Object.entries(s.reports).filter(([n]) => s.members.includes(n))), [self]: own };
  const groupOf = (r: string): string | null => s.cfg.model.resources.find((g) => g.kind === 'group' && g.members.includes(r))?.name ?? null;
  const resources = s.order.primitives.map((r): CrmResourceStatus => {
    const phases: Record<string, LocalPhase> = {};
    const failures: Record<string, number> = {};
    const bannedOn: string[] = [];
    for (const [n, rep] of Object.entries(reports).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const p = rep.phases[r];
      if (p !== undefined && p !== 'stopped') phases[n] = p;
      const f = rep.failures[r];
      if (f !== undefined) failures[n] = f;
      if (rep.banned.includes(r)) bannedOn.push(n);
    }
    const group = groupOf(r);
    return {
      name: r, kind: group === null ? 'singleton' : 'member', group,
      target: s.quorate ? s.placement?.nodeOf[r] ?? null : null,
      stoppedBecause: !s.quorate ? 'no-quorum' : s.placement?.reason[r] ?? null,
      runningOn: Object.entries(phases).filter(([, p]) => RUNNING.includes(p)).map(([n]) => n),
      phases, failures, bannedOn,
      pending: Object.entries(phases).filter(([, p]) => PENDING.includes(p)).map(([node, phase]) => ({ node, phase })),
    };
  });
  return {
    self, quorate: s.quorate, members: [...s.members], standby: standbyOf(s.operator), resources,
    unclean: Object.entries(s.unclean).map(([node, u]) => ({ node, fence: u.fence, stopFailed: u.stopFailed })).sort((a, b) => (a.node < b.node ? -1 : 1)),
    fenced: [...s.fenced], operator: s.operator,
  };
}
