/**
 * Ethernet II + ARP (IPv4 over Ethernet, RFC 826) frames: pure encode and decode, no I/O.
 *
 * Addresses are carried as canonical text (`aa:bb:cc:dd:ee:ff`, dotted quad) because every
 * consumer compares, logs or counts them; ARP volume is tiny, so parsing cost does not matter.
 * Decoding never throws: bytes come from the wire, and a bad frame is an outcome, not a bug.
 */
import { VmacError } from '../util/errors.js';
import { formatIp, formatMac, parseIp, parseMac } from '../util/ip.js';

export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV4 = 0x0800;
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC = '00:00:00:00:00:00';

const ETH_HEADER_LEN = 14;
const ARP_FIXED_LEN = 8; // htype, ptype, hlen, plen, op
const ARP_IPV4_LEN = ARP_FIXED_LEN + 6 + 4 + 6 + 4; // 28
/** Length of an Ethernet + ARP frame before padding. Captured outgoing frames are often this short. */
export const ARP_FRAME_LEN = ETH_HEADER_LEN + ARP_IPV4_LEN; // 42
/** IEEE 802.3 minimum frame without FCS: we pad ourselves so no driver has to. */
export const ETH_MIN_FRAME_LEN = 60;

const HTYPE_ETHERNET = 1;
const OPCODE = { request: 1, reply: 2 } as const;

export type ArpOp = keyof typeof OPCODE;

/** One decoded ARP packet with its Ethernet addressing. */
export interface ArpFrame {
  readonly ethDst: string;
  readonly ethSrc: string;
  readonly op: ArpOp;
  readonly senderMac: string;
  readonly senderIp: string;
  readonly targetMac: string;
  readonly targetIp: string;
}

/** Why a byte string is not an ARP-over-IPv4-over-Ethernet request or reply. */
export type ArpDecodeFailure = 'truncated' | 'not-arp' | 'not-ipv4-over-ethernet' | 'unknown-opcode';

export type ArpDecodeResult =
  | { readonly ok: true; readonly frame: ArpFrame }
  | { readonly ok: false; readonly reason: ArpDecodeFailure };

/**
 * Decodes an Ethernet II frame carrying ARP for IPv4. Trailing bytes (padding, FCS) are ignored;
 * frames shorter than 42 bytes are `truncated`. 802.1Q-tagged frames are `not-arp`: the cluster
 * interface is expected to be the (tag-stripped) VLAN device itself.
 */
