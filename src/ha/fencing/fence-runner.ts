/**
 * Runs the fencing state machine (fence-machine.ts) against a fence agent on the injected
 * clock: asks the agent with the machine's deadline, feeds results back, logs and counts every
 * outcome. The cluster asks `allowed(target)` before it takes a silent peer's buckets.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { FenceAgent, FenceTarget } from './agent.js';
import { initFencing, nextDueMs, step, takeoverAllowed, targetState, type FenceConfig, type FenceEffect, type FenceEvent, type FenceRecord, type FenceState } from './fence-machine.js';

export interface FenceStatus {
  readonly agent: string;
  readonly delayMs: number;
  readonly counters: FenceState['counters'];
  readonly targets: { id: number; name: string; phase: string; attempts: number; last: FenceRecord | null }[];
}

export interface FenceRunner {
  require(target: number, reason: string): void;
  peerHeard(target: number): void;
  allowed(target: number): boolean;
  phase(target: number): string;
  status(): FenceStatus;
  /** Listen for gate openings (a fence succeeded): the cluster re-runs its decision at once. */
  onChange(fn: () => void): void;
  close(): void;
}

export function createFenceRunner(d: { cfg: FenceConfig; agent: FenceAgent; nodes: readonly FenceTarget[]; clock: Clock; log: Logger }): FenceRunner {
  const { clock, log, cfg } = d;
  let s: FenceState = initFencing();
  let timer: TimerHandle | null = null;
  let closed = false;
  const listeners: (() => void)[] = [];
  const byId = new Map(d.nodes.map((n) => [n.id, n]));

  function send(e: FenceEvent): void {
    if (closed) return;
    const before = s;
    const r = step(s, e, clock.nowMs(), cfg);
    s = r.state;
    for (const eff of r.effects) apply(eff);
    rearm();
    if (before !== s) for (const fn of listeners) fn();
  }

  function apply(e: FenceEffect): void {
    if (e.kind === 'log') {
      log[e.level]({ event: e.event, target: e.target, targetName: byId.get(e.target)?.name, ...e.data }, e.msg);
      return;
    }
    const target = byId.get(e.target) ?? { id: e.target, name: String(e.target) };
    void d.agent.run(e.action, target, e.timeoutMs).then(
      (r) => send({ kind: 'agent-done', target: e.target, outcome: r.outcome, detail: r.detail }),
      (err: unknown) => send({ kind: 'agent-done', target: e.target, outcome: 'failed', detail: String(err) }),
    );
  }

  function rearm(): void {
    if (timer !== null) { clock.clear(timer); timer = null; }
    const due = nextDueMs(s);
    if (due !== null) timer = clock.setTimer(Math.max(0, due - clock.nowMs()), () => { timer = null; send({ kind: 'tick' }); });
  }

  return {
    require: (target, reason) => send({ kind: 'required', target, reason }),
    peerHeard: (target) => { if (targetState(s, target).phase !== 'idle') send({ kind: 'peer-heard', target }); },
    allowed: (target) => takeoverAllowed(s, target),
    phase: (target) => targetState(s, target).phase,
    status: () => ({
      agent: d.agent.describe, delayMs: cfg.delayMs, counters: { ...s.counters },
      targets: [...s.targets].map(([id, t]) => ({ id, name: byId.get(id)?.name ?? String(id), phase: t.phase, attempts: t.attempts, last: t.last })),
    }),
    onChange: (fn) => { listeners.push(fn); },
    close() { closed = true; if (timer !== null) clock.clear(timer); },
  };
}
