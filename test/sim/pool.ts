/**
 * Runs a range of seeds on worker threads (or in this thread when workers = 1). Chunks go out in
 * seed order and every seed is deterministic and independent, so the outcome equals one thread's:
 * after a failure the workers finish the seeds below it, and the lowest failing seed is reported.
 */
import { Worker } from 'node:worker_threads';
import { runSeeds, type ChunkRequest, type ChunkResult, type SeedFailure } from './run-seeds.js';
import type { MakeScheduleOptions } from './schedule.js';

export interface PoolRequest {
  readonly start: number;
  readonly seeds: number;
  readonly workers: number;
  readonly opts?: MakeScheduleOptions;
  /** Called with the number of schedules that passed, as chunks complete. */
  readonly onPassed?: (passed: number) => void;
}

export interface PoolResult { readonly passed: number; readonly failure: SeedFailure | null }

/** A worker registers tsx's hooks itself (they do not reach a worker's entry module), then loads worker.ts. */
function bootSource(): string {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const worker = new URL('./worker.ts', import.meta.url).href;
  return `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(worker)}); });`;
}

export function runSeedRange(req: PoolRequest): Promise<PoolResult> {
  const end = req.start + req.seeds;
  const workers = Math.max(1, Math.min(req.workers, Math.ceil(req.seeds / 10)));
  if (workers === 1) {
    const r = runSeeds({ from: req.start, count: req.seeds, ...(req.opts ? { opts: req.opts } : {}) });
    req.onPassed?.(r.passed);
    return Promise.resolve({ passed: r.passed, failure: r.failure });
  }
  const chunk = Math.max(5, Math.min(200, Math.floor(req.seeds / (workers * 20))));
  return new Promise((resolve, reject) => {
    let nextFrom = req.start;
    let failure: SeedFailure | null = null;
    let passed = 0;
    let active = workers;
    const source = bootSource();
    const feed = (w: Worker): void => {
      if (nextFrom >= end || (failure !== null && nextFrom > failure.seed)) {
        void w.terminate();
        if (--active === 0) resolve({ passed, failure });
        return;
      }
      const msg: ChunkRequest = { from: nextFrom, count: Math.min(chunk, end - nextFrom), ...(req.opts ? { opts: req.opts } : {}) };
      nextFrom += msg.count;
      w.postMessage(msg);
    };
    const pool = Array.from({ length: workers }, () => new Worker(source, { eval: true }));
    for (const w of pool) {
      w.on('message', (r: ChunkResult) => {
        passed += r.passed;
        req.onPassed?.(r.passed);
        if (r.failure && (failure === null || r.failure.seed < failure.seed)) failure = r.failure;
        feed(w);
      });
      w.on('error', (err) => {
        for (const x of pool) void x.terminate();
        reject(err);
      });
      feed(w);
    }
  });
}
