/**
 * Takeover, as a pure reducer: `step(state, event, nowMs) -> { state, effects }`.
 * Turns the membership view into the buckets this node answers, lease renewals and ARP
 * announcements. The runner (takeover-runner.ts) carries the effects out.
 *
 * Which nodes are "absent" from the map in this node's view:
 *   - nodes a quorum agrees are dead (break-before-make: their lease ran out first);
 *   - peers leaving (a planned stop, make-before-break: they keep answering until every peer
 *     they hear reports them absent, so a planned stop loses nothing; the overlap is one message
 *     delay, between two live nodes that both know it).
 *   - peers draining (`vmac drain`) and, in our own view, ourselves when draining or leaving.
 * The target map is failoverMap(base, absent): monotone, so two nodes whose views differ by a
 * failure never both claim a bucket of a node neither considers alive. `base` is the balanced
 * map of the configured nodes under the weights they announce (`vmac weight`).
 *
 * Buckets whose target owner is a live node move through the connection-preserving hand-over
 * (handover.ts): the old owner keeps its established connections, the new owner takes new flows
 * once the old one granted it the bucket. A bucket nobody live holds (start, a dead owner) is
 * taken at once. A peer that comes back (restart, rejoin, join) gets its buckets back through
 * the hand-over once it renews its own lease; it takes buckets nobody holds only after every
 * live peer acknowledged it.
 */
import type { BucketMap } from '../hash/bucket-map.js';
import { balancedMap } from '../hash/bucket-map.js';
import { digestOf, newMemo, targetView, type TakeoverMemo } from './target-map.js';
import type { NodeState } from '../cluster/heartbeat-types.js';
import type { ProtocolMutation } from './mutations.js';
import { MIN_LEASE_MS, type LeaseVerdict } from '../cluster/membership.js';
import type { ClusterView } from '../cluster/cluster-view.js';
import type { BucketPhase, PhaseChange } from '../model/phases.js';
import { EMPTY_HANDOVER, peerView, stepHandover, type GrantState, type HandoverState } from './handover.js';

export type { TakeoverMemo } from './target-map.js';

export type SelfState = Extract<NodeState, 'active' | 'leaving' | 'draining'> | 'joining' | 'stopped';

export interface TakeoverParams {
  readonly nodes: readonly { readonly id: number; readonly weight: number }[]; // configured, self included
  readonly buckets: number;
  /** The old owner lets a draining bucket go after this long even with connections left. */
  readonly drainTimeoutMs: number;
  /** false: planned moves break connections (old owner drops at once); only to show what the hand-over prevents. */
  readonly graceful?: boolean;
  /** false: no conntrack port; drains end once the new owner took the bucket. */
  readonly connectionsKnown?: boolean;
  /** 0 or absent: UDP moves with new flows; else one keeper per bucket (handover.ts). */
  readonly udpFlowTimeoutMs?: number;
  /** The simulator's mutation variants only (mutations.ts); never set by a config. */
  readonly mutation?: ProtocolMutation;
  /** Per-flow UDP hand-over: drains also wait for their old UDP flows (handover.ts). */
  readonly udpPerFlow?: boolean;
}

