/**
 * Property tests of afterFailure / failoverPlan over seeded random clusters (clusters.ts):
 * monotone consistency, only failed buckets move, the weighted share of a single failure,
 * failure sequences, determinism. Balance under simultaneous failures of several nodes is not
 * promised; it is measured here and held to the bounds seen, so that a regression shows.
 */
import { describe, expect, it } from 'vitest';
import { afterFailure, balancedMap, failoverPlan, mapDigest, type BucketMap } from '../../../src/hash/bucket-map.js';
import type { Prng } from './prng.js';
import { cluster, clusters, weightMap, type Cluster } from './clusters.js';
import { counts, shareBounds } from './shares.js';

const CASES = 80;

/** A cluster's balanced map, its owners (the only failover candidates) and their weights. */
function start(c: Cluster): { map: BucketMap; owners: number[]; weights: Map<number, number> } {
  const map = balancedMap(c.nodes, c.buckets);
  return { map, owners: [...counts(map).keys()], weights: weightMap(c.rng, c.nodes) };
}

/** A random subset of `ids` with lo..hi members. */
function subset(rng: Prng, ids: Iterable<number>, lo: number, hi: number): Set<number> {
  const all = [...ids];
  return new Set(rng.shuffle(all).slice(0, rng.int(lo, Math.min(hi, all.length))));
}

/** Violations of: survivors keep every bucket; a failed owner's bucket goes to a surviving owner. */
function movementViolations(before: BucketMap, after: BucketMap, failed: ReadonlySet<number>): string[] {
  const owners = new Set(before);
  const bad: string[] = after.length === before.length ? [] : [`length ${after.length} != ${before.length}`];
  before.forEach((from, b) => {
    const to = after[b];
    if (!failed.has(from) && to !== from) bad.push(`bucket ${b} of survivor ${from} moved to ${to}`);
    if (failed.has(from) && (to === undefined || failed.has(to) || !owners.has(to))) bad.push(`bucket ${b} of failed ${from} went to ${to}`);
  });
  return bad;
}

/** Per surviving owner: buckets received from failed owners, and its exact weighted share of them. */
function receipts(before: BucketMap, after: BucketMap, failed: ReadonlySet<number>, weights: ReadonlyMap<number, number>) {
  const survivors = [...new Set(before)].filter((id) => !failed.has(id));
  const moved = before.filter((o) => failed.has(o)).length;
  const weightSum = survivors.reduce((s, id) => s + (weights.get(id) ?? 0), 0);
  const got = new Map<number, number>();
  before.forEach((from, b) => {
    if (failed.has(from)) got.set(after[b] ?? -1, (got.get(after[b] ?? -1) ?? 0) + 1);
  });
  return survivors.map((id) => ({ id, got: got.get(id) ?? 0, moved, weight: weights.get(id) ?? 0, weightSum }));
}

/** Survivors outside floor..ceil of their weighted share of the moved buckets. */
function shareViolations(before: BucketMap, after: BucketMap, failed: ReadonlySet<number>, weights: ReadonlyMap<number, number>): string[] {
  return receipts(before, after, failed, weights).flatMap((r) => {
    const { lo, hi } = shareBounds(r.moved, r.weight, r.weightSum);
    return r.got < lo || r.got > hi ? [`survivor ${r.id} received ${r.got} of ${r.moved}, share ${lo}..${hi}`] : [];
  });
}

/** The largest |received - exact weighted share| among the survivors. */
function receiptDeviation(before: BucketMap, after: BucketMap, failed: ReadonlySet<number>, weights: ReadonlyMap<number, number>): number {
  return Math.max(0, ...receipts(before, after, failed, weights).map((r) => Math.abs(r.got - (r.moved * r.weight) / r.weightSum)));
}

/** The largest |owned - exact weighted share of the whole map| among the owners of `map`. */
function worstDeviation(map: BucketMap, weights: ReadonlyMap<number, number>): number {
  const have = counts(map);
  const weightSum = [...have.keys()].reduce((s, id) => s + (weights.get(id) ?? 0), 0);
  return Math.max(...[...have].map(([id, n]) => Math.abs(n - (map.length * (weights.get(id) ?? 0)) / weightSum)));
}

