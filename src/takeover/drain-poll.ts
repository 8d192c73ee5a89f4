/**
 * When the next conntrack reading of a drain may start. A reading walks the kernel's whole
 * conntrack table (about 0.3 s of CPU at 100,000 entries here: docs/handover.md, "Cost"), so a
 * fixed 100 ms poll would keep a core busy for the whole drain on a big table. The gap after a
 * reading is at least `minGapMs` and at least `costFactor` times what the last one took: reading
 * costs at most 1/(1+costFactor) of a core, and a small table still ends its drain within
 * `minGapMs` of its last connection.
 */
export interface DrainPollParams { readonly minGapMs: number; readonly costFactor: number }

/** Default: 100 ms between readings at least; readings at most a fifth of the time. */
export const DEFAULT_DRAIN_POLL: DrainPollParams = { minGapMs: 100, costFactor: 4 };

export function nextReadingAtMs(lastStartMs: number | null, lastDurationMs: number, p: DrainPollParams = DEFAULT_DRAIN_POLL): number {
  if (lastStartMs === null) return -Infinity;
  return lastStartMs + lastDurationMs + Math.max(p.minGapMs - lastDurationMs, p.costFactor * lastDurationMs);
}

/**
 * The poll before readings were paced (bench only, `VMAC_DRAIN_POLL=unpaced`): a reading on every
 * 100 ms tick of the runtime's poll timer unless one is still running, whatever it costs. Kept to
 * measure the old `conntrack -L` polling side by side with the default (bench/drain-load.ts).
 */
export const UNPACED_DRAIN_POLL: DrainPollParams = { minGapMs: 0, costFactor: 0 };
