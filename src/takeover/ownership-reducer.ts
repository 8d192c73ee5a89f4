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
 * A peer that comes back (restart, thaw, healed partition) is present as soon as we hear it: we
 * release its buckets before acknowledging its heartbeat, and it renews its lease only after
 * every live peer acknowledged it (break-before-make: a gap of about one message delay).
 * The map is failoverMap(base, absent): monotone, so two nodes whose views differ by a failure
 * never both claim a bucket of a node neither considers alive.
 */
import type { BucketMap } from '../hash/bucket-map.js';
import { afterFailure, mapDigest, ownedBy } from '../hash/bucket-map.js';
import type { NodeState } from '../ha/heartbeat-types.js';
import { agreedDead, confirmsPresence, heardPeers, leaseGrant, peerStatus, type LeaseVerdict, type MembershipState } from '../ha/membership.js';

/**
 * draining: its service is unhealthy (resource policy): it hands its buckets over like a leaving
 * node but stays; drained: handed over, owns nothing, keeps heartbeating until healthy again
 * (then it rejoins through 'joining').
 */
export type SelfState = Extract<NodeState, 'active' | 'leaving' | 'draining'> | 'joining' | 'stopped' | 'drained';

export interface TakeoverState {
  readonly self: SelfState;
  readonly base: BucketMap; // the balanced map of the configured nodes
  readonly weights: ReadonlyMap<number, number>;
  readonly absent: ReadonlySet<number>;
  readonly owned: readonly number[];
  readonly digest: string;
  readonly epoch: number; // +1 on every change of `absent`
  readonly leaseActive: boolean;
  readonly lastVerdict: RenewVerdict | null;
  readonly leavingSinceMs: number | null;
  /**
   * Set while the lease is not running (at start, and from the moment a renewal was refused):
   * peers may have taken our buckets meanwhile. Before renewing again, every peer a quorum does
   * not agree is dead must confirm it hears us in a heartbeat acknowledging one of ours sent
   * since then — proof that it released our buckets (or, if it crashed holding them, we wait
   * until a quorum agrees it is dead, by which time its lease has run out).
   */
  readonly reclaimFromMs: number | null;
  /**
   * The peers dead in our own view (sorted ids), as last reported. When it changes we send a
   * heartbeat at once: our vote is what the other survivors wait for before they take over.
   */
  readonly deadSeen: string;
  /**
   * Peers a quorum agrees are dead but that must be fenced before their buckets are taken
   * (fencing configured): kept in the map until the fence succeeded. Set by the runtime.
   */
  readonly holdBack?: ReadonlySet<number>;
}

export type TakeoverEvent =
  | { readonly kind: 'tick'; readonly m: MembershipState } // membership changed or time passed
  | { readonly kind: 'renew-due'; readonly m: MembershipState }
  | { readonly kind: 'stop-requested'; readonly m: MembershipState }
  | { readonly kind: 'drain-requested'; readonly m: MembershipState } // the local service is unhealthy
  | { readonly kind: 'undrain-requested'; readonly m: MembershipState }; // healthy again

export type MoveReason = 'start' | 'takeover' | 'rejoin' | 'peer-joined' | 'peer-left' | 'leaving' | 'drained';

export type TakeoverEffect =
  | { readonly kind: 'move'; readonly add: readonly number[]; readonly remove: readonly number[]; readonly reason: MoveReason; readonly absent: readonly number[] }
  | { readonly kind: 'renew-lease'; readonly leaseMs: number }
  | { readonly kind: 'lease-lost'; readonly verdict: RenewVerdict }
  | { readonly kind: 'announce'; readonly reason: 'start' | 'takeover' }
  | { readonly kind: 'send-heartbeat-now' }
  | { readonly kind: 'release-lease' }
  | { readonly kind: 'exit' };

export interface Step { readonly state: TakeoverState; readonly effects: readonly TakeoverEffect[] }

