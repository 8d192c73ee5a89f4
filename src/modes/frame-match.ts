/**
 * How the netdev ingress rules recognise the VIP's frames in each mode (issue 17). Pure strings,
 * spliced into the rules by src/vmac/ruleset.ts.
 *
 *   unicast, multicast, igmp  `ether daddr <vmac>`: the shared MAC, unicast or group. The frames
 *       arrive as PACKET_OTHERHOST (unicast VMAC) or PACKET_MULTICAST (group VMAC); the accept
 *       sets `pkttype host` in both cases, because TCP discards any segment whose pkttype is not
 *       host (tcp_v4_rcv), and the IP stack drops other-host frames before prerouting.
 *       The group modes keep the filter at netdev ingress rather than `ip prerouting`: a
 *       non-owned bucket is dropped before the IP stack sees it, the rules are the same as
 *       unicast's, and the data-path bench measures both places (docs/switch-modes.md).
 *   arp-steer  `meta pkttype host`: the frame is addressed to this node's own MAC (ARP told the
 *       client so). Nothing to rewrite; the hash still decides, so a client whose bucket moved
 *       but whose ARP entry still names this node is dropped here, never answered twice.
 */
export type DataPathMode = 'unicast' | 'multicast' | 'igmp' | 'arp-steer';

export interface FrameMatch {
  /** The rule's link-layer match. */
  readonly match: string;
  /** Statement(s) before the hash when accepting, with a trailing space ('' when none). */
  readonly accept: string;
}

export function frameMatch(plan: { readonly vmac: string; readonly mode?: DataPathMode }): FrameMatch {
  if (plan.mode === 'arp-steer') return { match: 'meta pkttype host', accept: '' };
  return { match: `ether daddr ${plan.vmac}`, accept: 'meta pkttype set host ' };
}

/**
 * What the catch-all drop matches (after the accept rules): everything else for the shared MAC;
 * in arp-steer, everything else for the VIP (VIP6) — the node's own traffic must pass untouched.
 */
export function otherFramesDrop(plan: { readonly vmac: string; readonly vip: string | null; readonly mode?: DataPathMode; readonly v6?: { readonly vip6: string } }): string[] {
  if (plan.mode !== 'arp-steer') return [`ether daddr ${plan.vmac}`];
  return [...(plan.vip !== null ? [`ip daddr ${plan.vip}`] : []), ...(plan.v6 ? [`ip6 daddr ${plan.v6.vip6}`] : [])];
}
