/**
 * Runs a range of seeds on worker threads (or in this thread for a handful of seeds). Chunks go
 * out in seed order and every seed is deterministic and independent, so the outcome equals one
 * thread's: after a failure the workers finish the seeds below it, and the lowest failing seed is
 * reported.
 *
 * The workers run the simulator bundled once by esbuild (worker-bundle.ts) rather than through
 * tsx's loader, whose per-function name helpers cost about a third of a simulated run.
 */
import { Worker } from 'node:worker_threads';
import { runSeeds, type ChunkRequest, type ChunkResult, type SeedFailure } from './run-seeds.js';
import type { MakeScheduleOptions, RunOptions } from './schedule.js';
import { workerBundle } from './worker-bundle.js';

export interface PoolRequest {
  readonly start: number;
  readonly seeds: number;
  readonly workers: number;
  readonly opts?: MakeScheduleOptions;
  readonly run?: RunOptions;
  /** Called with the number of schedules that passed, as chunks complete. */
  readonly onPassed?: (passed: number) => void;
}

export interface PoolResult { readonly passed: number; readonly failure: SeedFailure | null }

/** Fewer seeds than this run in this thread: bundling and starting a worker would cost more. */
const IN_THREAD_BELOW = 20;

export function runSeedRange(req: PoolRequest): Promise<PoolResult> {
  const end = req.start + req.seeds;
  const workers = Math.max(1, Math.min(req.workers, Math.ceil(req.seeds / 10)));
  const extra = { ...(req.opts ? { opts: req.opts } : {}), ...(req.run ? { run: req.run } : {}) };
  if (req.seeds < IN_THREAD_BELOW) {
    const r = runSeeds({ from: req.start, count: req.seeds, ...extra });
    req.onPassed?.(r.passed);
    return Promise.resolve({ passed: r.passed, failure: r.failure });
  }
  const chunk = Math.max(5, Math.min(200, Math.floor(req.seeds / (workers * 20))));
  const bundle = workerBundle();
  return new Promise((resolve, reject) => {
    let nextFrom = req.start;
    let failure: SeedFailure | null = null;
    let passed = 0;
    let active = workers;
    const done = (): void => {
      bundle.dispose();
      resolve({ passed, failure });
    };
    const feed = (w: Worker): void => {
      if (nextFrom >= end || (failure !== null && nextFrom > failure.seed)) {
        void w.terminate();
        if (--active === 0) done();
        return;
      }
      const msg: ChunkRequest = { from: nextFrom, count: Math.min(chunk, end - nextFrom), ...extra };
      nextFrom += msg.count;
      w.postMessage(msg);
    };
    const pool = Array.from({ length: workers }, () => new Worker(bundle.source, { eval: true }));
    for (const w of pool) {
      w.on('message', (r: ChunkResult) => {
        passed += r.passed;
        req.onPassed?.(r.passed);
        if (r.failure && (failure === null || r.failure.seed < failure.seed)) failure = r.failure;
        feed(w);
      });
      w.on('error', (err) => {
        for (const x of pool) void x.terminate();
        bundle.dispose();
        reject(err);
      });
      feed(w);
    }
  });
}
