/**
 * A manual clock for `Schedule`-driven code: nothing runs until the test calls `advance`, so
 * timing is asserted exactly and no test sleeps. Callbacks run in due-time order (ties in
 * scheduling order), including ones scheduled by a callback during the same `advance`.
 */
import type { Schedule } from '../../../src/arp/garp-burst.js';

export interface FakeScheduler {
  readonly schedule: Schedule;
  now(): number;
  advance(ms: number): void;
  /** Timers scheduled and neither fired nor canceled. */
  pending(): number;
}

interface Timer {
  readonly due: number;
  readonly seq: number;
  readonly callback: () => void;
}

export function createFakeScheduler(): FakeScheduler {
  let now = 0;
  let seq = 0;
  const timers = new Set<Timer>();

  function nextDue(until: number): Timer | undefined {
    let best: Timer | undefined;
    for (const t of timers) {
      if (t.due > until) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }

  return {
    schedule(callback, delayMs) {
      const timer: Timer = { due: now + Math.max(0, delayMs), seq: seq++, callback };
      timers.add(timer);
      return () => { timers.delete(timer); };
    },
    now: () => now,
    advance(ms) {
      const until = now + ms;
      for (let t = nextDue(until); t; t = nextDue(until)) {
        timers.delete(t);
        now = t.due;
        t.callback();
      }
      now = until;
    },
    pending: () => timers.size,
  };
}
