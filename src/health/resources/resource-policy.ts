/**
 * The local service and its health, as a pure reducer: `step(state, event, nowMs) -> {state,
 * effects}`. It decides one thing for the daemon: the node's *role* — whether it may lease
 * buckets (its service is started and healthy), must drain (hand its buckets to the peers), or
 * must keep serving although unhealthy because no peer is healthy either.
 *
 *   stopped --start--> starting --ok--> running(health unknown: standby)
 *                          |fail: retry with backoff
 *   running: `rise` passes in a row -> healthy -> active (leasing allowed)
 *            `fall` failures in a row -> unhealthy -> draining (buckets go to healthy peers)
 *            unhealthy and no healthy peer -> holding (keep serving, logged loudly)
 *            healthy again after a flap -> held down (still draining) for a backoff that
 *            doubles per recent flap, so a flapping service does not drag buckets back and forth
 *   stop: release buckets first (the daemon reports `buckets-released`), stop the service last.
 *
 * The runner (resource-runner.ts) schedules checks every `intervalMs`, enforces `timeoutMs`,
 * runs the effects and feeds results back.
 */
import type { DampingPolicy } from '../../config/ha-types.js';

export interface HealthPolicy {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rise: number; // passes in a row before an unknown/unhealthy service counts as healthy
  readonly fall: number; // failures in a row before a healthy service counts as unhealthy
}

export type { DampingPolicy };

export interface RetryPolicy { readonly baseMs: number; readonly maxMs: number }

export interface ResourcePolicyConfig {
  readonly health: HealthPolicy;
  readonly damping: DampingPolicy;
  readonly startRetry: RetryPolicy;
}

export type ResourcePhase = 'stopped' | 'starting' | 'running' | 'start-failed' | 'stopping';
export type Health = 'unknown' | 'healthy' | 'unhealthy';
/** standby: not leasing yet; active: leasing; draining: buckets to the peers; holding: unhealthy but the last one serving. */
export type Role = 'standby' | 'active' | 'draining' | 'holding';
export type CheckOutcome = 'pass' | 'fail' | 'timeout';
export type ActionOutcome = 'ok' | 'failed' | 'timeout';

export interface CheckRecord { readonly atMs: number; readonly outcome: CheckOutcome; readonly detail: string }

export interface ResourceState {
  readonly phase: ResourcePhase;
  readonly health: Health;
  readonly role: Role;
  readonly passStreak: number;
  readonly failStreak: number;
  readonly failures: number; // failed checks since start, for status
  readonly passes: number; // passed checks since start, for status and vmac_health_checks_total
  readonly lastCheck: CheckRecord | null;
  readonly startAttempts: number;
  readonly retryAtMs: number | null; // next start attempt after a failed one
  readonly flaps: number; // healthy -> unhealthy transitions not yet decayed
  readonly lastFlapMs: number | null;
  readonly holdUntilMs: number | null; // damped: healthy but not taking buckets before this
  readonly healthyPeers: number; // peers heard in state active (reported by the daemon)
  readonly stopWanted: boolean;
}

export type ResourceEvent =
  | { readonly kind: 'start-requested' }
  | { readonly kind: 'start-done'; readonly outcome: ActionOutcome; readonly detail: string }
  | { readonly kind: 'check-done'; readonly outcome: CheckOutcome; readonly detail: string }
  | { readonly kind: 'peers'; readonly healthyPeers: number }
  | { readonly kind: 'tick' }
  | { readonly kind: 'stop-requested' }
  | { readonly kind: 'buckets-released' }
  | { readonly kind: 'stop-done'; readonly outcome: ActionOutcome; readonly detail: string };

export type LogLevel = 'info' | 'warn' | 'error';

export type ResourceEffect =
  | { readonly kind: 'start-service' }
  | { readonly kind: 'stop-service' }
  | { readonly kind: 'release-buckets' }
  | { readonly kind: 'role-changed'; readonly from: Role; readonly to: Role; readonly reason: string }
  | { readonly kind: 'log'; readonly level: LogLevel; readonly event: string; readonly msg: string; readonly data?: Readonly<Record<string, unknown>> };