export interface TakeoverState {
  readonly self: SelfState;
  readonly params: TakeoverParams;
  readonly base: BucketMap; // the balanced map of the configured nodes under `weights`
  readonly weights: ReadonlyMap<number, number>; // as announced (ours: `weight`)
  readonly weight: number; // ours, at run time
  readonly absent: ReadonlySet<number>;
  readonly owned: readonly number[]; // buckets in any phase but none (sorted)
  readonly handover: HandoverState;
  /**
   * Digest of the agreed map: `base` without the nodes planned out (draining, leaving), before
   * failures. It travels in our heartbeats. Two nodes with the same agreed map whose views
   * differ only by failures never both take a bucket nobody holds (afterFailure follows one
   * succession per bucket; the node skipped by one view is dead in it, its lease gone). A weight
   * change or a resume in flight breaks that (seed 6318), so a bucket nobody holds is taken only
   * while every live peer announces our digest.
   */
  readonly digest: string;
  readonly epoch: number; // +1 on every change of `absent` or `base`
  readonly leaseActive: boolean;
  readonly lastVerdict: RenewVerdict | null;
  readonly leavingSinceMs: number | null;
  /**
   * Set while the lease is not running (at start, and from the moment a renewal was refused):
   * peers may have taken our buckets meanwhile. Before renewing again, and before taking a bucket
   * nobody holds, every peer a quorum does not agree is dead must confirm it hears us in a
   * heartbeat acknowledging one of ours sent since then.
   */
  readonly reclaimFromMs: number | null;
  /** The peers dead in our own view (sorted ids), as last reported; a change sends a heartbeat at once. */
  readonly deadSeen: string;
  /**
   * The grants peers address to us (`peer:bucket`), as last seen. A change (a new grant,
   * or one withdrawn) sends a heartbeat at once: it acknowledges the grant or the revocation, so
   * a hand-over whose target moved on waits two message delays for the revocation, not also
   * for our next interval heartbeat (seed 75964: a join during a resume's hand-over kept a
   * bucket refused by every node for 120 ms against 119).
   */
  readonly grantsSeen: string;
  /**
   * Hitless restart: phases adopted from the previous process, whose kernel lease runs until
   * about then. If we have not renewed by then, the peers may take them: we forget them.
   */
  readonly adoptedUntilMs: number | null;
  /** When the lease we last wrote ends (null: none written). Past it, what we held may be taken. */
  readonly leaseUntilMs: number | null;
  /**
   * No quorum can call us dead before this (heardByQuorumUntil when we last renewed; that lease
   * was bounded by it). A lease that ran out before it (a starved daemon) was taken by nobody.
   */
  readonly safeUntilMs?: number | null;
  /**
   * Peers a quorum agrees are dead but that must be fenced before their buckets are taken
   * (fencing configured): kept in the map until the fence succeeded. Set by the runtime.
   */
  readonly holdBack?: ReadonlySet<number>;
  /**
   * The local service is not healthy (resource policy): once drained, stop renewing, so the
   * node is not counted on for anything until the service is back. Set by the runtime.
   */
  readonly healthHold?: boolean;
  /**
   * Peers whose map disagreement outlasted a dead time (map-agreement.ts: another config, not a
   * weight change in flight): logged as an error, and not waited for before taking a bucket
   * nobody holds, so one misconfigured node does not stop every failover. Set by the runtime.
   */
  readonly mapOutliers?: ReadonlySet<number>;
  /**
   * This node's config differs from its peers' and it is not the side that serves
   * (config-agreement.ts `standing`: minority or yield): never renew the lease. Set by the runtime.
   */
  readonly configHold?: boolean;
  /** Memoised target maps and digests of this node (pure functions of their keys; target-map.ts). */
  readonly memo: TakeoverMemo;
}

/** What a restarting daemon hands to its successor (through a state file). */
export interface Adoption {
  readonly phases: ReadonlyMap<number, BucketPhase>;
  readonly grants: ReadonlyMap<number, number>; // draining bucket → grantee
  readonly untilMs: number; // on the successor's clock
  /** Buckets whose UDP the predecessor kept (absent: every owned or draining bucket). */
  readonly udpKept?: ReadonlySet<number>;
}

/** Every event carries the cluster view of its instant (cluster/cluster-view.ts), computed once per decision. */
export type TakeoverEvent =
  | { readonly kind: 'tick'; readonly view: ClusterView } // membership changed or time passed
  | { readonly kind: 'renew-due'; readonly view: ClusterView }
  | { readonly kind: 'stop-requested'; readonly view: ClusterView }
  | { readonly kind: 'drain-requested'; readonly view: ClusterView; readonly drainTimeoutMs?: number }
  | { readonly kind: 'resume-requested'; readonly view: ClusterView }
  | { readonly kind: 'weight-set'; readonly view: ClusterView; readonly weight: number }
  /**
   * A conntrack reading: the buckets that still had connections at `atMs`, and (UDP flow timeout
   * on) those whose UDP the kernel saw within the flow timeout.
   */
  | { readonly kind: 'conntrack'; readonly view: ClusterView; readonly busy: ReadonlySet<number>; readonly atMs: number; readonly udpActive?: ReadonlySet<number> };

export type MoveReason = 'start' | 'takeover' | 'handover' | 'leaving' | 'lease-lost';

export type TakeoverEffect =
  | { readonly kind: 'phases'; readonly changes: readonly PhaseChange[]; readonly reason: MoveReason; readonly absent: readonly number[] }
  | { readonly kind: 'renew-lease'; readonly leaseMs: number }
  | { readonly kind: 'lease-lost'; readonly verdict: RenewVerdict }
  | { readonly kind: 'announce'; readonly reason: 'start' | 'takeover' }
  | { readonly kind: 'send-heartbeat-now' }
  | { readonly kind: 'release-lease' }
  | { readonly kind: 'exit' };

