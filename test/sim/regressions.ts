/**
 * Frozen regression schedules: every schedule a test replays by its seed, stored as it was drawn
 * (regressions.json), so the tests keep replaying the same faults when the generator changes.
 * `npm run sim -- --freeze SEED …` prints a seed's schedule as drawn now, to add one here.
 */
import { readFileSync } from 'node:fs';
import type { Schedule } from './schedule.js';

const FILE = new URL('./regressions.json', import.meta.url);
let cache: ReadonlyMap<number, Schedule> | null = null;

/** The frozen schedule of `seed`; throws if it was never frozen. */
export function frozen(seed: number): Schedule {
  cache ??= new Map((JSON.parse(readFileSync(FILE, 'utf8')) as Schedule[]).map((s) => [s.seed, s]));
  const s = cache.get(seed);
  if (!s) throw new Error(`seed ${seed} is not in test/sim/regressions.json: freeze it with npm run sim -- --freeze ${seed}`);
  return s;
}
