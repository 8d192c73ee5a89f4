/**
 * The link-layer addresses of each mode (issue 17), derived from the VIP alone so that every node
 * computes the same value without coordination (the way `vmac: auto` works in unicast mode).
 *
 *   unicast    02:bf:a:b:c:d  locally administered unicast; never a frame source, so switches flood it
 *   multicast  03:bf:a:b:c:d  the same bytes with the group bit set (Windows NLB's multicast mode uses
 *                             exactly this: 03:bf + the VIP). Locally administered, so it can never
 *                             collide with an IEEE-assigned group (01:80:c2 STP/LLDP, 01:00:5e IPv4,
 *                             33:33 IPv6); a switch floods it like any group address it has no entry
 *                             for, and snooping switches cannot prune it (no IP group maps to it).
 *   igmp       01:00:5e:xx:yy:zz of the IPv4 group 239.255.c.d (c.d = the VIP's last two bytes, as
 *                             NLB's IGMP mode derives it). 239.255.0.0/16 is the organisation-local
 *                             scope of RFC 2365, never routed out of the site; the MAC is the RFC 1112
 *                             mapping (01:00:5e + the group's low 23 bits). Every node joins the group,
 *                             so a switch that snoops IGMP learns the cluster's ports.
 *   arp-steer  no shared MAC: each node answers with its own interface MAC.
 * Two VIPs that share their last two bytes share the igmp group (as under NLB): give them distinct
 * services on distinct segments, or accept that their frames reach both clusters (each cluster's
 * filter drops the other's VIP).
 */
import type { Mode } from '../config/types.js';
import { formatMac, parseIp } from '../util/ip.js';

/** Every mode, in the order of their fingerprint codes (append only: the code is on the wire). */
export const MODES: readonly Mode[] = ['unicast', 'multicast', 'arp-steer', 'igmp'];

/** multicast: 03:bf + the VIP's four bytes. */
export function multicastVmac(vip: string): string {
  return formatMac(Uint8Array.from([0x03, 0xbf, ...parseIp(vip).bytes]));
}

/** igmp: the IPv4 group every node joins, 239.255.<vip byte 3>.<vip byte 4>. */
export function igmpGroup(vip: string): string {
  const b = parseIp(vip).bytes;
  return `239.255.${b[2] ?? 0}.${b[3] ?? 0}`;
}

/** RFC 1112: 01:00:5e followed by the low 23 bits of the IPv4 group. */
export function groupMac(group: string): string {
  const b = parseIp(group).bytes;
  return formatMac(Uint8Array.from([0x01, 0x00, 0x5e, (b[1] ?? 0) & 0x7f, b[2] ?? 0, b[3] ?? 0]));
}

/** The group MAC of the igmp mode for `vip`. */
export function igmpVmac(vip: string): string {
  return groupMac(igmpGroup(vip));
}

/** Whether frames carry one shared group MAC that every node receives (multicast, igmp). */
export function usesGroupMac(mode: Mode): boolean {
  return mode === 'multicast' || mode === 'igmp';
}

/** `vmac: auto` in `mode`. In arp-steer the value is never on the wire (each node uses its own MAC). */
export function autoVmacFor(mode: Mode, vip: string): string {
  if (mode === 'multicast') return multicastVmac(vip);
  if (mode === 'igmp') return igmpVmac(vip);
  return formatMac(Uint8Array.from([0x02, 0xbf, ...parseIp(vip).bytes]));
}
