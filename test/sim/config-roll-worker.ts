/**
 * A worker of `test/sim/config-roll.ts --workers N`: runs the chunks of seeds the main thread
 * hands it and answers, per chunk, the seeds with violations. Every seed is independent and
 * deterministic, so splitting the seeds over workers changes nothing but the wall time.
 */
import { parentPort } from 'node:worker_threads';
import { runRoll, type RollOptions } from './config-roll.js';

export interface RollChunk { readonly from: number; readonly count: number; readonly broken: boolean | 'roll'; readonly opts: RollOptions }
export interface RollFailure { readonly seed: number; readonly line: string }
export interface RollChunkResult { readonly from: number; readonly count: number; readonly failures: readonly RollFailure[] }

export function runRollChunk(req: RollChunk): RollChunkResult {
  const failures: RollFailure[] = [];
  for (let s = req.from; s < req.from + req.count; s++) {
    const r = runRoll(s, req.broken, req.opts);
    if (r.violations.length > 0) failures.push({ seed: s, line: `seed ${s}: ${r.violations.join(' ')} | ${r.steps.join('; ')}` });
  }
  return { from: req.from, count: req.count, failures };
}

const port = parentPort;
if (port !== null) port.on('message', (req: RollChunk) => port.postMessage(runRollChunk(req)));
