/**
 * Membership and takeover on the simulated cluster (fake clock, no sleeps): the scenarios the
 * lab measures for real, checked at every simulated millisecond.
 */
import { describe, expect, it } from 'vitest';
import { createSimCluster, doubleAnswered, type SimCluster, type SimTiming } from '../../sim/sim-cluster.js';

const DEFAULT: SimTiming = { intervalMs: 40, deadAfter: 6, suspectAfter: 3, leaseMs: 100, renewMs: 20, marginMs: 10 };
const FAST: SimTiming = { intervalMs: 4, deadAfter: 8, suspectAfter: 3, leaseMs: 16, renewMs: 4, marginMs: 2 };

/** Advances `ms` one millisecond at a time; fails on any bucket answered by two nodes. */
function run(c: SimCluster, ms: number, onStep?: (t: number) => void): void {
  for (let t = 0; t < ms; t++) {
    c.clock.advance(1);
    const dup = doubleAnswered(c);
    if (dup) throw new Error(`t=${c.clock.nowMs()}: bucket ${dup.bucket} answered by nodes ${dup.nodes.join(',')}`);
    onStep?.(t);
  }
}

function unanswered(c: SimCluster, buckets = 64): number[] {
  const a = c.answering();
  return Array.from({ length: buckets }, (_, b) => b).filter((b) => !a.has(b));
}

describe.each([['default', DEFAULT], ['fast', FAST]] as const)('%s profile, 3 nodes', (_name, timing) => {
  const deadMs = timing.intervalMs * timing.deadAfter;

  it('cold start: every bucket answered by exactly one node', () => {
    const c = createSimCluster(3, timing);
    run(c, deadMs * 3);
    expect(unanswered(c)).toEqual([]);
  });

  it('crash: the dead node goes silent by its lease, the others take over within dead time + one interval', () => {
    const c = createSimCluster(3, timing);
    run(c, deadMs * 3);
    c.crash(2);
    let silentAt = -1;
    let healedAt = -1;
    run(c, deadMs * 4, (t) => {
      const missing = unanswered(c).length;
      if (silentAt < 0 && missing > 0) silentAt = t;
      if (silentAt >= 0 && healedAt < 0 && missing === 0) healedAt = t;
    });
    expect(unanswered(c)).toEqual([]);
    // The crashed node's clients go unanswered once its lease runs out (at most leaseMs after
    // the crash, up to 8 ms early in the kernel — exactly on time in the fake) ...
    expect(silentAt).toBeGreaterThanOrEqual(timing.leaseMs - timing.renewMs - 1);
    expect(silentAt).toBeLessThanOrEqual(timing.leaseMs);
    // ... and are answered again within dead time + one interval of the crash.
    expect(healedAt).toBeLessThanOrEqual(deadMs + timing.intervalMs);
  });

  it('freeze (SIGSTOP) and thaw: never two owners; the node serves again after thawing', () => {
    const c = createSimCluster(3, timing);
    run(c, deadMs * 3);
    c.freeze(2);
    run(c, deadMs * 3);
    expect(unanswered(c)).toEqual([]);
    c.thaw(2);
    run(c, deadMs * 3);
    expect(unanswered(c)).toEqual([]);
    expect(c.nodes[1]?.runtime?.serving()).toBe(true);
  });

  it('partition {1} | {2,3}: the minority goes silent, the majority takes its buckets, never both', () => {
    const c = createSimCluster(3, timing);
    run(c, deadMs * 3);
    c.cut([1], [2, 3], 'both');
    run(c, deadMs * 4);
    expect(c.nodes[0]?.dp.inspect().leaseRemainingMs).toBeNull();
    expect(unanswered(c)).toEqual([]);
    c.healAll();
    run(c, deadMs * 4);
    expect(unanswered(c)).toEqual([]);
    expect(c.nodes[0]?.runtime?.serving()).toBe(true);
  });

  it('one-way loss: node 1 hears the others but nobody hears node 1 — it stops renewing', () => {
    const c = createSimCluster(3, timing);
    run(c, deadMs * 3);
    c.cut([1], [2, 3], 'a-to-b');
    run(c, deadMs * 4);
    expect(c.nodes[0]?.dp.inspect().leaseRemainingMs).toBeNull();
    expect(unanswered(c)).toEqual([]);
  });

  it('a restarted node rejoins and gets its buckets back', () => {
    const c = createSimCluster(3, timing);
    run(c, deadMs * 3);
    const before = c.nodes[2]?.dp.inspect().owned;
    c.crash(3);
    run(c, deadMs * 3);
    c.restart(3);
    run(c, deadMs * 3);
    expect(unanswered(c)).toEqual([]);
    expect(c.nodes[2]?.dp.inspect().owned).toEqual(before);
  });
});
