/**
 * Who answered whom, against who should have: the lab's check that the kernel filter and the
 * user-space hash agree, and that every client gets exactly one answering node.
 */
import { loadConfig } from '../src/config/load.js';
import { bucketOf } from '../src/hash/bucket-of.js';
import { ownerOf } from '../src/hash/bucket-map.js';
import { staticMap } from '../src/daemon/ownership.js';
import type { LabInfo } from './lab.js';
import { probeTcp, probeUdp } from './probe.js';

export interface ClientAnswer {
  addr: string;
  expected: string;
  udpNodes: string[]; // every node that answered a UDP probe of this address
  tcpNode: string | null;
  udpDuplicates: number;
  udpLost: number;
}

export interface AnswerReport {
  clients: ClientAnswer[];
  perNode: Record<string, number>; // expected share per node
  mismatches: ClientAnswer[]; // answered by another node, or by several, or not at all
  duplicates: number;
  lost: number;
}

/** The node name `vmac which` predicts for a client address, from node 1's config. */
export function predictor(lab: LabInfo): (addr: string) => string {
  const first = lab.nodes[0];
  if (!first) throw new Error('lab has no nodes');
  const cfg = loadConfig(first.config);
  const map = staticMap(cfg);
  return (addr) => {
    const id = ownerOf(map, bucketOf({ addr }, cfg.hash, cfg.buckets));
    return cfg.nodes.find((n) => n.id === id)?.name ?? `id${id}`;
  };
}

/**
 * A few UDP probes and one TCP connection from every client address, all clients at once.
 * `family: 6` probes the VIP6 from the clients' IPv6 addresses (dual-stack labs).
 */
export async function checkAnswers(lab: LabInfo, opts: { probes?: number; intervalUs?: number; family?: 4 | 6 } = {}): Promise<AnswerReport> {
  const predict = predictor(lab);
  const probes = opts.probes ?? 5;
  const intervalUs = opts.intervalUs ?? 20_000;
  const family = opts.family ?? 4;
  const vip = family === 4 ? lab.vip : lab.vip6;
  if (vip === undefined || vip === null) throw new Error(`lab ${lab.name} has no VIP6: build it with --ipv6`);
  const perClient = await Promise.all(lab.clients.map(async (c) => {
    const addrFile = family === 4 ? c.addrFile : c.addrFile6;
    if (addrFile === undefined) throw new Error(`client ${c.ns} has no IPv6 addresses`);
    const udp = await probeUdp(c.ns, { vip, port: lab.echoPort, addrFile, intervalUs, durationMs: Math.ceil((probes * intervalUs) / 1000) + 50, maxProbes: probes, waitMs: 300 });
    const tcp = await probeTcp(c.ns, { vip, port: lab.echoPort, addrFile });
    const tcpBy = new Map(tcp.addrs.map((a) => [a.addr, a.node]));
    return udp.addrs.map((u): ClientAnswer => ({
      addr: u.addr,
      expected: predict(u.addr),
      udpNodes: Object.keys(u.nodes).sort(),
      tcpNode: tcpBy.get(u.addr) ?? null,
      udpDuplicates: u.duplicates,
      udpLost: u.lost,
    }));
  }));
  const clients = perClient.flat();
  const perNode: Record<string, number> = {};
  for (const c of clients) perNode[c.expected] = (perNode[c.expected] ?? 0) + 1;
  const mismatches = clients.filter((c) => c.udpNodes.length !== 1 || c.udpNodes[0] !== c.expected || c.tcpNode !== c.expected);
  return {
    clients,
    perNode,
    mismatches,
    duplicates: clients.reduce((s, c) => s + c.udpDuplicates, 0),
    lost: clients.reduce((s, c) => s + c.udpLost, 0),
  };
}

/**
 * How far each node's share of the answered clients is from the fair share 1/N, relative to it
 * (0.1 = 10 % more or fewer clients than fair). Pure.
 */
export function fairShareDeviation(answeredBy: Readonly<Record<string, number>>, nodes: readonly string[]): { perNode: Record<string, number>; max: number } {
  const total = nodes.reduce((s, n) => s + (answeredBy[n] ?? 0), 0);
  const fair = total / Math.max(1, nodes.length);
  const perNode: Record<string, number> = {};
  for (const n of nodes) perNode[n] = fair > 0 ? ((answeredBy[n] ?? 0) - fair) / fair : NaN;
  return { perNode, max: Math.max(...Object.values(perNode).map(Math.abs)) };
}

/** Per node: the client addresses it alone answered. */
export function answeredBy(r: AnswerReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of r.clients) {
    const [only] = c.udpNodes;
    if (c.udpNodes.length === 1 && only !== undefined) out[only] = (out[only] ?? 0) + 1;
  }
  return out;
}
