/**
 * Ethernet II + IPv6 + ICMPv6 Neighbour Discovery frames (RFC 4861 §4.3/§4.4): Neighbor
 * Solicitation (NS, type 135) and Neighbor Advertisement (NA, type 136); pure encode and decode,
 * no I/O. The IPv6 twin of arp-frame.ts.
 *
 *   Ethernet  dst(6) src(6) type 0x86dd
 *   IPv6      ver/tc/flow(4) payload length(2) next header 58(1) hop limit 255(1) src(16) dst(16)
 *   ICMPv6    type(1) code 0(1) checksum(2)
 *             NS: reserved(4)                   target(16) [option 1: source link-layer address]
 *             NA: R|S|O flags + reserved(4)     target(16) [option 2: target link-layer address]
 *   option    type(1) length in 8-byte units(1) MAC(6)
 *
 * Decoding never throws and checks what RFC 4861 §7.1 requires of a receiver (hop limit 255,
 * code 0, valid checksum, no zero-length option, an unspecified source only towards a
 * solicited-node group and without a link-layer option). Frames with IPv6 extension headers are
 * `not-nd`: Linux sends ND without them.
 */
import { VmacError } from '../util/errors.js';
import { formatIp, formatMac, parseIp, parseMac } from '../util/ip.js';

export const ETHERTYPE_IPV6 = 0x86dd;
export const NEXT_HEADER_ICMPV6 = 58;
export const ND_HOP_LIMIT = 255;
export const ICMPV6_NS = 135;
export const ICMPV6_NA = 136;
const OPT_SOURCE_LLA = 1;
const OPT_TARGET_LLA = 2;

const ETH_LEN = 14;
const IP6_LEN = 40;
const ND_FIXED_LEN = 24; // type, code, checksum, reserved/flags, target
const LLA_OPT_LEN = 8;
/** The frame vmac sends: Ethernet + IPv6 + NA with a target link-layer address option. */
export const NA_FRAME_LEN = ETH_LEN + IP6_LEN + ND_FIXED_LEN + LLA_OPT_LEN; // 86

/** NA flags (RFC 4861 §4.4): Router, Solicited, Override. */
export const NA_FLAG_ROUTER = 0x80;
export const NA_FLAG_SOLICITED = 0x40;
export const NA_FLAG_OVERRIDE = 0x20;

export const ALL_NODES = 'ff02::1';
export const UNSPECIFIED = '::';

export type NdKind = 'solicitation' | 'advertisement';

/** One decoded NS or NA with its Ethernet and IPv6 addressing. */
export interface NdFrame {
  readonly ethDst: string;
  readonly ethSrc: string;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly kind: NdKind;
  readonly target: string;
  /** NA only: the R|S|O flag byte; 0 for NS. */
  readonly flags: number;
  /** NS: the source link-layer address option; NA: the target link-layer address option. */
  readonly lladdr: string | null;
}

export type NdDecodeFailure =
  | 'truncated'
  | 'not-ipv6' // not EtherType 0x86dd or not version 6
  | 'not-nd' // not ICMPv6 directly after the IPv6 header, or another ICMPv6 type
  | 'bad-hop-limit' // not 255: the frame crossed a router (RFC 4861 §7.1.1)
  | 'bad-code'
  | 'bad-checksum'
  | 'bad-option' // zero-length or overlong option, or a link-layer option from the unspecified source
  | 'bad-source'; // unspecified source to anything but a solicited-node group

export type NdDecodeResult =
  | { readonly ok: true; readonly frame: NdFrame }
  | { readonly ok: false; readonly reason: NdDecodeFailure };

/** The 16-bit one's-complement sum over `bytes` (odd length padded), folded, not inverted. */
function onesSum(bytes: Uint8Array, start = 0): number {
  let sum = start;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  if (bytes.length % 2 === 1) sum += (bytes[bytes.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The ICMPv6 checksum (RFC 4443 §2.3) over the pseudo-header and `icmp` (its checksum field zero or not). */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, icmp: Uint8Array): number {
  const pseudo = new Uint8Array(40);
  pseudo.set(src, 0);
  pseudo.set(dst, 16);
  new DataView(pseudo.buffer).setUint32(32, icmp.length);
  pseudo[39] = NEXT_HEADER_ICMPV6;
  return onesSum(icmp, onesSum(pseudo));
}

/** ff02::1:ffXX:XXXX, the solicited-node multicast group of `ip` (RFC 4291 §2.7.1). */
export function solicitedNodeGroup(ip: string): string {
  const b = parseIp(ip).bytes;
  return formatIp(Uint8Array.from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, b[13] ?? 0, b[14] ?? 0, b[15] ?? 0]));
}

