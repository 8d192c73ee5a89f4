/**
 * Who takes over a failed node's buckets. Each bucket has a fixed succession — its agreed owner,
 * then a chain of every other owner — computed from the agreed map and the weights alone, never
 * from the failed set. A bucket's owner once `failed` are gone is the first node of its
 * succession that is not in `failed`. So two survivors that have seen different failures (P saw
 * {A}, Q already sees {A, B}) never both claim a bucket: if they disagree, the one earlier in
 * the succession is in the other's failed set. In particular, for F1 ⊆ F2, a bucket whose owner
 * under F1 is not in F2 keeps that owner under F2 (monotone consistency).
 *
 * The chains (all integer arithmetic, ties broken by bucket and node id, so every node and
 * every build computes the same ones):
 * 1. First successor: each owner's buckets are split over the other owners by weight, every
 *    node within one bucket of its share (apportion), placed by rendezvous preference. Leftover
 *    buckets go to whoever would end furthest below its fair share of the whole map. (For one
 *    failed node this is exactly the quota split afterFailure always made.)
 * 2. Positions 2 and 3: the buckets whose agreed owner and first k-1 successors are one set S
 *    of k nodes, in any order — exactly the buckets that need a k-th successor once all of S
 *    has failed, whatever else failed — are split the same way over the owners outside S, but
 *    the leftover buckets are drawn (apportionSampled, seeded by S): a group is reused by every
 *    failed set containing S, and any fixed preference would favour the same nodes in all of
 *    them. Double failures stay within about three buckets of each survivor's weighted share,
 *    triple ones within about five. Position 3 is placed so only while its groups (one per
 *    3-set of owners) average at least one bucket per candidate; in bigger clusters they are
 *    many and tiny, no better than draws, and it is drawn as in 3.
 * 3. Later positions: the remaining owners as a weighted shuffle, each next node drawn with
 *    probability proportional to its weight from an integer hash of the bucket and position.
 *
 * Candidates are the owners in the agreed map: a node that owns nothing there (a joiner not yet
 * rebalanced in, a casualty of an earlier failure, a node of weight 0) is in no chain, even if it
 * has a weight; it gets buckets from `rebalanceTarget`. A weight-0 owner (draining) keeps its
 * buckets but comes after every positive-weight owner in every chain: it receives a bucket only
 * when every positive-weight owner has failed (traffic must land somewhere, as in
 * `effectiveWeights`). For the same reason, once every owner has failed, the nodes of `weights`
 * that own nothing follow at the very end of every succession (ascending id, rotated by the
 * bucket to spread them), instead of the bucket staying with a failed owner while a live node
 * could answer it. The succession is still fixed, so the map stays monotone.
 */
import { VmacError } from '../util/errors.js';
import type { BucketMap } from './bucket-map.js';
import { jhashTwoWords } from './jhash.js';
import { assignByQuota } from './preference.js';
import { apportion, apportionSampled, checkNodes, type Share, type WeightedNode } from './quota.js';

/** The successions of one agreed map; built lazily (only what a failed set needs) and memoised. */
export interface FailoverPlan {
  /**
   * The owner of `bucket` once `failed` are gone: the agreed owner if it survives, else the
   * first survivor of its chain, else (nobody left) the failed agreed owner.
   */
  ownerAfter(bucket: number, failed: ReadonlySet<number>): number;
  /**
   * The owners that take `bucket` over, in order, after its agreed owner (every other owner).
   * Only once all of them failed, the nodes that own nothing follow (see `ownerAfter`).
   */
  chain(bucket: number): number[];
}

/** Seed of the step-3 draws ("tail"); changing it would change multi-failure placement. */
const TAIL_SEED = 0x7461696c;

/** Seed of the per-group leftover draws ("grps"). */
const GROUP_SEED = 0x67727073;

/** In `Plan.next`: the bucket's group had nobody left to hand it to. */
const NONE = Infinity;

