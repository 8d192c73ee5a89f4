/**
 * The conntrack port: which buckets still have connections on this node. The old owner of a
 * draining bucket lets it go once this reports none for it (or the drain timeout passes).
 */
export interface ConntrackPort {
  /** Buckets (of the service's VIP) with at least one live connection tracked right now. */
  busyBuckets(): ReadonlySet<number> | Promise<ReadonlySet<number>>;
}

/** A fake for tests and the simulator: the buckets given by a function of the fake clock. */
export function fakeConntrack(busy: () => ReadonlySet<number>): ConntrackPort {
  return { busyBuckets: busy };
}
