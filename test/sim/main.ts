/**
 * `npm run sim -- --seeds N [--start S] [--workers W] [--progress P] [--trace] [--wire-codec] [--every-ms]`:
 * runs N seeded fault schedules (seeds S, S+1, …) on the simulated cluster and prints the first
 * failing seed with a replayable trace. `--list FILE` runs the seeds listed in FILE instead (one
 * per line, in this thread) and prints every failing one (e.g. the seeds whose schedules a
 * generator change altered, after a long run on the old generator).
 *
 * --workers W (default: one per core) spreads the seeds over worker threads; the result is the
 * same as one thread's (see pool.ts). --trace runs in this thread and prints each schedule's
 * faults. --progress P prints a progress line to stderr every P schedules (default 1000).
 * --wire-codec sends heartbeats through the real wire codec instead of by reference
 * (sim-codec.ts); --every-ms checks every simulated millisecond instead of skipping the quiet
 * ones (schedule.ts). Both give the same verdicts, only slower. --gap-stats prints how close the
 * planned schedules come to the hand-over gap limit (gap-stats.ts), in this thread.
 *
 * --freeze SEED… prints those seeds' schedules as JSON (for test/sim/regressions.json, which the
 * tests replay so that a change of the generator does not change what they test).
 *
 * --resources runs the cluster resource simulator instead (test/crm/crm-sim.ts, docs/crm.md).
 *
 * --mutation NAME runs the same schedules with a deliberate protocol fault in every node
 * (src/takeover/mutations.ts) and succeeds when a check catches it: it prints the first seed
 * that fails and which check fired, and exits 1 if none of the N seeds caught it.
 */
import { availableParallelism } from 'node:os';
import { runSeeds, type SeedFailure } from './run-seeds.js';
import { runSeedRange } from './pool.js';
import type { MakeScheduleOptions, RunOptions } from './schedule.js';
import { PROTOCOL_MUTATIONS, isProtocolMutation } from '../../src/takeover/mutations.js';
import { wholeNumberFlag } from './args.js';

// --resources: the cluster resource simulator instead (test/crm/sim-main.ts; its own --seeds, --start, --mutation).
if (process.argv.includes('--resources')) {
  const { crmSimMain } = await import('../crm/sim-main.js');
  process.exit(crmSimMain(process.argv.slice(2)));
}

const args = process.argv.slice(2);
const num = (flag: string, dflt: number): number => wholeNumberFlag(args, flag, dflt);
const seeds = num('--seeds', 1000);
const start = num('--start', 1);
const trace = args.includes('--trace');
const run: RunOptions = { wireCodec: args.includes('--wire-codec'), everyMs: args.includes('--every-ms') };
const mutationAt = args.indexOf('--mutation');
const mutationName = mutationAt >= 0 ? (args[mutationAt + 1] ?? '') : null;
if (mutationName !== null && !isProtocolMutation(mutationName)) throw new Error(`--mutation wants one of ${PROTOCOL_MUTATIONS.join(', ')}, got ${JSON.stringify(mutationName)}`);
const opts: MakeScheduleOptions | undefined = mutationName !== null && isProtocolMutation(mutationName) ? { mutation: mutationName } : undefined;
const workers = trace ? 1 : Math.max(1, num('--workers', availableParallelism()));
const progressEvery = Math.max(1, num('--progress', 1000));
const t0 = performance.now();
const elapsed = (): string => ((performance.now() - t0) / 1000).toFixed(1);

let done = 0;
let nextProgress = progressEvery;
function progress(passed: number): void {
  done += passed;
  if (done < nextProgress) return;
  const rate = done / ((performance.now() - t0) / 1000);
  process.stderr.write(`[sim] ${done}/${seeds} schedules, ${elapsed()} s (${rate.toFixed(0)}/s)\n`);
  while (nextProgress <= done) nextProgress += progressEvery;
}

function finish(failure: SeedFailure | null, usedWorkers: number): void {
  if (mutationName !== null) {
    // A mutation variant: a violation is the expected outcome, and its seed the evidence.
    if (failure) {
      const { seed, n, profile, violation: v } = failure;
      process.stdout.write(`mutation ${mutationName} caught by seed ${seed} (${n} nodes, ${profile}): ${v.kind} at ${v.atMs} ms: ${v.detail} (${elapsed()} s)\n`);
      process.exit(0);
    }
    process.stdout.write(`mutation ${mutationName} NOT caught in seeds ${start}..${start + seeds - 1} (${elapsed()} s)\n`);
    process.exit(1);
  }
  if (failure) {
    const { seed, n, profile, violation: v } = failure;
    process.stdout.write(`FAIL seed ${seed} (${n} nodes, ${profile}): ${v.kind} at ${v.atMs} ms: ${v.detail}\n`);
    process.stdout.write(`replay: npm run sim -- --start ${seed} --seeds 1 --trace\n`);
    process.exit(1);
  }
  process.stdout.write(`${seeds} passed, 0 failed (seeds ${start}..${start + seeds - 1}, ${elapsed()} s, ${usedWorkers} worker${usedWorkers === 1 ? '' : 's'})\n`);
}

const freezeAt = args.indexOf('--freeze');
if (freezeAt >= 0) {
  // The schedules of the seeds that follow, as drawn now, for test/sim/regressions.json.
  const { makeSchedule } = await import('./schedule.js');
  const list = args.slice(freezeAt + 1).filter((a) => /^\d+$/.test(a)).map(Number);
  process.stdout.write(`${JSON.stringify(list.map((seed) => makeSchedule(seed)))}\n`);
  process.exit(0);
}

if (args.includes('--gap-stats')) {
  const { gapStat, gapReport } = await import('./gap-stats.js');
  const stats = [];
  for (let seed = start; seed < start + seeds; seed++) {
    const g = gapStat(seed);
    if (g) stats.push(g);
    progress(1);
  }
  process.stdout.write(`${gapReport(stats)}\n(seeds ${start}..${start + seeds - 1}, ${elapsed()} s)\n`);
  process.exit(0);
}

const listAt = args.indexOf('--list');
if (listAt >= 0) {
  const { readFileSync } = await import('node:fs');
  const list = readFileSync(args[listAt + 1] ?? '', 'utf8').split(/\s+/).filter((x) => x !== '').map(Number);
  if (list.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`--list wants a file of whole numbers, one per line`);
  let failed = 0;
  for (const seed of list) {
    const r = runSeeds({ from: seed, count: 1, run });
    progress(r.passed);
    if (r.failure) {
      failed++;
      const { n, profile, violation: v } = r.failure;
      process.stdout.write(`FAIL seed ${seed} (${n} nodes, ${profile}): ${v.kind} at ${v.atMs} ms: ${v.detail}\n`);
    }
  }
  process.stdout.write(`${list.length - failed} passed, ${failed} failed (${list.length} listed seeds, ${elapsed()} s)\n`);
  process.exit(failed === 0 ? 0 : 1);
}

if (trace) {
  // One seed at a time in this thread, printing each schedule's faults as it goes.
  const tracer = () => (line: string) => void process.stdout.write(`  ${line}\n`);
  let failure: SeedFailure | null = null;
  for (let seed = start; seed < start + seeds && failure === null; seed++) {
    const r = runSeeds({ from: seed, count: 1, run, ...(opts ? { opts } : {}) }, tracer);
    progress(r.passed);
    failure = r.failure;
  }
  finish(failure, 1);
} else {
  const r = await runSeedRange({ start, seeds, workers, run, onPassed: progress, ...(opts ? { opts } : {}) });
  finish(r.failure, workers);
}
