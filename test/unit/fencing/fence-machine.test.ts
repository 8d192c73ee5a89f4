/**
 * The fencing state machine on plain numbers for time (no timers, no sleeps), and a two-node
 * race replayed step by step: both nodes lose each other at the same instant, each with its own
 * configured delay; the faster one fences first and the other never fires.
 */
import { describe, expect, it } from 'vitest';
import { initFencing, nextDueMs, retryDelayMs, step, takeoverAllowed, targetState, type FenceConfig, type FenceEffect, type FenceEvent, type FenceState } from '../../../src/fencing/fence-machine.js';

const CFG: FenceConfig = { action: 'off', delayMs: 0, timeoutMs: 5000, retryBaseMs: 1000, retryMaxMs: 16_000 };

class Node {
  s: FenceState = initFencing();
  effects: FenceEffect[] = [];
  constructor(readonly cfg: FenceConfig = CFG) {}
  send(e: FenceEvent, nowMs: number): FenceEffect[] {
    const r = step(this.s, e, nowMs, this.cfg);
    this.s = r.state;
    this.effects.push(...r.effects);
    return [...r.effects];
  }
}

const kinds = (effects: readonly FenceEffect[]): string[] => effects.map((e) => (e.kind === 'log' ? `log:${e.event}` : `run:${e.target}:${e.action}`));

describe('fencing state machine', () => {
  it('fence before takeover: the gate opens only on a reported success', () => {
    const n = new Node();
    expect(takeoverAllowed(n.s, 2)).toBe(false);
    expect(kinds(n.send({ kind: 'required', target: 2, reason: 'silent while holding buckets' }, 0))).toEqual(['log:fence-required', 'run:2:off', 'log:fence-started']);
    expect(targetState(n.s, 2).phase).toBe('fencing');
    expect(takeoverAllowed(n.s, 2)).toBe(false);
    // A second requirement while running starts nothing new.
    expect(n.send({ kind: 'required', target: 2, reason: 'again' }, 10)).toEqual([]);
    expect(kinds(n.send({ kind: 'agent-done', target: 2, outcome: 'success', detail: 'exit 0' }, 300))).toEqual(['log:fence-succeeded']);
    expect(takeoverAllowed(n.s, 2)).toBe(true);
    expect(targetState(n.s, 2).last).toEqual({ action: 'off', outcome: 'success', atMs: 300, detail: 'exit 0' });
    expect(n.s.counters).toEqual({ requested: 1, succeeded: 1, failed: 0, cancelled: 0 });
  });

  it('a failed or timed-out fence blocks the takeover and retries with doubling backoff', () => {
    const n = new Node();
    n.send({ kind: 'required', target: 3, reason: 'two-node split' }, 0);
    const e = n.send({ kind: 'agent-done', target: 3, outcome: 'failed', detail: 'exit 1: Unable to connect' }, 100);
    expect(kinds(e)).toEqual(['log:fence-failed']);
    expect(e[0]).toMatchObject({ level: 'error' });
    expect(takeoverAllowed(n.s, 3)).toBe(false);
    expect(targetState(n.s, 3)).toMatchObject({ phase: 'retry-wait', dueMs: 1100, attempts: 1 });
    expect(nextDueMs(n.s)).toBe(1100);
    expect(n.send({ kind: 'tick' }, 1099)).toEqual([]);
    expect(kinds(n.send({ kind: 'tick' }, 1100))).toEqual(['run:3:off', 'log:fence-started']);
    n.send({ kind: 'agent-done', target: 3, outcome: 'timeout', detail: 'no answer in 5000 ms' }, 6100);
    expect(targetState(n.s, 3)).toMatchObject({ phase: 'retry-wait', dueMs: 6100 + 2000, attempts: 2 });
    expect(takeoverAllowed(n.s, 3)).toBe(false);
    expect([1, 2, 3, 4, 5, 6].map((a) => retryDelayMs(CFG, a))).toEqual([1000, 2000, 4000, 8000, 16_000, 16_000]);
    n.send({ kind: 'tick' }, 8100);
    n.send({ kind: 'agent-done', target: 3, outcome: 'success', detail: '' }, 8200);
    expect(takeoverAllowed(n.s, 3)).toBe(true);
    expect(n.s.counters).toMatchObject({ failed: 2, succeeded: 1 });
  });

  it('never guesses: a result for a run that is not in flight changes nothing', () => {
    const n = new Node();
    expect(n.send({ kind: 'agent-done', target: 2, outcome: 'success', detail: '' }, 0)).toEqual([]);
    expect(takeoverAllowed(n.s, 2)).toBe(false);
  });

  it('a peer heard again during the delay or a retry wait needs no fence; during a run the run decides', () => {
    const n = new Node({ ...CFG, delayMs: 500 });
    n.send({ kind: 'required', target: 2, reason: 'silent' }, 0);
    expect(kinds(n.send({ kind: 'peer-heard', target: 2 }, 200))).toEqual(['log:fence-cancelled']);
    expect(n.send({ kind: 'tick' }, 600)).toEqual([]);
    n.send({ kind: 'required', target: 2, reason: 'silent' }, 1000);
    n.send({ kind: 'tick' }, 1500);
    expect(targetState(n.s, 2).phase).toBe('fencing');
    expect(n.send({ kind: 'peer-heard', target: 2 }, 1600)).toEqual([]);
    n.send({ kind: 'agent-done', target: 2, outcome: 'success', detail: '' }, 1700);
    expect(takeoverAllowed(n.s, 2)).toBe(true);
    // The fenced node comes back (rebooted): the gate closes again.
    expect(kinds(n.send({ kind: 'peer-heard', target: 2 }, 9000))).toEqual(['log:fenced-node-back']);
    expect(takeoverAllowed(n.s, 2)).toBe(false);
  });

  it('two-node race: different delays, the faster node fences first, the slower never fires', () => {
    const a = new Node({ ...CFG, delayMs: 0 }); // node 1
    const b = new Node({ ...CFG, delayMs: 3000 }); // node 2
    // Both lose the heartbeat path at t=0 and both decide the other must be fenced.
    const ae = a.send({ kind: 'required', target: 2, reason: 'two-node split' }, 0);
    b.send({ kind: 'required', target: 1, reason: 'two-node split' }, 0);
    expect(kinds(ae)).toContain('run:2:off');
    let bFired = false;
    let bAlive = true;
    for (let t = 0; t <= 10_000; t += 10) {
      if (t === 800) { a.send({ kind: 'agent-done', target: 2, outcome: 'success', detail: '' }, t); bAlive = false; }
      if (bAlive && b.send({ kind: 'tick' }, t).some((e) => e.kind === 'run-agent')) bFired = true;
    }
    expect(bFired).toBe(false);
    expect(takeoverAllowed(a.s, 2)).toBe(true);
    expect(takeoverAllowed(b.s, 1)).toBe(false);
  });

  it('targets are independent', () => {
    const n = new Node();
    n.send({ kind: 'required', target: 2, reason: 'x' }, 0);
    n.send({ kind: 'required', target: 3, reason: 'y' }, 0);
    n.send({ kind: 'agent-done', target: 3, outcome: 'success', detail: '' }, 10);
    expect(takeoverAllowed(n.s, 3)).toBe(true);
    expect(takeoverAllowed(n.s, 2)).toBe(false);
  });
});
