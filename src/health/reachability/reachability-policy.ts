/**
 * The data-path check, as a pure reducer: `step(state, event, nowMs) -> {state, effects}`.
 * Every `intervalMs` the runner pings the configured targets (the gateway or router the clients
 * come through) out of the cluster interface; one *round* is one echo to each target. A round
 * passes when any target answered (`require: any`; with `require: all`, when every one did).
 *
 *   unknown/reachable --`fall` failed rounds in a row--> unreachable
 *   unknown/unreachable --`rise` passed rounds in a row--> reachable
 *   a round whose timeout fired more than `timeoutMs` late is `inconclusive`: the daemon itself
 *   was stalled (a busy machine), so its silence says nothing about the network; it neither
 *   passes nor fails and leaves both streaks as they were.
 *
 * The *role* is the one thing the daemon acts on:
 *   serving   the path is reachable (or not judged yet): lease as usual
 *   settling  just judged unreachable: keep serving but announce `standby` for `settleMs` (one
 *             check interval plus one heartbeat interval: long enough for every peer that lost
 *             the same target to notice it and say so), then drain or hold. Without it, nodes
 *             that lose a shared router one after the other would each drain towards peers that
 *             still looked healthy, moving buckets (and breaking connections) for nothing.
 *   draining  unreachable, and some peer is heard `active` (healthy: its own checks pass): hand
 *             the buckets to the peers exactly as a failing service health check does, then stop
 *             renewing (healthHold) — a node that cannot reach its clients must not hold them
 *   holding   unreachable, and no peer is heard `active`: keep serving (logged loudly) — the last
 *             node, or every node lost the target at once (the router died): draining would leave
 *             the VIP with no owner at all, and the clients that still reach us (same segment)
 *             would lose their answers too. A holding node announces `standby` (not `active`),
 *             so peers with a broken path do not drain towards it, and every node that lost the
 *             target ends up holding its own buckets.
 */
import type { DataPathPolicy, Require } from '../../config/reachability-config.js';

export type { DataPathPolicy, Require };

export type PathHealth = 'unknown' | 'reachable' | 'unreachable';
export type PathRole = 'serving' | 'settling' | 'draining' | 'holding';
export type RoundOutcome = 'pass' | 'fail' | 'inconclusive';

export interface TargetRecord {
  readonly sent: number;
  readonly answered: number;
  readonly lastRttMs: number | null; // of the last round (null: lost)
  readonly lastAnsweredMs: number | null;
}

export interface RoundRecord {
  readonly atMs: number;
  readonly outcome: RoundOutcome;
  readonly answered: readonly string[];
  readonly lost: readonly string[];
}

export interface DataPathState {
  readonly health: PathHealth;
  readonly role: PathRole;
  readonly roleSinceMs: number;
  readonly okStreak: number;
  readonly failStreak: number;
  readonly rounds: number;
  readonly failedRounds: number;
  readonly inconclusiveRounds: number;
  readonly lastRound: RoundRecord | null;
  readonly targets: ReadonlyMap<string, TargetRecord>;
  readonly healthyPeers: number; // peers heard announcing `active` (reported by the daemon)
  readonly unreachableSinceMs: number | null;
}

export type DataPathEvent =
  /** One round: each target's RTT (null: no answer within timeoutMs); `lateMs`: how late its timeout fired. */
  | { readonly kind: 'round'; readonly rttMs: ReadonlyMap<string, number | null>; readonly lateMs: number }
  | { readonly kind: 'peers'; readonly healthyPeers: number };

export type LogLevel = 'info' | 'warn' | 'error';

export type DataPathEffect =
  | { readonly kind: 'role-changed'; readonly from: PathRole; readonly to: PathRole; readonly reason: string }
  | { readonly kind: 'log'; readonly level: LogLevel; readonly event: string; readonly msg: string; readonly data?: Readonly<Record<string, unknown>> };

export interface DataPathStep { readonly state: DataPathState; readonly effects: readonly DataPathEffect[] }

export function initDataPath(p: DataPathPolicy, nowMs: number): DataPathState {
  return {
    health: 'unknown', role: 'serving', roleSinceMs: nowMs, okStreak: 0, failStreak: 0, rounds: 0, failedRounds: 0, inconclusiveRounds: 0, lastRound: null,
    targets: new Map(p.targets.map((t) => [t, { sent: 0, answered: 0, lastRttMs: null, lastAnsweredMs: null }])), healthyPeers: 0,
    unreachableSinceMs: null,
  };
}

/** Whether the node may hold bucket leases in this role (holding: yes, it is the last resort). */
export function leasingAllowed(role: PathRole): boolean {
  return role !== 'draining';
}

/** Whether the node announces `standby` instead of `active`: it serves, but is no healthy place for buckets. */
export function degraded(role: PathRole): boolean {
  return role === 'settling' || role === 'holding';
}

/** A round's outcome from its answers (pure). */
export function roundOutcome(p: DataPathPolicy, answered: number, lateMs: number): RoundOutcome {
  const pass = p.require === 'any' ? answered > 0 : answered === p.targets.length;
  if (pass) return 'pass';
  // Stalled longer than the timeout itself: our own lateness, not the network's silence.
  return lateMs > p.timeoutMs ? 'inconclusive' : 'fail';
}

