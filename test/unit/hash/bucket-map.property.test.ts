/**
 * Property tests of balancedMap and rebalanceTarget over many seeded random clusters (2–32
 * nodes, weights 1..1000, 64/256/1024 buckets); afterFailure's are in failover.property.test.ts.
 * Each case's seed is in the failure message.
 */
import { describe, expect, it } from 'vitest';
import { afterFailure, balancedMap, mapDigest, planMoves, rebalanceTarget, type BucketMap } from '../../../src/hash/bucket-map.js';
import type { Prng } from './prng.js';
import { ALL_IDS, clusters as seeded, weightMap, type Cluster } from './clusters.js';
import { counts, minimalMoves, unbalanced, type Node } from './shares.js';

const CASES = 80;
const clusters = (salt: number): Cluster[] => seeded(salt, CASES);

/** Violations of "only over-share nodes give, only under-share nodes receive". */
function directionViolations(current: BucketMap, target: BucketMap, nodes: readonly Node[]): string[] {
  const weightSum = nodes.reduce((s, n) => s + n.weight, 0);
  const weight = new Map(nodes.map((n) => [n.id, n.weight]));
  const have = counts(current);
  const bad: string[] = [];
  // count/B compared with weight/weightSum, cross-multiplied to stay in integers.
  const over = (id: number): boolean => !weight.has(id) || (have.get(id) ?? 0) * weightSum > current.length * (weight.get(id) ?? 0);
  const under = (id: number): boolean => weight.has(id) && (have.get(id) ?? 0) * weightSum < current.length * (weight.get(id) ?? 0);
  for (const m of planMoves(current, target)) {
    if (!over(m.from)) bad.push(`bucket ${m.bucket}: ${m.from} gave but was not above its share`);
    if (!under(m.to)) bad.push(`bucket ${m.bucket}: ${m.to} received but was not below its share`);
  }
  return bad;
}

/** Fail 1..3 random live nodes (never all), sometimes with a stranger id in the set. */
function pickFailures(rng: Prng, alive: readonly number[]): Set<number> {
  const failed = new Set(rng.shuffle(alive).slice(0, rng.int(1, Math.min(3, alive.length - 1))));
  if (rng.next() < 0.2) failed.add(99);
  return failed;
}

describe('balancedMap properties', () => {
  it(`every node within one bucket of its weighted share, deterministic (${CASES} clusters)`, () => {
    for (const c of clusters(1)) {
      const map = balancedMap(c.nodes, c.buckets);
      expect(unbalanced(map, c.nodes), `seed ${c.seed}`).toEqual([]);
      expect(map.length).toBe(c.buckets);
      expect(balancedMap(c.rng.shuffle(c.nodes), c.buckets), `seed ${c.seed}`).toEqual(map);
    }
  });
});

describe('rebalanceTarget properties', () => {
  /** A membership change: some survivors of failures, some reweighted, maybe joiners. */
  function changedMembership(c: Cluster, map: BucketMap): Node[] {
    const owners = new Set(map);
    const stay = c.nodes.filter((n) => owners.has(n.id)).map((n) => (c.rng.next() < 0.2 ? { id: n.id, weight: c.rng.int(1, 1000) } : n));
    const free = ALL_IDS.filter((id) => !c.nodes.some((n) => n.id === id));
    const joiners = c.rng.shuffle(free).slice(0, c.rng.int(0, Math.min(3, free.length)));
    return [...stay, ...joiners.map((id) => ({ id, weight: c.rng.int(1, 1000) }))];
  }

  it(`after failures and joins: balanced, minimal, right direction, deterministic (${CASES} clusters)`, () => {
    for (const c of clusters(5)) {
      let map = balancedMap(c.nodes, c.buckets);
      const alive = [...new Set(map)];
      if (alive.length > 2) map = afterFailure(map, pickFailures(c.rng, alive), weightMap(c.rng, c.nodes));
      const nodes = changedMembership(c, map);
      const target = rebalanceTarget(map, nodes, c.buckets);
      expect(unbalanced(target, nodes), `seed ${c.seed}`).toEqual([]);
      expect(planMoves(map, target).length, `seed ${c.seed} minimal`).toBe(minimalMoves(map, nodes));
      expect(directionViolations(map, target, nodes), `seed ${c.seed}`).toEqual([]);
      expect(rebalanceTarget(map, c.rng.shuffle(nodes), c.buckets), `seed ${c.seed}`).toEqual(target);
      expect(planMoves(target, rebalanceTarget(target, nodes, c.buckets)), `seed ${c.seed} idempotent`).toEqual([]);
    }
  });

  it(`from arbitrary maps with strangers as owners: balanced and minimal (${CASES} maps)`, () => {
    for (const c of clusters(6)) {
      const owners = [...c.nodes.map((n) => n.id), 0, 40, 41];
      const current = Array.from({ length: c.buckets }, () => c.rng.pick(owners));
      const target = rebalanceTarget(current, c.nodes, c.buckets);
      expect(unbalanced(target, c.nodes), `seed ${c.seed}`).toEqual([]);
      expect(planMoves(current, target).length, `seed ${c.seed}`).toBe(minimalMoves(current, c.nodes));
      expect(directionViolations(current, target, c.nodes), `seed ${c.seed}`).toEqual([]);
    }
  });
});

describe('cross-version stability', () => {
  // Every node must compute the same map from the same inputs, including nodes running another
  // build: a change here re-places buckets in a mixed-version cluster and must be deliberate.
  it('pins the placement of two reference clusters', () => {
    const three = [1, 2, 3].map((id) => ({ id, weight: 100 }));
    const mixed = [{ id: 4, weight: 10 }, { id: 9, weight: 250 }, { id: 17, weight: 999 }, { id: 32, weight: 1 }];
    expect(balancedMap(three, 256).slice(0, 24).join(',')).toBe('1,2,2,2,2,3,1,1,3,2,1,3,3,2,1,2,3,1,1,3,1,2,1,3');
    expect(mapDigest(balancedMap(three, 256))).toBe('e8b2ff7ac541773e');
    expect(mapDigest(balancedMap(mixed, 1024))).toBe('a486acb9f4e9d09e');
  });
});
