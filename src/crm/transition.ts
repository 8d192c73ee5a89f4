/**
 * The transition engine of one node, a pure reducer: step(state, event, nowMs) → {state, effects}.
 *
 * There is no designated coordinator: every quorate member computes the same placement (policy.ts)
 * from the same shared inputs (the agreed view, and each member's report of its own resources and
 * failure counts), and carries out its own part of it:
 *  - it stops what should not run here — after what starts after it has stopped (reverse order);
 *  - it starts what should run here only when (a) every other node is known not to run it: a
 *    member that reports it stopped, or a node outside the view that is known clean (fenced; or,
 *    without fencing, silent for longer than the self-stop grace), and (b) everything it starts
 *    after is started where the placement wants it;
 *  - a node without quorum starts nothing and stops every singleton it runs (dependents first);
 *  - a failed stop bans the resource there, is reported, and every quorate peer asks for that node
 *    to be fenced; until a fence succeeds the resource is started nowhere else (a failed fence
 *    changes nothing); without fencing configured such a node is never assumed clean.
 */
import type { CrmModel } from './model.js';
import { orderingOf, type Ordering } from './ordering.js';
import { place, type Placement } from './policy.js';
import { INFINITY } from './score.js';

/** `claiming`: this node asked its peers for the right to start it (nothing runs yet). */
export type LocalPhase = 'stopped' | 'claiming' | 'starting' | 'started' | 'failed' | 'stopping' | 'stop-failed';

/** What a node says about itself, carried to its peers with its heartbeats (the wire format is part of the runtime wiring, not built yet). */
export interface NodeReport {
  readonly epoch: number; // the sender's start time: a restarted node's reports supersede its old ones
  readonly seq: number; // per epoch, increasing; an older report is ignored
  readonly phases: Readonly<Record<string, LocalPhase>>; // absent: stopped
  readonly claims: Readonly<Record<string, string>>; // resource → this node's claim id (phase claiming)
  readonly acks: Readonly<Record<string, string>>; // resource → the claim id this node grants (it runs it not, and will not)
  readonly operator: OperatorScores; // the newest operator constraints this node knows (shared like the config)
  readonly failures: Readonly<Record<string, number>>; // unexpired failure counts on this node
  readonly banned: readonly string[]; // resources whose start or stop failed here
}

export interface EngineConfig {
  readonly self: string;
  readonly nodes: readonly string[]; // every configured node
  readonly model: CrmModel;
  readonly fencing: boolean; // a fence agent is configured
  /** Without fencing: how long a node outside the view must be silent before it is assumed to have stopped its singletons (dead time + its stop timeout + margin). */
  readonly selfStopGraceMs: number;
  readonly fenceRetryMs: number;
  /**
   * Startup fencing waits this long for a node not seen since this node started (Pacemaker's
   * dc-deadtime): nodes of a cluster that boots together come up seconds apart. Absent: 0.
   */
  readonly startupFenceDelayMs?: number;
  /** The simulator's deliberate faults only (test/crm/crm-sim.ts); no config sets one. */
  readonly mutation?: CrmMutation;
}

/**
 * Deliberate faults for the simulator's broken variants: each removes one rule safety rests on.
 *   start-without-stop-proof  start as soon as the placement says so, without proof it runs nowhere else
 *   ignore-order              start without waiting for what it starts after
 */
export const CRM_MUTATIONS = ['start-without-stop-proof', 'ignore-order'] as const;
export type CrmMutation = (typeof CRM_MUTATIONS)[number];

interface Unclean {
  readonly sinceMs: number;
  readonly fence: 'none' | 'requested' | 'failed';
  readonly lastRequestMs: number;
  readonly stopFailed: boolean; // it reported a failed stop: never clean by waiting
  readonly startup?: boolean; // not seen since this node started (startupFenceDelayMs applies)
}

