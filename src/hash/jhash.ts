/**
 * The Linux kernel's `jhash()` (Bob Jenkins' lookup3, include/linux/jhash.h) and
 * `reciprocal_scale()`, bit for bit, so that user space names the same bucket as the
 * `jhash … mod M seed S offset O` expression of nftables (net/netfilter/nft_hash.c).
 *
 * All arithmetic is u32: lookup3 only adds, subtracts, xors and rotates, so `>>> 0` after
 * each add/subtract (sums of two u32s stay exact in a double) is all it takes.
 */
import { VmacError } from '../util/errors.js';

/** JHASH_INITVAL: the arbitrary constant lookup3 starts its state from. */
export const JHASH_INITVAL = 0xdeadbeef;

const U32_MAX = 0xffffffff;

function rol32(x: number, bits: number): number {
  return ((x << bits) | (x >>> (32 - bits))) >>> 0;
}

/**
 * __jhash_final on (a, b, c), returning the final c (the hash). Locals rather than an object:
 * this runs for every (bucket, node) pair when a bucket map is built.
 */
function finalC(a0: number, b0: number, c0: number): number {
  let a = a0 >>> 0, b = b0 >>> 0, c = c0 >>> 0;
  c ^= b; c = (c - rol32(b, 14)) >>> 0;
  a ^= c; a = (a - rol32(c, 11)) >>> 0;
  b ^= a; b = (b - rol32(a, 25)) >>> 0;
  c ^= b; c = (c - rol32(b, 16)) >>> 0;
  a ^= c; a = (a - rol32(c, 4)) >>> 0;
  b ^= a; b = (b - rol32(a, 14)) >>> 0;
  c ^= b; c = (c - rol32(b, 24)) >>> 0;
  return c;
}

/** __jhash_mix: reversible mixing of one full 12-byte block, returning the new [a, b, c]. */
function mix(a0: number, b0: number, c0: number): [number, number, number] {
  let a = a0 >>> 0, b = b0 >>> 0, c = c0 >>> 0;
  a = (a - c) >>> 0; a ^= rol32(c, 4); c = (c + b) >>> 0;
  b = (b - a) >>> 0; b ^= rol32(a, 6); a = (a + c) >>> 0;
  c = (c - b) >>> 0; c ^= rol32(b, 8); b = (b + a) >>> 0;
  a = (a - c) >>> 0; a ^= rol32(c, 16); c = (c + b) >>> 0;
  b = (b - a) >>> 0; b ^= rol32(a, 19); a = (a + c) >>> 0;
  c = (c - b) >>> 0; c ^= rol32(b, 4); b = (b + a) >>> 0;
  return [a >>> 0, b >>> 0, c >>> 0];
}

/**
 * Little-endian u32 of `n` bytes (0..4) at `at`, missing bytes as zero. The kernel reads full
 * words with __get_unaligned_cpu32 (native = little-endian on x86) and assembles the tail
 * byte-wise with k[i] << 8*i, which is the same little-endian order.
 */
function wordLe(key: Uint8Array, at: number, n: number): number {
  let w = 0;
  for (let i = 0; i < n; i++) w += (key[at + i] ?? 0) * 2 ** (8 * i);
  return w;
}

/**
 * jhash(key, length, initval) as in include/linux/jhash.h.
 *
 * Two kernel details matter for exactness: the loop runs only while MORE than 12 bytes remain,
 * so a 12- or 24-byte key ends in the tail switch (final mix) rather than in __jhash_mix; and
 * only an empty key skips the final mix (it hashes to JHASH_INITVAL + initval).
 */
export function jhash(key: Uint8Array, length: number = key.length, initval = 0): number {
  if (!Number.isInteger(length) || length < 0 || length > key.length) {
    throw new VmacError('VMAC_CONFIG_INVALID', `jhash length ${length} outside the key (${key.length} bytes)`, { length, keyBytes: key.length });
  }
  const start = (JHASH_INITVAL + length + (initval >>> 0)) >>> 0;
  let [a, b, c] = [start, start, start];
  let at = 0;
  let left = length;
  while (left > 12) {
    [a, b, c] = mix(a + wordLe(key, at, 4), b + wordLe(key, at + 4, 4), c + wordLe(key, at + 8, 4));
    left -= 12;
    at += 12;
  }
  if (left === 0) return c;
  a += wordLe(key, at, Math.min(left, 4));
  if (left > 4) b += wordLe(key, at + 4, Math.min(left - 4, 4));
  if (left > 8) c += wordLe(key, at + 8, left - 8);
  return finalC(a, b, c);
}

/**
 * jhash over an 8-byte key given as two u32 words (the bytes of each word little-endian), i.e.
 * exactly `jhash(le32(w0) ++ le32(w1), 8, initval)` without building the key.
 */
export function jhashTwoWords(w0: number, w1: number, initval = 0): number {
  const start = (JHASH_INITVAL + 8 + (initval >>> 0)) >>> 0;
  return finalC(start + (w0 >>> 0), start + (w1 >>> 0), start);
}

/**
 * The kernel's reciprocal_scale(hash, mod) = (u32)(((u64)hash * mod) >> 32), plus nft's
 * `offset` (a u32 register add). A multiply-shift, not `%`: the two disagree for most inputs.
 *
 * The 64-bit product is formed exactly from 16-bit halves: hashHi*mod and hashLo*mod are both
 * below 2^48, so every intermediate is an exact double (no float rounding anywhere).
 */
export function reciprocalScale(hash: number, mod: number, offset = 0): number {
  if (!Number.isInteger(mod) || mod < 1 || mod > U32_MAX) {
    throw new VmacError('VMAC_CONFIG_INVALID', `hash modulus must be an integer 1..${U32_MAX}, got ${mod}`, { mod });
  }
  const h = hash >>> 0;
  const hashHi = Math.floor(h / 0x10000);
  const hashLo = h % 0x10000;
  const midBits = hashHi * mod + Math.floor((hashLo * mod) / 0x10000);
  const scaled = Math.floor(midBits / 0x10000);
  return (scaled + (offset >>> 0)) >>> 0;
}
