/**
 * Planned operations on the simulated cluster (fake clock, no sleeps), checked every simulated
 * millisecond: new flows of a bucket are never accepted by two nodes, no bucket is owned outright
 * while another node still drains it, and (planned operations) no bucket's new flows are refused
 * by every node for longer than one heartbeat interval.
 */
import { describe, expect, it } from 'vitest';
import { createSimCluster, type SimCluster, type SimTiming } from '../../sim/sim-cluster.js';
import { runChecked } from '../../sim/checked-run.js';
import { PROFILES } from '../../sim/schedule.js';

const BUCKETS = 64;

const run = (c: SimCluster, ms: number, each?: () => void): number => runChecked(c, ms, BUCKETS, each);

const held = (c: SimCluster, id: number): number => c.nodes[id - 1]?.dp.inspect().owned.length ?? -1;

describe.each([['default', PROFILES.default], ['fast', PROFILES.fast]] as [string, SimTiming][])('%s profile', (_name, timing) => {
  const deadMs = timing.intervalMs * timing.deadAfter;

  it('drain hands every bucket away without a gap longer than one interval; resume takes the share back', () => {
    const c = createSimCluster(3, timing);
    run(c, deadMs * 3);
    const before = held(c, 2);
    c.drain(2);
    expect(run(c, deadMs * 4)).toBeLessThanOrEqual(timing.intervalMs);
    expect(held(c, 2)).toBe(0);
    c.resume(2);
    expect(run(c, deadMs * 4)).toBeLessThanOrEqual(timing.intervalMs);
    expect(held(c, 2)).toBe(before);
  });

  it('a weight change moves buckets gracefully', () => {
    const c = createSimCluster(3, timing);
    run(c, deadMs * 3);
    c.setWeight(1, 300);
    expect(run(c, deadMs * 4)).toBeLessThanOrEqual(timing.intervalMs);
    expect(held(c, 1)).toBeGreaterThanOrEqual(Math.floor((BUCKETS * 3) / 5));
  });

  it('a fourth configured node starting later gets its share through the hand-over', () => {
    const c = createSimCluster(4, timing, BUCKETS, { lateJoin: [4] });
    run(c, deadMs * 4);
    expect(held(c, 4)).toBe(0);
    c.start(4);
    // The joiner answers nothing until its own lease runs; only after that do buckets move.
    run(c, deadMs * 4);
    expect(held(c, 4)).toBe(BUCKETS / 4);
  });

  it('graceful leave and start again: nothing refused for longer than one interval', () => {
    const c = createSimCluster(3, timing);
    run(c, deadMs * 3);
    void c.leave(3);
    expect(run(c, deadMs * 4)).toBeLessThanOrEqual(timing.intervalMs);
    expect(c.running(3)).toBe(false);
    c.start(3);
    expect(run(c, deadMs * 4)).toBeLessThanOrEqual(timing.intervalMs);
    expect(held(c, 3)).toBeGreaterThan(0);
  });

  it('hitless restart: the successor adopts the buckets and the lease; nothing refused at any millisecond', async () => {
    const c = createSimCluster(3, timing);
    run(c, deadMs * 3);
    const before = c.nodes[1]?.dp.inspect().owned;
    const ready = c.nodes[1]?.runtime?.prepareRestart(deadMs * 10);
    run(c, timing.intervalMs * 2);
    const adopt = await ready;
    if (!adopt) throw new Error('no adoption');
    expect(run(c, deadMs * 2)).toBe(0); // the old process is gone, its kernel keeps serving
    c.adoptRestart(2, adopt);
    expect(run(c, deadMs * 6)).toBe(0);
    expect(c.nodes[1]?.dp.inspect().owned).toEqual(before);
    expect(c.nodes[1]?.runtime?.serving()).toBe(true);
  });

  it('a restarting daemon that never comes back: its buckets are taken within the window + dead time, never twice', async () => {
    const c = createSimCluster(3, timing);
    run(c, deadMs * 3);
    const windowMs = deadMs * 4;
    const ready = c.nodes[1]?.runtime?.prepareRestart(windowMs);
    run(c, timing.intervalMs * 2);
    await ready;
    c.crash(2);
    const gap = run(c, windowMs + deadMs * 3);
    // Served by its kernel until the window ends, then taken over like a crash.
    expect(gap).toBeLessThanOrEqual(deadMs + timing.intervalMs * 2);
    expect(c.answering().size).toBe(BUCKETS);
  });
});
