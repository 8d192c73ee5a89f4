/**
 * A daemon starved a little past its lease (its kernel lease ran out before it renewed) while it
 * drains: no quorum can have called it dead yet, so nobody took its buckets, and it keeps its
 * draining buckets (forgetting them let the new owner take them outright and reset their
 * connections: the streams lab's unexplained resets under load). Starved past the dead time, it
 * forgets them as before. Simulated cluster, fake clock, invariants checked every millisecond.
 */
import { describe, expect, it } from 'vitest';
import { createSimCluster, type SimCluster } from '../../sim/sim-cluster.js';
import { PROFILES } from '../../sim/schedule.js';

function run(c: SimCluster, ms: number): void {
  for (let t = 0; t < ms; t++) {
    c.clock.advance(1);
    const dup = c.firstDoubleAnswered();
    if (dup) throw new Error(`t=${c.clock.nowMs()}: bucket ${dup.bucket} new flows accepted by ${dup.nodes.join(',')}`);
    const risk = c.firstResetRisk();
    if (risk) throw new Error(`t=${c.clock.nowMs()}: bucket ${risk.bucket} owned by ${risk.owner} while ${risk.draining} drains it`);
  }
}

const timing = PROFILES.default;
const deadMs = timing.intervalMs * timing.deadAfter;
const draining = (c: SimCluster, id: number): number => c.nodes[id - 1]?.dp.inspect().draining.length ?? -1;

describe('an old owner starved past its lease while it drains', () => {
  it('keeps its draining buckets when no quorum can have called it dead', () => {
    const c = createSimCluster(3, timing, 64, { drainTimeoutMs: 60_000, seed: 3 });
    run(c, deadMs * 3);
    c.drain(1);
    run(c, deadMs);
    const before = draining(c, 1);
    expect(before).toBeGreaterThan(0);
    c.freeze(1);
    run(c, timing.leaseMs + 10); // the kernel lease ran out meanwhile
    expect(c.nodes[0]?.dp.inspect().leaseRemainingMs).toBeNull();
    c.thaw(1);
    run(c, timing.intervalMs * 3);
    expect(draining(c, 1)).toBe(before);
    expect(c.nodes[0]?.dp.inspect().leaseRemainingMs).not.toBeNull();
  });

  it('forgets them when it was starved past the dead time (the others may have taken them)', () => {
    const c = createSimCluster(3, timing, 64, { drainTimeoutMs: 60_000, seed: 3 });
    run(c, deadMs * 3);
    c.drain(1);
    run(c, deadMs);
    expect(draining(c, 1)).toBeGreaterThan(0);
    c.freeze(1);
    run(c, deadMs * 2);
    c.thaw(1);
    run(c, deadMs * 2);
    expect(draining(c, 1)).toBe(0);
  });
});