describe('afterFailure: monotone consistency', () => {
  it(`for F1 ⊆ F2, a bucket whose owner under F1 is not in F2 has the same owner under F2 (${CASES} clusters)`, () => {
    let carried = 0;
    for (const c of clusters(10, CASES)) {
      const { map, owners, weights } = start(c);
      for (let trial = 0; trial < 6; trial++) {
        const f2 = subset(c.rng, owners, 1, owners.length - 1);
        const f1 = subset(c.rng, f2, 0, f2.size);
        if (c.rng.next() < 0.2) f2.add(99); // a stranger in a view changes nothing
        const m1 = afterFailure(map, f1, weights);
        const m2 = afterFailure(map, f2, weightMap(c.rng, c.nodes));
        const bad = map.flatMap((_, b) => (!f2.has(m1[b] ?? -1) && m2[b] !== m1[b] ? [`bucket ${b}: ${m1[b]} under F1, ${m2[b]} under F2`] : []));
        expect(bad, `seed ${c.seed} F1 ${[...f1].join(',')} F2 ${[...f2].join(',')}`).toEqual([]);
        carried += map.filter((o, b) => o !== m1[b] && !f2.has(m1[b] ?? -1)).length;
      }
    }
    expect(carried).toBeGreaterThan(1000); // the property was exercised on moved buckets, not only on kept ones
  });

  it(`two views, nested or not, never both claim a bucket unless one counts the other as failed (${CASES} clusters)`, () => {
    for (const c of clusters(11, CASES)) {
      const { map, owners, weights } = start(c);
      for (let trial = 0; trial < 6; trial++) {
        const f1 = subset(c.rng, owners, 0, owners.length);
        const f2 = subset(c.rng, owners, 0, owners.length);
        const m1 = afterFailure(map, f1, weights);
        const m2 = afterFailure(map, f2, weights);
        const bad = map.flatMap((_, b) => {
          const [x, y] = [m1[b] ?? -1, m2[b] ?? -1];
          return x !== y && !f2.has(x) && !f1.has(y) ? [`bucket ${b}: ${x} and ${y} both claim it`] : [];
        });
        expect(bad, `seed ${c.seed} F1 ${[...f1].join(',')} F2 ${[...f2].join(',')}`).toEqual([]);
      }
    }
  });

  it(`each result is the first survivor of a fixed chain holding every other owner once, then the nodes owning nothing (${CASES} clusters)`, () => {
    for (const c of clusters(12, CASES)) {
      const { map, owners, weights } = start(c);
      const plan = failoverPlan(map, weights);
      const failedSets = Array.from({ length: 4 }, () => subset(c.rng, owners, 1, owners.length));
      const results = failedSets.map((f) => afterFailure(map, f, weights));
      for (let i = 0; i < 12; i++) {
        const b = c.rng.int(0, map.length - 1);
        const owner = map[b] ?? -1;
        const chain = plan.chain(b);
        expect([...chain].sort((x, y) => x - y), `seed ${c.seed} bucket ${b}`).toEqual(owners.filter((id) => id !== owner).sort((x, y) => x - y));
        // Once every owner failed, the nodes of `weights` owning nothing (ascending, rotated by
        // the bucket) are the last resort: the bucket stays with a failed owner only if they failed too.
        const outsiders = [...weights.keys()].filter((id) => !owners.includes(id)).sort((x, y) => x - y);
        const lastResort = outsiders.map((_, i) => outsiders[(b + i) % outsiders.length] ?? -1);
        failedSets.forEach((f, j) => {
          const expected = [owner, ...chain, ...lastResort].find((id) => !f.has(id)) ?? owner;
          expect(results[j]?.[b], `seed ${c.seed} bucket ${b}`).toBe(expected);
          expect(plan.ownerAfter(b, f)).toBe(expected);
        });
      }
    }
  });
});

