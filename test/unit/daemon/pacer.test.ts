import { describe, expect, it } from 'vitest';
import { fakeClock, type Clock } from '../../../src/util/clock.js';
import { heartbeatDelayMs, renewDueAtMs, startPacer, type PacerParams } from '../../../src/daemon/pacer.js';

const DEFAULT: PacerParams = { intervalMs: 40, renewMs: 20, earlyMs: 8 };
const FAST: PacerParams = { intervalMs: 4, renewMs: 4, earlyMs: 8 };

/**
 * A lease holder as the reducer keeps one: each renewal grants `grantMs()` (0: refused). Checks,
 * at every renewal, that the lease written last had not already run out in the kernel (its end
 * minus earlyMs): the property the fixed-rate tick guaranteed and the pacer must keep.
 */
function run(p: PacerParams, ms: number, grantMs: (nowMs: number) => number, o: { align?: boolean; clock?: Clock & { advance(ms: number): void } } = {}) {
  const clock = o.clock ?? fakeClock(1_000);
  const beats: number[] = [];
  const renewals: number[] = [];
  const lapses: number[] = [];
  let until: number | null = null;
  const pacer = startPacer({
    clock, params: p, align: o.align === true,
    heartbeat: () => beats.push(clock.nowMs()),
    renew: () => {
      const now = clock.nowMs();
      if (until !== null && now >= until - p.earlyMs) lapses.push(now);
      const g = grantMs(now);
      until = g > 0 ? now + g : null;
      renewals.push(now);
    },
    leaseUntilMs: () => until,
  });
  clock.advance(ms);
  return { beats, renewals, lapses, wakeups: pacer.wakeups(), pacer };
}

describe('pacer: renewal due', () => {
  it('no lease running: renewMs after the last attempt (as the fixed tick)', () => {
    expect(renewDueAtMs(DEFAULT, 100, null)).toBe(120);
    expect(renewDueAtMs(DEFAULT, 100, 90)).toBe(120);
  });
  it('a full lease: renewMs before its earliest kernel end, never sooner than renewMs', () => {
    expect(renewDueAtMs(DEFAULT, 100, 200)).toBe(172);
    expect(renewDueAtMs(DEFAULT, 100, 130)).toBe(120);
    expect(renewDueAtMs(FAST, 100, 116)).toBe(104);
    expect(renewDueAtMs({ ...FAST, earlyMs: 0 }, 100, 112)).toBe(108);
  });
});

describe('pacer: heartbeat instants', () => {
  it('unaligned: one interval', () => expect(heartbeatDelayMs(40, null)).toBe(40));
  it('aligned on wall-clock multiples of the interval, never within an eighth of one', () => {
    expect(heartbeatDelayMs(40, 1_000_010)).toBe(30);
    expect(heartbeatDelayMs(40, 1_000_000)).toBe(40);
    expect(heartbeatDelayMs(40, 1_000_038)).toBe(42);
  });
});

describe('pacer: wake-ups', () => {
  it('default profile, a full lease: one wake-up per heartbeat (25/s), each renewing; the lease never lapses', () => {
    const r = run(DEFAULT, 10_000, () => 100);
    expect(r.beats.length).toBe(250);
    // One extra at the start: no lease yet, so the first renewal is due renewMs in.
    expect(r.wakeups).toBe(251);
    expect(r.renewals.slice(1)).toEqual(r.beats);
    expect(r.lapses).toEqual([]);
  });
  it('negative control: the same lease renewed on heartbeats only with a lease shorter than an interval + early lapses', () => {
    // A pacer that never armed its own renewal wake-up would let a 45 ms lease run out between 40 ms heartbeats.
    const r = run(DEFAULT, 2_000, () => 45);
    expect(r.lapses).toEqual([]);
    expect(r.renewals.length).toBeGreaterThan(r.beats.length);
  });
  it('a lease shortened by old proofs: renewals every renewMs in between, as the fixed tick did', () => {
    const r = run(DEFAULT, 1_000, () => 30);
    expect(r.lapses).toEqual([]);
    const gaps = r.renewals.slice(1).map((t, i) => t - (r.renewals[i] as number));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(DEFAULT.renewMs);
  });
  it('refused (no lease): retried every renewMs at least', () => {
    const r = run(DEFAULT, 1_000, () => 0);
    const gaps = r.renewals.slice(1).map((t, i) => t - (r.renewals[i] as number));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(DEFAULT.renewMs);
  });
  it('fast profile: one wake-up per 4 ms, heartbeat and renewal together', () => {
    const r = run(FAST, 1_000, () => 16);
    expect(r.wakeups).toBe(250);
    expect(r.renewals).toEqual(r.beats);
    expect(r.lapses).toEqual([]);
  });
  it('aligned: heartbeats on wall-clock multiples of the interval', () => {
    const r = run(DEFAULT, 1_000, () => 100, { align: true, clock: fakeClock(1_013) });
    expect(r.beats.every((t) => t % 40 === 0)).toBe(true);
    expect(r.beats[0]).toBe(1_040);
  });
  it('stop: no wake-up after it', () => {
    const clock = fakeClock(0);
    const r = run(DEFAULT, 100, () => 100, { clock });
    r.pacer.stop();
    const n = r.beats.length;
    clock.advance(1_000);
    expect(r.beats.length).toBe(n);
    expect(clock.pending()).toBe(0);
  });
});
