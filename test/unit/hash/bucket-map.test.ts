import { describe, expect, it } from 'vitest';
import { afterFailure, balancedMap, mapDigest, ownedBy, ownerOf, planMoves, rebalanceTarget } from '../../../src/hash/bucket-map.js';
import { assignByQuota, preference } from '../../../src/hash/preference.js';
import { apportion, apportionSampled } from '../../../src/hash/quota.js';
import { prng } from './prng.js';
import { counts, unbalanced } from './shares.js';

const three = [
  { id: 1, weight: 100 },
  { id: 2, weight: 100 },
  { id: 3, weight: 100 },
];

describe('balancedMap', () => {
  it('splits 256 buckets among three equal nodes 86/85/85', () => {
    const map = balancedMap(three, 256);
    expect(map.length).toBe(256);
    expect([...counts(map).values()].sort()).toEqual([85, 85, 86]);
    expect(unbalanced(map, three)).toEqual([]);
  });

  it('follows the weights', () => {
    const map = balancedMap([{ id: 1, weight: 3 }, { id: 2, weight: 1 }], 256);
    expect(counts(map)).toEqual(new Map([[1, 192], [2, 64]]));
  });

  it('gives a zero-weight node nothing, and splits equally if every weight is zero', () => {
    expect(counts(balancedMap([{ id: 1, weight: 0 }, { id: 2, weight: 5 }], 64))).toEqual(new Map([[2, 64]]));
    expect(counts(balancedMap([{ id: 1, weight: 0 }, { id: 2, weight: 0 }], 64))).toEqual(new Map([[1, 32], [2, 32]]));
  });

  it('does not depend on the order of the node list', () => {
    expect(balancedMap([...three].reverse(), 64)).toEqual(balancedMap(three, 64));
  });

  it('a joiner under rendezvous placement takes buckets from everyone, not a reshuffle', () => {
    const before = balancedMap(three, 256);
    const after = balancedMap([...three, { id: 4, weight: 100 }], 256);
    expect(planMoves(before, after).length).toBeLessThan(256 / 2);
  });

  it('rejects no nodes, duplicate ids, bad weights and bad bucket counts', () => {
    expect(() => balancedMap([], 256)).toThrow(/no nodes/);
    expect(() => balancedMap([{ id: 1, weight: 1 }, { id: 1, weight: 2 }], 256)).toThrow(/twice/);
    expect(() => balancedMap([{ id: 1, weight: -1 }], 256)).toThrow(/weight/);
    expect(() => balancedMap([{ id: 1, weight: 1.5 }], 256)).toThrow(/weight/);
    expect(() => balancedMap(three, 0)).toThrow(/bucket count/);
    expect(() => balancedMap(three, 2.5)).toThrow(/bucket count/);
  });
});

describe('afterFailure', () => {
  const weights = new Map([[1, 100], [2, 100], [3, 100]]);

  it('moves only the failed node\'s buckets, half to each survivor', () => {
    const agreed = balancedMap(three, 256);
    const next = afterFailure(agreed, new Set([2]), weights);
    const moves = planMoves(agreed, next);
    expect(moves.every((m) => m.from === 2 && m.to !== 2)).toBe(true);
    expect(moves.length).toBe(ownedBy(agreed, 2).length);
    const got = counts(next);
    expect(Math.abs((got.get(1) ?? 0) - (got.get(3) ?? 0))).toBeLessThanOrEqual(1);
  });

  it('returns the agreed map itself when nothing moves or nobody survives', () => {
    const agreed = balancedMap(three, 64);
    expect(afterFailure(agreed, new Set(), weights)).toBe(agreed);
    expect(afterFailure(agreed, new Set([9]), weights)).toBe(agreed);
    expect(afterFailure(agreed, new Set([1, 2, 3]), weights)).toBe(agreed);
  });

  it('gives nothing to a node that owns no bucket (an earlier casualty)', () => {
    const agreed = afterFailure(balancedMap(three, 64), new Set([3]), weights);
    const next = afterFailure(agreed, new Set([2]), weights);
    expect(new Set(next)).toEqual(new Set([1]));
  });

  it('needs the weight of every owner, failed ones too (their chains are built from all weights)', () => {
    const agreed = balancedMap(three, 64);
    expect(() => afterFailure(agreed, new Set([1]), new Map([[1, 1], [2, 1]]))).toThrow(/no weight for node 3/);
    expect(() => afterFailure(agreed, new Set([1]), new Map([[2, 1], [3, 1]]))).toThrow(/no weight for node 1/);
  });
});

describe('rebalanceTarget and planMoves', () => {
  it('leaves a balanced map alone', () => {
    const map = balancedMap(three, 256);
    expect(planMoves(map, rebalanceTarget(map, three, 256))).toEqual([]);
  });

  it('brings a joiner to its share by taking only from nodes above theirs', () => {
    const map = balancedMap(three, 256);
    const four = [...three, { id: 4, weight: 100 }];
    const moves = planMoves(map, rebalanceTarget(map, four, 256));
    expect(moves.length).toBe(64);
    expect(moves.every((m) => m.to === 4)).toBe(true);
  });

  it('moves every bucket of a node that left', () => {
    const map = balancedMap(three, 256);
    const target = rebalanceTarget(map, three.slice(0, 2), 256);
    expect(planMoves(map, target).length).toBe(ownedBy(map, 3).length);
    expect(unbalanced(target, three.slice(0, 2))).toEqual([]);
  });

  it('drains a node whose weight drops to zero, moving only its buckets', () => {
    const map = balancedMap(three, 256);
    const drained = [{ id: 1, weight: 100 }, { id: 2, weight: 0 }, { id: 3, weight: 100 }];
    const moves = planMoves(map, rebalanceTarget(map, drained, 256));
    expect(moves.length).toBe(ownedBy(map, 2).length);
    expect(moves.every((m) => m.from === 2)).toBe(true);
  });

  it('falls back to a fresh balanced map when the bucket count changes', () => {
    expect(rebalanceTarget(balancedMap(three, 64), three, 128)).toEqual(balancedMap(three, 128));
  });

  it('planMoves lists the differing buckets in order and refuses maps of different sizes', () => {
    expect(planMoves([1, 2, 3, 1], [1, 3, 3, 2])).toEqual([
      { bucket: 1, from: 2, to: 3 },
      { bucket: 3, from: 1, to: 2 },
    ]);
    expect(() => planMoves([1], [1, 2])).toThrow(/1 and 2 buckets/);
  });
});

