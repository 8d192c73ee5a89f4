/**
 * The kernel and `vmac which` agree through the daemon's own installed rule (not a throwaway
 * one): a three-node dual-stack lab per affinity, with a fresh random hash seed, bucket count
 * and IPv6 network prefix; one client sends one UDP datagram from each of many (address, port)
 * pairs to the VIP and to the VIP6; the daemons' `owned` maps count, per bucket, what their
 * ingress rules accepted (each bucket is owned by one node: the sum over the nodes). The
 * per-bucket counts must equal, bucket for bucket, the counts `bucketOf` (the user-space hash
 * behind `vmac which`) predicts for the same datagrams. Then the same (address, port) pairs as
 * the embedded destination of ICMP errors about the VIP's packets, all sent from one source:
 * each must be counted in the bucket of its embedded destination. Then fragmented datagrams:
 * every fragment counted in the predicted bucket, and each datagram reassembled on exactly the
 * node that owns it (the nodes' reassembly counters), none on the others, none dropped by all.
 */
import { randomInt } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { labDown, labUp } from '../../lab/lab.js';
import { sendUdpFrom } from '../../lab/send-udp.js';
import { sendIcmpErrors } from '../../lab/send-icmp-error.js';
import { openNftables } from '../../native-shims/nftables.js';
import { readOwnedCounters } from '../../src/metrics/nft-counters.js';
import { loadConfig } from '../../src/config/load.js';
import { bucketOf } from '../../src/hash/bucket-of.js';
import type { Affinity } from '../../src/config/types.js';
import { ownerOf } from '../../src/hash/bucket-map.js';
import { staticMap } from '../../src/daemon/ownership.js';
import { readReassembly } from '../../lab/reassembly.js';
import { expectNoNamespacesLeft, uniqueLabName } from './support.js';

const AFFINITIES: Affinity[] = ['address', 'address+port', 'network'];
const names: string[] = [];
const SILENT_PORT = 9_999;

function countsBy<T>(xs: readonly T[], key: (x: T) => number): Map<number, number> {
  const out = new Map<number, number>();
  for (const x of xs) out.set(key(x), (out.get(key(x)) ?? 0) + 1);
  return out;
}

const sorted = (m: ReadonlyMap<number, number>): [number, number][] => [...m].filter(([, n]) => n > 0).sort((a, b) => a[0] - b[0]);

