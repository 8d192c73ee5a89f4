/**
 * The daemon's periodic duties (heartbeat every intervalMs, lease renewal every renewMs) on as
 * few wake-ups as their periods allow. Two timers of 40 and 20 ms wake a process 75 times a
 * second when their deadlines drift apart; one timer at the shorter period, running the longer
 * duty on every second tick, wakes it 50 times and does the same work at the same instants.
 *
 * `cadencePlan` (pure) finds that shape: when every period is a whole multiple of the shortest
 * one, a single repeating timer at the shortest period runs duty i on every `every[i]`-th tick,
 * duties due on the same tick in the order given. Otherwise (periods that do not divide, e.g.
 * 15 and 40 ms) there is no common tick short of their greatest common divisor, which would wake
 * the process more often than both timers together: then each duty keeps its own timer.
 *
 * On a fake clock both shapes fire at the same instants in the same order as one repeating timer
 * per duty created in that order, so the simulator's schedules do not change.
 */
import type { Clock, TimerHandle } from '../util/clock.js';

export interface Duty {
  readonly periodMs: number;
  readonly run: () => void;
}

export interface CadencePlan {
  readonly baseMs: number;
  /** Duty i runs on ticks k (1, 2, …) with k % every[i] === 0. */
  readonly every: readonly number[];
}

/** One base period for all duties, or null when their periods are not multiples of the shortest. */
export function cadencePlan(periodsMs: readonly number[]): CadencePlan | null {
  if (periodsMs.length === 0) return null;
  const baseMs = Math.min(...periodsMs);
  if (!(baseMs > 0)) return null;
  const every = periodsMs.map((p) => p / baseMs);
  return every.every((k) => Number.isInteger(k)) ? { baseMs, every } : null;
}

/** Starts the duties; the handles returned are what `clock.clear` stops. */
export function startCadence(clock: Clock, duties: readonly Duty[]): TimerHandle[] {
  const plan = cadencePlan(duties.map((d) => d.periodMs));
  if (plan === null) return duties.map((d) => clock.setRepeating(d.periodMs, d.run));
  let tick = 0;
  return [clock.setRepeating(plan.baseMs, () => {
    tick++;
    duties.forEach((d, i) => { if (tick % (plan.every[i] as number) === 0) d.run(); });
  })];
}