export interface Step { readonly state: TakeoverState; readonly effects: readonly TakeoverEffect[] }

/**
 * 'draining': drained for the service's health (healthHold) and holding nothing: no lease until it is healthy.
 * 'config-mismatch': our config differs from the side that serves (configHold): no lease at all.
 */
export type RenewVerdict = LeaseVerdict | 'awaiting-release' | 'draining' | 'config-mismatch';

function baseFor(params: TakeoverParams, weights: ReadonlyMap<number, number>): BucketMap {
  return balancedMap(params.nodes.map((n) => ({ id: n.id, weight: weights.get(n.id) ?? n.weight })), params.buckets);
}

/**
 * Every live peer announces the agreed map we use (the outliers aside): then no two nodes can
 * both find a bucket nobody holds to be theirs. While a weight change, drain or resume is in
 * flight, the nodes that heard it and those that did not compute different maps (seed 6318):
 * nobody takes an unheld bucket until it reached everyone (one heartbeat: a change of the
 * agreed map sends one at once).
 */
function sameAgreedMapAsPeers(digest: string, outliers: ReadonlySet<number> | undefined, v: ClusterView): boolean {
  for (const p of v.announced.values()) {
    if (v.dead.has(p.id) || outliers?.has(p.id) === true) continue;
    if (p.mapDigest !== digest) return false;
  }
  return true;
}

export function initTakeover(params: TakeoverParams, selfId: number, nowMs: number, adopt: Adoption | null = null): TakeoverState {
  const weights = new Map(params.nodes.map((n) => [n.id, n.weight]));
  const base = baseFor(params, weights);
  const memo = newMemo();
  // Draining buckets keep their grant (a new incarnation: the grantee acknowledges it anew).
  const phases = new Map([...(adopt?.phases ?? [])].filter(([b, p]) => p !== 'none' && (p !== 'draining' || adopt?.grants.has(b) === true)));
  const grants = new Map<number, GrantState>();
  const since = new Map<number, number>();
  for (const [b, p] of phases) {
    if (p !== 'draining') continue;
    grants.set(b, { to: adopt?.grants.get(b) ?? 0, seq: 0, revoked: false });
    since.set(b, nowMs);
  }
  const udpKept = new Set([...phases].filter(([b, p]) => p === 'owned' || (adopt?.udpKept ? adopt.udpKept.has(b) : p === 'draining')).map(([b]) => b));
  const handover: HandoverState = phases.size === 0 ? EMPTY_HANDOVER : { ...EMPTY_HANDOVER, phases, grants, drainSinceMs: since, udpKept };
  return {
    self: 'joining', params, base, weights, weight: weights.get(selfId) ?? 1, absent: new Set(), owned: [...phases.keys()].sort((a, b) => a - b), handover,
    digest: digestOf(memo, base), epoch: 0, leaseActive: false, lastVerdict: null, leavingSinceMs: null, reclaimFromMs: nowMs, deadSeen: '', grantsSeen: '',
    adoptedUntilMs: adopt && phases.size > 0 ? adopt.untilMs : null,
    leaseUntilMs: null, memo,
  };
}

/** Every peer not agreed dead has confirmed, since `sinceMs`, that it hears us. */
function released(v: ClusterView, sinceMs: number): boolean {
  return v.peerIds.every((id) => v.dead.has(id) || v.confirmsPresence(id, sinceMs));
}

/**
 * Nodes this node does not count on to own buckets right now: those a quorum agrees are dead,
 * peers whose latest heartbeat says they are leaving or draining, and ourselves when we are.
 * A peer that lost quorum keeps its buckets in our map until a quorum agrees it is dead: its
 * lease may still be running.
 */
export function absentInView(v: ClusterView, self: SelfState = 'active'): Set<number> {
  const out = new Set(v.dead);
  for (const p of v.announced.values()) if (p.plannedOut) out.add(p.id);
  if (self === 'draining' || self === 'leaving' || self === 'stopped') out.add(v.selfId);
  return out;
}

/** How this node describes itself in its heartbeats. */
export function wireState(self: SelfState): NodeState {
  return self === 'joining' ? 'standby' : self === 'stopped' ? 'leaving' : self;
}