describe('afterFailure: what moves, and where', () => {
  it(`a single failure: only its buckets move, each survivor within one of its weighted share (every owner of ${CASES} clusters)`, () => {
    for (const c of clusters(13, CASES)) {
      const { map, owners, weights } = start(c);
      for (const a of owners) {
        const failed = new Set([a]);
        const next = afterFailure(map, failed, weights);
        expect(movementViolations(map, next, failed), `seed ${c.seed} fail ${a}`).toEqual([]);
        expect(shareViolations(map, next, failed, weights), `seed ${c.seed} fail ${a}`).toEqual([]);
      }
    }
  });

  it(`simultaneous failures of 2..n-1 nodes: only their buckets move, to survivors; balance within the bounds seen (${CASES} clusters)`, () => {
    const worst = new Map<number, number>(); // failed-set size (4 = 4 or more) -> worst receipt deviation
    for (const c of clusters(14, CASES)) {
      const { map, owners, weights } = start(c);
      for (let trial = 0; trial < 8 && owners.length > 2; trial++) {
        const failed = subset(c.rng, owners, 2, Math.min(trial < 4 ? 3 : Infinity, owners.length - 1));
        const next = afterFailure(map, failed, weights);
        expect(movementViolations(map, next, failed), `seed ${c.seed} fail ${[...failed].join(',')}`).toEqual([]);
        const k = Math.min(failed.size, 4);
        worst.set(k, Math.max(worst.get(k) ?? 0, receiptDeviation(map, next, failed, weights)));
      }
    }
    // Quality, not a promise (only a single failure is held to one bucket). Seen on these seeds:
    // 2 failed ≤ 2.6, 3 failed ≤ 4.1, 4+ (up to n-1 of n) ≤ 41 (23 of 32 failed, 772 buckets
    // moved: 5%) — deep chain positions are weighted draws, so receipts scatter like a random
    // weighted split of the buckets that reach them.
    expect(worst.get(2), 'double failures').toBeLessThan(3);
    expect(worst.get(3), 'triple failures').toBeLessThan(5);
    expect(worst.get(4), 'bigger failures').toBeLessThan(50);
  });

  it(`failure sequences, the cluster agreeing on each result: every step keeps the promises (${CASES} sequences)`, () => {
    let worstSingle = 0;
    let worstMixed = 0;
    for (const c of clusters(15, CASES)) {
      for (const mode of ['single', 'mixed'] as const) {
        let map = start(c).map;
        let alive = [...new Set(map)];
        for (let step = 0; alive.length > 1; step++) {
          const failed = subset(c.rng, alive, 1, mode === 'single' ? 1 : Math.min(3, alive.length - 1));
          if (c.rng.next() < 0.2) failed.add(99); // a stranger in the set changes nothing
          const weights = weightMap(c.rng, c.nodes);
          const next = afterFailure(map, failed, weights);
          const at = `seed ${c.seed} ${mode} step ${step}`;
          expect(movementViolations(map, next, failed), at).toEqual([]);
          if (failed.size - (failed.has(99) ? 1 : 0) === 1) expect(shareViolations(map, next, failed, weights), at).toEqual([]);
          alive = alive.filter((id) => !failed.has(id));
          map = next;
          const deviation = worstDeviation(map, weights);
          if (mode === 'single') worstSingle = Math.max(worstSingle, deviation);
          else worstMixed = Math.max(worstMixed, deviation);
        }
        expect(new Set(map), `seed ${c.seed} ${mode}`).toEqual(new Set(alive));
      }
    }
    // Quality: leftovers of a single failure go to whoever is furthest below its share of the
    // whole map, so one-at-a-time failures stay within two buckets of balance (seen: 0.78).
    // Simultaneous ones drift further (seen: 5.4 here, 6.7 on other seeds).
    expect(worstSingle).toBeLessThan(2);
    expect(worstMixed).toBeLessThan(8);
  });

  it('returns the agreed map itself when every owner fails', () => {
    const c = cluster(4);
    const { map, weights } = start(c);
    expect(afterFailure(map, new Set(c.nodes.map((n) => n.id)), weights)).toBe(map);
  });
});

describe('afterFailure: determinism', () => {
  it(`same inputs in any order, extra weights and strangers ignored: same map on every node (${CASES} clusters)`, () => {
    for (const c of clusters(16, CASES)) {
      const { map, owners, weights } = start(c);
      const failed = subset(c.rng, owners, 1, owners.length - 1);
      const next = afterFailure(map, failed, weights);
      const otherNode = new Map([...weightMap(c.rng, c.nodes), [40, 500], [41, 0]]); // 40, 41 own nothing
      const again = afterFailure([...map], new Set([...c.rng.shuffle([...failed]), 98]), otherNode);
      expect(mapDigest(again), `seed ${c.seed}`).toBe(mapDigest(next));
      expect(again.some((o) => o === 40 || o === 41), `seed ${c.seed}`).toBe(false);
    }
  });

  // Nodes running another build must compute the same maps: a change here re-places buckets in
  // a mixed-version cluster and must be deliberate.
  it('pins the failover of reference clusters', () => {
    const three = [1, 2, 3].map((id) => ({ id, weight: 100 }));
    const mixed = [{ id: 4, weight: 10 }, { id: 9, weight: 250 }, { id: 17, weight: 999 }, { id: 32, weight: 1 }, { id: 5, weight: 400 }];
    const big = Array.from({ length: 32 }, (_, i) => ({ id: i + 1, weight: 100 + ((i * 37) % 200) }));
    const w = (nodes: readonly { id: number; weight: number }[]): Map<number, number> => new Map(nodes.map((n) => [n.id, n.weight]));
    const digest = (nodes: typeof three, buckets: number, failed: number[]): string => mapDigest(afterFailure(balancedMap(nodes, buckets), new Set(failed), w(nodes)));
    // Single failures: the same maps as the version before successions (the same quota split).
    expect(digest(three, 256, [2])).toBe('1f6092e63a879977');
    expect(digest(mixed, 1024, [9])).toBe('5f23220e38e554d5');
    expect(digest(mixed, 1024, [17])).toBe('d033694aefacbd11');
    // Several failures: positions 2 and 3 by quota (small cluster), then draws (big cluster).
    expect(digest(mixed, 1024, [17, 9])).toBe('973aa8140820ce0f');
    expect(digest(mixed, 1024, [17, 9, 5])).toBe('78c8e1fe7a97c2b8');
    expect(digest(big, 4096, [3, 7, 11, 19, 23, 31])).toBe('3c5ab3e1fb91bb08');
  });
});
