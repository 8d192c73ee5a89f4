/**
 * Splitting a whole number of buckets among weighted nodes so that every node gets the floor or
 * the ceiling of its exact share `total * weight / sumWeights` (the "within one bucket" promise).
 * All arithmetic is on integers: shares are compared as numerators over the same denominator,
 * so no two nodes can round differently on different machines.
 */
import { VmacError } from '../util/errors.js';

/** A node id and its relative weight (NodeSpec fits). */
export interface WeightedNode {
  readonly id: number;
  readonly weight: number;
}

/** One node's exact share of `total`: floor + remainder / weightSum. */
export interface Share {
  readonly id: number;
  readonly weight: number; // effective weight (see `effectiveWeights`)
  readonly weightSum: number;
  readonly floor: number;
  readonly remainder: number; // numerator of the fractional part, 0 <= remainder < weightSum
}

/** Orders candidates for the leftover (ceil) slots: negative = `a` first. */
export type ExtraOrder = (a: Share, b: Share) => number;

function invalid(message: string, details: Record<string, unknown>): never {
  throw new VmacError('VMAC_CONFIG_INVALID', message, details);
}

/** Rejects what would make the split ambiguous: duplicate ids, fractional or negative weights. */
export function checkNodes(nodes: readonly WeightedNode[]): void {
  const seen = new Set<number>();
  for (const n of nodes) {
    if (!Number.isSafeInteger(n.id)) invalid(`node id must be an integer, got ${n.id}`, { id: n.id });
    if (seen.has(n.id)) invalid(`node id ${n.id} appears twice`, { id: n.id });
    seen.add(n.id);
    if (!Number.isSafeInteger(n.weight) || n.weight < 0) {
      invalid(`node ${n.id} weight must be a non-negative integer, got ${n.weight}`, { id: n.id, weight: n.weight });
    }
  }
}

/** Checks a bucket count: a positive integer small enough for exact share arithmetic. */
export function checkBucketCount(buckets: number): void {
  if (!Number.isSafeInteger(buckets) || buckets < 1) invalid(`bucket count must be a positive integer, got ${buckets}`, { buckets });
}

/**
 * Weights as used for sharing. If every weight is zero (everyone draining) the nodes share
 * equally: traffic must land somewhere, and an owner that drains is better than no owner.
 */
export function effectiveWeights(nodes: readonly WeightedNode[]): WeightedNode[] {
  const allZero = nodes.every((n) => n.weight === 0);
  return nodes.map((n) => ({ id: n.id, weight: allZero ? 1 : n.weight }));
}

/** Each node's floor and remainder of `total * weight / sum`, sorted by id. */
function shares(total: number, nodes: readonly WeightedNode[]): Share[] {
  const weighted = effectiveWeights(nodes);
  const weightSum = weighted.reduce((sum, n) => sum + n.weight, 0);
  if (!Number.isSafeInteger(total * weightSum)) invalid(`${total} buckets x weight sum ${weightSum} is too large`, { total, weightSum });
  return weighted
    .map((n) => {
      const numerator = total * n.weight;
      const remainder = numerator % weightSum;
      return { id: n.id, weight: n.weight, weightSum, floor: (numerator - remainder) / weightSum, remainder };
    })
    .sort((a, b) => a.id - b.id);
}

/**
 * Integer quotas summing to `total`, each the floor or ceiling of the node's weighted share.
 * Only nodes with a fractional share can take a leftover slot (so nobody exceeds its ceiling);
 * `extraFirst` picks among them, then the largest remainder, then the lowest id.
 */
export function apportion(total: number, nodes: readonly WeightedNode[], extraFirst?: ExtraOrder): Map<number, number> {
  checkNodes(nodes);
  if (!Number.isSafeInteger(total) || total < 0) invalid(`cannot split ${total} buckets`, { total });
  const quotas = new Map<number, number>();
  if (nodes.length === 0) return quotas;
  const all = shares(total, nodes);
  for (const s of all) quotas.set(s.id, s.floor);
  const extras = total - all.reduce((sum, s) => sum + s.floor, 0);
  const order: ExtraOrder = (a, b) => (extraFirst?.(a, b) ?? 0) || b.remainder - a.remainder || a.id - b.id;
  const candidates = all.filter((s) => s.remainder > 0).sort(order);
  for (const s of candidates.slice(0, extras)) quotas.set(s.id, s.floor + 1);
  return quotas;
}

/**
 * Like `apportion`, but the leftover slots are drawn: by systematic sampling over the nodes in
 * id order, with the first point at `seed` mod weightSum, each node gets its ceiling with
 * probability remainder / weightSum exactly. Any fixed order favours the same nodes in every
 * split; over many small splits with unrelated seeds this favours none.
 */
export function apportionSampled(total: number, nodes: readonly WeightedNode[], seed: number): Map<number, number> {
  checkNodes(nodes);
  if (!Number.isSafeInteger(total) || total < 0) invalid(`cannot split ${total} buckets`, { total });
  const quotas = new Map<number, number>();
  const all = shares(total, nodes);
  let point = (seed >>> 0) % (all[0]?.weightSum ?? 1); // the remainders tile [0, extras * weightSum)
  let end = 0;
  for (const s of all) {
    end += s.remainder;
    const extra = point < end ? 1 : 0; // remainder < weightSum: at most one point per node
    quotas.set(s.id, s.floor + extra);
    point += extra * s.weightSum;
  }
  return quotas;
}
