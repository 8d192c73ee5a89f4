/**
 * The simulator catches broken protocol, not only broken timings: each mutation variant removes
 * one rule (src/takeover/mutations.ts) and a seed's schedule must show the violation it allows;
 * the same schedule passes with the protocol intact. The seeds were found with
 * `npm run sim -- --mutation NAME --seeds 3000` (the first seed that catches each one) and their
 * schedules frozen (test/sim/regressions.json).
 */
import { describe, expect, it } from 'vitest';
import { runSchedule } from '../../sim/schedule.js';
import { frozen } from '../../sim/regressions.js';
import type { ProtocolMutation } from '../../../src/takeover/mutations.js';

const CASES: readonly { mutation: ProtocolMutation; seed: number; kind: 'safety' | 'reset' | 'liveness' }[] = [
  { mutation: 'take-without-grant', seed: 517, kind: 'safety' },
  { mutation: 'skip-agreed-map-check', seed: 6318, kind: 'safety' },
  { mutation: 'lease-past-quorum-proof', seed: 5, kind: 'safety' },
  { mutation: 'handover-before-drain-ends', seed: 1, kind: 'reset' },
  { mutation: 'never-take-orphans', seed: 1, kind: 'liveness' },
];

describe('simulator mutation variants', () => {
  it.each(CASES)('$mutation is caught by seed $seed ($kind); the intact protocol passes it', ({ mutation, seed, kind }) => {
    expect(runSchedule({ ...frozen(seed), mutation })?.kind).toBe(kind);
    expect(runSchedule(frozen(seed))).toBeNull();
  }, 60_000);
});
