/**
 * Rendezvous (highest-random-weight) preference between buckets and nodes, and the quota-bound
 * assignment built on it. Each (bucket, node) pair gets a fixed pseudo-random score that depends
 * only on the two numbers, so every node computes the same placement, and a node's favourite
 * buckets stay its favourites whoever else is in the cluster (which keeps re-placement small).
 */
import { jhashTwoWords } from './jhash.js';

/** Seed of the preference hash ("vmac"); changing it would re-place every bucket. */
const PREFERENCE_SEED = 0x766d6163;

/** Pair indices below this fit beside a u32 score in one exact double (32 + 21 = 53 bits). */
const PACKED_PAIR_LIMIT = 2 ** 21;

/** How much `nodeId` wants `bucket` (u32; higher wins): jhash of the two as little-endian u32s. */
export function preference(bucket: number, nodeId: number): number {
  return jhashTwoWords(bucket, nodeId, PREFERENCE_SEED);
}

/**
 * Pair indices ordered by score descending, then index ascending. Packing score and index into
 * one double lets the engine sort numbers natively (several times faster than a comparator);
 * beyond `packedLimit` pairs the same order comes from a comparator.
 */
export function pairOrder(scores: Uint32Array, packedLimit = PACKED_PAIR_LIMIT): Uint32Array {
  const n = scores.length;
  if (n > packedLimit) {
    return Uint32Array.from(scores.keys()).sort((x, y) => (scores[y] ?? 0) - (scores[x] ?? 0) || x - y);
  }
  const packed = new Float64Array(n);
  for (let p = 0; p < n; p++) packed[p] = (scores[p] ?? 0) * PACKED_PAIR_LIMIT + (PACKED_PAIR_LIMIT - 1 - p);
  packed.sort();
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = PACKED_PAIR_LIMIT - 1 - ((packed[n - 1 - i] ?? 0) % PACKED_PAIR_LIMIT);
  return order;
}

/**
 * Gives each of `buckets` to a node so that node `id` gets exactly `quotas.get(id)` of them
 * (the quotas must sum to buckets.length). Greedy over all pairs from the highest score down:
 * a pair is taken when its bucket is still free and its node still has room. Ties break on
 * bucket position, then node id, so the result depends on the inputs alone.
 */
export function assignByQuota(buckets: readonly number[], quotas: ReadonlyMap<number, number>): Map<number, number> {
  const nodeIds = [...quotas.keys()].filter((id) => (quotas.get(id) ?? 0) > 0).sort((a, b) => a - b);
  const room = nodeIds.map((id) => quotas.get(id) ?? 0);
  const nodeCount = nodeIds.length;
  const scores = new Uint32Array(buckets.length * nodeCount);
  buckets.forEach((bucket, i) => {
    nodeIds.forEach((id, slot) => (scores[i * nodeCount + slot] = preference(bucket, id)));
  });
  const owner = new Map<number, number>();
  for (const p of pairOrder(scores)) {
    if (owner.size === buckets.length) break;
    const bucket = buckets[Math.floor(p / nodeCount)] ?? 0;
    const slot = p % nodeCount;
    if (owner.has(bucket) || (room[slot] ?? 0) === 0) continue;
    owner.set(bucket, nodeIds[slot] ?? 0);
    room[slot] = (room[slot] ?? 0) - 1;
  }
  return owner;
}

/** The `count` buckets `nodeId` wants least (what it gives away first when over its share). */
export function leastPreferred(buckets: readonly number[], nodeId: number, count: number): number[] {
  return buckets
    .map((bucket) => ({ bucket, score: preference(bucket, nodeId) }))
    .sort((a, b) => a.score - b.score || b.bucket - a.bucket)
    .slice(0, count)
    .map((e) => e.bucket);
}
