/**
 * `npm run sim -- --gap-stats --seeds N [--start S]`: how close the planned schedules among seeds
 * S.. come to the hand-over gap limit. For each planned schedule, the longest time any bucket's new
 * flows were refused by every node (checked every simulated millisecond, from the same instant
 * the invariant is checked), against its limit (schedule.ts gapLimitMs). Prints the distribution
 * of longest-gap / limit and the worst seeds: the margin the pass/fail verdict does not show.
 */
import { gapLimitMs, makeSchedule, runSchedule, type Schedule } from './schedule.js';

export interface GapStat { seed: number; n: number; profile: string; longestMs: number; limitMs: number; verdict: string }

export function gapStat(seed: number): GapStat | null {
  return gapStatOf(makeSchedule(seed));
}

/** The same for a given schedule (a frozen regression, test/sim/regressions.ts). */
export function gapStatOf(s: Schedule): GapStat | null {
  if (!s.planned) return null;
  const { verdict, longestMs } = runMeasuringGap(s, true);
  return { seed: s.seed, n: s.n, profile: s.profile, longestMs, limitMs: gapLimitMs(s), verdict };
}

/**
 * Runs a schedule and measures the longest time any bucket's new flows were refused by every node,
 * from three dead times after the start (the instant the invariant is checked from), at the
 * instants the simulator checks (`everyMs`: every simulated millisecond).
 */
export function runMeasuringGap(s: Schedule, everyMs: boolean): { verdict: string; longestMs: number } {
  const from = s.timing.intervalMs * s.timing.deadAfter * 3;
  const refused = new Uint8Array(64);
  const since = new Float64Array(64).fill(-1);
  let longestMs = 0;
  const v = runSchedule(s, undefined, {
    ...(everyMs ? { everyMs: true } : {}),
    observe: (c, atMs) => {
      if (atMs < from) return;
      c.refusedNow(refused);
      for (let b = 0; b < 64; b++) {
        if (!refused[b]) { since[b] = -1; continue; }
        if ((since[b] as number) < 0) since[b] = atMs;
        longestMs = Math.max(longestMs, atMs - (since[b] as number) + 1);
      }
    },
  });
  return { verdict: v === null ? 'pass' : v.kind, longestMs };
}

export function gapReport(stats: readonly GapStat[], worst = 5): string {
  const ratios = stats.map((x) => x.longestMs / x.limitMs).sort((a, b) => a - b);
  const q = (p: number): string => (ratios.length === 0 ? 'n/a' : (ratios[Math.min(ratios.length - 1, Math.ceil((p / 100) * ratios.length) - 1)] ?? 0).toFixed(3));
  const none = stats.filter((x) => x.longestMs === 0).length;
  const top = [...stats].sort((a, b) => b.longestMs / b.limitMs - a.longestMs / a.limitMs).slice(0, worst);
  return [
    `${stats.length} planned schedules; ${none} with no bucket refused at all`,
    `longest gap / limit: p50 ${q(50)}, p90 ${q(90)}, p99 ${q(99)}, max ${q(100)}`,
    'worst:',
    ...top.map((x) => `  seed ${x.seed} (${x.n} nodes, ${x.profile}): ${x.longestMs} ms of ${x.limitMs} (${x.verdict})`),
  ].join('\n');
}
