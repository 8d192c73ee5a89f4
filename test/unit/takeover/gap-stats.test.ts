/** The gap statistics of `npm run sim -- --gap-stats`: per planned schedule, longest refusal against its limit. */
import { describe, expect, it } from 'vitest';
import { gapReport, gapStat, gapStatOf } from '../../sim/gap-stats.js';
import { frozen } from '../../sim/regressions.js';
import { makeSchedule } from '../../sim/schedule.js';

describe('gap statistics', () => {
  it('a random schedule has none; a planned one reports its longest refusal under its limit, as the invariant saw it', () => {
    let random = 1;
    while (makeSchedule(random).planned) random++;
    expect(gapStat(random)).toBeNull();
    const g = gapStatOf(frozen(17150));
    expect(g).toMatchObject({ seed: 17150, n: 4, profile: 'default', limitMs: 109, verdict: 'pass' });
    expect(g?.longestMs).toBeGreaterThan(0);
    expect(g?.longestMs).toBeLessThanOrEqual(109);
  });

  it('the report gives the distribution of longest / limit and the worst seeds first', () => {
    const stats = [
      { seed: 1, n: 3, profile: 'fast', longestMs: 0, limitMs: 10, verdict: 'pass' },
      { seed: 2, n: 3, profile: 'fast', longestMs: 5, limitMs: 10, verdict: 'pass' },
      { seed: 3, n: 4, profile: 'default', longestMs: 110, limitMs: 100, verdict: 'gap' },
    ];
    const r = gapReport(stats, 2);
    expect(r).toContain('3 planned schedules; 1 with no bucket refused at all');
    expect(r).toContain('p50 0.500, p90 1.100, p99 1.100, max 1.100');
    expect(r.split('\n').slice(-2)).toEqual(['  seed 3 (4 nodes, default): 110 ms of 100 (gap)', '  seed 2 (3 nodes, fast): 5 ms of 10 (pass)']);
  });
});