/** 33:33 + the low 32 bits of an IPv6 multicast address (RFC 2464 §7). */
export function multicastMac(group: string): string {
  const b = parseIp(group).bytes;
  return formatMac(Uint8Array.from([0x33, 0x33, b[12] ?? 0, b[13] ?? 0, b[14] ?? 0, b[15] ?? 0]));
}

function isSolicitedNodeGroup(b: Uint8Array): boolean {
  const prefix = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff];
  return prefix.every((x, i) => b[i] === x);
}

export function decodeNdFrame(bytes: Uint8Array): NdDecodeResult {
  if (bytes.length < ETH_LEN) return fail('truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(12) !== ETHERTYPE_IPV6) return fail('not-ipv6');
  if (bytes.length < ETH_LEN + IP6_LEN) return fail('truncated');
  const ip = ETH_LEN;
  if (view.getUint8(ip) >> 4 !== 6) return fail('not-ipv6');
  if (view.getUint8(ip + 6) !== NEXT_HEADER_ICMPV6) return fail('not-nd');
  const payloadLen = view.getUint16(ip + 4);
  const icmpAt = ip + IP6_LEN;
  if (bytes.length < icmpAt + 1) return fail('truncated');
  const type = view.getUint8(icmpAt);
  if (type !== ICMPV6_NS && type !== ICMPV6_NA) return fail('not-nd');
  if (payloadLen < ND_FIXED_LEN || bytes.length < icmpAt + payloadLen) return fail('truncated');
  if (view.getUint8(ip + 7) !== ND_HOP_LIMIT) return fail('bad-hop-limit');
  if (view.getUint8(icmpAt + 1) !== 0) return fail('bad-code');
  const src = bytes.subarray(ip + 8, ip + 24);
  const dst = bytes.subarray(ip + 24, ip + 40);
  const icmp = bytes.subarray(icmpAt, icmpAt + payloadLen);
  if (icmpv6Checksum(src, dst, icmp) !== 0xffff) return fail('bad-checksum');
  const kind: NdKind = type === ICMPV6_NS ? 'solicitation' : 'advertisement';
  let lladdr: string | null = null;
  for (let at = ND_FIXED_LEN; at < icmp.length;) {
    if (at + 2 > icmp.length) return fail('bad-option');
    const optType = icmp[at] ?? 0;
    const optLen = (icmp[at + 1] ?? 0) * 8;
    if (optLen === 0 || at + optLen > icmp.length) return fail('bad-option');
    const wanted = kind === 'solicitation' ? OPT_SOURCE_LLA : OPT_TARGET_LLA;
    if (optType === wanted && optLen >= LLA_OPT_LEN) lladdr = formatMac(icmp.subarray(at + 2, at + 8));
    at += optLen;
  }
  const unspecified = src.every((x) => x === 0);
  if (unspecified && kind === 'solicitation') {
    if (!isSolicitedNodeGroup(dst)) return fail('bad-source');
    if (lladdr !== null) return fail('bad-option');
  }
  return {
    ok: true,
    frame: {
      ethDst: formatMac(bytes.subarray(0, 6)),
      ethSrc: formatMac(bytes.subarray(6, 12)),
      srcIp: formatIp(src),
      dstIp: formatIp(dst),
      kind,
      target: formatIp(icmp.subarray(8, 24)),
      flags: kind === 'advertisement' ? (icmp[4] ?? 0) & 0xe0 : 0,
      lladdr,
    },
  };
}

function fail(reason: NdDecodeFailure): NdDecodeResult {
  return { ok: false, reason };
}

function ipv6Bytes(text: string): Uint8Array {
  const ip = parseIp(text);
  if (ip.family !== 6) throw new VmacError('VMAC_BAD_ADDRESS', `ND carries IPv6 only, got ${JSON.stringify(text)}`, { value: text });
  return ip.bytes;
}

interface NdEncodeFields {
  readonly ethDst: string;
  readonly ethSrc: string;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly type: typeof ICMPV6_NS | typeof ICMPV6_NA;
  readonly flags: number;
  readonly target: string;
  /** The link-layer option's address (source LLA for NS, target LLA for NA); null: no option. */
  readonly lladdr: string | null;
}

/** Encodes an NS or NA with the checksum filled in. Throws `VMAC_BAD_ADDRESS` on a bad address (a bug: callers pass validated config). */
export function encodeNdFrame(f: NdEncodeFields): Uint8Array {
  const icmpLen = ND_FIXED_LEN + (f.lladdr === null ? 0 : LLA_OPT_LEN);
  const out = new Uint8Array(ETH_LEN + IP6_LEN + icmpLen);
  const view = new DataView(out.buffer);
  out.set(parseMac(f.ethDst), 0);
  out.set(parseMac(f.ethSrc), 6);
  view.setUint16(12, ETHERTYPE_IPV6);
  const ip = ETH_LEN;
  view.setUint32(ip, 0x60000000); // version 6, traffic class 0, flow label 0
  view.setUint16(ip + 4, icmpLen);
  view.setUint8(ip + 6, NEXT_HEADER_ICMPV6);
  view.setUint8(ip + 7, ND_HOP_LIMIT);
  const src = ipv6Bytes(f.srcIp);
  const dst = ipv6Bytes(f.dstIp);
  out.set(src, ip + 8);
  out.set(dst, ip + 24);
  const icmpAt = ip + IP6_LEN;
  view.setUint8(icmpAt, f.type);
  view.setUint8(icmpAt + 4, f.flags & 0xe0);
  out.set(ipv6Bytes(f.target), icmpAt + 8);
  if (f.lladdr !== null) {
    view.setUint8(icmpAt + 24, f.type === ICMPV6_NS ? OPT_SOURCE_LLA : OPT_TARGET_LLA);
    view.setUint8(icmpAt + 25, 1);
    out.set(parseMac(f.lladdr), icmpAt + 26);
  }
  view.setUint16(icmpAt + 2, ~icmpv6Checksum(src, dst, out.subarray(icmpAt)) & 0xffff);
  return out;
}

export interface NeighborAdvertFields {
  readonly ethSrc: string; // the node's real MAC: the VMAC is never an Ethernet source
  readonly ethDst: string;
  readonly srcIp: string; // the VIP6
  readonly dstIp: string;
  readonly target: string; // the VIP6
  readonly targetMac: string; // the VMAC (target link-layer address option)
  readonly flags: number;
}

/** An NA carrying the target link-layer address option. */
export function neighborAdvert(f: NeighborAdvertFields): Uint8Array {
  return encodeNdFrame({ ethDst: f.ethDst, ethSrc: f.ethSrc, srcIp: f.srcIp, dstIp: f.dstIp, type: ICMPV6_NA, flags: f.flags, target: f.target, lladdr: f.targetMac });
}

export interface UnsolicitedNaFields {
  readonly ethSrc: string;
  readonly vip6: string;
  readonly vmac: string;
}

/**
 * The IPv6 gratuitous ARP (RFC 4861 §7.2.6): an unsolicited NA to all nodes (ff02::1), Override
 * set and Solicited clear, so neighbours that hold an entry for the VIP6 replace its link-layer
 * address with the VMAC. Linux updates an existing entry from it; it creates none (unless
 * `accept_untracked_na`), as with gratuitous ARP and `arp_accept=0`.
 */
export function unsolicitedNa(f: UnsolicitedNaFields): Uint8Array {
  return neighborAdvert({ ethSrc: f.ethSrc, ethDst: multicastMac(ALL_NODES), srcIp: f.vip6, dstIp: ALL_NODES, target: f.vip6, targetMac: f.vmac, flags: NA_FLAG_OVERRIDE });
}

export interface NeighborSolicitFields {
  readonly ethSrc: string;
  readonly srcIp: string; // '::' for DAD
  readonly target: string;
  /** Defaults to the target's solicited-node group (multicast); a unicast NS re-validates an entry. */
  readonly dstIp?: string;
  readonly ethDst?: string;
  /** Defaults to ethSrc; null: no source link-layer option (as DAD and some unicast NS). */
  readonly sourceMac?: string | null;
}

/** A Neighbor Solicitation, as a client sends it. Used by tests and the lab. */
export function neighborSolicit(f: NeighborSolicitFields): Uint8Array {
  const dstIp = f.dstIp ?? solicitedNodeGroup(f.target);
  const ethDst = f.ethDst ?? multicastMac(dstIp);
  const lladdr = f.sourceMac === undefined ? (f.srcIp === UNSPECIFIED ? null : f.ethSrc) : f.sourceMac;
  return encodeNdFrame({ ethDst, ethSrc: f.ethSrc, srcIp: f.srcIp, dstIp, type: ICMPV6_NS, flags: 0, target: f.target, lladdr });
}
