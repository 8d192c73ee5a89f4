/**
 * Bucket → owner maps. Every function is pure and depends only on its arguments, so all nodes
 * that agree on the inputs (membership view, weights) compute the same map without a vote.
 *
 * Promises (checked by the property tests):
 * - balancedMap / rebalanceTarget: each node owns the floor or ceiling of its weighted fair
 *   share `buckets * weight / sumWeights`.
 * - afterFailure (failover.ts): only the failed nodes' buckets move, each along a fixed
 *   succession (monotone: survivors that saw nested failed sets never both claim a bucket);
 *   for one failed node each survivor receives the floor or ceiling of its weighted share.
 * - rebalanceTarget: no balanced map moves fewer buckets away from `current`.
 */
import { createHash } from 'node:crypto';
import { VmacError } from '../util/errors.js';
import { apportion, checkBucketCount, checkNodes, type Share, type WeightedNode } from './quota.js';
import { assignByQuota, leastPreferred } from './preference.js';

export type { WeightedNode } from './quota.js';
export { afterFailure, failoverPlan, successorChain, type FailoverPlan } from './failover.js';

/** index = bucket, value = owner node id. */
export type BucketMap = readonly number[];

/** One bucket changing hands. */
export interface BucketMove {
  readonly bucket: number;
  readonly from: number;
  readonly to: number;
}

function invalid(message: string, details: Record<string, unknown>): never {
  throw new VmacError('VMAC_CONFIG_INVALID', message, details);
}

function requireNodes(nodes: readonly WeightedNode[]): void {
  if (nodes.length === 0) invalid('no nodes to own the buckets', {});
  checkNodes(nodes);
}

/** Buckets per owner id. */
function countOwners(map: BucketMap): Map<number, number> {
  const counts = new Map<number, number>();
  for (const owner of map) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  return counts;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** A fresh map: weighted quotas, buckets placed by rendezvous preference. */
export function balancedMap(nodes: readonly WeightedNode[], buckets: number): BucketMap {
  requireNodes(nodes);
  checkBucketCount(buckets);
  const owner = assignByQuota(range(buckets), apportion(buckets, nodes));
  return range(buckets).map((b) => owner.get(b) ?? 0);
}

/**
 * The balanced map closest to `current`: only nodes above their share give buckets (owners not
 * in `nodes` give all of theirs), only nodes below it receive. Which nodes get the ceiling of a
 * fractional share is chosen to keep buckets where they are, so the number of moves is minimal.
 * A different bucket count re-hashes every client anyway, so it simply yields `balancedMap`.
 */
export function rebalanceTarget(current: BucketMap, nodes: readonly WeightedNode[], buckets: number): BucketMap {
  requireNodes(nodes);
  checkBucketCount(buckets);
  if (current.length !== buckets) return balancedMap(nodes, buckets);
  const held = countOwners(current);
  const keepsCeiling = (s: Share): number => ((held.get(s.id) ?? 0) > s.floor ? 1 : 0);
  const quotas = apportion(buckets, nodes, (a, b) => keepsCeiling(b) - keepsCeiling(a));
  const released = releasedBuckets(current, quotas);
  const room = new Map<number, number>();
  for (const [id, quota] of quotas) room.set(id, Math.max(0, quota - (held.get(id) ?? 0)));
  const owner = assignByQuota(released, room);
  return current.map((o, b) => owner.get(b) ?? o);
}

/** Buckets that must leave their owner: all of a non-member's, an over-quota owner's least wanted. */
function releasedBuckets(current: BucketMap, quotas: ReadonlyMap<number, number>): number[] {
  const byOwner = new Map<number, number[]>();
  current.forEach((o, b) => {
    const owned = byOwner.get(o);
    if (owned) owned.push(b);
    else byOwner.set(o, [b]);
  });
  const released: number[] = [];
  for (const [o, owned] of byOwner) {
    const quota = quotas.get(o);
    if (quota === undefined) released.push(...owned);
    else if (owned.length > quota) released.push(...leastPreferred(owned, o, owned.length - quota));
  }
  return released.sort((a, b) => a - b);
}

/** The buckets whose owner differs between the maps, in bucket order. */
export function planMoves(current: BucketMap, target: BucketMap): BucketMove[] {
  if (current.length !== target.length) {
    invalid(`cannot plan moves between maps of ${current.length} and ${target.length} buckets`, { current: current.length, target: target.length });
  }
  const moves: BucketMove[] = [];
  current.forEach((from, bucket) => {
    const to = target[bucket] ?? from;
    if (to !== from) moves.push({ bucket, from, to });
  });
  return moves;
}

/**
 * First 16 hex digits of SHA-256 over the owners as big-endian u32s: a short fingerprint that
 * nodes exchange to confirm they computed the same map (the byte count also encodes B).
 */
export function mapDigest(map: BucketMap): string {
  const bytes = new Uint8Array(map.length * 4);
  const view = new DataView(bytes.buffer);
  map.forEach((owner, b) => {
    if (!Number.isInteger(owner) || owner < 0 || owner > 0xffffffff) invalid(`bucket ${b} has no valid owner id: ${owner}`, { bucket: b, owner });
    view.setUint32(b * 4, owner, false);
  });
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/** The buckets `nodeId` owns, ascending. */
export function ownedBy(map: BucketMap, nodeId: number): number[] {
  return range(map.length).filter((b) => map[b] === nodeId);
}

/** The owner of `bucket`; a bucket outside the map is a caller bug, reported loudly. */
export function ownerOf(map: BucketMap, bucket: number): number {
  const owner = Number.isInteger(bucket) ? map[bucket] : undefined;
  if (owner === undefined) invalid(`bucket ${bucket} is outside the map (0..${map.length - 1})`, { bucket, buckets: map.length });
  return owner;
}
