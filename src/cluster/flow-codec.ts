/**
 * Flow publication wire format (per-flow UDP hand-over, src/takeover/udp-flow-handover.ts): the
 * old owner of a moving bucket tells the new owner which UDP flows it still serves; the new owner
 * acknowledges. Its own message type beside the heartbeat (whose layout is unchanged), on the
 * same sockets, authenticated with the same key (heartbeat-auth.ts). Pure, byte-exact, big-endian.
 *
 * ```
 * off  size  field
 * 0    1     magic 0x46 ('F'; heartbeats are 0x56)
 * 1    1     version: 1 (IPv4 flows, 12-byte entries), 2 (IPv6 flows, 24-byte entries: client
 *            IPv6 (16), then as below); one family per message, a reading may mix both
 * 2    1     type: 1 flows, 2 ack
 * 3    1     senderId 1..32
 * 4    8     incarnation u64 (≥ 1)
 * 12   4     seq u32 (one counter per sender for these messages; replay window as heartbeats)
 * 16   1     toId 1..32 (≠ senderId)
 * 17   1     reserved 0
 * 18   2     bucket
 * 20   4     generation u32: one reading of the old owner's flows of this bucket
 * 24   2     part (0..parts-1)
 * 26   2     parts (1..MAX_PARTS; a flows message of an empty list is one part of 0 flows)
 * 28   2     flow count n (0..MAX_FLOWS_PER_MESSAGE; 0 for an ack)
 * 30   2     reserved 0
 * 32   12·n  flows: client IPv4 (4), client port u16, VIP port u16, remainingMs u32 (how much
 *            longer the old owner keeps the flow without another packet of it)
 * 32+12n 32  HMAC-SHA256(key, bytes[0 .. 32+12n))
 * ```
 * The largest message (112 IPv4 flows, or 56 IPv6 flows) is 1,408 bytes: one datagram on any
 * Ethernet link. A node of version 1 only drops a version-2 part (bad-version): it then holds the
 * bucket's UDP until the old owner lets go, as it does for any list that does not arrive.
 * Decoding never throws; a bad datagram is a named outcome. Lengths are checked before the MAC,
 * fields only after it.
 */
import { MAC_SIZE, checkMac, computeMac, type HeartbeatKey } from './heartbeat-auth.js';
import { formatIp, parseIp } from '../util/ip.js';

const isV6 = (addr: string): boolean => addr.includes(':');

export const FLOW_MAGIC = 0x46;
export const FLOW_VERSION = 1;
/** The version of a message carrying IPv6 flows. */
export const FLOW_VERSION_V6 = 2;
export const FLOW_HEADER_SIZE = 32;
export const FLOW_ENTRY_SIZE = 12;
export const FLOW_ENTRY_SIZE_V6 = 24;
export const MAX_FLOWS_PER_MESSAGE = 112;
export const MAX_FLOWS_PER_MESSAGE_V6 = 56;
export const MAX_PARTS = 4096; // 458,752 flows per bucket reading
export const MAX_FLOW_MESSAGE_SIZE = FLOW_HEADER_SIZE + MAX_FLOWS_PER_MESSAGE * FLOW_ENTRY_SIZE + MAC_SIZE;
const MAX_NODE_ID = 32;

export interface WireFlow { readonly saddr: string; readonly sport: number; readonly dport: number; readonly remainingMs: number }

export interface FlowMessage {
  readonly type: 'flows' | 'ack';
  readonly senderId: number;
  readonly incarnation: bigint;
  readonly seq: number;
  readonly toId: number;
  readonly bucket: number;
  readonly generation: number;
  readonly part: number;
  readonly parts: number;
  readonly flows: readonly WireFlow[]; // empty for an ack
}

export type FlowDropReason = 'truncated' | 'oversized' | 'bad-magic' | 'bad-version' | 'bad-length' | 'bad-mac' | 'malformed';
export type FlowDecode = { readonly ok: true; readonly msg: FlowMessage } | { readonly ok: false; readonly reason: FlowDropReason };

/** Is this datagram a flow message (by its first byte)? The transport carries both kinds. */
export function isFlowMessage(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes[0] === FLOW_MAGIC;
}

