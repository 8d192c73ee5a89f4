/**
 * afterFailure / failoverPlan on small hand-made clusters: the scenario the successions exist
 * for, candidates (owners only, weight 0 last), and input checks. Properties over random
 * clusters are in failover.property.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { afterFailure, balancedMap, failoverPlan, ownedBy, successorChain } from '../../../src/hash/bucket-map.js';
import { counts } from './shares.js';

const four = [1, 2, 3, 4].map((id) => ({ id, weight: 100 }));
const weightsOf = (nodes: readonly { id: number; weight: number }[]): Map<number, number> => new Map(nodes.map((n) => [n.id, n.weight]));

describe('afterFailure successions', () => {
  it('P seeing {1} and Q already seeing {1, 2} never answer the same bucket', () => {
    const agreed = balancedMap(four, 256);
    const weights = weightsOf(four);
    const viewP = afterFailure(agreed, new Set([1]), weights);
    const viewQ = afterFailure(agreed, new Set([1, 2]), weights);
    for (const [p, q] of [[3, 4], [4, 3]] as const) {
      // Live nodes 3 and 4: does p answer a bucket under P's view that q answers under Q's?
      const both = ownedBy(viewP, p).filter((b) => viewQ[b] === q);
      expect(both, `${p} (view {1}) and ${q} (view {1, 2})`).toEqual([]);
    }
    // And node 1's buckets that P gave to 3 or 4 stay there once Q also counts 2 as failed.
    for (const b of ownedBy(agreed, 1)) if (viewP[b] !== 2) expect(viewQ[b]).toBe(viewP[b]);
  });

  it('a chain lists every other owner once, and a failed owner hands over to its first live entry', () => {
    const agreed = balancedMap(four, 64);
    const weights = weightsOf(four);
    const plan = failoverPlan(agreed, weights);
    for (let b = 0; b < 64; b++) {
      const chain = plan.chain(b);
      expect([...chain, agreed[b]].sort()).toEqual([1, 2, 3, 4]);
      expect(successorChain(agreed, b, weights)).toEqual(chain);
      expect(plan.ownerAfter(b, new Set([agreed[b] ?? 0, chain[0] ?? 0]))).toBe(chain[1]);
      expect(plan.ownerAfter(b, new Set([1, 2, 3, 4]))).toBe(agreed[b]); // nobody left: unchanged
    }
  });

  it('two nodes: each is the other\'s whole chain', () => {
    const agreed = balancedMap([{ id: 5, weight: 1 }, { id: 6, weight: 3 }], 16);
    const plan = failoverPlan(agreed, new Map([[5, 1], [6, 3]]));
    for (let b = 0; b < 16; b++) expect(plan.chain(b)).toEqual([agreed[b] === 5 ? 6 : 5]);
    expect(afterFailure(agreed, new Set([5]), new Map([[5, 1], [6, 3]]))).toEqual(agreed.map(() => 6));
  });
});

describe('afterFailure candidates', () => {
  it('a weighted node that owns nothing (a joiner, an earlier casualty) is in no chain', () => {
    const agreed = balancedMap(four.slice(0, 3), 128);
    const weights = new Map([...weightsOf(four), [9, 1000]]); // 4 and 9 own nothing
    const plan = failoverPlan(agreed, weights);
    for (let b = 0; b < 128; b++) expect(plan.chain(b).some((id) => id === 4 || id === 9)).toBe(false);
    expect(new Set(afterFailure(agreed, new Set([1, 2]), weights))).toEqual(new Set([3]));
  });

  it('a weight-0 owner keeps its buckets but receives none while a weighted owner survives', () => {
    const agreed = balancedMap(four, 256);
    const draining = new Map([[1, 100], [2, 0], [3, 100], [4, 100]]);
    const next = afterFailure(agreed, new Set([1]), draining);
    expect(ownedBy(next, 2)).toEqual(ownedBy(agreed, 2));
    const got = counts(next);
    expect(Math.abs((got.get(3) ?? 0) - (got.get(4) ?? 0))).toBeLessThanOrEqual(1);
    const plan = failoverPlan(agreed, draining);
    for (const b of ownedBy(agreed, 1)) expect(plan.chain(b).at(-1)).toBe(2); // last in every chain
  });

  it('when every owner failed, a node that owns nothing (weight 0) takes the buckets rather than nobody (seed 4318)', () => {
    // Node 2 at weight 0 owns nothing; node 3 leaves and node 1 drains (both absent): the
    // buckets used to stay with the absent owners, and the leaving one then dropped them.
    const nodes = [{ id: 1, weight: 300 }, { id: 2, weight: 0 }, { id: 3, weight: 100 }];
    const agreed = balancedMap(nodes, 64);
    const weights = weightsOf(nodes);
    expect(ownedBy(agreed, 2)).toEqual([]);
    expect(new Set(afterFailure(agreed, new Set([1, 3]), weights))).toEqual(new Set([2]));
    // While an owner survives nothing changes for the node owning nothing.
    expect(ownedBy(afterFailure(agreed, new Set([3]), weights), 2)).toEqual([]);
    // Several such nodes: spread by bucket; and monotone: a bucket keeps its taker when more fail.
    const five = [...nodes, { id: 4, weight: 0 }, { id: 5, weight: 0 }];
    const base = balancedMap(five, 64);
    const w5 = weightsOf(five);
    const both = afterFailure(base, new Set([1, 3]), w5);
    const got = counts(both);
    expect(new Set(both)).toEqual(new Set([2, 4, 5]));
    expect(Math.max(...got.values()) - Math.min(...got.values())).toBeLessThanOrEqual(1);
    const more = afterFailure(base, new Set([1, 3, 4]), w5);
    both.forEach((o, b) => { if (o !== 4) expect(more[b]).toBe(o); });
    // Everybody failed: unchanged, the agreed map itself.
    expect(afterFailure(base, new Set([1, 2, 3, 4, 5]), w5)).toBe(base);
  });

  it('when only weight-0 owners survive they share the buckets equally (traffic must land somewhere)', () => {
    const agreed = balancedMap(four, 256);
    const next = afterFailure(agreed, new Set([1, 2]), new Map([[1, 100], [2, 100], [3, 0], [4, 0]]));
    const got = counts(next);
    expect(new Set(next)).toEqual(new Set([3, 4]));
    expect(Math.abs((got.get(3) ?? 0) - (got.get(4) ?? 0))).toBeLessThanOrEqual(1);
  });
});

describe('failoverPlan input checks', () => {
  it('refuses a missing or invalid owner weight and a bucket outside the map', () => {
    const agreed = balancedMap(four, 64);
    expect(() => failoverPlan(agreed, new Map([[1, 1], [2, 1], [3, 1]]))).toThrow(/no weight for node 4/);
    expect(() => failoverPlan(agreed, new Map([[1, 1], [2, -1], [3, 1], [4, 1]]))).toThrow(/weight/);
    const plan = failoverPlan(agreed, weightsOf(four));
    expect(() => plan.chain(64)).toThrow(/outside the map/);
    expect(() => plan.ownerAfter(-1, new Set())).toThrow(/outside the map/);
    expect(() => plan.ownerAfter(1.5, new Set([1]))).toThrow(/outside the map/);
  });
});