function roleFor(s: DataPathState, p: DataPathPolicy, nowMs: number): { role: PathRole; reason: string } {
  if (s.health !== 'unreachable') return { role: 'serving', reason: s.health === 'unknown' ? 'not-judged-yet' : 'reachable' };
  if (s.role === 'serving' || (s.role === 'settling' && nowMs - (s.unreachableSinceMs ?? nowMs) < p.settleMs)) return { role: 'settling', reason: 'unreachable' };
  return s.healthyPeers > 0 ? { role: 'draining', reason: 'healthy-peer' } : { role: 'holding', reason: 'no-healthy-peer' };
}

function settle(s: DataPathState, effects: DataPathEffect[], nowMs: number, p: DataPathPolicy): DataPathStep {
  const { role, reason } = roleFor(s, p, nowMs);
  if (role === s.role) return { state: s, effects };
  effects.push({ kind: 'role-changed', from: s.role, to: role, reason });
  if (role === 'holding') {
    effects.push({ kind: 'log', level: 'error', event: 'datapath-all-failing', msg: 'data path check failing but no peer is healthy either: KEEPING our buckets rather than leaving the VIP unanswered', data: { lastRound: s.lastRound } });
  } else if (role === 'settling') {
    effects.push({ kind: 'log', level: 'warn', event: 'datapath-settling', msg: `data path check failing: announcing standby for ${p.settleMs} ms before draining, so peers that lost the same target can say so`, data: { settleMs: p.settleMs } });
  } else if (role === 'draining') {
    effects.push({ kind: 'log', level: 'warn', event: 'datapath-drain', msg: `data path check failing and ${s.healthyPeers} healthy peer(s) heard: handing our buckets over`, data: { healthyPeers: s.healthyPeers } });
  } else {
    effects.push({ kind: 'log', level: 'info', event: 'datapath-serving', msg: 'data path reachable: serving again', data: { from: s.role } });
  }
  return { state: { ...s, role, roleSinceMs: nowMs }, effects };
}

function onRound(s: DataPathState, p: DataPathPolicy, rtt: ReadonlyMap<string, number | null>, lateMs: number, nowMs: number, effects: DataPathEffect[]): DataPathState {
  const answered: string[] = [];
  const lost: string[] = [];
  const targets = new Map(s.targets);
  for (const t of p.targets) {
    const r = rtt.get(t) ?? null;
    const before = targets.get(t) ?? { sent: 0, answered: 0, lastRttMs: null, lastAnsweredMs: null };
    if (r === null) lost.push(t);
    else answered.push(t);
    targets.set(t, { sent: before.sent + 1, answered: before.answered + (r === null ? 0 : 1), lastRttMs: r, lastAnsweredMs: r === null ? before.lastAnsweredMs : nowMs });
  }
  const outcome = roundOutcome(p, answered.length, lateMs);
  const lastRound: RoundRecord = { atMs: nowMs, outcome, answered, lost };
  const base = { ...s, targets, lastRound, rounds: s.rounds + 1 };
  if (outcome === 'inconclusive') {
    effects.push({ kind: 'log', level: 'warn', event: 'datapath-round-late', msg: `data path round judged ${Math.round(lateMs)} ms late (daemon stalled): not counted`, data: { lateMs: Math.round(lateMs), lost } });
    return { ...base, inconclusiveRounds: s.inconclusiveRounds + 1 };
  }
  if (outcome === 'pass') {
    const okStreak = s.okStreak + 1;
    const next = { ...base, okStreak, failStreak: 0 };
    if (s.health !== 'reachable' && okStreak >= p.rise) {
      effects.push({ kind: 'log', level: 'info', event: 'datapath-reachable', msg: `data path reachable after ${okStreak} good rounds`, data: { okStreak, answered } });
      return { ...next, health: 'reachable', unreachableSinceMs: null };
    }
    return next;
  }
  const failStreak = s.failStreak + 1;
  const next = { ...base, failStreak, okStreak: 0, failedRounds: s.failedRounds + 1 };
  if (s.health !== 'unreachable' && failStreak >= p.fall) {
    effects.push({ kind: 'log', level: 'warn', event: 'datapath-unreachable', msg: `data path unreachable after ${failStreak} failed rounds (lost: ${lost.join(', ')})`, data: { failStreak, lost } });
    return { ...next, health: 'unreachable', unreachableSinceMs: nowMs };
  }
  return next;
}

export function step(s: DataPathState, e: DataPathEvent, nowMs: number, p: DataPathPolicy): DataPathStep {
  const effects: DataPathEffect[] = [];
  switch (e.kind) {
    case 'round':
      return settle(onRound(s, p, e.rttMs, e.lateMs, nowMs, effects), effects, nowMs, p);
    case 'peers':
      // Also the settling role's clock: the daemon reports the peers every heartbeat interval.
      if (e.healthyPeers === s.healthyPeers && s.role !== 'settling') return { state: s, effects };
      return settle(e.healthyPeers === s.healthyPeers ? s : { ...s, healthyPeers: e.healthyPeers }, effects, nowMs, p);
  }
}
