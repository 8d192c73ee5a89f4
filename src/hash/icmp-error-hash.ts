/**
 * ICMP errors reach the connection's owner: the hash of an ICMP error (destination unreachable,
 * fragmentation needed, time exceeded; ICMPv6 destination unreachable, packet too big, time
 * exceeded) whose embedded packet was sent from the VIP is taken over the *embedded* header's
 * destination — the client the connection belongs to — and, under `address+port`, the embedded
 * transport destination port (the client's port). The error comes from a router, so hashing its
 * outer source would hand it to one arbitrary node; the owner would never lower its path MTU.
 *
 * nft reads the embedded fields as raw transport payload, from the start of the ICMP header:
 *   IPv4  @th,64,8    0x45: the embedded header is IPv4 without options (else the port is elsewhere)
 *         @th,160,32  embedded source (must be the VIP)       @th,192,32 embedded destination
 *         @th,240,16  embedded transport destination port
 *   IPv6  @th,128,128 embedded source (must be the VIP6)      @th,256,128 embedded destination
 *         @th,400,16  embedded transport destination port (no extension headers)
 * Each raw field sits in its own zero-padded register, the same key layout as `ip saddr` /
 * `ip saddr . th sport`, so `bucketOf({ addr: embedded destination, sport: embedded port })` is
 * the kernel's bucket (checked against the daemon's own rule in test/lab/icmp-steering.test.ts).
 */
import type { HashConfig } from '../model/hash-config.js';
import { maskPrefix, parseIp } from '../util/ip.js';
import { checkedPrefix } from './client-key.js';
import { nftHashExpr } from './bucket-of.js';

const FIELDS = {
  4: { addr: '@th,192,32', port: '@th,240,16', bytes: 4 },
  6: { addr: '@th,256,128', port: '@th,400,16', bytes: 16 },
} as const;

function hex(bytes: Uint8Array): string {
  return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The hash expression over the embedded destination (and port), same modulus and seed as the rule's. */
export function nftIcmpErrorHashExpr(hash: HashConfig, family: 4 | 6, buckets: number): string {
  const f = FIELDS[family];
  // The same seed and modulus text as the clients' rule (validated there).
  const tail = nftHashExpr(hash, family, buckets).replace(/^jhash .* (mod \d+ seed 0x[0-9a-f]+)$/, '$1');
  const fields = hash.affinity === 'address+port' ? `${f.addr} . ${f.port}`
    : hash.affinity === 'network' ? `${f.addr} & ${hex(maskPrefix(new Uint8Array(f.bytes).fill(0xff), checkedPrefix(hash, family)))}`
      : f.addr;
  return `jhash ${fields} ${tail}`;
}

/** The match for an ICMP error whose embedded packet came from `vip` (IPv4 or IPv6 by the VIP's family). */
export function icmpErrorMatch(vip: string): string {
  const ip = parseIp(vip);
  return ip.family === 4
    ? `icmp type { destination-unreachable, time-exceeded } @th,64,8 0x45 @th,160,32 ${hex(ip.bytes)}`
    : `icmpv6 type { destination-unreachable, packet-too-big, time-exceeded } @th,128,128 ${hex(ip.bytes)}`;
}
