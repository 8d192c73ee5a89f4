import { describe, expect, it } from 'vitest';
import type { Affinity, HashConfig } from '../../../src/config/types.js';
import { clientKey } from '../../../src/hash/client-key.js';
import { isVmacError } from '../../../src/util/errors.js';

function hash(affinity: Affinity, prefixLength = 24, prefixLength6 = 64): HashConfig {
  return { affinity, seed: 0x1234abcd, prefixLength, prefixLength6 };
}

const bytes = (key: Uint8Array): number[] => Array.from(key);

describe('clientKey: the register bytes jhash sees', () => {
  it('ip saddr: 4 bytes in network order', () => {
    expect(bytes(clientKey({ addr: '10.77.1.16' }, hash('address')))).toEqual([10, 77, 1, 16]);
  });

  it('address affinity ignores the port', () => {
    expect(bytes(clientKey({ addr: '10.77.1.16', sport: 4242 }, hash('address')))).toEqual([10, 77, 1, 16]);
  });

  it('ip saddr . th sport: address, port big-endian, two zero pad bytes', () => {
    const key = clientKey({ addr: '192.0.2.7', sport: 0xabcd }, hash('address+port'));
    expect(bytes(key)).toEqual([192, 0, 2, 7, 0xab, 0xcd, 0, 0]);
  });

  it('ports 0 and 65535 are valid', () => {
    expect(bytes(clientKey({ addr: '1.2.3.4', sport: 0 }, hash('address+port')))).toEqual([1, 2, 3, 4, 0, 0, 0, 0]);
    expect(bytes(clientKey({ addr: '1.2.3.4', sport: 65535 }, hash('address+port')))).toEqual([1, 2, 3, 4, 255, 255, 0, 0]);
  });

  it('ip6 saddr: 16 bytes in network order', () => {
    const key = clientKey({ addr: 'fd77::1:8964' }, hash('address'));
    expect(bytes(key)).toEqual([0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x89, 0x64]);
  });

  it('ip6 saddr . th sport: 20 bytes, port in the fifth register', () => {
    const key = clientKey({ addr: '2001:db8::1', sport: 443 }, hash('address+port'));
    expect(key.length).toBe(20);
    expect(bytes(key.subarray(0, 16))).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(bytes(key.subarray(16))).toEqual([0x01, 0xbb, 0, 0]);
  });

  it('network affinity, IPv4: the address masked to the prefix, 4 bytes, port ignored', () => {
    expect(bytes(clientKey({ addr: '10.77.1.200', sport: 9 }, hash('network')))).toEqual([10, 77, 1, 0]);
    expect(bytes(clientKey({ addr: '10.77.1.200' }, hash('network', 20)))).toEqual([10, 77, 0, 0]);
    expect(bytes(clientKey({ addr: '10.77.1.200' }, hash('network', 32)))).toEqual([10, 77, 1, 200]);
  });

  it('network affinity, IPv6: the address masked to prefixLength6, 16 bytes', () => {
    const key = clientKey({ addr: '2001:db8:1:2:3:4:5:6' }, hash('network', 24, 64));
    expect(bytes(key)).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
    const key48 = clientKey({ addr: '2001:db8:1:2:3:4:5:6' }, hash('network', 24, 48));
    expect(bytes(key48)).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('clients of one network share a key; clients of different networks do not', () => {
    const h = hash('network');
    expect(clientKey({ addr: '10.0.5.1' }, h)).toEqual(clientKey({ addr: '10.0.5.254' }, h));
    expect(clientKey({ addr: '10.0.5.1' }, h)).not.toEqual(clientKey({ addr: '10.0.6.1' }, h));
  });

  it('returns a fresh array (callers may not mutate a parsed address by accident)', () => {
    const a = clientKey({ addr: '1.2.3.4' }, hash('address'));
    a[0] = 99;
    expect(bytes(clientKey({ addr: '1.2.3.4' }, hash('address')))).toEqual([1, 2, 3, 4]);
  });
});

describe('clientKey errors', () => {
  it('address+port without a port says what is missing', () => {
    let caught: unknown;
    try {
      clientKey({ addr: '10.0.0.1' }, hash('address+port'));
    } catch (err) {
      caught = err;
    }
    expect(isVmacError(caught, 'VMAC_BAD_ADDRESS')).toBe(true);
    expect((caught as Error).message).toMatch(/address\+port.*port/);
  });

  it('rejects ports outside 0..65535 and non-integers', () => {
    for (const sport of [-1, 65536, 1.5, Number.NaN]) {
      expect(() => clientKey({ addr: '10.0.0.1', sport }, hash('address+port'))).toThrow(/port/);
    }
  });

  it('rejects a bad address', () => {
    expect(() => clientKey({ addr: 'not-an-ip' }, hash('address'))).toThrow(expect.objectContaining({ code: 'VMAC_BAD_ADDRESS' }));
  });

  it('rejects a prefix length outside the family', () => {
    expect(() => clientKey({ addr: '10.0.0.1' }, hash('network', 33))).toThrow(/prefixLength must be/);
    expect(() => clientKey({ addr: '::1' }, hash('network', 24, 129))).toThrow(/prefixLength6 must be/);
  });
});