function invalid(message: string, details: Record<string, unknown>): never {
  throw new VmacError('VMAC_CONFIG_INVALID', message, details);
}

/** Integer numerator (over s.weightSum) of how far `s` would end below `total * weight / sum` holding `has + floor`. */
const deficit = (s: Share, total: number, has: number): number => total * s.weight - (has + s.floor) * s.weightSum;

/** A seed for the leftover draw of a set's group: jhash folded over its ids (ascending). */
function setSeed(set: readonly number[]): number {
  return set.reduce((h, id) => jhashTwoWords(h, id >>> 0, GROUP_SEED), set.length);
}

class Plan implements FailoverPlan {
  private readonly owners: WeightedNode[]; // every owner of the agreed map, ascending id
  private readonly byOwner = new Map<number, number[]>(); // owner -> its buckets, ascending
  private readonly groups = new Map<string, number[]>(); // set's ids ascending, comma-joined -> its buckets
  private readonly next: Float64Array[] = []; // next[k][bucket]: chain position k+1 (NaN: not computed yet)
  private readonly balancedLevels: number;
  private readonly outsiders: number[]; // nodes of `weights` owning nothing in the agreed map, ascending id

  constructor(
    private readonly agreed: BucketMap,
    weights: ReadonlyMap<number, number>,
  ) {
    agreed.forEach((o, b) => {
      const owned = this.byOwner.get(o);
      if (owned) owned.push(b);
      else this.byOwner.set(o, [b]);
    });
    this.owners = [...this.byOwner.keys()]
      .sort((a, b) => a - b)
      .map((id) => ({ id, weight: weights.get(id) ?? invalid(`no weight for node ${id}, which owns buckets in the agreed map`, { id }) }));
    checkNodes(this.owners);
    this.outsiders = [...weights.keys()].filter((id) => !this.byOwner.has(id)).sort((a, b) => a - b);
    // Position 3 by quota only where its groups (one per 3-set of owners) average at least one
    // bucket per candidate; in bigger clusters they are tiny, many, and no better than draws.
    const n = this.owners.length;
    this.balancedLevels = agreed.length >= ((n * (n - 1) * (n - 2)) / 6) * (n - 3) ? 3 : 2;
  }

  ownerAfter(bucket: number, failed: ReadonlySet<number>): number {
    const owner = this.ownerOf(bucket);
    if (!failed.has(owner)) return owner;
    for (const c of this.succession(bucket)) if (!failed.has(c)) return c;
    for (const c of this.lastResort(bucket)) if (!failed.has(c)) return c;
    return owner;
  }

  chain(bucket: number): number[] {
    return [...this.succession(bucket)];
  }

  /** Every owner has failed: the nodes that own nothing, rotated by the bucket. */
  private *lastResort(bucket: number): Generator<number, void, undefined> {
    const k = this.outsiders.length;
    for (let i = 0; i < k; i++) yield this.outsiders[(bucket + i) % k] as number;
  }

  private *succession(bucket: number): Generator<number, void, undefined> {
    const path = [this.ownerOf(bucket)];
    for (let k = 0; k < this.balancedLevels; k++) {
      const row = (this.next[k] ??= new Float64Array(this.agreed.length).fill(NaN));
      if (Number.isNaN(row[bucket])) this.group([...path].sort((a, b) => a - b));
      const c = row[bucket] ?? NONE;
      if (c === NONE) return;
      yield c;
      path.push(c);
    }
    yield* this.draws(bucket, path);
  }

  private ownerOf(bucket: number): number {
    const owner = Number.isInteger(bucket) ? this.agreed[bucket] : undefined;
    if (owner === undefined) invalid(`bucket ${bucket} is outside the map (0..${this.agreed.length - 1})`, { bucket, buckets: this.agreed.length });
    return owner;
  }