describe('mapDigest, ownedBy, ownerOf', () => {
  it('digest is 16 hex digits, stable, and sensitive to any owner and to the size', () => {
    const map = balancedMap(three, 256);
    const d = mapDigest(map);
    expect(d).toMatch(/^[0-9a-f]{16}$/);
    expect(mapDigest([...map])).toBe(d);
    expect(mapDigest(map.map((o, b) => (b === 200 ? (o % 3) + 1 : o)))).not.toBe(d);
    expect(mapDigest([1, 2])).not.toBe(mapDigest([1, 2, 1, 2]));
    // Pinned (= sha256 of 00000001 00000002 00000003, first 16 hex): nodes and versions must agree.
    expect(mapDigest([1, 2, 3])).toBe('7b0b5ea3ff36958c');
  });

  it('digest refuses an owner that is not a u32 id', () => {
    expect(() => mapDigest([1, -1])).toThrow(/owner/);
  });

  it('ownedBy lists buckets ascending; ownerOf reads one and refuses out-of-range buckets', () => {
    const map = [2, 1, 2, 3, 2];
    expect(ownedBy(map, 2)).toEqual([0, 2, 4]);
    expect(ownedBy(map, 9)).toEqual([]);
    expect(ownerOf(map, 3)).toBe(3);
    expect(() => ownerOf(map, 5)).toThrow(/outside the map/);
    expect(() => ownerOf(map, -1)).toThrow(/outside the map/);
    expect(() => ownerOf(map, 1.5)).toThrow(/outside the map/);
  });
});

describe('internals', () => {
  it('apportion gives floor or ceiling, summing to the total', () => {
    const q = apportion(10, [{ id: 1, weight: 1 }, { id: 2, weight: 1 }, { id: 3, weight: 1 }]);
    expect(q).toEqual(new Map([[1, 4], [2, 3], [3, 3]]));
    expect(apportion(0, three)).toEqual(new Map([[1, 0], [2, 0], [3, 0]]));
  });

  it('assignByQuota gives what the greedy over all (bucket, node) pairs gives', () => {
    // Reference: every pair sorted by score (high first), then bucket position, then node id;
    // a pair is taken while its bucket is free and its node has room.
    const reference = (buckets: number[], quotas: Map<number, number>): Map<number, number> => {
      const room = new Map(quotas);
      const pairs = buckets.flatMap((bucket, i) => [...quotas.keys()].map((id) => ({ bucket, i, id, score: preference(bucket, id) })));
      pairs.sort((x, y) => y.score - x.score || x.i - y.i || x.id - y.id);
      const owner = new Map<number, number>();
      for (const p of pairs) {
        if (owner.has(p.bucket) || (room.get(p.id) ?? 0) <= 0) continue;
        owner.set(p.bucket, p.id);
        room.set(p.id, (room.get(p.id) ?? 0) - 1);
      }
      return owner;
    };
    const rng = prng(77);
    for (let t = 0; t < 200; t++) {
      const buckets = rng.shuffle(Array.from({ length: 300 }, (_, b) => b * 7)).slice(0, rng.int(0, 300));
      const nodes = rng.shuffle([1, 2, 3, 5, 8, 13, 21, 34, 55, 89]).slice(0, rng.int(1, 10)).map((id) => ({ id, weight: rng.int(0, 50) }));
      const quotas = apportion(buckets.length, nodes);
      expect(assignByQuota(buckets, quotas), `case ${t}`).toEqual(reference(buckets, quotas));
    }
  });

  it('apportionSampled: floor or ceiling summing to the total, each ceiling as often as its fraction', () => {
    const nodes = [{ id: 1, weight: 1 }, { id: 2, weight: 2 }, { id: 3, weight: 3 }, { id: 4, weight: 0 }];
    const ceilings = new Map<number, number>();
    for (let seed = 0; seed < 600; seed++) {
      const q = apportionSampled(5, nodes, seed); // seeds 0..599 hit each offset mod 6 equally often
      expect([...q.values()].reduce((a, b) => a + b, 0)).toBe(5);
      // Shares 5/6, 10/6, 15/6, 0: floors 0, 1, 2, 0 and two leftover slots.
      expect([q.get(1), q.get(2), q.get(3), q.get(4)].map((v, i) => (v ?? 0) - [0, 1, 2, 0][i]!).every((d) => d === 0 || d === 1)).toBe(true);
      expect(q.get(4)).toBe(0);
      for (const [id, v] of q) if (v > [0, 0, 1, 2, 0][id]!) ceilings.set(id, (ceilings.get(id) ?? 0) + 1);
    }
    // Fractions 5/6, 4/6, 3/6 of 600 splits: exactly 500, 400, 300.
    expect(ceilings).toEqual(new Map([[1, 500], [2, 400], [3, 300]]));
  });
});
