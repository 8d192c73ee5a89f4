/**
 * Monotonic per-bucket totals from the kernel's per-element counters. A bucket's element is
 * deleted when the bucket moves away and re-created (counter at zero) when it comes back, so a
 * raw reading is not a Prometheus counter. This pure accumulator turns successive readings into
 * totals that never go down:
 *   reading >= last  -> add the difference
 *   reading <  last  -> the element was re-created in between: add the whole reading
 *   bucket absent    -> nothing to add; the next reading starts from zero
 * Packets counted between the last reading and a deletion would be lost, so the daemon takes a
 * reading just before it removes buckets (operator-surface.ts, beforeMove).
 */
import type { BucketCounters, PacketCount } from './nft-counters.js';

export interface BucketTotals {
  readonly last: ReadonlyMap<number, PacketCount>; // the previous raw reading
  readonly total: ReadonlyMap<number, PacketCount>; // accumulated since the daemon started
}

export function emptyTotals(): BucketTotals {
  return { last: new Map(), total: new Map() };
}

export function observeCounters(t: BucketTotals, reading: BucketCounters): BucketTotals {
  const total = new Map(t.total);
  for (const [bucket, now] of reading) {
    const before = t.last.get(bucket) ?? { packets: 0, bytes: 0 };
    const reset = now.packets < before.packets || now.bytes < before.bytes;
    const dp = reset ? now.packets : now.packets - before.packets;
    const db = reset ? now.bytes : now.bytes - before.bytes;
    const acc = total.get(bucket) ?? { packets: 0, bytes: 0 };
    total.set(bucket, { packets: acc.packets + dp, bytes: acc.bytes + db });
  }
  return { last: new Map(reading), total };
}

/** The sum over all buckets: this node's accepted traffic. */
export function sumTotals(t: BucketTotals): PacketCount {
  let packets = 0;
  let bytes = 0;
  for (const c of t.total.values()) { packets += c.packets; bytes += c.bytes; }
  return { packets, bytes };
}
