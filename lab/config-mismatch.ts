/**
 * The config-agreement lab check: one node's daemon is stopped and started again with one shared
 * field changed (seed, buckets, VIP, timing, node list), while every client address is probed.
 * Reports, at steady state, the addresses answered by two nodes and those the agreeing nodes left
 * unanswered; over the whole episode, probes answered twice; and the log lines on both sides
 * that name the field. Then the node is put back with the cluster's config.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabInfo, LabNodeInfo } from './lab.js';
import { spawnInNs } from './exec.js';
import { daemonEntry } from './paths.js';
import { probeUdp } from './probe.js';
import { statusOf, stopPid, waitFor } from './ha-lab.js';

export interface MismatchChange {
  readonly name: string;
  readonly field: string; // the fingerprint field both logs must name
  readonly edit: (yaml: string) => string;
}

/** The five changes of the issue, as edits of a lab node's config text. */
export const MISMATCH_CHANGES: readonly MismatchChange[] = [
  { name: 'seed', field: 'hash.seed', edit: (y) => y.replace(/seed: 0x[0-9a-f]+/, 'seed: 0x00c0ffee') },
  { name: 'buckets', field: 'buckets', edit: (y) => y.replace(/^buckets: \d+$/m, 'buckets: 128') },
  { name: 'VIP', field: 'vip', edit: (y) => y.replace(/^vip: (\S+)$/m, (_m, v: string) => `vip: ${v.replace(/\.(\d+)$/, (_x, d: string) => `.${(Number(d) % 250) + 2}`)}`) },
  { name: 'timing', field: 'timing.intervalMs', edit: (y) => (/^ {2}intervalMs: \d+$/m.test(y) ? y.replace(/^ {2}intervalMs: \d+$/m, '  intervalMs: 50') : y.replace(/^timing:\n/m, 'timing:\n  intervalMs: 50\n')) },
  { name: 'node list', field: 'nodes', edit: (y) => y.replace(/^( {2}- \{ id: \d+, name: \S+, weight: )100\b/m, '$1300') },
];

export interface MismatchResult {
  readonly change: string;
  readonly addresses: number;
  readonly answeredTwice: number; // steady state: addresses answered by two or more nodes
  readonly unansweredByAgreeing: number; // steady state: addresses no agreeing node answered
  readonly answeredByDiffering: number; // steady state: addresses the differing node answered
  readonly stopDuplicates: number; // probes answered twice during the planned stop (the leave's make-before-break overlap; the same with an unchanged config)
  readonly stopLost: number; // probes lost during the planned stop
  readonly mismatchDuplicates: number; // probes answered twice from the differing daemon's start to steady state
  readonly mismatchLost: number; // probes lost from the differing daemon's start to steady state (a 2-node cluster under the majority rule cannot serve while one node is out)
  readonly loggedBy: string[]; // nodes whose log names the field in a config-mismatch line
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function mismatchLogged(node: LabNodeInfo, field: string, sinceBytes: number): boolean {
  const text = readFileSync(node.log, 'utf8').slice(sinceBytes);
  return text.split('\n').some((l) => l.includes('"event":"config-mismatch"') && l.includes(`"${field}"`));
}

async function probeAll(lab: LabInfo, intervalUs: number, durationMs: number): Promise<{ nodes: Map<string, Set<string>>; duplicates: number; lost: number }> {
  const results = await Promise.all(lab.clients.map((c) => probeUdp(c.ns, { vip: lab.vip, port: lab.echoPort, addrFile: c.addrFile, intervalUs, durationMs, waitMs: 300 })));
  const nodes = new Map<string, Set<string>>();
  let duplicates = 0;
  let lost = 0;
  for (const r of results) for (const a of r.addrs) {
    nodes.set(a.addr, new Set(Object.keys(a.nodes)));
    duplicates += a.duplicates;
    lost += a.lost;
  }
  return { nodes, duplicates, lost };
}

/** Runs one change on `node` (its daemon restarted with the edit), measures, and puts it back. Returns the node as restarted. */
export async function mismatchRound(lab: LabInfo, node: LabNodeInfo, change: MismatchChange, settleMs: number): Promise<{ result: MismatchResult; node: LabNodeInfo }> {
  const others = lab.nodes.filter((n) => n.id !== node.id);
  const logSizes = new Map(lab.nodes.map((n) => [n.name, readFileSync(n.log, 'utf8').length]));
  const original = node.config;
  const changed = join(lab.dir, `${node.name}-mismatch.yaml`);
  writeFileSync(changed, change.edit(readFileSync(original, 'utf8')));
  // Probe through the planned stop, then from the start with the other config until it settled.
  const stopping = probeAll(lab, 10_000, 1500);
  await stopPid(node.daemonPid);
  const stop = await stopping;
  const episode = probeAll(lab, 10_000, 1500 + settleMs);
  const child = spawnInNs(node.ns, process.execPath, [daemonEntry(), 'run', changed], node.log);
  const differing: LabNodeInfo = { ...node, daemonPid: child.pid ?? -1 };
  const ep = await episode;
  // Daemon start takes a few seconds on a loaded machine: wait until both sides saw the mismatch.
  await waitFor([...others, differing], (ss) => ss.every((s) => (s?.cluster.config?.differing.length ?? 0) > 0), 15_000);
  await sleep(300);
  const steady = await probeAll(lab, 20_000, 200);
  const names = new Set(others.map((n) => n.name));
  let twice = 0;
  let unanswered = 0;
  let byDiffering = 0;
  for (const who of steady.nodes.values()) {
    if (who.size > 1) twice++;
    if (![...who].some((n) => names.has(n))) unanswered++;
    if (who.has(node.name)) byDiffering++;
  }
  const loggedBy = lab.nodes.filter((n) => mismatchLogged(n, change.field, logSizes.get(n.name) ?? 0)).map((n) => n.name);
  // Back to the cluster's config.
  await stopPid(differing.daemonPid);
  const back = spawnInNs(node.ns, process.execPath, [daemonEntry(), 'run', original], node.log);
  const restored: LabNodeInfo = { ...node, daemonPid: back.pid ?? -1 };
  const all = lab.nodes.map((n) => (n.id === node.id ? restored : n));
  const settled = await waitFor(all, (ss) => ss.every((s) => s !== null && (s.cluster.config?.differing.length ?? 1) === 0 && s.cluster.self.servingSinceMs !== null), 20_000);
  if (!settled) throw new Error(`${node.name} did not rejoin with the cluster's config within 20 s`);
  return {
    result: { change: change.name, addresses: steady.nodes.size, answeredTwice: twice, unansweredByAgreeing: unanswered, answeredByDiffering: byDiffering, stopDuplicates: stop.duplicates, stopLost: stop.lost, mismatchDuplicates: ep.duplicates, mismatchLost: ep.lost, loggedBy },
    node: restored,
  };
}

export { statusOf };

export interface RollStep { readonly node: string; readonly lost: number; readonly duplicates: number; readonly probes: number }

/**
 * Rolls a shared-field change through every node, last node first (planned stop, start with the
 * edit), probing every address every `intervalUs` during each step and until the step settled.
 * Returns per step the probes lost and answered twice (the step that gives the new version its
 * majority is the flip).
 */
export async function rollChange(lab: LabInfo, change: MismatchChange, intervalUs: number, stepMs: number): Promise<{ steps: RollStep[]; nodes: LabNodeInfo[] }> {
  let nodes = [...lab.nodes];
  const steps: RollStep[] = [];
  for (const node of [...nodes].reverse()) {
    const changed = join(lab.dir, `${node.name}-roll.yaml`);
    writeFileSync(changed, change.edit(readFileSync(node.config, 'utf8')));
    const probing = Promise.all(lab.clients.map((c) => probeUdp(c.ns, { vip: lab.vip, port: lab.echoPort, addrFile: c.addrFile, intervalUs, durationMs: stepMs, waitMs: 300 })));
    await stopPid(node.daemonPid);
    const child = spawnInNs(node.ns, process.execPath, [daemonEntry(), 'run', changed], node.log);
    nodes = nodes.map((n) => (n.id === node.id ? { ...n, config: changed, daemonPid: child.pid ?? -1 } : n));
    const rs = await probing;
    let lost = 0; let duplicates = 0; let probes = 0;
    for (const r of rs) for (const a of r.addrs) { lost += a.lost; duplicates += a.duplicates; probes += a.sent; }
    steps.push({ node: node.name, lost, duplicates, probes });
  }
  return { steps, nodes };
}
