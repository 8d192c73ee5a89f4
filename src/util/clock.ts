/**
 * Time as a port: the daemon reads the clock and arms timers only through this, so unit tests
 * drive time with `fakeClock().advance(ms)` instead of sleeping.
 */
export interface TimerHandle { readonly id: number }

export interface Clock {
  nowMs(): number;
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  setRepeating(periodMs: number, fn: () => void): TimerHandle;
  clear(handle: TimerHandle): void;
}

export const systemClock: Clock = (() => {
  const timers = new Map<number, NodeJS.Timeout>();
  let next = 1;
  const keep = (t: NodeJS.Timeout): TimerHandle => {
    const id = next++;
    timers.set(id, t);
    return { id };
  };
  return {
    nowMs: () => performance.now(),
    setTimer(delayMs, fn) {
      const h = keep(setTimeout(() => { timers.delete(h.id); fn(); }, delayMs));
      return h;
    },
    setRepeating: (periodMs, fn) => keep(setInterval(fn, periodMs)),
    clear(handle) {
      const t = timers.get(handle.id);
      if (t) { clearTimeout(t); clearInterval(t); timers.delete(handle.id); }
    },
  };
})();

export interface FakeClock extends Clock {
  advance(ms: number): void;
  pending(): number;
}

export function fakeClock(startMs = 0): FakeClock {
  let now = startMs;
  let next = 1;
  const timers = new Map<number, { at: number; periodMs: number | null; fn: () => void }>();
  const clock: FakeClock = {
    nowMs: () => now,
    setTimer(delayMs, fn) {
      const id = next++;
      timers.set(id, { at: now + Math.max(0, delayMs), periodMs: null, fn });
      return { id };
    },
    setRepeating(periodMs, fn) {
      const id = next++;
      timers.set(id, { at: now + periodMs, periodMs: Math.max(1, periodMs), fn });
      return { id };
    },
    clear: (h) => void timers.delete(h.id),
    pending: () => timers.size,
    advance(ms) {
      const end = now + ms;
      for (;;) {
        let dueId = -1;
        let dueAt = Infinity;
        for (const [id, t] of timers) if (t.at <= end && t.at < dueAt) { dueAt = t.at; dueId = id; }
        const t = timers.get(dueId);
        if (!t) break;
        now = dueAt;
        if (t.periodMs === null) timers.delete(dueId);
        else t.at += t.periodMs;
        t.fn();
      }
      now = end;
    },
  };
  return clock;
}