export interface CrmState {
  readonly cfg: EngineConfig;
  readonly order: Ordering;
  readonly quorate: boolean;
  readonly members: readonly string[];
  readonly standby: readonly string[];
  readonly serving: readonly string[] | null; // null: the members
  readonly local: Readonly<Record<string, LocalPhase>>;
  readonly failureTimes: Readonly<Record<string, readonly number[]>>; // local failures (ms)
  readonly banned: readonly string[]; // local start/stop failures
  readonly reports: Readonly<Record<string, NodeReport>>; // members' latest reports
  readonly unclean: Readonly<Record<string, Unclean>>; // nodes not known to run nothing
  readonly fenced: readonly string[]; // fenced since they were last seen; all their resources are stopped
  readonly operator: OperatorScores;
  readonly placement: Placement | null;
  readonly epoch: number;
  readonly seq: number;
  readonly lastKey: string; // the last report's content, to number changes
  readonly claimCount: number;
  readonly claims: Readonly<Record<string, string>>;
  readonly seen: Readonly<Record<string, { readonly epoch: number; readonly seq: number }>>;
}

/** Operator move/ban constraints: resource → node → score, with a version (ms) so the newest wins everywhere. */
export interface OperatorScores {
  readonly version: number;
  readonly scores: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

function newer(a: OperatorScores, b: OperatorScores): boolean {
  return a.version > b.version || (a.version === b.version && JSON.stringify(a.scores) > JSON.stringify(b.scores));
}

export type CrmEvent =
  /** `cleanLeave`: nodes that announced a planned stop after stopping every singleton (never fenced for leaving). */
  | { readonly type: 'view'; readonly members: readonly string[]; readonly quorate: boolean; readonly standby?: readonly string[]; readonly serving?: readonly string[]; readonly cleanLeave?: readonly string[] }
  | { readonly type: 'report'; readonly node: string; readonly report: NodeReport }
  | { readonly type: 'action-done'; readonly resource: string; readonly action: 'start' | 'stop'; readonly outcome: 'ok' | 'failed' }
  | { readonly type: 'monitor-failed'; readonly resource: string }
  | { readonly type: 'fence-done'; readonly node: string; readonly outcome: 'ok' | 'failed' }
  | { readonly type: 'operator'; readonly operator: OperatorScores }
  | { readonly type: 'cleanup'; readonly resource: string }
  | { readonly type: 'tick' };

export type CrmEffect =
  | { readonly type: 'start'; readonly resource: string }
  | { readonly type: 'stop'; readonly resource: string }
  | { readonly type: 'fence'; readonly node: string; readonly reason: string }
  | { readonly type: 'report'; readonly report: NodeReport }
  /** A stop failed while this node cannot be fenced by a quorate peer (no quorum, or no fencing): it must take itself out (watchdog / reboot), as a lease that runs out does. */
  | { readonly type: 'self-fence'; readonly reason: string };

export function initialCrmState(cfg: EngineConfig, nowMs: number): CrmState {
  const unclean: Record<string, Unclean> = {};
  for (const n of cfg.nodes) if (n !== cfg.self) unclean[n] = { sinceMs: nowMs, fence: 'none', lastRequestMs: 0, stopFailed: false, startup: true };
  return { cfg, order: orderingOf(cfg.model), quorate: false, members: [], standby: [], serving: null, local: {}, failureTimes: {}, banned: [], reports: {}, unclean, fenced: [], operator: { version: 0, scores: {} }, placement: null, epoch: nowMs, seq: 0, lastKey: '', claimCount: 0, claims: {}, seen: {} };
}

const RUNNING: readonly LocalPhase[] = ['starting', 'started', 'failed', 'stopping', 'stop-failed'];

function failureTimeoutOf(s: CrmState, primitive: string): number {
  const unit = s.order.unitOf[primitive] ?? primitive;
  return s.cfg.model.resources.find((r) => r.name === unit)?.failureTimeoutMs ?? 0;
}

/** The lowest-named member claiming `r` (by its report), with its claim id. */
function lowestClaim(s: CrmState, r: string): { node: string; id: string } | null {
  let best: { node: string; id: string } | null = null;
  for (const n of [...s.members].sort()) {
    if (n === s.cfg.self || s.fenced.includes(n)) continue;
    const rep = s.reports[n];
    const id = rep?.claims[r];
    if (rep !== undefined && id !== undefined && rep.phases[r] === 'claiming') { best = { node: n, id }; break; }
  }
  return best;
}

/** This node's report: its phases, unexpired failure counts, bans, claims and grants. */
export function reportOf(s: CrmState, nowMs: number): NodeReport {
  return { ...reportBody(s, nowMs), epoch: s.epoch, seq: s.seq };
}

function reportBody(s: CrmState, nowMs: number): Omit<NodeReport, 'epoch' | 'seq'> {
  const failures: Record<string, number> = {};
  for (const [r, times] of Object.entries(s.failureTimes)) {
    const t = failureTimeoutOf(s, r);
    const n = times.filter((at) => t === 0 || nowMs - at < t).length;
    if (n > 0) failures[r] = n;
  }
  const phases = Object.fromEntries(Object.entries(s.local).filter(([, p]) => p !== 'stopped'));
  const acks: Record<string, string> = {};
  for (const r of s.order.primitives) {
    if ((s.local[r] ?? 'stopped') !== 'stopped') continue;
    const c = lowestClaim(s, r);
    if (c !== null) acks[r] = c.id;
  }
  const claims = Object.fromEntries(Object.entries(s.claims).filter(([r]) => s.local[r] === 'claiming'));
  return { phases, failures, banned: [...s.banned], claims, acks, operator: s.operator };
}

/** Is `node` known not to run `r` (nor to be about to)? */
function knownStoppedOn(s: CrmState, r: string, node: string): boolean {
  if (node === s.cfg.self) return (s.local[r] ?? 'stopped') === 'stopped';
  if (s.fenced.includes(node)) return true;
  if (s.members.includes(node)) {
    const rep = s.reports[node];
    return rep !== undefined && (rep.phases[r] ?? 'stopped') === 'stopped';
  }
  return s.unclean[node] === undefined;
}

function knownStoppedEverywhere(s: CrmState, r: string): boolean {
  return s.cfg.nodes.every((n) => knownStoppedOn(s, r, n));
}

function phaseOn(s: CrmState, r: string, node: string): LocalPhase {
  if (node === s.cfg.self) return s.local[r] ?? 'stopped';
  return s.members.includes(node) && !s.fenced.includes(node) ? s.reports[node]?.phases[r] ?? 'stopped' : 'stopped';
}

/** Started where the placement wants it (so what starts after it may start, or keep running). */
function settled(s: CrmState, r: string): boolean {
  const at = s.placement?.nodeOf[r] ?? null;
  return at !== null && phaseOn(s, r, at) === 'started';
}

/** Not started where placed, or after something that is: what starts after it must stop (and restart later). */
function unsettled(s: CrmState, r: string, seen: Set<string>): boolean {
  if (seen.has(r)) return false;
  seen.add(r);
  return !settled(s, r) || (s.order.preds[r] ?? []).some((p) => unsettled(s, p, seen));
}

function computePlacement(s: CrmState, ownFailures: Readonly<Record<string, number>>): Placement {
  const stopFailedBans: Record<string, Record<string, number>> = {};
  const ban = (r: string, n: string): void => { stopFailedBans[r] = { ...(stopFailedBans[r] ?? {}), [n]: -INFINITY }; };
  for (const r of s.banned) ban(r, s.cfg.self);
  for (const [n, rep] of Object.entries(s.reports)) for (const r of rep.banned) ban(r, n);
  const extra: Record<string, Record<string, number>> = {};
  for (const src of [s.operator.scores, stopFailedBans]) for (const [r, by] of Object.entries(src)) extra[r] = { ...(extra[r] ?? {}), ...by };
  const active: Record<string, string> = {};
  const failures: Record<string, Record<string, number>> = {};
  const reports: [string, Pick<NodeReport, 'phases'>][] = [[s.cfg.self, { phases: s.local }], ...Object.entries(s.reports).filter(([n]) => s.members.includes(n) && !s.fenced.includes(n))];
  for (const [n, rep] of reports.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const [r, p] of Object.entries(rep.phases)) if (RUNNING.includes(p) && active[r] === undefined) active[r] = n;
  }
  for (const [n, rep] of [...Object.entries(s.reports), [s.cfg.self, { failures: ownFailures }] as const]) for (const [r, k] of Object.entries(rep.failures)) failures[r] = { ...(failures[r] ?? {}), [n]: k };
  return place({
    nodes: s.cfg.nodes.map((name) => ({ name, online: s.quorate && s.members.includes(name) && !s.fenced.includes(name), standby: s.standby.includes(name) })),
    model: s.cfg.model,
    active,
    failures,
    serving: s.serving ?? s.members,
    extraScores: extra,
  });
}

