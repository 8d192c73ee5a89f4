/**
 * The byte layouts of the XDP program's maps (native-shims/xdp/vmac_xdp.bpf.c), pure, so every
 * byte the kernel receives is unit-tested. Little-endian host (x86, as the shim is built); IP
 * addresses and masks are copied in network order, as the program compares them with headers.
 *
 *   struct vmac_cfg (72 bytes)
 *     0 vmac[6]   6 host_mac[6]   12 vip (u32, network order)   16 vip6[16]   32 mask6[16]
 *     48 mask4    52 has_vip6     56 buckets   60 seed   64 affinity (0 address, 1 +port, 2 network)
 *     68 tag      (which service: serviceTag(table))
 *   vmac_state  u64 [0] lease deadline, CLOCK_MONOTONIC ns (0: none)  [1] active bank (0 or 1)
 *   vmac_owned  u32 [bank*B + bucket] 1 = owned
 *   vmac_count  per-CPU { u64 packets, u64 bytes } per bucket
 *   vmac_stats  per-CPU u64 per outcome (XDP_OUTCOMES)
 */
import type { HashConfig } from '../config/types.js';
import { maskPrefix, parseIp } from '../util/ip.js';

export const CFG_BYTES = 72;
export const STATE_DEADLINE = 0;
export const STATE_BANK = 1;
export const COUNTER_BYTES = 16;
/** vmac_stats slots, in the program's `enum outcome` order. */
export const XDP_OUTCOMES = ['passed', 'foreign-bucket', 'lease-gone', 'other-to-vmac', 'arp-hidden', 'nd-hidden', 'no-port'] as const;
export type XdpOutcome = (typeof XDP_OUTCOMES)[number];
export const STATS_SLOTS = 8;

const AFFINITY: Record<HashConfig['affinity'], number> = { address: 0, 'address+port': 1, network: 2 };

export interface XdpConfig {
  readonly table: string;
  /** null: an IPv6-only service (0.0.0.0 in the map: no IPv4 frame is let in, no ARP is marked). */
  readonly vip: string | null;
  readonly vip6: string | null;
  readonly vmac: string;
  /** The cluster interface's own MAC: an owned frame's new destination (the stack takes it as host traffic). */
  readonly hostMac: Uint8Array;
  readonly buckets: number;
  readonly hash: HashConfig;
}

/** FNV-1a of the table name: the attached program whose cfg carries it is this service's. */
export function serviceTag(table: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(table)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

export function macBytes(mac: string): Uint8Array {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new RangeError(`not a MAC address: ${mac}`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function encodeCfg(c: XdpConfig): Buffer {
  const b = Buffer.alloc(CFG_BYTES);
  b.set(macBytes(c.vmac), 0);
  if (c.hostMac.length !== 6) throw new RangeError('host MAC must be 6 bytes');
  b.set(c.hostMac, 6);
  if (c.vip !== null) b.set(parseIp(c.vip).bytes, 12);
  if (c.vip6 !== null) {
    b.set(parseIp(c.vip6).bytes, 16);
    b.set(maskPrefix(new Uint8Array(16).fill(0xff), c.hash.prefixLength6), 32);
  }
  b.set(maskPrefix(new Uint8Array(4).fill(0xff), c.hash.prefixLength), 48);
  b.writeUInt32LE(c.vip6 !== null ? 1 : 0, 52);
  b.writeUInt32LE(c.buckets, 56);
  b.writeUInt32LE(c.hash.seed >>> 0, 60);
  b.writeUInt32LE(AFFINITY[c.hash.affinity], 64);
  b.writeUInt32LE(serviceTag(c.table), 68);
  return b;
}

export function cfgTag(cfg: Buffer): number {
  return cfg.readUInt32LE(68);
}

export function u64(value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return b;
}

/** The lease deadline for `leaseMs` from `nowNs` (null: none, 0 in the map). */
export function deadlineNs(nowNs: bigint, leaseMs: number | null): bigint {
  return leaseMs === null ? 0n : nowNs + BigInt(Math.round(leaseMs * 1e6));
}

/** One bank of vmac_owned: keys bank*B..bank*B+B-1, value 1 for owned buckets. */
export function bankUpdate(bank: 0 | 1, buckets: number, owned: ReadonlySet<number>): { keys: Uint32Array; values: Buffer } {
  const keys = new Uint32Array(buckets);
  const values = Buffer.alloc(4 * buckets);
  for (let b = 0; b < buckets; b++) {
    keys[b] = bank * buckets + b;
    if (owned.has(b)) values.writeUInt32LE(1, 4 * b);
  }
  return { keys, values };
}

/** Sums a per-CPU { packets, bytes } value. */
export function sumCounter(perCpu: Buffer): { packets: number; bytes: number } {
  let packets = 0n;
  let bytes = 0n;
  for (let at = 0; at + COUNTER_BYTES <= perCpu.length; at += COUNTER_BYTES) {
    packets += perCpu.readBigUInt64LE(at);
    bytes += perCpu.readBigUInt64LE(at + 8);
  }
  return { packets: Number(packets), bytes: Number(bytes) };
}

/** Sums a per-CPU u64. */
export function sumU64(perCpu: Buffer): number {
  let n = 0n;
  for (let at = 0; at + 8 <= perCpu.length; at += 8) n += perCpu.readBigUInt64LE(at);
  return Number(n);
}