export interface ResourceStep { readonly state: ResourceState; readonly effects: readonly ResourceEffect[] }

export function initResource(): ResourceState {
  return {
    phase: 'stopped', health: 'unknown', role: 'standby', passStreak: 0, failStreak: 0, failures: 0, passes: 0, lastCheck: null,
    startAttempts: 0, retryAtMs: null, flaps: 0, lastFlapMs: null, holdUntilMs: null, healthyPeers: 0, stopWanted: false,
  };
}

/** Whether the node may hold bucket leases in this role. */
export function leasingAllowed(role: Role): boolean {
  return role === 'active' || role === 'holding';
}

/** Exponential backoff: base, 2·base, 4·base … capped at max (attempt counts from 1). */
export function backoffMs(p: RetryPolicy, attempt: number): number {
  return Math.min(p.maxMs, p.baseMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
}

/** The hold-down after recovering from the `flaps`-th recent flap: none for the first. */
export function holdDownMs(d: DampingPolicy, flaps: number): number {
  return flaps <= 1 ? 0 : Math.min(d.holdMaxMs, d.holdBaseMs * 2 ** Math.min(30, flaps - 2));
}

/** The role the state calls for; `derive` never changes anything but the role. */
function roleFor(s: ResourceState, nowMs: number): { role: Role; reason: string } {
  if (s.phase !== 'running') return { role: s.phase === 'stopping' ? 'draining' : 'standby', reason: s.phase };
  if (s.health === 'unknown') return { role: 'standby', reason: 'health-unknown' };
  if (s.health === 'healthy') {
    // Damped only while someone healthy serves meanwhile.
    if (s.holdUntilMs !== null && nowMs < s.holdUntilMs && s.healthyPeers > 0) return { role: 'draining', reason: 'flap-damped' };
    return { role: 'active', reason: 'healthy' };
  }
  // Unhealthy. Handing buckets over is only worth it if someone healthy takes them.
  if (s.healthyPeers === 0) return { role: 'holding', reason: 'no-healthy-peer' };
  return { role: 'draining', reason: 'unhealthy' };
}

function settle(s: ResourceState, effects: ResourceEffect[], nowMs: number): ResourceStep {
  const { role, reason } = roleFor(s, nowMs);
  if (role === s.role) return { state: s, effects };
  effects.push({ kind: 'role-changed', from: s.role, to: role, reason });
  if (role === 'holding') {
    effects.push({ kind: 'log', level: 'error', event: 'all-unhealthy-serving', msg: 'service unhealthy but no peer is healthy either: KEEPING our buckets rather than leaving them unanswered', data: { lastCheck: s.lastCheck } });
  }
  return { state: { ...s, role }, effects };
}

function onCheck(s: ResourceState, outcome: CheckOutcome, detail: string, nowMs: number, cfg: ResourcePolicyConfig, effects: ResourceEffect[]): ResourceState {
  const lastCheck: CheckRecord = { atMs: nowMs, outcome, detail };
  if (s.phase !== 'running') return { ...s, lastCheck };
  let flaps = s.flaps;
  // A long stable spell forgets old flaps.
  if (s.lastFlapMs !== null && nowMs - s.lastFlapMs >= cfg.damping.decayMs) flaps = 0;
  if (outcome === 'pass') {
    const passStreak = s.passStreak + 1;
    let next: ResourceState = { ...s, lastCheck, passStreak, failStreak: 0, passes: s.passes + 1, flaps };
    if (s.health !== 'healthy' && passStreak >= cfg.health.rise) {
      const hold = s.health === 'unhealthy' ? holdDownMs(cfg.damping, flaps) : 0;
      next = { ...next, health: 'healthy', holdUntilMs: hold > 0 ? nowMs + hold : null };
      effects.push({ kind: 'log', level: 'info', event: 'health-recovered', msg: hold > 0 ? `service healthy again; flapping: holding back ${hold} ms before taking buckets` : 'service healthy', data: { passStreak, holdMs: hold, flaps } });
    }
    return next;
  }
  const failStreak = s.failStreak + 1;
  let next: ResourceState = { ...s, lastCheck, failStreak, passStreak: 0, failures: s.failures + 1, flaps };
  const limit = s.health === 'unknown' ? cfg.health.rise : cfg.health.fall;
  if (s.health !== 'unhealthy' && failStreak >= limit) {
    const wasHealthy = s.health === 'healthy';
    next = { ...next, health: 'unhealthy', holdUntilMs: null, flaps: wasHealthy ? flaps + 1 : flaps, lastFlapMs: wasHealthy ? nowMs : s.lastFlapMs };
    effects.push({ kind: 'log', level: 'warn', event: 'health-failed', msg: `service unhealthy after ${failStreak} failed checks: ${detail}`, data: { failStreak, outcome, flaps: next.flaps } });
  }
  return next;
}

export function step(s: ResourceState, e: ResourceEvent, nowMs: number, cfg: ResourcePolicyConfig): ResourceStep {
  const effects: ResourceEffect[] = [];
  switch (e.kind) {
    case 'start-requested':
      if (s.phase !== 'stopped' && s.phase !== 'start-failed') return { state: s, effects };
      effects.push({ kind: 'start-service' });
      return settle({ ...s, phase: 'starting', stopWanted: false, startAttempts: s.startAttempts + 1, retryAtMs: null }, effects, nowMs);
    case 'start-done': {
      if (s.phase !== 'starting') return { state: s, effects };
      if (s.stopWanted) {
        // A stop came in while starting: nothing was leased, so stop right away.
        effects.push({ kind: 'stop-service' });
        return settle({ ...s, phase: 'stopping' }, effects, nowMs);
      }
      if (e.outcome === 'ok') {
        effects.push({ kind: 'log', level: 'info', event: 'resource-started', msg: 'service started; waiting for health checks before taking buckets' });
        return settle({ ...s, phase: 'running', health: 'unknown', passStreak: 0, failStreak: 0, startAttempts: 0 }, effects, nowMs);
      }
      const waitMs = backoffMs(cfg.startRetry, s.startAttempts);
      effects.push({ kind: 'log', level: 'error', event: 'resource-start-failed', msg: `service start ${e.outcome}: ${e.detail}; retrying in ${waitMs} ms`, data: { attempt: s.startAttempts, retryInMs: waitMs } });
      return settle({ ...s, phase: 'start-failed', retryAtMs: nowMs + waitMs }, effects, nowMs);
    }
    case 'check-done':
      return settle(onCheck(s, e.outcome, e.detail, nowMs, cfg, effects), effects, nowMs);
    case 'peers':
      return settle({ ...s, healthyPeers: e.healthyPeers }, effects, nowMs);
    case 'tick':
      if (s.phase === 'start-failed' && !s.stopWanted && s.retryAtMs !== null && nowMs >= s.retryAtMs) {
        return step(s, { kind: 'start-requested' }, nowMs, cfg);
      }
      return settle(s, effects, nowMs);
    case 'stop-requested':
      if (s.stopWanted || s.phase === 'stopped') return { state: { ...s, stopWanted: true }, effects };
      if (s.phase === 'starting') return { state: { ...s, stopWanted: true }, effects };
      if (s.phase === 'start-failed') return settle({ ...s, stopWanted: true, phase: 'stopped', retryAtMs: null }, effects, nowMs);
      // Buckets first: the daemon hands them over and answers with buckets-released.
      effects.push({ kind: 'release-buckets' });
      return settle({ ...s, stopWanted: true, phase: 'stopping' }, effects, nowMs);
    case 'buckets-released':
      if (s.phase !== 'stopping') return { state: s, effects };
      effects.push({ kind: 'stop-service' });
      return { state: s, effects };
    case 'stop-done':
      if (s.phase !== 'stopping') return { state: s, effects };
      if (e.outcome !== 'ok') effects.push({ kind: 'log', level: 'error', event: 'resource-stop-failed', msg: `service stop ${e.outcome}: ${e.detail}` });
      return settle({ ...s, phase: 'stopped', health: 'unknown', passStreak: 0, failStreak: 0, holdUntilMs: null }, effects, nowMs);
  }
}
