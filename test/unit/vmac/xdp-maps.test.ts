/** The XDP program's map layouts (src/vmac/xdp-maps.ts), byte by byte: what vmac_xdp.bpf.c reads. */
import { describe, expect, it } from 'vitest';
import { bankUpdate, CFG_BYTES, cfgTag, deadlineNs, encodeCfg, serviceTag, sumCounter, sumU64 } from '../../../src/vmac/xdp-maps.js';

describe('XDP map layouts', () => {
  const base = { table: 'vmac_web', vip: '10.0.0.1', vip6: 'fd00::1', vmac: '02:bf:0a:00:00:01', hostMac: Uint8Array.from([2, 0, 0, 0, 0, 0x42]), buckets: 256, hash: { affinity: 'network', prefixLength: 24, prefixLength6: 48, seed: 0xdeadbeef } } as const;

  it('struct vmac_cfg: MACs, addresses and masks in network order, numbers little-endian', () => {
    const b = encodeCfg(base);
    expect(b.length).toBe(CFG_BYTES);
    expect([...b.subarray(0, 6)]).toEqual([2, 0xbf, 10, 0, 0, 1]);
    expect([...b.subarray(6, 12)]).toEqual([2, 0, 0, 0, 0, 0x42]);
    expect([...b.subarray(12, 16)]).toEqual([10, 0, 0, 1]);
    expect([...b.subarray(16, 32)]).toEqual([0xfd, ...Array<number>(14).fill(0), 1]);
    expect([...b.subarray(32, 48)]).toEqual([...Array<number>(6).fill(0xff), ...Array<number>(10).fill(0)]); // /48
    expect([...b.subarray(48, 52)]).toEqual([255, 255, 255, 0]); // /24
    expect([b.readUInt32LE(52), b.readUInt32LE(56), b.readUInt32LE(60), b.readUInt32LE(64)]).toEqual([1, 256, 0xdeadbeef, 2]);
    expect(cfgTag(b)).toBe(serviceTag('vmac_web'));
    expect(serviceTag('vmac_web')).not.toBe(serviceTag('vmac_api'));
    const v4 = encodeCfg({ ...base, vip6: null, hash: { ...base.hash, affinity: 'address+port' } });
    expect([v4.readUInt32LE(52), v4.readUInt32LE(64)]).toEqual([0, 1]);
    expect(v4.subarray(16, 48).every((x) => x === 0)).toBe(true);
  });

  it('a bank is every bucket of one half, 1 for owned', () => {
    const u = bankUpdate(1, 4, new Set([0, 3]));
    expect([...u.keys]).toEqual([4, 5, 6, 7]);
    expect([0, 4, 8, 12].map((at) => u.values.readUInt32LE(at))).toEqual([1, 0, 0, 1]);
  });

  it('lease deadline in ns from now; none is 0; per-CPU values summed', () => {
    expect(deadlineNs(1_000n, 100)).toBe(100_001_000n);
    expect(deadlineNs(1_000n, null)).toBe(0n);
    const c = Buffer.alloc(32);
    c.writeBigUInt64LE(3n, 0); c.writeBigUInt64LE(300n, 8); c.writeBigUInt64LE(4n, 16); c.writeBigUInt64LE(400n, 24);
    expect(sumCounter(c)).toEqual({ packets: 7, bytes: 700 });
    expect(sumU64(c)).toBe(707);
  });
});
