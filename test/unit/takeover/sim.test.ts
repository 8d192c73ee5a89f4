/**
 * The seeded fault-schedule simulator (test/sim) as a test: a batch of schedules with zero
 * violations, and proof that it catches deliberately broken timings — the ones the config loader
 * refuses, laid over the parsed config to get past it. `npm run sim -- --seeds 100000` runs the
 * long batch; SIM_SEEDS=N sets this one's size. Equivalence of the simulator's shortcuts (quiet
 * milliseconds skipped, heartbeats by reference) with the literal way: sim-harness.test.ts.
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { runSeedRange } from '../../sim/pool.js';
import { runSeeds } from '../../sim/run-seeds.js';
import { PROFILES, type MakeScheduleOptions } from '../../sim/schedule.js';

// 800 schedules: about 55 s of CPU, under 30 s on 2 idle cores (the run is 2 worker threads).
const BATCH = Number(process.env.SIM_SEEDS ?? 800);

/** The first violation among seeds 1..`within` (they run in order and stop at the first). */
function firstViolation(opts: MakeScheduleOptions, within = 200): { seed: number; kind: string } | null {
  const r = runSeeds({ from: 1, count: within, opts });
  return r.failure && { seed: r.failure.seed, kind: r.failure.violation.kind };
}

describe('seeded fault schedules (crash, freeze, restart, one- and two-way cuts, loss, duplication, jitter)', () => {
  it(`${BATCH} schedules: no bucket ever answered by two nodes, every bucket answered once faults stop`, async () => {
    const r = await runSeedRange({ start: 1, seeds: BATCH, workers: Math.min(2, availableParallelism()) });
    expect(r.failure).toBeNull();
    expect(r.passed).toBe(BATCH);
  }, 400_000); // a generous bound for a loaded machine; on 2 idle cores it takes under 30 s
});

describe.each(['fast', 'default'] as const)('broken timings are caught (%s profile)', (profile) => {
  const t = PROFILES[profile];
  const deadMs = t.intervalMs * t.deadAfter;

  it('a kernel lease twice the dead time, the margin lowered to match (leaseMs + marginMs as in the profile): two nodes answer a bucket', () => {
    // The negative margin lets the lease run past the moment a quorum may call the node dead
    // (proof + deadMs). The loader refuses both values (marginMs must be 0..10000; deadMs must
    // exceed leaseMs + marginMs by three intervals).
    const leaseMs = 2 * deadMs;
    const v = firstViolation({ profile, unchecked: { leaseMs, marginMs: t.leaseMs + t.marginMs - leaseMs } });
    expect(v?.kind).toBe('safety');
  }, 120_000);

  it('renewing on any remembered quorum proof, however old (no freshness check): two nodes answer a bucket', () => {
    // A huge negative margin makes every proof still on record fresh enough; only "a quorum is
    // heard" still holds the node back. The loader refuses it (marginMs must be 0..10000).
    const v = firstViolation({ profile, unchecked: { marginMs: -1e9 } });
    expect(v?.kind).toBe('safety');
  }, 120_000);
});
