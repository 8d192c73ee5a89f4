/**
 * Time as a port: the daemon reads the clock and arms timers only through this, so unit tests
 * drive time with `fakeClock().advance(ms)` instead of sleeping.
 */
export interface TimerHandle { readonly id: number }

export interface Clock {
  /** Monotonic milliseconds (arbitrary origin): every duration and deadline inside a process. */
  nowMs(): number;
  /**
   * Milliseconds since the Unix epoch: only for instants that must outlive this process (the
   * hitless restart's state file, read by the successor on its own monotonic clock).
   */
  wallMs(): number;
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
    wallMs: () => Date.now(),
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
  /** When the next timer is due (Infinity: none): lets a simulator skip time in which nothing fires. */
  nextDueMs(): number;
}

/**
 * Timers fire in order of due time, ties by creation order (a repeating timer keeps its place),
 * from a binary heap: advance() costs O(log n) per firing, not a scan of every timer. A timer
 * sits in the heap once; a cleared one is dropped when it surfaces.
 */
export function fakeClock(startMs = 0): FakeClock {
  let now = startMs;
  let next = 1;
  interface Timer { readonly id: number; at: number; readonly periodMs: number | null; readonly fn: () => void; cleared: boolean }
  const timers = new Map<number, Timer>();
  const heap: Timer[] = [];
  const before = (a: Timer, b: Timer): boolean => a.at < b.at || (a.at === b.at && a.id < b.id);
  const push = (t: Timer): void => {
    let i = heap.push(t) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Timer;
      if (!before(t, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = t;
  };
  const popTop = (): void => {
    const last = heap.pop() as Timer;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const c = r < heap.length && before(heap[r] as Timer, heap[l] as Timer) ? r : l;
      const child = heap[c] as Timer;
      if (!before(child, last)) break;
      heap[i] = child;
      i = c;
    }
    heap[i] = last;
  };
  const arm = (at: number, periodMs: number | null, fn: () => void): TimerHandle => {
    const t: Timer = { id: next++, at, periodMs, fn, cleared: false };
    timers.set(t.id, t);
    push(t);
    return { id: t.id };
  };
  const clock: FakeClock = {
    nowMs: () => now,
    wallMs: () => now, // the fake epoch is the fake clock's origin
    setTimer: (delayMs, fn) => arm(now + Math.max(0, delayMs), null, fn),
    setRepeating: (periodMs, fn) => arm(now + periodMs, Math.max(1, periodMs), fn),
    clear(h) {
      const t = timers.get(h.id);
      if (t) { t.cleared = true; timers.delete(h.id); }
    },
    pending: () => timers.size,
    nextDueMs() {
      while (heap[0]?.cleared === true) popTop();
      return heap[0]?.at ?? Infinity;
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const t = heap[0];
        if (t === undefined || t.at > end) break;
        popTop();
        if (t.cleared) continue;
        now = t.at;
        if (t.periodMs === null) timers.delete(t.id);
        else {
          t.at += t.periodMs;
          push(t);
        }
        t.fn();
      }
      now = end;
    },
  };
  return clock;
}
