/**
 * Runs seeds `from` .. `from + count - 1` in order and stops at the first violation: the unit
 * shared by the single-threaded simulator, its worker threads and the vitest batch.
 */
import { makeSchedule, runSchedule, type MakeScheduleOptions, type RunOptions, type Violation } from './schedule.js';

export interface ChunkRequest { readonly from: number; readonly count: number; readonly opts?: MakeScheduleOptions; readonly run?: RunOptions }

export interface SeedFailure { readonly seed: number; readonly n: number; readonly profile: string; readonly violation: Violation }

export interface ChunkResult { readonly from: number; readonly passed: number; readonly failure: SeedFailure | null }

export function runSeeds(req: ChunkRequest, trace?: (seed: number) => ((line: string) => void) | undefined): ChunkResult {
  let passed = 0;
  for (let seed = req.from; seed < req.from + req.count; seed++) {
    const s = makeSchedule(seed, req.opts);
    const violation = runSchedule(s, trace?.(seed), req.run);
    if (violation) return { from: req.from, passed, failure: { seed, n: s.n, profile: s.profile, violation } };
    passed++;
  }
  return { from: req.from, passed, failure: null };
}
