import { describe, expect, it } from 'vitest';
import type { Affinity, HashConfig } from '../../../src/config/types.js';
import { bucketOf, nftHashExpr } from '../../../src/hash/bucket-of.js';
import { clientKey } from '../../../src/hash/client-key.js';
import { jhash, reciprocalScale } from '../../../src/hash/jhash.js';

function hash(affinity: Affinity, seed = 0x1234abcd, prefixLength = 24, prefixLength6 = 64): HashConfig {
  return { affinity, seed, prefixLength, prefixLength6 };
}

describe('nftHashExpr', () => {
  it('writes each affinity for IPv4', () => {
    expect(nftHashExpr(hash('address'), 4, 256)).toBe('jhash ip saddr mod 256 seed 0x1234abcd');
    expect(nftHashExpr(hash('address+port'), 4, 256)).toBe('jhash ip saddr . th sport mod 256 seed 0x1234abcd');
    expect(nftHashExpr(hash('network'), 4, 256)).toBe('jhash ip saddr & 255.255.255.0 mod 256 seed 0x1234abcd');
    expect(nftHashExpr(hash('network', 0x42, 20), 4, 64)).toBe('jhash ip saddr & 255.255.240.0 mod 64 seed 0x42');
  });

  it('writes each affinity for IPv6', () => {
    expect(nftHashExpr(hash('address'), 6, 1024)).toBe('jhash ip6 saddr mod 1024 seed 0x1234abcd');
    expect(nftHashExpr(hash('address+port'), 6, 1024)).toBe('jhash ip6 saddr . th sport mod 1024 seed 0x1234abcd');
    expect(nftHashExpr(hash('network'), 6, 1024)).toBe('jhash ip6 saddr & ffff:ffff:ffff:ffff:: mod 1024 seed 0x1234abcd');
    expect(nftHashExpr(hash('network', 1, 24, 48), 6, 8)).toBe('jhash ip6 saddr & ffff:ffff:ffff:: mod 8 seed 0x1');
  });

  it('always writes the seed, in lowercase hex as nft prints it, even when zero', () => {
    expect(nftHashExpr(hash('address', 0), 4, 3)).toBe('jhash ip saddr mod 3 seed 0x0');
    expect(nftHashExpr(hash('address', 0xffffffff), 4, 3)).toBe('jhash ip saddr mod 3 seed 0xffffffff');
    expect(nftHashExpr(hash('address', 0x0badf00d), 4, 0xffffffff)).toBe('jhash ip saddr mod 4294967295 seed 0xbadf00d');
  });

  it('rejects a bucket count or seed the kernel would not take as given', () => {
    expect(() => nftHashExpr(hash('address'), 4, 0)).toThrow(/bucket count/);
    expect(() => nftHashExpr(hash('address'), 4, 2 ** 32)).toThrow(/bucket count/);
    expect(() => nftHashExpr(hash('address', -1), 4, 256)).toThrow(/seed/);
    expect(() => nftHashExpr(hash('address', 2 ** 32), 4, 256)).toThrow(/seed/);
  });
});

describe('bucketOf', () => {
  it('is reciprocal_scale(jhash(clientKey, seed), buckets)', () => {
    const h = hash('address+port', 0x42);
    const client = { addr: '10.77.1.40', sport: 33322 };
    const key = clientKey(client, h);
    expect(bucketOf(client, h, 1024)).toBe(reciprocalScale(jhash(key, key.length, 0x42), 1024));
  });

  it('stays within 0..buckets-1', () => {
    for (let i = 0; i < 256; i++) {
      const b = bucketOf({ addr: `10.1.${i}.${255 - i}` }, hash('address'), 7);
      expect(b >= 0 && b < 7).toBe(true);
    }
  });

  it('network affinity puts a whole /24 (or /64) in one bucket', () => {
    const h = hash('network', 0x99);
    const v4 = new Set(Array.from({ length: 50 }, (_, i) => bucketOf({ addr: `198.51.100.${i * 5}` }, h, 256)));
    expect(v4.size).toBe(1);
    const v6 = new Set(Array.from({ length: 50 }, (_, i) => bucketOf({ addr: `2001:db8:0:7::${(i * 977).toString(16)}` }, h, 256)));
    expect(v6.size).toBe(1);
  });

  it('network affinity hashes the masked address exactly like address affinity on the network address', () => {
    const seed = 0x5eed;
    expect(bucketOf({ addr: '10.77.1.200' }, hash('network', seed), 256)).toBe(bucketOf({ addr: '10.77.1.0' }, hash('address', seed), 256));
  });

  it('refuses address+port without a port', () => {
    expect(() => bucketOf({ addr: '10.0.0.1' }, hash('address+port'), 256)).toThrow(/port/);
  });

  it('refuses a seed that is not a u32', () => {
    expect(() => bucketOf({ addr: '10.0.0.1' }, hash('address', 1.5), 256)).toThrow(/seed/);
  });
});
