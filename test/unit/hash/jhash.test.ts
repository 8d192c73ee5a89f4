import { describe, expect, it } from 'vitest';
import { JHASH_INITVAL, jhash, jhashTwoWords, reciprocalScale } from '../../../src/hash/jhash.js';
import { prng } from './prng.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The exact multiply-shift, with BigInt, as the reference for the 16-bit split version. */
function scaleBig(hash: number, mod: number, offset = 0): number {
  return Number((((BigInt(hash) * BigInt(mod)) >> 32n) + BigInt(offset)) & 0xffffffffn);
}

describe('jhash (kernel lookup3)', () => {
  // Published lookup3 check values (hashlittle, which the kernel's jhash equals on x86).
  it('matches the lookup3 reference values', () => {
    const fourScore = ascii('Four score and seven years ago'); // 30 bytes: two mix rounds + 6-byte tail
    expect(jhash(fourScore, 30, 0)).toBe(0x17770551);
    expect(jhash(fourScore, 30, 1)).toBe(0xcd628161);
  });

  it('returns INITVAL + initval for an empty key (no final mix)', () => {
    expect(jhash(new Uint8Array(0), 0, 0)).toBe(JHASH_INITVAL);
    expect(jhash(new Uint8Array(0), 0, 0xdeadbeef)).toBe(0xbd5b7dde);
  });

  it('hashes only the first `length` bytes and defaults length to the key size', () => {
    const key = Uint8Array.from([10, 77, 1, 16, 0xff, 0xff]);
    expect(jhash(key, 4, 0x1234)).toBe(jhash(key.subarray(0, 4), 4, 0x1234));
    expect(jhash(key.subarray(0, 4), undefined, 0x1234)).toBe(jhash(key, 4, 0x1234));
  });

  it('treats the seed as a u32', () => {
    const key = Uint8Array.from([1, 2, 3, 4]);
    expect(jhash(key, 4, -1)).toBe(jhash(key, 4, 0xffffffff));
  });

  it('gives a u32 for every length 0..40 and distinguishes the 12-byte boundary', () => {
    const key = Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff);
    const seen = new Set<number>();
    for (let len = 0; len <= 40; len++) {
      const h = jhash(key, len, 7);
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
      seen.add(h);
    }
    expect(seen.size).toBe(41);
  });

  it('rejects a length beyond the key', () => {
    expect(() => jhash(new Uint8Array(4), 5)).toThrow(/outside the key/);
  });

  it('jhashTwoWords equals jhash over the two words as little-endian bytes', () => {
    const rng = prng(42);
    for (let i = 0; i < 500; i++) {
      const [w0, w1, seed] = [rng.int(0, 0xffffffff), rng.int(0, 0xffffffff), rng.int(0, 0xffffffff)];
      const key = new Uint8Array(8);
      new DataView(key.buffer).setUint32(0, w0, true);
      new DataView(key.buffer).setUint32(4, w1, true);
      expect(jhashTwoWords(w0, w1, seed)).toBe(jhash(key, 8, seed));
    }
  });
});

describe('reciprocalScale', () => {
  it('is the exact 64-bit multiply-shift, including at the extremes', () => {
    const hashes = [0, 1, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
    const mods = [1, 2, 3, 64, 1000, 1024, 0xffff, 0x10001, 0x7fffffff, 0xfffffffe, 0xffffffff];
    for (const h of hashes) for (const m of mods) expect(reciprocalScale(h, m)).toBe(scaleBig(h, m));
  });

  it('agrees with BigInt on random inputs and adds the offset as a u32', () => {
    const rng = prng(7);
    for (let i = 0; i < 2000; i++) {
      const [h, m, o] = [rng.int(0, 0xffffffff), rng.int(1, 0xffffffff), rng.int(0, 1000)];
      expect(reciprocalScale(h, m, o)).toBe(scaleBig(h, m, o));
    }
  });

  it('is not `%`: the high bits of the hash pick the bucket', () => {
    expect(reciprocalScale(0x000000ff, 256)).toBe(0); // 0xff % 256 = 255
    expect(reciprocalScale(0x01000000, 256)).toBe(1); // 0x01000000 % 256 = 0
    expect(reciprocalScale(0xffffffff, 256)).toBe(255);
  });

  it('rejects a modulus the kernel refuses', () => {
    expect(() => reciprocalScale(1, 0)).toThrow(/modulus/);
    expect(() => reciprocalScale(1, 2 ** 32)).toThrow(/modulus/);
    expect(() => reciprocalScale(1, 1.5)).toThrow(/modulus/);
  });
});
