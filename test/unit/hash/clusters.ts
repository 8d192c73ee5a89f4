/**
 * Seeded random clusters for the bucket-map property tests: 2–32 nodes with ids from 1..32,
 * weights 1..1000, 64/256/1024 buckets. Each case's seed goes in the failure message.
 */
import { prng, type Prng } from './prng.js';
import type { Node } from './shares.js';

export const ALL_IDS = Array.from({ length: 32 }, (_, i) => i + 1);

export interface Cluster {
  readonly seed: number;
  readonly rng: Prng;
  readonly nodes: Node[];
  readonly buckets: number;
}

export function cluster(seed: number): Cluster {
  const rng = prng(seed);
  const ids = rng.shuffle(ALL_IDS).slice(0, rng.int(2, 32));
  const nodes = ids.map((id) => ({ id, weight: rng.int(1, 1000) }));
  return { seed, rng, nodes, buckets: rng.pick([64, 256, 1024]) };
}

/** `count` clusters from seeds salt*100000 + 0, 1, ... */
export const clusters = (salt: number, count: number): Cluster[] => Array.from({ length: count }, (_, i) => cluster(salt * 100_000 + i));

/** Weights as a map in a random insertion order (order must not matter). */
export function weightMap(rng: Prng, nodes: readonly Node[]): Map<number, number> {
  return new Map(rng.shuffle(nodes).map((n) => [n.id, n.weight]));
}