interface Out { s: CrmState; effects: CrmEffect[] }

function setLocal(o: Out, r: string, p: LocalPhase): void {
  o.s = { ...o.s, local: { ...o.s.local, [r]: p } };
}

/** Decide this node's actions for the current knowledge. */
function reconcile(o: Out, nowMs: number): void {
  o.s = { ...o.s, placement: computePlacement(o.s, reportOf(o.s, nowMs).failures) };
  const self = o.s.cfg.self;
  // Without fencing, a node outside the view is assumed to have stopped its singletons once it has
  // been silent for the self-stop grace (it lost quorum and stops them itself); never after a failed stop.
  if (!o.s.cfg.fencing) {
    const unclean: Record<string, Unclean> = { ...o.s.unclean };
    for (const [n, u] of Object.entries(o.s.unclean)) if (!u.stopFailed && !o.s.members.includes(n) && nowMs - u.sinceMs >= o.s.cfg.selfStopGraceMs) delete unclean[n];
    o.s = { ...o.s, unclean };
  }
  const blockers = new Set<string>(); // unclean nodes that hold back an action of this node
  const blockedBy = (r: string): void => { for (const n of o.s.cfg.nodes) if (n !== self && !knownStoppedOn(o.s, r, n) && o.s.unclean[n] !== undefined) blockers.add(n); };
  for (const r of o.s.order.primitives) {
    const phase = o.s.local[r] ?? 'stopped';
    const target = o.s.quorate ? o.s.placement?.nodeOf[r] ?? null : null;
    const deps = o.s.order.deps[r] ?? [];
    const preds = o.s.order.preds[r] ?? [];
    if (phase === 'started' || phase === 'failed') {
      const mustStop = phase === 'failed' || target !== self || preds.some((p) => unsettled(o.s, p, new Set()));
      // Without quorum only this node's own dependents can be seen; they are stopped first.
      const depsDown = o.s.quorate ? deps.every((d) => knownStoppedEverywhere(o.s, d)) : deps.every((d) => (o.s.local[d] ?? 'stopped') === 'stopped');
      if (mustStop && depsDown) {
        setLocal(o, r, 'stopping');
        o.effects.push({ type: 'stop', resource: r });
      } else if (mustStop && o.s.quorate) deps.forEach(blockedBy);
    } else if ((phase === 'stopped' || phase === 'claiming') && target === self) {
      // Start in two steps: claim (peers see it and grant it unless they run it or a lower-named
      // node claims it too), then start once every member granted this claim.
      const broken = o.s.cfg.mutation === 'start-without-stop-proof';
      const elsewhereDown = broken || o.s.cfg.nodes.every((n) => n === self || knownStoppedOn(o.s, r, n));
      // Settled all the way up: a predecessor that itself must restart would take this one down again.
      const predsUp = o.s.cfg.mutation === 'ignore-order' || preds.every((p) => !unsettled(o.s, p, new Set()));
      const rival = lowestClaim(o.s, r);
      const yields = rival !== null && rival.node < self;
      if (phase === 'stopped' && elsewhereDown && predsUp && !yields) {
        const id = `${self}#${o.s.epoch}.${o.s.claimCount + 1}`;
        o.s = { ...o.s, claimCount: o.s.claimCount + 1, claims: { ...o.s.claims, [r]: id } };
        setLocal(o, r, 'claiming');
      } else if (phase === 'claiming' && yields) {
        setLocal(o, r, 'stopped');
      } else if (!elsewhereDown) blockedBy(r);
      const id = o.s.claims[r];
      const granted = broken || o.s.members.every((n) => n === self || (o.s.reports[n]?.acks[r] === id && (o.s.reports[n]?.phases[r] ?? 'stopped') === 'stopped') || o.s.fenced.includes(n));
      if (o.s.local[r] === 'claiming' && granted && elsewhereDown && predsUp) {
        setLocal(o, r, 'starting');
        o.effects.push({ type: 'start', resource: r });
      }
    } else if (phase === 'claiming') {
      setLocal(o, r, 'stopped'); // no longer placed here (or no quorum): withdraw the claim
    }
  }
  // Fence what holds this node back (each blocked node asks; a fence is idempotent), retrying a failed fence.
  if (!o.s.cfg.fencing || !o.s.quorate) return;
  const unclean: Record<string, Unclean> = { ...o.s.unclean };
  for (const n of [...blockers].sort()) {
    const u = unclean[n];
    if (u === undefined || u.fence === 'requested' || (u.fence === 'failed' && nowMs - u.lastRequestMs < o.s.cfg.fenceRetryMs)) continue;
    if (u.startup === true && u.fence === 'none' && nowMs - u.sinceMs < (o.s.cfg.startupFenceDelayMs ?? 0)) continue; // may still be booting
    unclean[n] = { ...u, fence: 'requested', lastRequestMs: nowMs };
    o.effects.push({ type: 'fence', node: n, reason: u.stopFailed ? 'stop-failed' : 'left-view' });
  }
  o.s = { ...o.s, unclean };
}

