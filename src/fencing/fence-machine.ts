/**
 * Fencing (STONITH) per target node, as a pure reducer: `step(state, event, nowMs, cfg) ->
 * {state, effects}`. The takeover of a silent peer's buckets is gated on `takeoverAllowed`, which
 * is true only after a fence of that peer reported success — never on a guess:
 *
 *   idle --required--> delaying (this node's configured delay; a two-node race is broken by
 *                      giving the nodes different delays, so the faster one shoots first and the
 *                      slower one is dead before its own delay ends)
 *        --delay over--> fencing (the agent runs; its result decides; a timeout is a failure)
 *        --success--> fenced (takeover allowed)
 *        --failure--> retry-wait (backoff doubling up to retryMaxMs) --> fencing …
 *   A peer heard again before the agent runs (delaying, retry-wait) needs no fence: back to idle.
 *   While the agent runs nothing cancels it: the outcome is unknown until it reports.
 *   A fenced peer that is heard again (rebooted, repaired) returns to idle.
 */
import type { FenceAction } from '../config/ha-types.js';

export type { FenceAction };
export type FencePhase = 'idle' | 'delaying' | 'fencing' | 'retry-wait' | 'fenced';
export type FenceOutcome = 'success' | 'failed' | 'timeout';

export interface FenceConfig {
  readonly action: FenceAction;
  readonly delayMs: number; // this node waits this long before fencing anyone
  readonly timeoutMs: number; // the agent's run is a failure after this long
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
}

export interface FenceRecord { readonly action: FenceAction; readonly outcome: FenceOutcome; readonly atMs: number; readonly detail: string }

export interface TargetState {
  readonly phase: FencePhase;
  readonly reason: string | null;
  readonly sinceMs: number;
  readonly dueMs: number | null; // when delaying/retry-wait ends
  readonly attempts: number; // failed runs since the requirement began
  readonly last: FenceRecord | null;
}

export interface FenceCounters { requested: number; succeeded: number; failed: number; cancelled: number }

export interface FenceState {
  readonly targets: ReadonlyMap<number, TargetState>;
  readonly counters: Readonly<FenceCounters>;
}

export type FenceEvent =
  | { readonly kind: 'required'; readonly target: number; readonly reason: string }
  | { readonly kind: 'peer-heard'; readonly target: number }
  | { readonly kind: 'tick' }
  | { readonly kind: 'agent-done'; readonly target: number; readonly outcome: FenceOutcome; readonly detail: string };

export type FenceEffect =
  | { readonly kind: 'run-agent'; readonly target: number; readonly action: FenceAction; readonly timeoutMs: number }
  | { readonly kind: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly event: string; readonly target: number; readonly msg: string; readonly data?: Readonly<Record<string, unknown>> };

export interface FenceStep { readonly state: FenceState; readonly effects: readonly FenceEffect[] }

const IDLE: TargetState = { phase: 'idle', reason: null, sinceMs: 0, dueMs: null, attempts: 0, last: null };

export function initFencing(): FenceState {
  return { targets: new Map(), counters: { requested: 0, succeeded: 0, failed: 0, cancelled: 0 } };
}

export function targetState(s: FenceState, target: number): TargetState {
  return s.targets.get(target) ?? IDLE;
}

/** The gate before taking over `target`'s buckets: only a reported successful fence opens it. */
export function takeoverAllowed(s: FenceState, target: number): boolean {
  return targetState(s, target).phase === 'fenced';
}

export function retryDelayMs(cfg: FenceConfig, attempts: number): number {
  return Math.min(cfg.retryMaxMs, cfg.retryBaseMs * 2 ** Math.max(0, Math.min(30, attempts - 1)));
}

function put(s: FenceState, target: number, t: TargetState, counters: Partial<FenceCounters> = {}): FenceState {
  const targets = new Map(s.targets);
  targets.set(target, t);
  return { targets, counters: { ...s.counters, ...counters } };
}