export function decodeArpFrame(bytes: Uint8Array): ArpDecodeResult {
  if (bytes.length < ETH_HEADER_LEN) return fail('truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(12) !== ETHERTYPE_ARP) return fail('not-arp');
  if (bytes.length < ETH_HEADER_LEN + ARP_FIXED_LEN) return fail('truncated');
  const a = ETH_HEADER_LEN;
  const isIpv4OverEthernet =
    view.getUint16(a) === HTYPE_ETHERNET && view.getUint16(a + 2) === ETHERTYPE_IPV4 &&
    view.getUint8(a + 4) === 6 && view.getUint8(a + 5) === 4;
  if (!isIpv4OverEthernet) return fail('not-ipv4-over-ethernet');
  if (bytes.length < ARP_FRAME_LEN) return fail('truncated');
  const op = opFromCode(view.getUint16(a + 6));
  if (op === undefined) return fail('unknown-opcode');
  const frame: ArpFrame = {
    ethDst: formatMac(bytes.subarray(0, 6)),
    ethSrc: formatMac(bytes.subarray(6, 12)),
    op,
    senderMac: formatMac(bytes.subarray(a + 8, a + 14)),
    senderIp: formatIp(bytes.subarray(a + 14, a + 18)),
    targetMac: formatMac(bytes.subarray(a + 18, a + 24)),
    targetIp: formatIp(bytes.subarray(a + 24, a + 28)),
  };
  return { ok: true, frame };
}

function fail(reason: ArpDecodeFailure): ArpDecodeResult {
  return { ok: false, reason };
}

function opFromCode(code: number): ArpOp | undefined {
  if (code === OPCODE.request) return 'request';
  if (code === OPCODE.reply) return 'reply';
  return undefined;
}

/**
 * Encodes a frame, zero-padded to the 60-byte Ethernet minimum. Throws `VMAC_BAD_ADDRESS` on a
 * malformed MAC or a non-IPv4 address: callers pass validated configuration, so that is a bug.
 */
export function encodeArpFrame(frame: ArpFrame): Uint8Array {
  const out = new Uint8Array(ETH_MIN_FRAME_LEN);
  const view = new DataView(out.buffer);
  out.set(parseMac(frame.ethDst), 0);
  out.set(parseMac(frame.ethSrc), 6);
  view.setUint16(12, ETHERTYPE_ARP);
  const a = ETH_HEADER_LEN;
  view.setUint16(a, HTYPE_ETHERNET);
  view.setUint16(a + 2, ETHERTYPE_IPV4);
  view.setUint8(a + 4, 6);
  view.setUint8(a + 5, 4);
  view.setUint16(a + 6, OPCODE[frame.op]);
  out.set(parseMac(frame.senderMac), a + 8);
  out.set(parseIpv4(frame.senderIp), a + 14);
  out.set(parseMac(frame.targetMac), a + 18);
  out.set(parseIpv4(frame.targetIp), a + 24);
  return out;
}

function parseIpv4(text: string): Uint8Array {
  const ip = parseIp(text);
  if (ip.family !== 4) throw new VmacError('VMAC_BAD_ADDRESS', `ARP carries IPv4 only, got ${JSON.stringify(text)}`, { value: text });
  return ip.bytes;
}

export interface ArpReplyFields {
  readonly ethSrc: string;
  readonly ethDst: string;
  readonly senderMac: string;
  readonly senderIp: string;
  readonly targetMac: string;
  readonly targetIp: string;
}

/** An ARP reply (op=2). In vmac: ethSrc = real MAC, senderMac = VMAC, senderIp = VIP. */
export function arpReply(fields: ArpReplyFields): Uint8Array {
  return encodeArpFrame({ ...fields, op: 'reply' });
}

export interface ArpRequestFields {
  readonly ethSrc: string;
  readonly senderMac: string;
  readonly senderIp: string;
  readonly targetIp: string;
  /** Defaults to broadcast; a unicast request re-validates a cached entry. */
  readonly ethDst?: string;
}

/** A who-has request (op=1) with an all-zero target MAC. Used by lab clients and tests. */
export function arpRequest(fields: ArpRequestFields): Uint8Array {
  const { ethDst = BROADCAST_MAC, ...rest } = fields;
  return encodeArpFrame({ ...rest, ethDst, op: 'request', targetMac: ZERO_MAC });
}

export interface GratuitousArpFields {
  /** The node's own real MAC: the VMAC must never be an Ethernet source. */
  readonly ethSrc: string;
  /** The hardware address being announced (the VMAC). */
  readonly senderMac: string;
  /** The address being announced (the VIP). */
  readonly ip: string;
  /** Defaults to broadcast; `arp` mode may announce to one client by unicast. */
  readonly ethDst?: string;
}

/**
 * A gratuitous ARP in *request* form (RFC 5227 §2.3 "ARP Announcement"): op=request,
 * sender IP = target IP = VIP, target MAC all zeros, Ethernet destination broadcast.
 *
 * Why request rather than reply: RFC 5227 recommends it; every stack that updates its cache
 * from a gratuitous reply also does so from a request (Linux treats sip == tip as a GARP for
 * both and overrides the entry's locktime), while some older stacks and switches act only on
 * requests; and a broadcast *reply* answers no question, which monitors flag as suspicious.
 * Because sender IP = target IP, no host answers it and a conflicting owner can be detected.
 */
export function gratuitousArp(fields: GratuitousArpFields): Uint8Array {
  return encodeArpFrame({
    ethDst: fields.ethDst ?? BROADCAST_MAC,
    ethSrc: fields.ethSrc,
    op: 'request',
    senderMac: fields.senderMac,
    senderIp: fields.ip,
    targetMac: ZERO_MAC,
    targetIp: fields.ip,
  });
}

/** Group (multicast/broadcast) addresses have the I/G bit set; zero is "unknown". */
export function isUnicastMac(mac: string): boolean {
  const first = parseInt(mac.slice(0, 2), 16);
  return (first & 0x01) === 0 && mac !== ZERO_MAC;
}
