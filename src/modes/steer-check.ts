/**
 * `vmac check` advice for arp-steer (issue 17). ARP steers by the requester: clients behind a
 * router reach the VIP through the router's MAC, so ARP puts all of them on the owner of the
 * router's bucket — and that node's filter, which hashes every client's own address, answers
 * only the routed clients of its own buckets (about 1/N). Where the configured gateway (the
 * data-path check's targets) is the cluster's way to its clients, warn: arp-steer is for
 * on-link clients.
 */
import type { VmacConfig } from '../config/types.js';
import { bucketOf } from '../hash/bucket-of.js';
import { ownerOf } from '../hash/bucket-map.js';
import { staticMap } from '../daemon/ownership.js';

export function steerWarnings(cfg: VmacConfig): string[] {
  if (cfg.mode !== 'arp-steer') return [];
  const gateways = (cfg.dataPathCheck?.targets ?? []).filter((t) => !t.includes(':')); // IPv4: ARP steers IPv4 only
  const map = staticMap(cfg);
  return gateways.map((g) => {
    const b = bucketOf({ addr: g }, cfg.hash, cfg.buckets);
    const owner = cfg.nodes.find((n) => n.id === ownerOf(map, b))?.name ?? '?';
    return `mode arp-steer: clients behind the gateway ${g} reach the VIP with its MAC, so ARP steers them all to ${owner} (the owner of ${g}'s bucket ${b}), which answers only those hashed to its own buckets (about 1/${cfg.nodes.length}); if the gateway would be the only client, use mode unicast, multicast or igmp (arp-steer is for clients on the segment)`;
  });
}
