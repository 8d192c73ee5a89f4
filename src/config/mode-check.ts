/**
 * The configuration rules of the switch-friendly modes (issue 17), beside the loader's other
 * cross-field rules (src/config/semantic-check.ts calls these).
 */
import type { ConfigProblem } from './problems.js';
import type { RawConfig } from './raw.js';
import type { Mode } from '../model/mode.js';
import { formatMac, parseMac } from '../util/ip.js';
import { igmpGroup, igmpVmac } from '../model/mode-addresses.js';

/** multicast / igmp: the VMAC must be a group address every node can receive. */
export function groupVmacProblems(vmac: string, mode: Mode, vip: string): ConfigProblem[] {
  if (vmac === 'auto') return [];
  const bytes = parseMac(vmac);
  const text = formatMac(bytes);
  if (mode === 'igmp') {
    const want = igmpVmac(vip);
    return text === want ? [] : [{ path: 'vmac', message: `igmp mode derives the VMAC from the VIP's group ${igmpGroup(vip)}: use "auto" or ${want}, got ${text}` }];
  }
  if (((bytes[0] ?? 0) & 0x01) === 0) {
    return [{ path: 'vmac', message: `${text} is a unicast MAC; multicast mode needs a group address — use "auto" (03:bf:<vip bytes>) or a locally administered group address like 03:bf:0a:c8:00:01` }];
  }
  if (bytes.every((b) => b === 0xff)) return [{ path: 'vmac', message: 'ff:ff:ff:ff:ff:ff is the broadcast address: every host of the segment would receive the VIP\'s traffic; use "auto"' }];
  if (text.startsWith('01:00:5e:') || text.startsWith('33:33:')) {
    return [{ path: 'vmac', message: `${text} is in an IP multicast range (01:00:5e IPv4, 33:33 IPv6) that snooping switches prune by IP group; use "auto" (03:bf:<vip bytes>), or mode igmp` }];
  }
  return [];
}

/**
 * arp-steer answers each requester by its address: only an address hash can be steered by ARP
 * (`address+port` would put one client's flows on several nodes, which ARP cannot express).
 */
export function modeProblems(raw: Pick<RawConfig, 'mode' | 'hash' | 'vip' | 'vip6'>): ConfigProblem[] {
  // The group MACs derive from the IPv4 VIP and arp-steer answers ARP: an IPv6-only service is unicast.
  if (raw.mode !== undefined && raw.mode !== 'unicast' && raw.vip === undefined) {
    return [{ path: 'mode', message: `${raw.mode} needs an IPv4 vip (the group MACs derive from it; arp-steer steers a vip6 only beside an IPv4 vip): an IPv6-only service runs in unicast mode` }];
  }
  if (raw.mode !== 'arp-steer') return [];
  return [
    ...(raw.hash.affinity === 'address+port' ? [{ path: 'hash.affinity', message: 'arp-steer steers each client by ARP to one node: it needs affinity address or network, not address+port' }] : []),
    // vip6 is steered by ND the same way (nd-responder.ts steer, steer-announcer.ts directedNa).
  ];
}
