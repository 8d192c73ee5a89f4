/**
 * The routed topology (issue 4): every client frame reaches the cluster from the router's MAC,
 * so only the source address can spread the clients. 3 nodes, 3 client namespaces of 1,000
 * addresses behind the router: every address answered by exactly the node `vmac which`
 * predicts (UDP and TCP), no duplicates, and each node's share within 10 % of fair.
 *
 * Why 3,000 addresses and not 300: the bucket map is fair to one bucket, but which buckets 300
 * random addresses fall in is a sample: a node's share of 300 has a standard deviation of ~8 %
 * of fair, so "within 10 %" would fail about one run in four by chance. With 3,000 it is ~2.6 %,
 * and 10 % is almost 4 standard deviations.
 */
import { describe, expect, it } from 'vitest';
import type { LabInfo } from '../../lab/lab.js';
import { answeredBy, checkAnswers, fairShareDeviation } from '../../lab/answers.js';
import { run } from '../../lab/exec.js';
import { uniqueLabName, useLab } from './support.js';

const name = uniqueLabName('rt');
let lab: LabInfo;

describe('routed topology: 3 nodes, 3,000 client addresses behind a router', () => {
  useLab(name, (l) => (lab = l), { router: true, addrs: 1000 });

  it('every frame reaches the nodes from the router\'s MAC, yet each node answers its fair share (within 10 %)', async () => {
    // The nodes' neighbour entries for routed clients: none; only the router's address is on-link.
    const routerMac = JSON.parse(await run('ip', ['-n', lab.routerNs ?? '', '-j', 'link', 'show', 'eth0'])) as { address: string }[];
    const r = await checkAnswers(lab);
    expect(r.clients).toHaveLength(3000);
    expect(r.mismatches).toEqual([]);
    expect(r.duplicates).toBe(0);
    expect(r.lost).toBe(0);
    const dev = fairShareDeviation(answeredBy(r), lab.nodes.map((n) => n.name));
    process.stdout.write(`[router] 3000 addresses behind ${routerMac[0]?.address ?? '?'}: shares off fair ${JSON.stringify(Object.fromEntries(Object.entries(dev.perNode).map(([k, v]) => [k, `${(v * 100).toFixed(1)}%`])))}\n`);
    expect(dev.max).toBeLessThanOrEqual(0.1);
    // Only the router is a neighbour of the nodes: the clients' addresses are not on their link.
    for (const n of lab.nodes) {
      const neigh = JSON.parse(await run('ip', ['-n', n.ns, '-j', 'neigh', 'show', 'dev', 'eth0'])) as { dst: string }[];
      expect(neigh.map((e) => e.dst).filter((d) => d.startsWith('10.22') || d.startsWith('10.23'))).toEqual([]);
    }
  }, 180_000);
});
