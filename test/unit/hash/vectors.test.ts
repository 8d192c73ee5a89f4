/**
 * Kernel-observed buckets (test/fixtures/jhash.json, copied from the design notes' kernel
 * vectors): the user-space hash must give the kernel's answer for every entry. The file lives in
 * the repository so a fresh clone needs nothing beside it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Affinity, HashConfig } from '../../../src/config/types.js';
import { bucketOf, nftHashExpr } from '../../../src/hash/bucket-of.js';
import { clientKey } from '../../../src/hash/client-key.js';
import { jhash, reciprocalScale } from '../../../src/hash/jhash.js';

interface Vector {
  readonly expr: string;
  readonly addr: string;
  readonly sport?: number;
  readonly mod: number;
  readonly seed: number;
  readonly offset: number;
  readonly bucket: number;
}

const VECTORS_URL = new URL('../../fixtures/jhash.json', import.meta.url);
const vectors = JSON.parse(readFileSync(VECTORS_URL, 'utf8')) as Vector[];

const EXPR = /^jhash (ip6?) saddr(?: \. (?:th|udp|tcp) (sport))? mod (\d+) seed (0x[0-9a-f]+|\d+)$/;

/** What an expression string says: family, affinity, modulus, seed. */
function parseExpr(expr: string): { family: 4 | 6; affinity: Affinity; mod: number; seed: number } {
  const m = EXPR.exec(expr);
  if (!m) throw new Error(`unexpected vector expression: ${expr}`);
  return { family: m[1] === 'ip6' ? 6 : 4, affinity: m[2] ? 'address+port' : 'address', mod: Number(m[3]), seed: Number(m[4]) };
}

function hashConfig(affinity: Affinity, seed: number): HashConfig {
  return { affinity, seed, prefixLength: 24, prefixLength6: 64 };
}

describe('kernel jhash vectors', () => {
  it('has vectors for every field layout', () => {
    const layouts = new Set(vectors.map((v) => v.expr.replace(/ mod .*/, '')));
    expect(layouts).toEqual(
      new Set(['jhash ip saddr', 'jhash ip saddr . th sport', 'jhash ip saddr . udp sport', 'jhash ip6 saddr', 'jhash ip6 saddr . udp sport']),
    );
    expect(vectors.some((v) => v.mod === 0xffffffff)).toBe(true);
  });

  it('each expression string agrees with its own mod and seed fields', () => {
    const disagree = vectors.filter((v) => {
      const parsed = parseExpr(v.expr);
      return parsed.mod !== v.mod || parsed.seed !== v.seed || (parsed.affinity === 'address+port') !== (v.sport !== undefined);
    });
    expect(disagree).toEqual([]);
  });

  it(`reproduces every kernel bucket (${vectors.length} vectors)`, () => {
    const wrong: string[] = [];
    for (const v of vectors) {
      const { affinity, family } = parseExpr(v.expr);
      const hash = hashConfig(affinity, v.seed);
      const key = clientKey(v, hash);
      const keyBytes = (family === 4 ? 4 : 16) + (affinity === 'address+port' ? 4 : 0);
      const viaParts = reciprocalScale(jhash(key, key.length, v.seed), v.mod, v.offset);
      const viaBucketOf = bucketOf(v, hash, v.mod) + v.offset;
      if (key.length !== keyBytes || viaParts !== v.bucket || viaBucketOf !== v.bucket) {
        wrong.push(`${v.expr} ${v.addr}:${v.sport ?? '-'} → ${viaParts}/${viaBucketOf} (${key.length} key bytes), kernel ${v.bucket}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('nftHashExpr writes the vector expressions (udp sport written as th sport)', () => {
    const exprs = new Map(vectors.map((v) => [v.expr, v]));
    for (const [expr, v] of exprs) {
      const { affinity, family } = parseExpr(expr);
      const text = nftHashExpr(hashConfig(affinity, v.seed), family, v.mod);
      expect(parseExpr(text)).toEqual(parseExpr(expr));
      expect(text.replace(/ seed .*/, '')).toBe(expr.replace(/ seed .*/, '').replace(/ (udp|tcp) sport/, ' th sport'));
    }
  });

  it('has teeth: an unpadded 6-byte key or `%` instead of the multiply-shift misses most vectors', () => {
    const withPort = vectors.filter((v) => v.sport !== undefined && !v.expr.includes('ip6'));
    const unpadded = withPort.filter((v) => {
      const key = clientKey(v, hashConfig('address+port', v.seed));
      return reciprocalScale(jhash(key, 6, v.seed), v.mod) === v.bucket;
    });
    const modulo = vectors.filter((v) => {
      const key = clientKey(v, hashConfig(v.sport === undefined ? 'address' : 'address+port', v.seed));
      return jhash(key, key.length, v.seed) % v.mod === v.bucket;
    });
    expect(unpadded.length).toBeLessThan(withPort.length / 4);
    expect(modulo.length).toBeLessThan(vectors.length / 4);
  });
});
