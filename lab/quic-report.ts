/**
 * The QUIC lab's runs (lab/quic-lab.ts) as a lab of their own: the spec it needs (a 4th node
 * started late when the sequence joins one) and the tables `vmac lab quic` prints.
 */
import { randomInt } from 'node:crypto';
import type { LabSpec } from './plan.js';
import { labUp } from './lab.js';
import { withLabCleanup } from './guard.js';
import { quicThroughOperations, type QuicLabOptions, type QuicLabResult, type QuicOp } from './quic-lab.js';

export interface QuicRunSpec extends Omit<QuicLabOptions, 'perFlow' | 'log'> { name: string; clients: number; seed?: number }

/** One lab, one run: built, measured, removed however it ends. */
export async function quicRun(spec: QuicRunSpec, perFlow: boolean, log: (msg: string) => void): Promise<QuicLabResult> {
  const join = spec.ops.includes('join');
  const addrs = spec.perClient + spec.latePerClient;
  const lab: LabSpec = {
    name: spec.name, nodes: join ? 4 : 3, clients: spec.clients, addrs, seed: spec.seed ?? randomInt(1, 2 ** 31), buckets: 256,
    profile: 'default', affinity: 'address', ...(join ? { lateNodes: [4] } : {}),
    // The lab's short UDP idle time: its own planned stop at the end waits for UDP flows to go quiet.
    udpIdleMs: 1000, udpPerFlow: perFlow,
  };
  return withLabCleanup(spec.name, async () => {
    log(`[quic] building lab ${spec.name} (${lab.nodes} nodes, per-flow ${perFlow ? 'on' : 'off'})`);
    const info = await labUp(lab, { onProgress: (m) => log(`[lab] ${m}`) });
    return quicThroughOperations(info, { ...spec, perFlow, log });
  });
}

const pad = (s: string, n: number): string => s.padEnd(n);

/** Per step: live connections, deaths (and why), requests answered, where the live ones are. */
export function quicStepsTable(r: QuicLabResult): string {
  const rows = [`${pad('step', 16)}${pad('op ms', 8)}${pad('alive', 7)}${pad('died', 6)}${pad('why', 26)}${pad('answered/sent', 16)}live by node`];
  for (const s of r.steps) {
    const why: Record<string, number> = {};
    for (const d of s.deaths) why[`${d.reason}@${d.node}`] = (why[`${d.reason}@${d.node}`] ?? 0) + 1;
    const whyText = Object.entries(why).map(([k, v]) => `${v} ${k}`).join(', ') || '-';
    const nodes = Object.entries(s.byNode).sort().map(([k, v]) => `${k}:${v}`).join(' ');
    rows.push(`${pad(s.op, 16)}${pad(String(s.opMs), 8)}${pad(String(s.alive), 7)}${pad(String(s.died), 6)}${pad(whyText, 26)}${pad(`${s.answered}/${s.sent}`, 16)}${nodes}`);
  }
  return rows.join('\n');
}

export function quicSummary(r: QuicLabResult): string {
  const counted = r.connections - r.onKilledNode;
  return [
    `per-flow hand-over ${r.perFlow ? 'on' : 'off'}: ${r.connections} QUIC connections (${r.handshaken} handshaken), ${counted} counted`,
    `  lost ${r.lost}${Object.keys(r.lostByReason).length > 0 ? ` (${Object.entries(r.lostByReason).map(([k, v]) => `${v} ${k}`).join(', ')})` : ''}, stateless resets received ${r.resets}, answered by two nodes ${r.switched}`,
    `  on the node killed by kill -9 (not counted): ${r.onKilledNode}, of which died ${r.lostOnKilledNode} (${r.resetsOnKilledNode} by stateless reset)`,
    `  requests answered ${r.requestsAnswered} of ${r.requestsSent}; longest silence of a surviving connection ${Math.round(r.maxGapMs)} ms`,
    `  stateless resets sent by the servers: ${JSON.stringify(r.resetsSent)}${r.heldForMs !== null ? `; first drain-timed move to the end ${r.heldForMs} ms` : ''}${r.join ? `; node 4 serving after ${r.join.servingMs ?? '-'} ms, its share after ${r.join.shareTakenMs ?? '-'} ms` : ''}`,
    ...(Object.keys(r.leaseLapses).length > 0 ? [`  lease lapses (starved daemons): ${JSON.stringify(r.leaseLapses)}`] : []),
  ].join('\n');
}

export function parseOps(text: string, allowed: readonly QuicOp[]): QuicOp[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = items.filter((s) => !(allowed as readonly string[]).includes(s));
  if (bad.length > 0 || items.length === 0) throw new Error(`--ops: ${JSON.stringify(bad.join(',') || text)} is not a list of ${allowed.join(', ')}`);
  return items as QuicOp[];
}