  /** The buckets of `set` (ascending ids); on first use, also places their next successor. */
  private group(set: readonly number[]): readonly number[] {
    const key = set.join(',');
    const known = this.groups.get(key);
    if (known) return known;
    const k = set.length - 1;
    const others = this.owners.filter((n) => !set.includes(n.id));
    let buckets: number[];
    let quotas: Map<number, number>;
    if (k === 0) {
      buckets = this.byOwner.get(set[0] ?? 0) ?? [];
      const held = (id: number): number => this.byOwner.get(id)?.length ?? 0;
      quotas = apportion(buckets.length, others, (p, q) => deficit(q, this.agreed.length, held(q.id)) - deficit(p, this.agreed.length, held(p.id)));
    } else {
      // For each x in the set: the buckets of the set without x whose next node is x.
      buckets = [];
      for (const x of set) {
        const sub = this.group(set.filter((id) => id !== x));
        const row = this.next[k - 1];
        for (const b of sub) if (row?.[b] === x) buckets.push(b);
      }
      buckets.sort((p, q) => p - q);
      quotas = apportionSampled(buckets.length, others, setSeed(set));
    }
    const owner = assignByQuota(buckets, quotas);
    const row = (this.next[k] ??= new Float64Array(this.agreed.length).fill(NaN));
    for (const b of buckets) row[b] = owner.get(b) ?? NONE;
    this.groups.set(key, buckets);
    return buckets;
  }

  /**
   * Step 3: the owners not in `path` (the agreed owner and the chain so far), each next one
   * drawn with probability proportional to weight (equal once all left weigh 0) by a hash of
   * the bucket and the position: a weighted shuffle, in integers.
   */
  private *draws(bucket: number, path: readonly number[]): Generator<number, void, undefined> {
    const left = this.owners.filter((n) => !path.includes(n.id));
    let positive = left.reduce((sum, n) => sum + n.weight, 0);
    for (let position = path.length; left.length > 0; position++) {
      const zeroOnly = positive === 0;
      let point = jhashTwoWords(bucket, position, TAIL_SEED) % (zeroOnly ? left.length : positive);
      let i = 0;
      while (i < left.length - 1 && (point -= zeroOnly ? 1 : (left[i]?.weight ?? 0)) >= 0) i++;
      const [next] = left.splice(i, 1);
      if (next === undefined) return;
      positive -= next.weight;
      yield next.id;
    }
  }
}

/**
 * The successions of `agreed`. `weights` must hold the weight of every owner in `agreed`,
 * failed or not (chains are built from all of them), and every node must pass the same values:
 * do not drop failed nodes from it. Nodes that own nothing come last, once every owner failed.
 */
export function failoverPlan(agreed: BucketMap, weights: ReadonlyMap<number, number>): FailoverPlan {
  return new Plan(agreed, weights);
}

/** The nodes that take `bucket` over after its agreed owner, in order (see `failoverPlan`). */
export function successorChain(agreed: BucketMap, bucket: number, weights: ReadonlyMap<number, number>): readonly number[] {
  return failoverPlan(agreed, weights).chain(bucket);
}

/**
 * The map once `failed` nodes are gone: each failed owner's bucket goes to the first survivor of
 * its succession, everything else stays. For a single failed node, each surviving owner receives
 * the floor or ceiling of its weighted share of the moved buckets. Every owner failed: the nodes
 * of `weights` that own nothing take the buckets. Returns `agreed` itself when nothing moves (no
 * failed owner) or nobody survives. `weights`: see `failoverPlan`.
 */
export function afterFailure(agreed: BucketMap, failed: ReadonlySet<number>, weights: ReadonlyMap<number, number>): BucketMap {
  const owners = new Set(agreed);
  if (![...owners].some((o) => failed.has(o))) return agreed;
  if ([...owners].every((o) => failed.has(o)) && [...weights.keys()].every((id) => owners.has(id) || failed.has(id))) return agreed;
  const plan = failoverPlan(agreed, weights);
  return agreed.map((o, b) => (failed.has(o) ? plan.ownerAfter(b, failed) : o));
}
