/**
 * Rendezvous (highest-random-weight) preference between buckets and nodes, and the quota-bound
 * assignment built on it. Each (bucket, node) pair gets a fixed pseudo-random score that depends
 * only on the two numbers, so every node computes the same placement, and a node's favourite
 * buckets stay its favourites whoever else is in the cluster (which keeps re-placement small).
 */
import { jhashTwoWords } from './jhash.js';

/** Seed of the preference hash ("vmac"); changing it would re-place every bucket. */
const PREFERENCE_SEED = 0x766d6163;

/** How much `nodeId` wants `bucket` (u32; higher wins): jhash of the two as little-endian u32s. */
export function preference(bucket: number, nodeId: number): number {
  return jhashTwoWords(bucket, nodeId, PREFERENCE_SEED);
}

/**
 * Gives each of `buckets` to a node so that node `id` gets exactly `quotas.get(id)` of them
 * (the quotas must sum to buckets.length). The result is that of a greedy over all (bucket,
 * node) pairs from the highest score down, ties broken on bucket position then node id: a pair
 * is taken when its bucket is still free and its node still has room.
 *
 * Computed without sorting every pair: a heap holds each free bucket under its best pair with a
 * node that had room when last looked at (an upper bound of its best pair now). The top is
 * taken if its node still has room — it then beats every free bucket's best valid pair, which
 * is the greedy's next pick — or else re-scored and pushed back.
 */
export function assignByQuota(buckets: readonly number[], quotas: ReadonlyMap<number, number>): Map<number, number> {
  const nodeIds = [...quotas.keys()].filter((id) => (quotas.get(id) ?? 0) > 0).sort((a, b) => a - b);
  const room = nodeIds.map((id) => quotas.get(id) ?? 0);
  const m = nodeIds.length;
  const scores = new Uint32Array(buckets.length * m);
  buckets.forEach((bucket, i) => {
    for (let slot = 0; slot < m; slot++) scores[i * m + slot] = preference(bucket, nodeIds[slot] ?? 0);
  });
  const best = new Float64Array(buckets.length); // pair index (i * m + slot) of bucket i's current best
  /** Bucket i's best pair with a node that has room, or -1. */
  const rescore = (i: number): number => {
    let top = -1;
    for (let p = i * m; p < i * m + m; p++) if ((room[p - i * m] ?? 0) > 0 && (top < 0 || (scores[p] ?? 0) > (scores[top] ?? 0))) top = p;
    return top;
  };
  // Heap order: higher score first, then lower pair index (= bucket position, then node id).
  const above = (x: number, y: number): boolean => {
    const sx = scores[best[x] ?? 0] ?? 0;
    const sy = scores[best[y] ?? 0] ?? 0;
    return sx !== sy ? sx > sy : (best[x] ?? 0) < (best[y] ?? 0);
  };
  const heap = new BinaryHeap(above);
  buckets.forEach((_, i) => {
    best[i] = rescore(i);
    if ((best[i] ?? -1) >= 0) heap.push(i);
  });
  const owner = new Map<number, number>();
  for (let i = heap.pop(); i !== undefined; i = heap.pop()) {
    const bucket = buckets[i] ?? 0;
    if (owner.has(bucket)) continue;
    const slot = (best[i] ?? 0) - i * m;
    if ((room[slot] ?? 0) > 0) {
      owner.set(bucket, nodeIds[slot] ?? 0);
      room[slot] = (room[slot] ?? 0) - 1;
    } else {
      best[i] = rescore(i);
      if ((best[i] ?? -1) >= 0) heap.push(i);
    }
  }
  return owner;
}

/** A binary max-heap of small integers under `above`. */
class BinaryHeap {
  private readonly items: number[] = [];
  constructor(private readonly above: (x: number, y: number) => boolean) {}

  push(item: number): void {
    const a = this.items;
    let at = a.push(item) - 1;
    while (at > 0) {
      const up = (at - 1) >> 1;
      if (!this.above(item, a[up] ?? 0)) break;
      a[at] = a[up] ?? 0;
      at = up;
    }
    a[at] = item;
  }

  pop(): number | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= a.length) break;
      if (child + 1 < a.length && this.above(a[child + 1] ?? 0, a[child] ?? 0)) child++;
      if (!this.above(a[child] ?? 0, last)) break;
      a[at] = a[child] ?? 0;
      at = child;
    }
    a[at] = last;
    return top;
  }
}

/** The `count` buckets `nodeId` wants least (what it gives away first when over its share). */
export function leastPreferred(buckets: readonly number[], nodeId: number, count: number): number[] {
  return buckets
    .map((bucket) => ({ bucket, score: preference(bucket, nodeId) }))
    .sort((a, b) => a.score - b.score || b.bucket - a.bucket)
    .slice(0, count)
    .map((e) => e.bucket);
}
