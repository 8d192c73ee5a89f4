/**
 * The user-space hash against the kernel's own answers, for fresh random addresses and seeds:
 * a receiving namespace runs the exact expressions the daemon installs (`nftHashExpr`) and
 * records (client, bucket) pairs in dynamic sets; every pair must equal `bucketOf`.
 * Every affinity mode, IPv4 and IPv6.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomInt } from 'node:crypto';
import { openNftables } from '../../native-shims/nftables.js';
import { bucketOf, nftHashExpr } from '../../src/hash/bucket-of.js';
import type { Affinity, HashConfig } from '../../src/config/types.js';
import { ipBatch, nsRun } from '../../lab/exec.js';
import { labBinary } from '../../lab/paths.js';
import { deleteNamespaces, expectNoNamespacesLeft, uniqueLabName, vethPair } from './support.js';

const prefix = uniqueLabName('kh');
const sender = `${prefix}-s`;
const receiver = `${prefix}-r`;
const dir = mkdtempSync(join(tmpdir(), 'vmac-kh-'));

interface Case { family: 4 | 6; affinity: Affinity; hash: HashConfig; buckets: number; set: string }

const AFFINITIES: Affinity[] = ['address', 'address+port', 'network'];
const BUCKET_CHOICES = [3, 64, 256, 1000, 4096];

function cases(): Case[] {
  const out: Case[] = [];
  for (const family of [4, 6] as const) {
    for (const affinity of AFFINITIES) {
      const hash: HashConfig = { affinity, prefixLength: randomInt(8, 31), prefixLength6: randomInt(16, 120), seed: randomInt(0, 2 ** 32 - 1) };
      out.push({ family, affinity, hash, buckets: BUCKET_CHOICES[randomInt(BUCKET_CHOICES.length)] ?? 256, set: `s${family}_${affinity.replace(/\W/g, '')}` });
    }
  }
  return out;
}

function randomV4(): string {
  return `10.${randomInt(16, 250)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
}
function randomV6(): string {
  return `fd${randomInt(0, 256).toString(16).padStart(2, '0')}:${Array.from({ length: 7 }, () => randomInt(0, 65536).toString(16)).join(':')}`;
}

function oracleScript(all: Case[]): string {
  const lines = ['add table netdev oracle', 'add chain netdev oracle in { type filter hook ingress device "eth0" priority 0; policy accept; }'];
  for (const c of all) {
    const addr = c.family === 4 ? 'ip saddr' : 'ip6 saddr';
    lines.push(`add set netdev oracle ${c.set} { typeof ${addr} . udp sport . meta mark; flags dynamic; size 65536; }`);
    lines.push(`add rule netdev oracle in meta l4proto udp ${c.family === 4 ? 'ip' : 'ip6'} daddr ${c.family === 4 ? '10.9.0.1' : 'fd09::1'} meta mark set ${nftHashExpr(c.hash, c.family, c.buckets)} add @${c.set} { ${addr} . udp sport . meta mark }`);
  }
  return lines.join('\n');
}

interface Elem { elem?: { val?: { concat?: [string, number, number] } }; concat?: [string, number, number] }

function readPairs(json: string): { addr: string; sport: number; bucket: number }[] {
  const doc = JSON.parse(json) as { nftables: { set?: { elem?: (Elem | { concat: [string, number, number] })[] } }[] };
  const out = [];
  for (const item of doc.nftables) {
    for (const e of item.set?.elem ?? []) {
      const concat = 'concat' in e ? e.concat : e.elem?.val?.concat;
      if (concat) out.push({ addr: concat[0], sport: concat[1], bucket: concat[2] });
    }
  }
  return out;
}

describe('user-space hash = kernel hash (fresh random addresses and seeds)', () => {
  afterAll(async () => {
    await deleteNamespaces(sender, receiver);
    rmSync(dir, { recursive: true, force: true });
    await expectNoNamespacesLeft(prefix);
  });

  it('every affinity mode, IPv4 and IPv6', async () => {
    await vethPair(sender, receiver);
    const v4 = Array.from(new Set(Array.from({ length: 300 }, randomV4)));
    const v6 = Array.from(new Set(Array.from({ length: 100 }, randomV6)));
    await ipBatch(receiver, ['addr add 10.9.0.1/8 dev eth0', 'addr add fd09::1/8 dev eth0 nodad']);
    await ipBatch(sender, [...v4.map((a) => `addr add ${a}/8 dev eth0`), ...v6.map((a) => `addr add ${a}/8 dev eth0 nodad`)]);
    const all = cases();
    const nft = openNftables(`/run/netns/${receiver}`);
    const setup = nft.run(oracleScript(all));
    expect(setup.error).toBe('');
    writeFileSync(join(dir, 'v4'), v4.join('\n'));
    writeFileSync(join(dir, 'v6'), v6.join('\n'));
    // One probe from each address (ephemeral source ports, so address+port sees varied ports).
    for (const [vip, file] of [['10.9.0.1', 'v4'], ['fd09::1', 'v6']] as const) {
      await nsRun(sender, labBinary('vmac-prober'), ['udp', '--vip', vip, '--port', '9', '--addrs', join(dir, file), '--interval-us', '1000', '--duration-ms', '50', '--max-probes', '1', '--wait-ms', '0']);
    }
    let checked = 0;
    for (const c of all) {
      const pairs = readPairs(nft.run(`list set netdev oracle ${c.set}`, true).output);
      expect(pairs.length, `${c.set}: kernel recorded ${pairs.length} clients`).toBe(c.family === 4 ? v4.length : v6.length);
      for (const p of pairs) {
        const want = bucketOf({ addr: p.addr, sport: p.sport }, c.hash, c.buckets);
        expect({ case: c.set, seed: c.hash.seed, buckets: c.buckets, addr: p.addr, sport: p.sport, bucket: want }).toEqual({ case: c.set, seed: c.hash.seed, buckets: c.buckets, addr: p.addr, sport: p.sport, bucket: p.bucket });
        checked++;
      }
    }
    expect(checked).toBe(3 * (v4.length + v6.length));
  });
});
