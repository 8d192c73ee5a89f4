/**
 * The conntrack port over ctnetlink (native-shims/conntrack): the kernel filters its table to the
 * VIP and protocol and hands back fixed-size records; we hash each client exactly as the kernel
 * rule does. No child process, no text: at 100,000 entries a reading costs a few tens of ms on the
 * libuv pool instead of a `conntrack -L` process and a text parse (docs/handover.md, "Cost").
 *
 * The socket belongs to the network namespace it was opened in (the daemon's, or `netnsPath`).
 */
import type { HashConfig } from '../model/hash-config.js';
import { jhash, jhashTwoWords, reciprocalScale } from '../hash/jhash.js';
import { CT_RECORD_SIZE, IPPROTO_TCP, IPPROTO_UDP, openConntrack, type ConntrackSocket } from '../../native-shims/conntrack.js';
import type { ConntrackPort, UdpFlowEntry } from './conntrack-port.js';

/** TCP conntrack state numbers that still carry a connection (enum tcp_conntrack; TIME_WAIT 7 and CLOSE 8 are over). */
const LIVE_TCP = new Set([1, 2, 3, 4, 5, 6, 9]);

/**
 * The kernel's UDP entry timeouts (net.netfilter.nf_conntrack_udp_timeout{,_stream}), to turn a
 * remaining timeout into an idle time: an entry is refreshed to `streamS` on each packet once
 * assured (replies seen over time), to `unrepliedS` before.
 */
export interface UdpCtTimeouts { readonly unrepliedS: number; readonly streamS: number }
export const DEFAULT_UDP_CT_TIMEOUTS: UdpCtTimeouts = { unrepliedS: 30, streamS: 120 };

export interface NetlinkConntrackOptions {
  readonly netnsPath?: string | null;
  readonly udpTimeouts?: UdpCtTimeouts;
  /** An open socket to use instead of opening one (tests). */
  readonly socket?: ConntrackSocket;
}

function dotted(buf: Buffer, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/**
 * The bucket of the client in the record at `off`, straight from its bytes (no text): the same
 * key the kernel hashes (ip saddr; . th sport; & netmask), checked against bucketOf in the tests.
 */
export function recordBucket(buf: Buffer, off: number, hash: HashConfig, buckets: number): number {
  const seed = hash.seed >>> 0;
  switch (hash.affinity) {
    case 'address':
      return reciprocalScale(jhash(buf.subarray(off, off + 4), 4, seed), buckets);
    case 'address+port': {
      const port = buf.readUInt16LE(off + 4);
      // Key bytes: a b c d p_hi p_lo 0 0, read as two little-endian words.
      return reciprocalScale(jhashTwoWords(buf.readUInt32LE(off), (port >> 8) | ((port & 0xff) << 8), seed), buckets);
    }
    case 'network': {
      const p = hash.prefixLength;
      const maskBe = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
      const maskLe = (((maskBe & 0xff) << 24) | ((maskBe & 0xff00) << 8) | ((maskBe >>> 8) & 0xff00) | (maskBe >>> 24)) >>> 0;
      const key = Buffer.alloc(4);
      key.writeUInt32LE((buf.readUInt32LE(off) & maskLe) >>> 0, 0);
      return reciprocalScale(jhash(key, 4, seed), buckets);
    }
  }
}

/** Buckets with a live TCP connection in a dump's records. */
export function busyFromRecords(buf: Buffer, hash: HashConfig, buckets: number): Set<number> {
  const busy = new Set<number>();
  for (let off = 0; off + CT_RECORD_SIZE <= buf.length; off += CT_RECORD_SIZE) {
    if (LIVE_TCP.has(buf[off + 9] as number)) busy.add(recordBucket(buf, off, hash, buckets));
  }
  return busy;
}

/** UDP flows in a dump's records, with a lower bound of their idle time (whole seconds, minus one for the rounding). */
export function udpFlowsFromRecords(buf: Buffer, t: UdpCtTimeouts): UdpFlowEntry[] {
  const out: UdpFlowEntry[] = [];
  for (let off = 0; off + CT_RECORD_SIZE <= buf.length; off += CT_RECORD_SIZE) {
    const assured = ((buf[off + 10] as number) & 2) !== 0;
    const remainingS = buf.readUInt32LE(off + 12);
    const idleS = Math.max(0, (assured ? t.streamS : t.unrepliedS) - remainingS - 1);
    out.push({ saddr: dotted(buf, off), sport: buf.readUInt16LE(off + 4), dport: buf.readUInt16LE(off + 6), idleAtLeastMs: idleS * 1000 });
  }
  return out;
}

export function conntrackNetlink(vip: string, hash: HashConfig, buckets: number, o: NetlinkConntrackOptions = {}): ConntrackPort {
  const sock = o.socket ?? openConntrack(o.netnsPath ?? null);
  const timeouts = o.udpTimeouts ?? DEFAULT_UDP_CT_TIMEOUTS;
  return {
    busyBuckets: async () => busyFromRecords(await sock.dumpRaw(vip, IPPROTO_TCP), hash, buckets),
    udpFlows: async () => udpFlowsFromRecords(await sock.dumpRaw(vip, IPPROTO_UDP), timeouts),
    close: () => sock.close(),
  };
}
