/**
 * The ARP and the ND responder read one capture (one packet socket per interface, filter
 * `arpCaptureFilter`): every frame reaches both. Each responder counts only the frames of its
 * own protocol; a frame that belongs to the other responder is not a drop of this one, so it is
 * passed over without a count (before, every NS counted as `not-arp` and every ARP request as
 * `not-ipv6`, which made both counters useless). Anything else (an IPv4 frame, a VLAN tag) is
 * still counted as the responder's own `not-arp` / `not-ipv6`.
 */
import { ETHERTYPE_ARP } from './arp-frame.js';
import { ETHERTYPE_IPV6 } from './nd-frame.js';

export type CaptureOwner = 'arp' | 'nd' | 'neither';

/** Pure: which responder a captured frame belongs to, by its EtherType (untagged frames). */
export function captureOwner(bytes: Uint8Array): CaptureOwner {
  if (bytes.length < 14) return 'neither';
  const type = ((bytes[12] ?? 0) << 8) | (bytes[13] ?? 0);
  return type === ETHERTYPE_ARP ? 'arp' : type === ETHERTYPE_IPV6 ? 'nd' : 'neither';
}