export type RenewVerdict = LeaseVerdict | 'awaiting-release' | 'draining';

export function initTakeover(base: BucketMap, weights: ReadonlyMap<number, number>, nowMs: number): TakeoverState {
  return { self: 'joining', base, weights, absent: new Set(), owned: [], digest: mapDigest(base), epoch: 0, leaseActive: false, lastVerdict: null, leavingSinceMs: null, reclaimFromMs: nowMs, deadSeen: '' };
}

/** Every peer not agreed dead has confirmed, since `sinceMs`, that it hears us. */
function released(m: MembershipState, nowMs: number, sinceMs: number): boolean {
  const dead = agreedDead(m, nowMs);
  return [...m.peers.keys()].every((id) => dead.has(id) || confirmsPresence(m, id, sinceMs));
}

/**
 * Peers this node does not count on to answer right now: those a quorum agrees are dead, and
 * peers we hear that are handing over (leaving). A peer that lost quorum keeps its buckets in
 * our map until a quorum agrees it is dead: its lease may still be running.
 */
export function absentInView(m: MembershipState, nowMs: number): Set<number> {
  const out = agreedDead(m, nowMs);
  let heard: number[] | null = null; // only needed once some peer says it is leaving
  for (const p of m.peers.values()) {
    if (p.latest === null || (p.latest.type !== 'leave' && p.latest.state !== 'leaving' && p.latest.state !== 'draining')) continue;
    heard ??= heardPeers(m, nowMs);
    if (heard.includes(p.id)) out.add(p.id);
  }
  return out;
}

/** How this node describes itself in its heartbeats. */
export function wireState(self: SelfState): NodeState {
  return self === 'joining' ? 'standby' : self === 'stopped' ? 'leaving' : self === 'drained' ? 'draining' : self;
}

