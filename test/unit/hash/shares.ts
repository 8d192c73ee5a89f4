/**
 * Independent checks for the bucket-map tests: fair shares in exact integer arithmetic, written
 * apart from src/hash/quota.ts so the tests do not trust the code they test.
 */
import type { BucketMap } from '../../../src/hash/bucket-map.js';

export interface Node {
  readonly id: number;
  readonly weight: number;
}

/** floor and ceil of total * weight / weightSum. */
export function shareBounds(total: number, weight: number, weightSum: number): { lo: number; hi: number } {
  const lo = Math.floor((total * weight) / weightSum);
  const exact = lo * weightSum === total * weight;
  return { lo, hi: exact ? lo : lo + 1 };
}

/** Buckets per owner id. */
export function counts(map: BucketMap): Map<number, number> {
  const out = new Map<number, number>();
  for (const o of map) out.set(o, (out.get(o) ?? 0) + 1);
  return out;
}

/** Nodes whose count in `map` is outside [floor, ceil] of their fair share, as readable strings. */
export function unbalanced(map: BucketMap, nodes: readonly Node[]): string[] {
  const weightSum = nodes.reduce((s, n) => s + n.weight, 0);
  const have = counts(map);
  const bad: string[] = [];
  for (const n of nodes) {
    const c = have.get(n.id) ?? 0;
    const { lo, hi } = shareBounds(map.length, n.weight, weightSum);
    if (c < lo || c > hi) bad.push(`node ${n.id} w=${n.weight} owns ${c}, share ${lo}..${hi}`);
  }
  const members = new Set(nodes.map((n) => n.id));
  for (const o of have.keys()) if (!members.has(o)) bad.push(`non-member ${o} owns buckets`);
  return bad;
}

/**
 * The fewest buckets any balanced map must move away from `current`: every bucket of a
 * non-member, plus each member's excess over its floor, less one for each member that can keep
 * a ceiling slot (it holds more than its floor and has a fractional share), at most `extras` of them.
 */
export function minimalMoves(current: BucketMap, nodes: readonly Node[]): number {
  const weightSum = nodes.reduce((s, n) => s + n.weight, 0);
  const have = counts(current);
  const members = new Set(nodes.map((n) => n.id));
  let moves = current.filter((o) => !members.has(o)).length;
  let floors = 0;
  let canKeepCeiling = 0;
  for (const n of nodes) {
    const c = have.get(n.id) ?? 0;
    const { lo, hi } = shareBounds(current.length, n.weight, weightSum);
    floors += lo;
    moves += Math.max(0, c - lo);
    if (hi > lo && c > lo) canKeepCeiling++;
  }
  return moves - Math.min(current.length - floors, canKeepCeiling);
}
