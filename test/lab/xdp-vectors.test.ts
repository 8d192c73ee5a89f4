/**
 * The XDP program's bucket against the kernel-observed nft jhash vectors (test/fixtures/jhash.json),
 * through BPF_PROG_TEST_RUN: for every vector the program passes the client's frame when only its
 * bucket is owned and drops it when every other bucket is: so its jhash, key layout and
 * reciprocal scale are nft's for IPv4, IPv4+port, IPv6 and IPv6+port. An owned frame leaves with
 * the host's MAC as destination. Needs root (bpf), no namespace.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { openXdp, type XdpLoaded } from '../../native-shims/xdp.js';
import { bankUpdate, encodeCfg, macBytes, STATE_DEADLINE, u64 } from '../../src/vmac/xdp-maps.js';
import { parseIp } from '../../src/util/ip.js';
import type { Affinity } from '../../src/config/types.js';

interface Vector { expr: string; addr: string; sport?: number; mod: number; seed: number; offset: number; bucket: number }
const vectors = JSON.parse(readFileSync(new URL('../fixtures/jhash.json', import.meta.url), 'utf8')) as Vector[];

const VIP = '10.0.0.1';
const VIP6 = 'fd00::1';
const VMAC = '02:bf:0a:00:00:01';
const HOST = Uint8Array.from([0x02, 0, 0, 0, 0, 0x42]);
const XDP_DROP = 1;
const XDP_PASS = 2;

/** An Ethernet frame to the VMAC: IPv4 or IPv6, UDP from (addr, sport) to the VIP. */
function frame(addr: string, sport: number): Buffer {
  const ip = parseIp(addr);
  const v6 = ip.family === 6;
  const l3 = v6 ? 40 : 20;
  const b = Buffer.alloc(14 + l3 + 8 + 18);
  b.set(macBytes(VMAC), 0);
  b.set([2, 0, 0, 0, 0, 9], 6);
  b.writeUInt16BE(v6 ? 0x86dd : 0x0800, 12);
  if (v6) {
    b[14] = 0x60;
    b.writeUInt16BE(8 + 18, 18);
    b[20] = 17;
    b[21] = 64;
    b.set(ip.bytes, 22);
    b.set(parseIp(VIP6).bytes, 38);
  } else {
    b[14] = 0x45;
    b.writeUInt16BE(l3 + 8 + 18, 16);
    b[22] = 64;
    b[23] = 17;
    b.set(ip.bytes, 26);
    b.set(parseIp(VIP).bytes, 30);
  }
  b.writeUInt16BE(sport, 14 + l3);
  b.writeUInt16BE(9, 14 + l3 + 2);
  return b;
}

describe('XDP program = nft jhash (kernel-observed vectors) through BPF_PROG_TEST_RUN', () => {
  it('every vector with a bucket count a config can have: passed when its bucket alone is owned, dropped when all others are', () => {
    const xdp = openXdp();
    const groups = new Map<string, Vector[]>();
    for (const v of vectors) {
      if (v.mod > 65536 || v.offset !== 0) continue; // 2^32-1 buckets: no owned map that large
      const affinity: Affinity = v.expr.includes('sport') ? 'address+port' : 'address';
      const key = `${v.mod} ${v.seed} ${affinity}`;
      groups.set(key, [...(groups.get(key) ?? []), v]);
    }
    let checked = 0;
    for (const [key, vs] of groups) {
      const [mod = 0, seed = 0, affinity = 'address'] = key.split(' ').map((x, i) => (i < 2 ? Number(x) : x)) as [number, number, Affinity];
      const loaded: XdpLoaded = xdp.load(mod);
      try {
        const m = loaded.maps;
        expect(xdp.mapUpdate(m.vmac_cfg, Uint32Array.of(0), encodeCfg({ table: 'vmac_vec', vip: VIP, vip6: VIP6, vmac: VMAC, hostMac: HOST, buckets: mod, hash: { affinity, prefixLength: 24, prefixLength6: 64, seed } }))).toBe(0);
        expect(xdp.mapUpdate(m.vmac_state, Uint32Array.of(STATE_DEADLINE), u64(process.hrtime.bigint() + 600_000_000_000n))).toBe(0);
        const own = (buckets: Set<number>): void => { const u = bankUpdate(0, mod, buckets); expect(xdp.mapUpdate(m.vmac_owned, u.keys, u.values)).toBe(0); };
        for (const v of vs) {
          const f = frame(v.addr, v.sport ?? 4242);
          own(new Set([v.bucket]));
          const pass = xdp.testRun(loaded.prog, f);
          own(new Set(Array.from({ length: mod }, (_, b) => b).filter((b) => b !== v.bucket)));
          const drop = xdp.testRun(loaded.prog, f);
          expect({ v, pass: pass.retval, drop: drop.retval }).toEqual({ v, pass: XDP_PASS, drop: XDP_DROP });
          expect([...pass.frame.subarray(0, 6)]).toEqual([...HOST]);
          checked++;
        }
      } finally {
        for (const fd of Object.values(loaded.maps)) xdp.closeFd(fd);
        xdp.closeFd(loaded.prog);
        xdp.closeFd(loaded.tcProg);
      }
    }
    expect(checked).toBeGreaterThan(2000);
  }, 60_000);
});
