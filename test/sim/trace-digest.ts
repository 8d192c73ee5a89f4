/**
 * `npx tsx test/sim/trace-digest.ts --seeds N [--start S]`: a fingerprint of what the simulated
 * cluster did on each seed, for refactors that must not change behaviour. At every instant the
 * simulator checks, every running node's status (owned buckets, phases, epoch, digest, lease
 * verdict, serving since, heartbeat counters, moves, config standing…) and its kernel state
 * (fake data path) are hashed, with the seed's verdict. Prints one line per seed and a digest
 * of all of them: the same commit gives the same lines; two commits whose lines differ behave
 * differently on that seed (diff the outputs to find the first one).
 */
import { createHash } from 'node:crypto';
import { makeSchedule, runSchedule } from './schedule.js';
import { wholeNumberFlag } from './args.js';

const args = process.argv.slice(2);
const num = (flag: string, dflt: number): number => wholeNumberFlag(args, flag, dflt);
const seeds = num('--seeds', 100);
const start = num('--start', 1);
const json = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Set ? [...(v as Set<unknown>)] : v instanceof Map ? [...(v as Map<unknown, unknown>)] : v));

const all = createHash('sha256');
for (let seed = start; seed < start + seeds; seed++) {
  const h = createHash('sha256');
  let instants = 0;
  const violation = runSchedule(makeSchedule(seed), undefined, {
    observe(c, atMs) {
      instants++;
      h.update(`@${atMs}`);
      for (const n of c.nodes) h.update(n.runtime === null ? `${n.id}:down` : `${n.id}:${json(n.runtime.status())}:${json(n.dp.inspect())}`);
    },
  });
  const verdict = violation === null ? 'pass' : `FAIL ${violation.kind}`;
  const line = `seed ${seed}: ${h.digest('hex').slice(0, 16)} ${instants} instants ${verdict}`;
  all.update(line);
  process.stdout.write(`${line}\n`);
}
process.stdout.write(`all ${seeds} seeds from ${start}: ${all.digest('hex').slice(0, 16)}\n`);