function launch(s: FenceState, target: number, t: TargetState, nowMs: number, cfg: FenceConfig, effects: FenceEffect[]): FenceState {
  effects.push({ kind: 'run-agent', target, action: cfg.action, timeoutMs: cfg.timeoutMs });
  effects.push({ kind: 'log', level: 'warn', event: 'fence-started', target, msg: `fencing node ${target} (${cfg.action}): ${t.reason ?? ''}`, data: { attempt: t.attempts + 1 } });
  return put(s, target, { ...t, phase: 'fencing', sinceMs: nowMs, dueMs: null });
}

export function step(s: FenceState, e: FenceEvent, nowMs: number, cfg: FenceConfig): FenceStep {
  const effects: FenceEffect[] = [];
  switch (e.kind) {
    case 'required': {
      const t = targetState(s, e.target);
      if (t.phase !== 'idle') return { state: s, effects }; // already on it (or done)
      const next: TargetState = { ...t, phase: 'delaying', reason: e.reason, sinceMs: nowMs, dueMs: nowMs + cfg.delayMs, attempts: 0 };
      const counted = put(s, e.target, next, { requested: s.counters.requested + 1 });
      effects.push({ kind: 'log', level: 'warn', event: 'fence-required', target: e.target, msg: `node ${e.target} must be fenced before its buckets are taken: ${e.reason}`, data: { delayMs: cfg.delayMs } });
      if (cfg.delayMs <= 0) return { state: launch(counted, e.target, next, nowMs, cfg, effects), effects };
      return { state: counted, effects };
    }
    case 'peer-heard': {
      const t = targetState(s, e.target);
      if (t.phase === 'delaying' || t.phase === 'retry-wait') {
        effects.push({ kind: 'log', level: 'info', event: 'fence-cancelled', target: e.target, msg: `node ${e.target} is heard again: no fence needed` });
        return { state: put(s, e.target, { ...IDLE, last: t.last }, { cancelled: s.counters.cancelled + 1 }), effects };
      }
      if (t.phase === 'fenced') {
        effects.push({ kind: 'log', level: 'info', event: 'fenced-node-back', target: e.target, msg: `fenced node ${e.target} is back` });
        return { state: put(s, e.target, { ...IDLE, last: t.last }), effects };
      }
      return { state: s, effects }; // idle: nothing to do; fencing: wait for the agent
    }
    case 'tick': {
      let state = s;
      for (const [target, t] of s.targets) {
        if ((t.phase === 'delaying' || t.phase === 'retry-wait') && t.dueMs !== null && nowMs >= t.dueMs) state = launch(state, target, t, nowMs, cfg, effects);
      }
      return { state, effects };
    }
    case 'agent-done': {
      const t = targetState(s, e.target);
      if (t.phase !== 'fencing') return { state: s, effects };
      const last: FenceRecord = { action: cfg.action, outcome: e.outcome, atMs: nowMs, detail: e.detail };
      if (e.outcome === 'success') {
        effects.push({ kind: 'log', level: 'warn', event: 'fence-succeeded', target: e.target, msg: `node ${e.target} fenced (${cfg.action}): its buckets may be taken over`, data: { tookMs: nowMs - t.sinceMs } });
        return { state: put(s, e.target, { ...t, phase: 'fenced', sinceMs: nowMs, last }, { succeeded: s.counters.succeeded + 1 }), effects };
      }
      const attempts = t.attempts + 1;
      const waitMs = retryDelayMs(cfg, attempts);
      effects.push({ kind: 'log', level: 'error', event: 'fence-failed', target: e.target, msg: `fencing node ${e.target} ${e.outcome}: ${e.detail}; NOT taking over its buckets, retrying in ${waitMs} ms`, data: { attempts, retryInMs: waitMs } });
      return { state: put(s, e.target, { ...t, phase: 'retry-wait', dueMs: nowMs + waitMs, attempts, last }, { failed: s.counters.failed + 1 }), effects };
    }
  }
}

/** When the runner should next tick (the earliest delay or retry end), or null. */
export function nextDueMs(s: FenceState): number | null {
  let due: number | null = null;
  for (const t of s.targets.values()) if (t.dueMs !== null && (t.phase === 'delaying' || t.phase === 'retry-wait')) due = due === null ? t.dueMs : Math.min(due, t.dueMs);
  return due;
}
