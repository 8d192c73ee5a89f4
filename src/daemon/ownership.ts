/**
 * Which buckets this node answers, and which node answers a client's ARP request. Pure.
 * Until membership lands, the map is the balanced map of the configured node list.
 */
import type { VmacConfig, HashConfig } from '../config/types.js';
import { balancedMap, ownedBy, ownerOf, type BucketMap } from '../hash/bucket-map.js';
import { bucketOf } from '../hash/bucket-of.js';
import type { ArpDecision } from '../arp/responder.js';

export function staticMap(cfg: Pick<VmacConfig, 'nodes' | 'buckets'>): BucketMap {
  return balancedMap(cfg.nodes, cfg.buckets);
}

export function ownedBuckets(map: BucketMap, nodeId: number): number[] {
  return ownedBy(map, nodeId);
}

/**
 * ARP carries no port, so with `address+port` affinity the requester's bucket is taken over its
 * address alone: any deterministic choice works as long as every node makes the same one.
 */
export function arpHash(hash: HashConfig): HashConfig {
  return hash.affinity === 'address+port' ? { ...hash, affinity: 'address' } : hash;
}

/**
 * One node answers each ARP request: the owner of the requester's bucket, while it serves; for a
 * bucket whose owner is restarting its daemon (it answers no ARP until its successor runs), the
 * stand-in the cluster runtime names (`standInFor`: owners this node answers for).
 */
export function arpDecider(cfg: Pick<VmacConfig, 'hash' | 'buckets' | 'node'>, currentMap: () => BucketMap, serving: () => boolean = () => true, standInFor: () => ReadonlySet<number> = () => NO_STAND_IN): (senderIp: string) => ArpDecision {
  const hash = arpHash(cfg.hash);
  return (senderIp) => {
    const owner = ownerOf(currentMap(), bucketOf({ addr: senderIp }, hash, cfg.buckets));
    if (owner !== cfg.node.id && !standInFor().has(owner)) return 'not-owner';
    return serving() ? 'answer' : 'not-ready';
  };
}

const NO_STAND_IN: ReadonlySet<number> = new Set();
