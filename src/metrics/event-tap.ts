/**
 * Hands the daemon's log events to the operator surface without touching the code that logs:
 * the logger calls `record(obj)` for every log call (a pino `logMethod` hook, src/cli/logger.ts)
 * and the surface subscribes once it exists. Listeners run synchronously, inside the log call,
 * so a timeline entry is stamped when the event happened; they must be cheap and never throw.
 */
export type LogRecordListener = (obj: Record<string, unknown>, atMs: number) => void;

export interface EventTap {
  record(obj: Record<string, unknown>): void;
  subscribe(fn: LogRecordListener): () => void;
}

/** Events logged before anyone listens (start-up: ready, serving) are kept for the first listener. */
const EARLY_CAPACITY = 64;

export function createEventTap(nowMs: () => number = Date.now): EventTap {
  const listeners = new Set<LogRecordListener>();
  let early: [Record<string, unknown>, number][] | null = [];
  return {
    record(obj) {
      if (typeof obj.event !== 'string') return;
      const at = nowMs();
      if (early !== null) { if (early.length < EARLY_CAPACITY) early.push([obj, at]); return; }
      for (const fn of listeners) {
        try { fn(obj, at); } catch { /* a broken listener must not break logging */ }
      }
    },
    subscribe(fn) {
      listeners.add(fn);
      const replay = early ?? [];
      early = null;
      for (const [obj, at] of replay) {
        try { fn(obj, at); } catch { /* as above */ }
      }
      return () => listeners.delete(fn);
    },
  };
}