function sameSet(a: ReadonlySet<number>, b: ReadonlySet<number>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** The owners of every bucket in this node's current view. */
export function targetMap(s: TakeoverState): BucketMap {
  return targetView(s, s.absent).map;
}

/**
 * Weights as announced by the peers we hear; the configured weight for a peer we do not hear
 * (never, or no longer): what a dead node last announced may have reached only some of us, and
 * every survivor must compute the same map.
 */
function announcedWeights(s: TakeoverState, v: ClusterView): ReadonlyMap<number, number> {
  const weightOf = (n: { readonly id: number; readonly weight: number }): number => {
    if (n.id === v.selfId) return s.weight;
    return v.heard.has(n.id) ? (v.announced.get(n.id)?.weight ?? n.weight) : n.weight;
  };
  // Called on every event: the map we have is kept (same object) unless a weight changed.
  let same = s.weights.size === s.params.nodes.length;
  for (let i = 0; same && i < s.params.nodes.length; i++) {
    const n = s.params.nodes[i] as TakeoverParams['nodes'][number];
    same = s.weights.get(n.id) === weightOf(n);
  }
  return same ? s.weights : new Map(s.params.nodes.map((n) => [n.id, weightOf(n)]));
}

function reasonFor(changes: readonly PhaseChange[], prevAbsent: ReadonlySet<number>, absent: ReadonlySet<number>, self: SelfState): MoveReason {
  if (self === 'joining') return 'start';
  if (self === 'leaving') return 'leaving';
  const newlyAbsent = [...absent].some((id) => !prevAbsent.has(id));
  return newlyAbsent && changes.some((c) => c.from === 'none' && c.to === 'owned') ? 'takeover' : 'handover';
}

/** The digest of the agreed map: the view without the nodes only failures took out. */
function agreedDigest(s: TakeoverState, absent: ReadonlySet<number>, dead: ReadonlySet<number>): string {
  let planned: Set<number> | null = null;
  for (const id of absent) if (!dead.has(id)) (planned ??= new Set()).add(id);
  return digestOf(s.memo, planned === null ? s.base : targetView(s, planned).map);
}

function withBase(s: TakeoverState, weights: ReadonlyMap<number, number>): TakeoverState {
  return { ...s, weights, base: baseFor(s.params, weights) };
}

function sortedOwned(h: HandoverState): readonly number[] {
  return [...h.phases.keys()].sort((a, b) => a - b);
}

function recompute(s0: TakeoverState, v: ClusterView, nowMs: number): Step {
  const weights = announcedWeights(s0, v);
  const s = weights === s0.weights ? s0 : withBase(s0, weights);
  const absent = absentInView(v, s.self);
  if (s.holdBack) for (const id of s.holdBack) if (id !== v.selfId) absent.delete(id);
  const view = targetView(s, absent);
  const dead = v.dead;
  // Buckets are taken (unheld, or granted) only while our lease runs: whatever we hold when it
  // stops is forgotten (onRenewDue), so a lease that comes back never covers stale phases.
  const mayTakeUnheld = s.self !== 'stopped' && s.leaseActive && s.reclaimFromMs === null;
  const digest = agreedDigest(s, absent, dead);
  const mut = s.params.mutation;
  const mayTakeOrphans = mut === 'never-take-orphans' ? false : mayTakeUnheld && (mut === 'skip-agreed-map-check' || sameAgreedMapAsPeers(digest, s.mapOutliers, v));
  const h = stepHandover(s.handover, view.map, peerView(v, mayTakeUnheld, mayTakeOrphans), { drainTimeoutMs: s.params.drainTimeoutMs, graceful: s.params.graceful !== false, connectionsKnown: s.params.connectionsKnown !== false, udpFlowTimeoutMs: s.params.udpFlowTimeoutMs ?? 0, udpPerFlow: s.params.udpPerFlow === true, inService: s.self === 'active', ...(mut ? { mutation: mut } : {}) }, nowMs);
  // (The agreed map also changes when a peer planned out is then agreed dead.)
  const changedView = !sameSet(absent, s.absent) || s.base !== s0.base || digest !== s.digest;
  const deadSeen = v.deadInOwnView;
  const grantsSeen = v.grantsToSelf;
  const news = deadSeen !== s.deadSeen || grantsSeen !== s.grantsSeen;
  if (h.changes.length === 0 && h.state === s.handover && !changedView) {
    return !news ? { state: s, effects: [] } : { state: { ...s, deadSeen, grantsSeen }, effects: [{ kind: 'send-heartbeat-now' }] };
  }
  const reason = reasonFor(h.changes, s.absent, absent, s.self);
  const state: TakeoverState = {
    ...s, absent, handover: h.state, owned: h.changes.length > 0 ? sortedOwned(h.state) : s.owned, deadSeen, grantsSeen,
    digest, epoch: changedView ? s.epoch + 1 : s.epoch,
  };
  const effects: TakeoverEffect[] = [];
  if (h.changes.length > 0) effects.push({ kind: 'phases', changes: h.changes, reason, absent: [...absent].sort((a, b) => a - b) });
  if (reason === 'takeover' && s.leaseActive) effects.push({ kind: 'announce', reason: 'takeover' });
  // Peers wait for our phase changes and grants: tell them at once.
  if (changedView || news || h.changes.length > 0 || h.state.grants !== s.handover.grants) effects.push({ kind: 'send-heartbeat-now' });
  return { state, effects };
}

function forgetAll(s: TakeoverState, effects: TakeoverEffect[]): TakeoverState {
  if (s.handover.phases.size === 0) return { ...s, adoptedUntilMs: null };
  const changes: PhaseChange[] = [...s.handover.phases].map(([bucket, from]) => ({ bucket, from, to: 'none' as const }));
  effects.push({ kind: 'phases', changes, reason: 'lease-lost', absent: [...s.absent].sort((a, b) => a - b) });
  return { ...s, handover: { ...EMPTY_HANDOVER, busy: s.handover.busy, busyAtMs: s.handover.busyAtMs, udpBusy: s.handover.udpBusy }, owned: [], adoptedUntilMs: null };
}

/** Mutation `lease-past-quorum-proof`: the whole lease whenever a quorum is heard, whatever it last heard of us. */
function fullLeaseWhileQuorum(v: ClusterView): ReturnType<ClusterView['leaseGrant']> {
  return v.hasQuorum() ? { verdict: 'renew', leaseMs: v.leaseMs } : v.leaseGrant();
}

function onRenewDue(s0: TakeoverState, v: ClusterView, nowMs: number): Step {
  if (s0.self === 'stopped') return { state: s0, effects: [] };
  const pre: TakeoverEffect[] = [];
  // Adopted phases whose inherited lease ran out (minus the margin) may have been taken: forget them.
  const s1 = s0.adoptedUntilMs !== null && nowMs >= s0.adoptedUntilMs - v.marginMs ? forgetAll(s0, pre) : s0;
  // Our own lease ran out (the kernel expires up to MIN_LEASE_MS early) before we renewed it:
  // peers may have taken what we held — unless the proofs our last renewal relied on show that no
  // quorum can have called us dead yet (a daemon starved for a little longer than the lease):
  // then nobody took anything (peers take only from nodes agreed dead), and forgetting would
  // break the connections of the buckets we drain (the new owner would take them outright and
  // answer their packets with resets). Otherwise forget it before any renewal covers it again.
  const lapsed = s1.leaseUntilMs !== null && nowMs >= s1.leaseUntilMs - MIN_LEASE_MS;
  const notDeadYet = s1.safeUntilMs != null && nowMs < s1.safeUntilMs - v.marginMs;
  const s = lapsed && !notDeadYet ? { ...forgetAll(s1, pre), leaseUntilMs: null } : s1;
  const grant = s.params.mutation === 'lease-past-quorum-proof' ? fullLeaseWhileQuorum(v) : v.leaseGrant();
  // Drained for the service's health (not an operator's drain): no lease until it is healthy.
  const drained = s.healthHold === true && s.self === 'draining' && s.handover.phases.size === 0;
  const verdict: RenewVerdict = s.configHold === true ? 'config-mismatch' : drained ? 'draining' : grant.verdict === 'renew' && s.reclaimFromMs !== null && !released(v, s.reclaimFromMs) ? 'awaiting-release' : grant.verdict;
  if (verdict === 'renew') {
    // A lease shorter than leaseMs when proofs are getting old: never past the moment a quorum
    // could call us dead. Between two positive grants no peer can have taken our buckets.
    const effects: TakeoverEffect[] = [{ kind: 'renew-lease', leaseMs: grant.leaseMs }];
    let self = s.self;
    if (self === 'joining') {
      self = 'active';
      effects.push({ kind: 'announce', reason: 'start' }, { kind: 'send-heartbeat-now' });
    }
    return { state: { ...s, self, leaseActive: true, lastVerdict: verdict, reclaimFromMs: null, adoptedUntilMs: null, leaseUntilMs: nowMs + grant.leaseMs, safeUntilMs: v.heardByQuorumUntil() }, effects: [...pre, ...effects] };
  }
  // No renewal: the kernel lease runs out by itself within leaseMs. Report it once; from now on
  // peers may take our buckets, so they must release them before we renew again.
  const effects: TakeoverEffect[] = [...pre, ...(s.leaseActive ? [{ kind: 'lease-lost', verdict } as const, { kind: 'send-heartbeat-now' } as const] : [])];
  // What we hold stays ours until the lease written last runs out (checked above on the next
  // renewal tick); a refusal alone does not stop the kernel from answering.
  const next = s;
  return { state: { ...next, leaseActive: false, lastVerdict: verdict, reclaimFromMs: s.reclaimFromMs ?? nowMs }, effects };
}

/** A leaving node is done once it holds nothing, when it hears no peer, or after the drain timeout plus a dead time. */
function leavingDone(s: TakeoverState, v: ClusterView, nowMs: number): boolean {
  // No peer heard: nobody to hand over to, nothing to wait for (a lone node, or the last one).
  return s.handover.phases.size === 0 || v.heard.size === 0 || (s.leavingSinceMs !== null && nowMs - s.leavingSinceMs >= s.params.drainTimeoutMs + v.deadMs);
}

function then(first: Step, next: (s: TakeoverState) => Step): Step {
  const r = next(first.state);
  return { state: r.state, effects: [...first.effects, ...r.effects] };
}

export function step(s: TakeoverState, e: TakeoverEvent, nowMs: number): Step {
  switch (e.kind) {
    case 'tick': {
      const r = recompute(s, e.view, nowMs);
      if (r.state.self === 'leaving' && leavingDone(r.state, e.view, nowMs)) {
        const all: PhaseChange[] = [...r.state.handover.phases].map(([bucket, from]) => ({ bucket, from, to: 'none' as const }));
        const effects: TakeoverEffect[] = [...r.effects, { kind: 'release-lease' }];
        if (all.length > 0) effects.push({ kind: 'phases', changes: all, reason: 'leaving', absent: [...r.state.absent] });
        effects.push({ kind: 'send-heartbeat-now' }, { kind: 'exit' });
        return { state: { ...r.state, self: 'stopped', owned: [], handover: EMPTY_HANDOVER, leaseActive: false }, effects };
      }
      return r;
    }
    case 'renew-due':
      // The phases are brought up to date before the lease is extended over them.
      // ... and once the lease runs, what we may take is taken at once.
      return then(then(recompute(s, e.view, nowMs), (x) => onRenewDue(x, e.view, nowMs)), (x) => (x.leaseActive && !s.leaseActive ? recompute(x, e.view, nowMs) : { state: x, effects: [] }));
    case 'conntrack':
      return recompute({ ...s, handover: { ...s.handover, busy: e.busy, busyAtMs: e.atMs, udpBusy: e.udpActive ?? EMPTY_HANDOVER.udpBusy } }, e.view, nowMs);
    case 'stop-requested':
      if (s.self === 'leaving' || s.self === 'stopped') return { state: s, effects: [] };
      return then({ state: { ...s, self: 'leaving', leavingSinceMs: nowMs }, effects: [{ kind: 'send-heartbeat-now' }] }, (x) => recompute(x, e.view, nowMs));
    case 'drain-requested':
      if (s.self !== 'active' && s.self !== 'joining') return { state: s, effects: [] };
      return then({ state: { ...s, self: 'draining', params: e.drainTimeoutMs === undefined ? s.params : { ...s.params, drainTimeoutMs: e.drainTimeoutMs } }, effects: [{ kind: 'send-heartbeat-now' }] }, (x) => recompute(x, e.view, nowMs));
    case 'resume-requested':
      if (s.self !== 'draining') return { state: s, effects: [] };
      return then({ state: { ...s, self: s.leaseActive ? 'active' : 'joining' }, effects: [{ kind: 'send-heartbeat-now' }] }, (x) => recompute(x, e.view, nowMs));
    case 'weight-set':
      if (e.weight === s.weight) return { state: s, effects: [] };
      return then({ state: { ...s, weight: e.weight }, effects: [{ kind: 'send-heartbeat-now' }] }, (x) => recompute(x, e.view, nowMs));
  }
}
