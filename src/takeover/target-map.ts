/**
 * The target map of one node's view: the balanced base map after the absent nodes' buckets moved
 * (hash/bucket-map.ts afterFailure), and map digests, memoised in the takeover state.
 */
import type { BucketMap } from '../hash/bucket-map.js';
import { afterFailure, mapDigest } from '../hash/bucket-map.js';

/**
 * Target maps per (base, absent set) and digests per map, memoised for one node's state and the
 * states that follow from it (a map is rebuilt only when the absent set or a weight changes).
 * Every value is a pure function of its key, so the memo never changes a result; it lives in
 * the state, not in the module, so nodes in one process (the simulator) share nothing.
 */
export interface TakeoverMemo {
  readonly views: WeakMap<BucketMap, Map<string, { map: BucketMap }>>;
  readonly digests: WeakMap<BucketMap, string>;
}

export const newMemo = (): TakeoverMemo => ({ views: new WeakMap(), digests: new WeakMap() });

/** What the target map depends on (a TakeoverState has it all). */
export interface MapInputs {
  readonly memo: TakeoverMemo;
  readonly base: BucketMap;
  readonly weights: ReadonlyMap<number, number>;
  readonly params: { readonly nodes: readonly { readonly id: number }[] };
}

/** The target map for one absent set, memoised per base (the absent set rarely changes). */
const MAX_VIEWS = 256; // distinct absent sets kept per base; beyond that the cache starts over

export function targetView(s: MapInputs, absent: ReadonlySet<number>): { map: BucketMap } {
  const { views } = s.memo;
  let byFailed = views.get(s.base);
  if (!byFailed) views.set(s.base, (byFailed = new Map<string, { map: BucketMap }>()));
  const failed = [...absent].sort((a, b) => a - b);
  const key = failed.join(',');
  let view = byFailed.get(key);
  if (!view) {
    if (byFailed.size >= MAX_VIEWS) byFailed.clear();
    // Everyone absent (a lone node draining): the map stays as the base, nobody takes anything.
    const everyone = s.params.nodes.every((n) => absent.has(n.id));
    view = { map: everyone ? s.base : afterFailure(s.base, new Set(failed), s.weights) };
    byFailed.set(key, view);
  }
  return view;
}

/** Map digests, memoised per map (views and bases are memoised maps). */
export function digestOf(memo: TakeoverMemo, map: BucketMap): string {
  let d = memo.digests.get(map);
  if (d === undefined) memo.digests.set(map, (d = mapDigest(map)));
  return d;
}
