/**
 * Runs the fencing state machine (fence-machine.ts) against a fence agent on the injected
 * clock: asks the agent with the machine's deadline, feeds results back, logs and counts every
 * outcome. The cluster asks `allowed(target)` before it takes a silent peer's buckets.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../util/clock.js';
import { eachEffect, reducerLoop } from '../util/reducer-loop.js';
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
  let timer: TimerHandle | null = null;
  const listeners: (() => void)[] = [];
  const byId = new Map(d.nodes.map((n) => [n.id, n]));
  const loop = reducerLoop<FenceState, FenceEvent, FenceEffect>({
    init: initFencing(),
    step: (s, e, nowMs) => step(s, e, nowMs, cfg),
    clock,
    perform: eachEffect(apply),
    after(before, now) {
      rearm();
      if (before !== now) for (const fn of listeners) fn();
    },
  });
  const send = loop.dispatch;

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
    const due = nextDueMs(loop.state());
    if (due !== null) timer = clock.setTimer(Math.max(0, due - clock.nowMs()), () => { timer = null; send({ kind: 'tick' }); });
  }

  return {
    require: (target, reason) => send({ kind: 'required', target, reason }),
    peerHeard: (target) => { if (targetState(loop.state(), target).phase !== 'idle') send({ kind: 'peer-heard', target }); },
    allowed: (target) => takeoverAllowed(loop.state(), target),
    phase: (target) => targetState(loop.state(), target).phase,
    status: () => statusOf(loop.state()),
    onChange: (fn) => { listeners.push(fn); },
    close() { loop.close(); if (timer !== null) clock.clear(timer); },
  };

  function statusOf(s: FenceState): FenceStatus {
    return {
      agent: d.agent.describe, delayMs: cfg.delayMs, counters: { ...s.counters },
      targets: [...s.targets].map(([id, t]) => ({ id, name: byId.get(id)?.name ?? String(id), phase: t.phase, attempts: t.attempts, last: t.last })),
    };
  }
}
