/**
 * `npx tsx test/sim/verdict-digest.ts --seeds N [--start S]`: each seed's verdict and its longest
 * takeover gap, for comparing two commits whose internals differ (a refactor must change neither).
 * Unlike trace-digest.ts it hashes nothing internal (status fields may be renamed or added), only
 * what the simulator judges: the verdict (pass, or the violated check) and, per seed, the longest
 * time any bucket's new flows were refused by every node after the start-up (3 dead times),
 * measured at the instants the simulator checks. One line per seed; then the verdict digest
 * (sha256 of the seed lines) and the gap distribution (p50/p99/max, all seeds and planned ones).
 *
 * Run it in halves on two cores and merge: `--summarize FILE…` reads seed lines from files
 * (in any order) and prints the same summary, so `(cat a b | sort -n -k2)` of two halves gives
 * the digest of the whole range.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gapLimitMs, makeSchedule } from './schedule.js';
import { runMeasuringGap } from './gap-stats.js';
import { wholeNumberFlag } from './args.js';

const args = process.argv.slice(2);
const num = (flag: string, dflt: number): number => wholeNumberFlag(args, flag, dflt);

interface SeedLine { seed: number; verdict: string; gapMs: number; limitMs: number | null; line: string }

const LINE = /^seed (\d+): (\S+) gap (\d+) ms(?: limit (\d+) ms)?$/;

function seedLine(seed: number): SeedLine {
  const s = makeSchedule(seed);
  const { verdict, longestMs: gapMs } = runMeasuringGap(s, false);
  const limitMs = s.planned ? gapLimitMs(s) : null;
  return { seed, verdict, gapMs, limitMs, line: `seed ${seed}: ${verdict} gap ${gapMs} ms${limitMs === null ? '' : ` limit ${limitMs} ms`}` };
}

function parse(line: string): SeedLine | null {
  const m = LINE.exec(line.trim());
  if (!m) return null;
  return { seed: Number(m[1]), verdict: m[2] as string, gapMs: Number(m[3]), limitMs: m[4] === undefined ? null : Number(m[4]), line: line.trim() };
}

const quantile = (xs: readonly number[], p: number): number => xs.length === 0 ? NaN : (xs[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))] as number);

export function summary(lines: readonly SeedLine[]): string {
  const sorted = [...lines].sort((a, b) => a.seed - b.seed);
  const h = createHash('sha256');
  for (const l of sorted) h.update(`${l.line}\n`);
  const verdicts = new Map<string, number>();
  for (const l of sorted) verdicts.set(l.verdict, (verdicts.get(l.verdict) ?? 0) + 1);
  const gaps = sorted.map((l) => l.gapMs).sort((a, b) => a - b);
  const planned = sorted.filter((l) => l.limitMs !== null);
  const ratios = planned.map((l) => l.gapMs / (l.limitMs as number)).sort((a, b) => a - b);
  const first = sorted[0]?.seed ?? 0;
  const last = sorted[sorted.length - 1]?.seed ?? 0;
  const contiguous = sorted.every((l, i) => l.seed === first + i);
  return [
    `${sorted.length} seeds ${first}..${last}${contiguous ? '' : ' (NOT contiguous)'}: ${[...verdicts].map(([k, n]) => `${n} ${k}`).join(', ')}`,
    `verdict digest: ${h.digest('hex').slice(0, 32)}`,
    `takeover gap (longest refused per seed, ms): p50 ${quantile(gaps, 50)}, p99 ${quantile(gaps, 99)}, max ${quantile(gaps, 100)}, sum ${gaps.reduce((a, b) => a + b, 0)}`,
    `planned schedules: ${planned.length}; gap / limit: p50 ${quantile(ratios, 50).toFixed(3)}, p99 ${quantile(ratios, 99).toFixed(3)}, max ${quantile(ratios, 100).toFixed(3)}`,
  ].join('\n');
}

const sumAt = args.indexOf('--summarize');
if (sumAt >= 0) {
  const lines = args.slice(sumAt + 1).flatMap((f) => readFileSync(f, 'utf8').split('\n')).map(parse).filter((x): x is SeedLine => x !== null);
  process.stdout.write(`${summary(lines)}\n`);
} else {
  const seeds = num('--seeds', 100);
  const start = num('--start', 1);
  const out: SeedLine[] = [];
  for (let seed = start; seed < start + seeds; seed++) {
    const l = seedLine(seed);
    out.push(l);
    process.stdout.write(`${l.line}\n`);
  }
  process.stdout.write(`${summary(out)}\n`);
}