function leaveView(s: CrmState, left: readonly string[], nowMs: number): CrmState {
  const unclean = { ...s.unclean };
  const reports = { ...s.reports };
  const seen = { ...s.seen };
  for (const n of left) delete seen[n];
  for (const n of left) {
    const stopFailed = Object.values(s.reports[n]?.phases ?? {}).includes('stop-failed');
    if (!s.fenced.includes(n)) unclean[n] = { sinceMs: nowMs, fence: 'none', lastRequestMs: 0, stopFailed };
    delete reports[n];
  }
  return { ...s, unclean, reports, seen };
}

export function step(state: CrmState, event: CrmEvent, nowMs: number): { state: CrmState; effects: CrmEffect[] } {
  const o: Out = { s: state, effects: [] };
  switch (event.type) {
    case 'view': {
      const left = state.members.filter((n) => !event.members.includes(n) && n !== state.cfg.self);
      const joined = event.members.filter((n) => !state.members.includes(n));
      const graceful = (n: string): boolean => (event.cleanLeave ?? []).includes(n) && Object.keys(state.reports[n]?.phases ?? {}).length === 0;
      o.s = leaveView(o.s, left.filter((n) => !graceful(n)), nowMs);
      const reports = { ...o.s.reports };
      const seen = { ...o.s.seen };
      for (const n of left.filter(graceful)) { delete reports[n]; delete seen[n]; }
      o.s = { ...o.s, reports, seen };
      const unclean = { ...o.s.unclean };
      // A node that joins reports for itself from now on (its report arrives with its heartbeats).
      for (const n of joined) if (!unclean[n]?.stopFailed) delete unclean[n];
      o.s = { ...o.s, members: [...event.members], quorate: event.quorate, standby: [...(event.standby ?? [])], serving: event.serving ? [...event.serving] : null, unclean, fenced: o.s.fenced.filter((n) => !joined.includes(n)) };
      break;
    }
    case 'report': {
      if (event.node === state.cfg.self || !state.members.includes(event.node)) return { state, effects: [] };
      const last = state.seen[event.node];
      const r = event.report;
      if (last !== undefined && (r.epoch < last.epoch || (r.epoch === last.epoch && r.seq <= last.seq))) return { state, effects: [] }; // nothing new
      o.s = { ...o.s, reports: { ...o.s.reports, [event.node]: r }, seen: { ...o.s.seen, [event.node]: { epoch: r.epoch, seq: r.seq } } };
      if (newer(r.operator, o.s.operator)) o.s = { ...o.s, operator: r.operator };
      if (Object.values(event.report.phases).includes('stop-failed') && !o.s.fenced.includes(event.node)) {
        const u = o.s.unclean[event.node];
        o.s = { ...o.s, unclean: { ...o.s.unclean, [event.node]: { sinceMs: u?.sinceMs ?? nowMs, fence: u?.fence ?? 'none', lastRequestMs: u?.lastRequestMs ?? 0, stopFailed: true } } };
      } else if (o.s.unclean[event.node] !== undefined) {
        const unclean = { ...o.s.unclean };
        delete unclean[event.node]; // its failed stop was cleaned up: it reports for itself again
        o.s = { ...o.s, unclean };
      }
      break;
    }
    case 'action-done': {
      const phase = state.local[event.resource];
      if (event.action === 'start' && phase === 'starting') {
        if (event.outcome === 'ok') setLocal(o, event.resource, 'started');
        else { o.s = { ...o.s, banned: [...o.s.banned, event.resource] }; setLocal(o, event.resource, 'failed'); }
      } else if (event.action === 'stop' && phase === 'stopping') {
        if (event.outcome === 'ok') setLocal(o, event.resource, 'stopped');
        else {
          o.s = { ...o.s, banned: [...o.s.banned, event.resource] };
          setLocal(o, event.resource, 'stop-failed');
          if (!state.quorate || !state.cfg.fencing) o.effects.push({ type: 'self-fence', reason: `stop of ${event.resource} failed ${state.quorate ? 'and no fence agent is configured' : 'without quorum'}` });
        }
      }
      break;
    }
    case 'monitor-failed': {
      if (state.local[event.resource] !== 'started') break;
      o.s = { ...o.s, failureTimes: { ...o.s.failureTimes, [event.resource]: [...(o.s.failureTimes[event.resource] ?? []), nowMs] } };
      setLocal(o, event.resource, 'failed');
      break;
    }
    case 'fence-done': {
      const u = state.unclean[event.node];
      if (event.outcome === 'ok') {
        const unclean = { ...o.s.unclean };
        delete unclean[event.node];
        o.s = { ...o.s, unclean, fenced: o.s.fenced.includes(event.node) ? o.s.fenced : [...o.s.fenced, event.node] };
      } else if (u !== undefined) {
        o.s = { ...o.s, unclean: { ...o.s.unclean, [event.node]: { ...u, fence: 'failed', lastRequestMs: nowMs } } };
      }
      break;
    }
    case 'operator':
      if (newer(event.operator, o.s.operator)) o.s = { ...o.s, operator: event.operator };
      break;
    case 'cleanup': {
      const failureTimes = { ...o.s.failureTimes };
      delete failureTimes[event.resource];
      o.s = { ...o.s, failureTimes, banned: o.s.banned.filter((r) => r !== event.resource) };
      if (o.s.local[event.resource] === 'stop-failed') setLocal(o, event.resource, 'stopped'); // the operator checked it is down
      break;
    }
    case 'tick':
      break;
  }
  reconcile(o, nowMs);
  const key = JSON.stringify(reportBody(o.s, nowMs));
  if (key !== o.s.lastKey) {
    o.s = { ...o.s, seq: o.s.seq + 1, lastKey: key };
    // The report goes first: peers learn of a start before it runs.
    o.effects.unshift({ type: 'report', report: reportOf(o.s, nowMs) });
  }
  return { state: o.s, effects: o.effects };
}