function sameSet(a: ReadonlySet<number>, b: ReadonlySet<number>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

const UNCHANGED: { readonly add: readonly number[]; readonly remove: readonly number[] } = { add: [], remove: [] };

function diff(from: readonly number[], to: readonly number[]): { add: readonly number[]; remove: readonly number[] } {
  const f = new Set(from);
  const t = new Set(to);
  return { add: to.filter((b) => !f.has(b)), remove: from.filter((b) => !t.has(b)) };
}

/** The map for one failed set, with what was derived from it (computed on first use). */
interface FailedView { readonly map: BucketMap; digest: string | null; readonly owned: Map<number, readonly number[]> }

/**
 * afterFailure, mapDigest and ownedBy are pure and the reducer asks them the same questions on
 * every tick (the absent set rarely changes), so their answers are memoised per (base, weights,
 * failed set). Keyed by object identity: a runtime keeps one base and one weights map for life.
 */
const views = new WeakMap<BucketMap, WeakMap<ReadonlyMap<number, number>, Map<string, FailedView>>>();
const MAX_VIEWS = 256; // distinct failed sets kept per map; beyond that the cache starts over

function failedView(s: TakeoverState, selfId: number, absent: ReadonlySet<number>): FailedView {
  let byWeights = views.get(s.base);
  if (!byWeights) views.set(s.base, (byWeights = new WeakMap<ReadonlyMap<number, number>, Map<string, FailedView>>()));
  let byFailed = byWeights.get(s.weights);
  if (!byFailed) byWeights.set(s.weights, (byFailed = new Map<string, FailedView>()));
  const failed: number[] = [];
  for (const id of absent) if (id !== selfId) failed.push(id);
  const key = failed.length === 0 ? '' : failed.length === 1 ? String(failed[0]) : failed.sort((a, b) => a - b).join(',');
  let view = byFailed.get(key);
  if (!view) {
    if (byFailed.size >= MAX_VIEWS) byFailed.clear();
    view = { map: afterFailure(s.base, new Set(failed), s.weights), digest: null, owned: new Map() };
    byFailed.set(key, view);
  }
  return view;
}

function viewDigest(v: FailedView): string {
  return (v.digest ??= mapDigest(v.map));
}

const NOTHING: readonly number[] = [];

/** The buckets this node answers given who is absent. A leaving node keeps its own until released. */
function targetOwned(s: TakeoverState, selfId: number, absent: ReadonlySet<number>): readonly number[] {
  if (s.self === 'stopped' || s.self === 'drained') return NOTHING;
  const v = failedView(s, selfId, absent);
  let owned = v.owned.get(selfId);
  if (!owned) v.owned.set(selfId, (owned = ownedBy(v.map, selfId)));
  return owned;
}

function reasonFor(prevAbsent: ReadonlySet<number>, absent: ReadonlySet<number>, added: number, self: SelfState): MoveReason {
  if (self === 'joining') return 'start';
  if ([...absent].some((id) => !prevAbsent.has(id))) return added > 0 ? 'takeover' : 'peer-left';
  return 'peer-joined';
}

function recompute(s: TakeoverState, m: MembershipState, nowMs: number): Step {
  const selfId = m.cfg.selfId;
  const absent = absentInView(m, nowMs);
  if (s.holdBack) for (const id of s.holdBack) absent.delete(id);
  const owned = targetOwned(s, selfId, absent);
  const { add, remove } = owned === s.owned ? UNCHANGED : diff(s.owned, owned);
  const changedView = !sameSet(absent, s.absent);
  const deadSeen = [...m.peers.keys()].filter((id) => peerStatus(m, id, nowMs) === 'dead').sort((a, b) => a - b).join(',');
  if (add.length === 0 && remove.length === 0 && !changedView) {
    return deadSeen === s.deadSeen ? { state: s, effects: [] } : { state: { ...s, deadSeen }, effects: [{ kind: 'send-heartbeat-now' }] };
  }
  const reason = reasonFor(s.absent, absent, add.length, s.self);
  const state: TakeoverState = { ...s, absent, owned, deadSeen, digest: viewDigest(failedView(s, selfId, absent)), epoch: changedView ? s.epoch + 1 : s.epoch };
  const effects: TakeoverEffect[] = [];
  if (add.length > 0 || remove.length > 0) effects.push({ kind: 'move', add, remove, reason, absent: [...absent].sort((a, b) => a - b) });
  if (reason === 'takeover' && add.length > 0 && s.leaseActive) effects.push({ kind: 'announce', reason: 'takeover' });
  if (changedView || deadSeen !== s.deadSeen) effects.push({ kind: 'send-heartbeat-now' });
  return { state, effects };
}

/** A leaving node lets go once every peer it hears reports it absent (they took its buckets). */
function leavingDone(m: MembershipState, nowMs: number, s: TakeoverState): boolean {
  const heard = heardPeers(m, nowMs);
  const allTook = heard.every((id) => m.peers.get(id)?.latest?.peers.find((r) => r.id === m.cfg.selfId)?.status === 'dead');
  return allTook || (s.leavingSinceMs !== null && nowMs - s.leavingSinceMs >= m.cfg.deadMs);
}

function onRenewDue(s: TakeoverState, m: MembershipState, nowMs: number): Step {
  if (s.self === 'stopped' || s.self === 'drained') return { state: s, effects: [] };
  const grant = leaseGrant(m, nowMs);
  const verdict: RenewVerdict = grant.verdict === 'renew' && s.reclaimFromMs !== null && !released(m, nowMs, s.reclaimFromMs) ? 'awaiting-release' : grant.verdict;
  if (verdict === 'renew') {
    // A lease shorter than leaseMs when proofs are getting old: never past the moment a quorum
    // could call us dead. Between two positive grants no peer can have taken our buckets.
    const effects: TakeoverEffect[] = [{ kind: 'renew-lease', leaseMs: grant.leaseMs }];
    let self = s.self;
    if (self === 'joining') {
      self = 'active';
      effects.push({ kind: 'announce', reason: 'start' }, { kind: 'send-heartbeat-now' });
    }
    return { state: { ...s, self, leaseActive: true, lastVerdict: verdict, reclaimFromMs: null }, effects };
  }
  // No renewal: the kernel lease runs out by itself within leaseMs. Report it once; from now on
  // peers may take our buckets, so they must release them before we renew again.
  const effects: TakeoverEffect[] = s.leaseActive ? [{ kind: 'lease-lost', verdict }] : [];
  return { state: { ...s, leaseActive: false, lastVerdict: verdict, reclaimFromMs: s.reclaimFromMs ?? nowMs }, effects };
}

export function step(s: TakeoverState, e: TakeoverEvent, nowMs: number): Step {
  switch (e.kind) {
    case 'tick': {
      if (s.self === 'leaving' && leavingDone(e.m, nowMs, s)) {
        return { state: { ...s, self: 'stopped', owned: [], leaseActive: false }, effects: [{ kind: 'release-lease' }, { kind: 'move', add: [], remove: s.owned, reason: 'leaving', absent: [...s.absent] }, { kind: 'exit' }] };
      }
      if (s.self === 'draining' && leavingDone(e.m, nowMs, s)) {
        // Handed over: let go of everything but stay in the cluster. Peers may now hold our
        // buckets, so a later rejoin waits for their release (reclaimFromMs).
        const effects: TakeoverEffect[] = [{ kind: 'release-lease' }, { kind: 'move', add: [], remove: s.owned, reason: 'drained', absent: [...s.absent] }, { kind: 'send-heartbeat-now' }];
        if (s.leaseActive) effects.unshift({ kind: 'lease-lost', verdict: 'draining' });
        return { state: { ...s, self: 'drained', owned: [], leaseActive: false, lastVerdict: 'draining', reclaimFromMs: nowMs }, effects };
      }
      return recompute(s, e.m, nowMs);
    }
    case 'renew-due': {
      // The owned set is brought up to date before the lease is extended over it.
      const first = recompute(s, e.m, nowMs);
      const r = onRenewDue(first.state, e.m, nowMs);
      return { state: r.state, effects: [...first.effects, ...r.effects] };
    }
    case 'stop-requested':
      if (s.self === 'leaving' || s.self === 'stopped') return { state: s, effects: [] };
      return { state: { ...s, self: 'leaving', leavingSinceMs: nowMs }, effects: [{ kind: 'send-heartbeat-now' }] };
    case 'drain-requested':
      if (s.self === 'active') return { state: { ...s, self: 'draining', leavingSinceMs: nowMs }, effects: [{ kind: 'send-heartbeat-now' }] };
      // Not serving yet: nothing to hand over.
      if (s.self === 'joining') return { state: { ...s, self: 'drained', owned: [], leaseActive: false, reclaimFromMs: s.reclaimFromMs ?? nowMs }, effects: s.owned.length > 0 ? [{ kind: 'move', add: [], remove: s.owned, reason: 'drained', absent: [...s.absent] }, { kind: 'send-heartbeat-now' }] : [{ kind: 'send-heartbeat-now' }] };
      return { state: s, effects: [] };
    case 'undrain-requested':
      if (s.self === 'drained') return { state: { ...s, self: 'joining', leavingSinceMs: null, reclaimFromMs: s.reclaimFromMs ?? nowMs }, effects: [{ kind: 'send-heartbeat-now' }] };
      if (s.self === 'draining') {
        // Some peers may have taken our buckets already: let the lease go and rejoin, waiting
        // for their release like any returning node (a short gap, never a double answer).
        const effects: TakeoverEffect[] = [{ kind: 'release-lease' }, { kind: 'send-heartbeat-now' }];
        if (s.leaseActive) effects.unshift({ kind: 'lease-lost', verdict: 'draining' });
        return { state: { ...s, self: 'joining', leavingSinceMs: null, leaseActive: false, reclaimFromMs: nowMs }, effects };
      }
      return { state: s, effects: [] };
  }
}