/** One family per message: IPv6 flows make it version 2 (throws on a mixed list: flowParts never makes one). */
export function encodeFlowMessage(m: FlowMessage, key: HeartbeatKey): Uint8Array {
  const n = m.flows.length;
  const v6 = n > 0 && isV6(m.flows[0]?.saddr ?? '');
  if (m.flows.some((f) => isV6(f.saddr) !== v6)) throw new Error('flow message with both address families');
  const size = v6 ? FLOW_ENTRY_SIZE_V6 : FLOW_ENTRY_SIZE;
  const body = Buffer.alloc(FLOW_HEADER_SIZE + n * size);
  body[0] = FLOW_MAGIC;
  body[1] = v6 ? FLOW_VERSION_V6 : FLOW_VERSION;
  body[2] = m.type === 'flows' ? 1 : 2;
  body[3] = m.senderId;
  body.writeBigUInt64BE(m.incarnation, 4);
  body.writeUInt32BE(m.seq >>> 0, 12);
  body[16] = m.toId;
  body.writeUInt16BE(m.bucket, 18);
  body.writeUInt32BE(m.generation >>> 0, 20);
  body.writeUInt16BE(m.part, 24);
  body.writeUInt16BE(m.parts, 26);
  body.writeUInt16BE(n, 28);
  const alen = v6 ? 16 : 4;
  m.flows.forEach((f, i) => {
    const off = FLOW_HEADER_SIZE + i * size;
    if (v6) body.set(parseIp(f.saddr).bytes, off);
    else f.saddr.split('.').forEach((x, j) => { body[off + j] = Number(x); });
    body.writeUInt16BE(f.sport, off + alen);
    body.writeUInt16BE(f.dport, off + alen + 2);
    body.writeUInt32BE(Math.max(0, Math.min(0xffffffff, Math.round(f.remainingMs))), off + alen + 4);
  });
  return Buffer.concat([body, computeMac(key, body)]);
}

export function decodeFlowMessage(bytes: Uint8Array, key: HeartbeatKey): FlowDecode {
  if (bytes.length < FLOW_HEADER_SIZE + MAC_SIZE) return { ok: false, reason: 'truncated' };
  if (bytes.length > MAX_FLOW_MESSAGE_SIZE) return { ok: false, reason: 'oversized' };
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b[0] !== FLOW_MAGIC) return { ok: false, reason: 'bad-magic' };
  if (b[1] !== FLOW_VERSION && b[1] !== FLOW_VERSION_V6) return { ok: false, reason: 'bad-version' };
  const v6 = b[1] === FLOW_VERSION_V6;
  const size = v6 ? FLOW_ENTRY_SIZE_V6 : FLOW_ENTRY_SIZE;
  const n = b.readUInt16BE(28); // framing only, before the MAC
  if (n > (v6 ? MAX_FLOWS_PER_MESSAGE_V6 : MAX_FLOWS_PER_MESSAGE) || bytes.length !== FLOW_HEADER_SIZE + n * size + MAC_SIZE) return { ok: false, reason: 'bad-length' };
  const end = FLOW_HEADER_SIZE + n * size;
  if (checkMac(key, b.subarray(0, end), b.subarray(end)) !== 'authentic') return { ok: false, reason: 'bad-mac' };
  const type = b[2] === 1 ? 'flows' : b[2] === 2 ? 'ack' : null;
  const senderId = b[3] as number;
  const toId = b[16] as number;
  const incarnation = b.readBigUInt64BE(4);
  const part = b.readUInt16BE(24);
  const parts = b.readUInt16BE(26);
  if (type === null || senderId < 1 || senderId > MAX_NODE_ID || toId < 1 || toId > MAX_NODE_ID || toId === senderId || incarnation === 0n
    || b[17] !== 0 || b.readUInt16BE(30) !== 0 || parts < 1 || parts > MAX_PARTS || part >= parts || (type === 'ack' && n !== 0)) {
    return { ok: false, reason: 'malformed' };
  }
  const flows: WireFlow[] = [];
  const alen = v6 ? 16 : 4;
  for (let i = 0; i < n; i++) {
    const off = FLOW_HEADER_SIZE + i * size;
    const saddr = v6 ? formatIp(new Uint8Array(b.subarray(off, off + 16))) : `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
    flows.push({ saddr, sport: b.readUInt16BE(off + alen), dport: b.readUInt16BE(off + alen + 2), remainingMs: b.readUInt32BE(off + alen + 4) });
  }
  return { ok: true, msg: { type, senderId, incarnation, seq: b.readUInt32BE(12), toId, bucket: b.readUInt16BE(18), generation: b.readUInt32BE(20), part, parts, flows } };
}

/**
 * Splits one bucket's flows into messages of one address family each, at most
 * MAX_FLOWS_PER_MESSAGE IPv4 or MAX_FLOWS_PER_MESSAGE_V6 IPv6 flows (at least one message).
 */
export function flowParts(flows: readonly WireFlow[]): WireFlow[][] {
  const out: WireFlow[][] = [];
  const v4 = flows.filter((f) => !isV6(f.saddr));
  const v6 = flows.filter((f) => isV6(f.saddr));
  for (let i = 0; i < v4.length; i += MAX_FLOWS_PER_MESSAGE) out.push(v4.slice(i, i + MAX_FLOWS_PER_MESSAGE));
  for (let i = 0; i < v6.length; i += MAX_FLOWS_PER_MESSAGE_V6) out.push(v6.slice(i, i + MAX_FLOWS_PER_MESSAGE_V6));
  return out.length === 0 ? [[]] : out;
}