describe('kernel = vmac which through the daemon\'s own rule, IPv4 and IPv6, every affinity', () => {
  afterAll(async () => {
    for (const n of names) { await labDown(n); await expectNoNamespacesLeft(n); }
  }, 60_000);

  for (const affinity of AFFINITIES) {
    it(`${affinity}: fresh seed, addresses and ports`, async () => {
      const name = uniqueLabName('hd');
      names.push(name);
      const buckets = [64, 256, 1000][randomInt(3)] ?? 256;
      const prefixLength6 = randomInt(96, 125); // the lab's IPv6 clients differ only in their last 48 bits
      const lab = await labUp({ name, nodes: 3, clients: 1, addrs: 80, seed: randomInt(1, 2 ** 31), buckets, profile: 'default', affinity, ipv6: true, prefixLength6, dataPathCheck: false });
      const node = lab.nodes[0];
      const client = lab.clients[0];
      if (!node || !client || !lab.vip6) throw new Error('lab without node, client or VIP6');
      const cfg = loadConfig(node.config);
      expect(cfg.hash.affinity).toBe(affinity);
      // Ports: several per address under address+port, one random port each otherwise.
      const ports = affinity === 'address+port' ? 3 : 1;
      const tuples = (addrs: readonly string[]): [string, number][] => addrs.flatMap((a) => Array.from({ length: ports }, () => [a, randomInt(1024, 65536)] as [string, number]));
      const v4 = tuples(client.addresses);
      const v6 = tuples(client.addresses6 ?? []);
      const nfts = lab.nodes.map((n) => openNftables(`/run/netns/${n.ns}`));
      // Each bucket is in exactly one node's owned map: the sum over the nodes is the cluster's count.
      const read = (): Map<number, number> => {
        const out = new Map<number, number>();
        for (const nft of nfts) {
          const r = readOwnedCounters(nft, 'vmac_lab');
          if (r.outcome !== 'read') throw new Error(r.error);
          for (const [b, c] of r.counters) out.set(b, (out.get(b) ?? 0) + c.packets);
        }
        return out;
      };
      const map = staticMap(cfg);
      for (const [family, list, vip] of [[4, v4, lab.vip], [6, v6, lab.vip6]] as const) {
        const before = read();
        // To a port nothing listens on: an echo's answer to an already closed client socket would
        // make the client send an ICMP port-unreachable to the VIP, counted in its bucket as well.
        expect(await sendUdpFrom(client.ns, lab.dir, vip, SILENT_PORT, list)).toBe(list.length);
        await new Promise((r) => setTimeout(r, 200));
        const after = read();
        const kernel = new Map([...after].map(([b, n]) => [b, n - (before.get(b) ?? 0)]));
        const predicted = countsBy(list, ([addr, sport]) => bucketOf({ addr, sport }, cfg.hash, cfg.buckets));
        process.stdout.write(`[hash-daemon] ${affinity} IPv${family}: ${list.length} datagrams, ${predicted.size} distinct buckets of ${buckets}, seed 0x${cfg.hash.seed.toString(16)}${family === 6 ? `, prefixLength6 ${prefixLength6}` : ''}\n`);
        const diff = [...new Set([...kernel.keys(), ...predicted.keys()])].filter((b) => (kernel.get(b) ?? 0) !== (predicted.get(b) ?? 0)).map((b) => `${b}: kernel ${kernel.get(b) ?? 0}, predicted ${predicted.get(b) ?? 0}`);
        expect(diff).toEqual([]);
        expect(sorted(kernel)).toEqual(sorted(predicted));
        // Negative control: the same datagrams hashed with another seed would not match.
        const wrong = countsBy(list, ([addr, sport]) => bucketOf({ addr, sport }, { ...cfg.hash, seed: (cfg.hash.seed + 1) >>> 0 }, cfg.buckets));
        expect(sorted(kernel)).not.toEqual(sorted(wrong));

        // ICMP errors about the VIP's packets (frag-needed / packet-too-big), all from one outer
        // source: counted in the bucket of the embedded destination (and port), as vmac which names it.
        const beforeIcmp = read();
        expect(await sendIcmpErrors(client.ns, lab.dir, vip, list)).toBe(list.length);
        await new Promise((r) => setTimeout(r, 200));
        const afterIcmp = read();
        const steered = new Map([...afterIcmp].map(([b, n]) => [b, n - (beforeIcmp.get(b) ?? 0)]));
        process.stdout.write(`[hash-daemon] ${affinity} IPv${family} ICMP errors: ${list.length} from one source, ${sorted(steered).length} buckets hit\n`);
        expect(sorted(steered)).toEqual(sorted(predicted));

        // Fragmented datagrams (2000 bytes over a 1500-byte link: 2 fragments each): both fragments
        // of each datagram counted in one bucket — by address alone under address+port, where
        // non-first fragments carry no ports — so each datagram is reassembled on one node.
        const beforeFrag = read();
        const reasmBefore = await Promise.all(lab.nodes.map((n) => readReassembly(n.ns, family)));
        expect(await sendUdpFrom(client.ns, lab.dir, vip, SILENT_PORT, list, 2000)).toBe(list.length);
        await new Promise((r) => setTimeout(r, 200));
        const afterFrag = read();
        const reasmAfter = await Promise.all(lab.nodes.map((n) => readReassembly(n.ns, family)));
        const frags = new Map([...afterFrag].map(([b, n]) => [b, n - (beforeFrag.get(b) ?? 0)]));
        const fragHash = affinity === 'address+port' ? { ...cfg.hash, affinity: 'address' as const } : cfg.hash;
        const predictedFrags = new Map([...countsBy(list, ([addr, sport]) => bucketOf({ addr, sport }, fragHash, cfg.buckets))].map(([b, n]) => [b, 2 * n]));
        process.stdout.write(`[hash-daemon] ${affinity} IPv${family} fragmented: ${list.length} datagrams, ${[...frags.values()].reduce((a, b) => a + b, 0)} fragments counted\n`);
        expect(sorted(frags)).toEqual(sorted(predictedFrags));
        // Reassembled on exactly one node each, the owner `vmac which` names; 0 dropped by all.
        // (UDP sees whole datagrams only: `noPorts` counts each reassembled datagram once, both
        // families; IPv4's ReasmOKs as well, IPv6's defrag in netfilter does not count there.)
        const delta = (i: number, k: 'oks' | 'fails' | 'noPorts'): number => (reasmAfter[i]?.[k] ?? 0) - (reasmBefore[i]?.[k] ?? 0);
        const reassembled = lab.nodes.map((n, i) => ({ node: n.name, datagrams: delta(i, 'noPorts'), oks: delta(i, 'oks'), fails: delta(i, 'fails') }));
        const owned = lab.nodes.map((n) => list.filter(([addr, sport]) => ownerOf(map, bucketOf({ addr, sport }, fragHash, cfg.buckets)) === n.id).length);
        process.stdout.write(`[hash-daemon] ${affinity} IPv${family} whole datagrams per node: ${reassembled.map((r, i) => `${r.node} ${r.datagrams} (owns ${owned[i]}; reassembly ok ${r.oks}, failed ${r.fails})`).join('; ')}\n`);
        expect(reassembled.map((r) => r.datagrams)).toEqual(owned);
        expect(reassembled.reduce((a, r) => a + r.datagrams, 0)).toBe(list.length);
        if (family === 4) expect(reassembled.map((r) => r.oks)).toEqual(owned);
        expect(reassembled.map((r) => r.fails)).toEqual(lab.nodes.map(() => 0));
      }
      await labDown(name);
    }, 120_000);
  }
});
