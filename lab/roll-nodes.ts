/**
 * Adds a 4th node to a running 3-node lab cluster and then removes node 1, by the documented
 * rolling procedure (docs/rolling-changes.md), every client address probed every millisecond.
 * Each step is measured on its own: probes sent, lost, answered twice.
 *
 *   add n4:    files gain n4 at weight 0, one node at a time, each with a hitless restart (SIGUSR2)
 *              -> start n4 (weight 0: owns nothing) -> `vmac weight 100 --persist` on n4
 *   remove n1: `vmac weight 0` on n1 -> files set n1's weight to 0, one node at a time, hitless
 *              -> planned stop of n1 (owns nothing) -> files lose n1, one node at a time, hitless
 *
 *   VMAC_LAB_TAG=xx npx tsx lab/roll-nodes.ts [--step-ms 8000] [--control]
 *
 * `--control`: the same steps with every file unchanged (all list n1..n4, n4 at weight 0), the
 * cost of the restarts, weights, start and stop by themselves on this machine.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabInfo, LabNodeInfo } from './lab.js';
import { spawnInNs } from './exec.js';
import { vmacCommand } from './paths.js';
import { probeUdp } from './probe.js';
import { controlSocket, statusOf, stopPid, waitFor } from './ha-lab.js';
import { waitExit } from './faults.js';
import { waitLog } from './handover.js';
import { requestControl } from '../src/daemon/control-socket.js';

export interface RollNodesStep { readonly step: string; readonly probes: number; readonly lost: number; readonly duplicates: number; readonly actionMs: number }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Node `id`'s line in a lab file (its own `node:` line or a peer line). */
const lineOf = (id: number): RegExp => new RegExp(`^(node: |  - )\\{ id: ${id}, name: n${id}, weight: \\d+,.*$\\n?`, 'm');
const setWeight = (y: string, id: number, w: number): string => y.replace(new RegExp(`(\\{ id: ${id}, name: n${id}, weight: )\\d+`), `$1${w}`);
const dropPeer = (y: string, id: number): string => y.replace(lineOf(id), (m) => (m.startsWith('node: ') ? m : ''));

function start(node: LabNodeInfo): LabNodeInfo {
  const cmd = vmacCommand();
  const child = spawnInNs(node.ns, cmd.file, [...cmd.args, 'run', node.config], node.log);
  return { ...node, daemonPid: child.pid ?? -1 };
}

/** Hitless restart with the file rewritten: SIGUSR2, the successor adopts the kernel state. */
async function hitless(node: LabNodeInfo, yaml: string): Promise<LabNodeInfo> {
  writeFileSync(node.config, yaml);
  const from = statSync(node.log).size;
  process.kill(node.daemonPid, 'SIGUSR2');
  await waitExit(node.daemonPid, 30_000);
  const next = start(node);
  await waitLog(node.log, from, 'serving', 30_000);
  return next;
}

async function probeStep(lab: LabInfo, step: string, stepMs: number, action: () => Promise<void>): Promise<RollNodesStep> {
  const probing = Promise.all(lab.clients.map((c) => probeUdp(c.ns, { vip: lab.vip, port: lab.echoPort, addrFile: c.addrFile, intervalUs: 1000, durationMs: stepMs, waitMs: 300 })));
  await sleep(300);
  const t0 = Date.now();
  await action();
  const actionMs = Date.now() - t0;
  const rs = await probing;
  let probes = 0; let lost = 0; let duplicates = 0;
  for (const r of rs) for (const a of r.addrs) { probes += a.sent; lost += a.lost; duplicates += a.duplicates; }
  const s = { step, probes, lost, duplicates, actionMs };
  console.log(JSON.stringify(s));
  return s;
}

async function settle(nodes: readonly LabNodeInfo[], owners: number): Promise<void> {
  // Every running node serves, and `owners` of them hold buckets with nothing in flight.
  const ok = await waitFor(nodes, (ss) => ss.every((s) => s !== null && s.cluster.self.servingSinceMs !== null && s.cluster.handover.incoming.length + s.cluster.handover.draining.length === 0)
    && ss.filter((s) => (s?.cluster.owned.length ?? 0) > 0).length === owners, 30_000, 200);
  if (!ok) throw new Error(`the cluster did not settle with ${owners} owners within 30 s`);
}

/**
 * Runs the whole procedure on a lab built with 4 nodes, none started (lateNodes 1..4).
 * `control`: the same steps (hitless restarts, start, weights, stop) with every file the same
 * from the start (n1..n4, n4 at weight 0): what the steps cost without any list change.
 */
export async function rollNodes(lab: LabInfo, stepMs: number, control = false): Promise<RollNodesStep[]> {
  const steps: RollNodesStep[] = [];
  // The running cluster: n1..n3, files without n4.
  let nodes = lab.nodes.map((n) => ({ ...n, config: join(lab.dir, `${n.name}-live.yaml`) }));
  const original = new Map(lab.nodes.map((n) => [n.id, readFileSync(n.config, 'utf8')]));
  const text = (id: number): string => original.get(id) ?? '';
  const byId = (id: number): LabNodeInfo => nodes.find((n) => n.id === id) as LabNodeInfo;
  const put = (n: LabNodeInfo): void => { nodes = nodes.map((x) => (x.id === n.id ? n : x)); };
  const full = (id: number): string => setWeight(text(id), 4, 0);
  const file = (id: number, changed: string): string => (control ? full(id) : changed);
  for (const id of [1, 2, 3]) { writeFileSync(byId(id).config, file(id, dropPeer(text(id), 4))); put(start(byId(id))); }
  await settle([1, 2, 3].map(byId), 3);
  await sleep(1000);

  // Add n4: files gain it at weight 0, one node at a time (hitless).
  for (const id of [3, 2, 1]) {
    steps.push(await probeStep(lab, `n${id}: file gains n4 at weight 0, hitless restart`, stepMs, async () => { put(await hitless(byId(id), file(id, setWeight(text(id), 4, 0)))); }));
  }
  await settle([1, 2, 3].map(byId), 3);
  steps.push(await probeStep(lab, 'start n4 (weight 0)', stepMs, async () => {
    writeFileSync(byId(4).config, setWeight(text(4), 4, 0));
    const from = statSync(byId(4).log).size;
    put(start(byId(4)));
    await waitLog(byId(4).log, from, 'ready', 30_000);
  }));
  await waitFor(nodes, (ss) => ss.every((s) => s?.cluster.self.servingSinceMs != null), 30_000, 200);
  steps.push(await probeStep(lab, 'vmac weight 100 --persist on n4', stepMs, async () => {
    await requestControl(controlSocket(byId(4)), { cmd: 'weight', weight: 100, persist: true });
  }));
  await settle(nodes, 4);

  // Remove n1: run-time weight 0, files set its weight to 0 (hitless), planned stop, files lose it (hitless).
  steps.push(await probeStep(lab, 'vmac weight 0 on n1', stepMs, async () => {
    // (control: persisted, since its unchanged file keeps its configured weight across the restarts)
    await requestControl(controlSocket(byId(1)), { cmd: 'weight', weight: 0, ...(control ? { persist: true } : {}) });
  }));
  await settle(nodes, 3);
  const zeroN1 = (id: number): string => setWeight(setWeight(text(id), 4, 0), 1, 0);
  for (const id of [4, 3, 2, 1]) {
    steps.push(await probeStep(lab, `n${id}: file sets n1's weight to 0, hitless restart`, stepMs, async () => { put(await hitless(byId(id), file(id, zeroN1(id)))); }));
  }
  await settle(nodes, 3);
  steps.push(await probeStep(lab, 'planned stop of n1', stepMs, async () => { await stopPid(byId(1).daemonPid); }));
  nodes = nodes.filter((n) => n.id !== 1);
  for (const id of [4, 3, 2]) {
    steps.push(await probeStep(lab, `n${id}: file loses n1, hitless restart`, stepMs, async () => { put(await hitless(byId(id), file(id, dropPeer(zeroN1(id), 1)))); }));
  }
  await settle(nodes, 3);
  const final = await Promise.all(nodes.map(statusOf));
  console.log(JSON.stringify({ final: final.map((s) => ({ node: s?.cluster.self.name, owned: s?.cluster.owned.length, weight: s?.cluster.handover.weight, config: s?.cluster.config?.standing })) }));
  return steps;
}

async function main(): Promise<void> {
  const { randomInt } = await import('node:crypto');
  const { labDown, labUp } = await import('./lab.js');
  const at = process.argv.indexOf('--step-ms');
  const stepMs = at > 0 ? Number(process.argv[at + 1]) : 8000;
  const control = process.argv.includes('--control');
  const name = `${process.env.VMAC_LAB_TAG ?? ''}rn${randomInt(1000, 9999)}`.slice(0, 12);
  const lab = await labUp({ name, nodes: 4, clients: 3, addrs: 10, seed: randomInt(1, 2 ** 31), buckets: 256, profile: 'default', affinity: 'address', dataPathCheck: false, lateNodes: [1, 2, 3, 4] });
  try {
    const steps = await rollNodes(lab, stepMs, control).catch((err: unknown) => {
      // Keep the evidence: the lab's directory goes with labDown.
      for (const n of lab.nodes) for (const f of [`${n.name}.log`, `${n.name}-live.yaml`]) { try { writeFileSync(`/tmp/vmac-roll-nodes-${f}`, readFileSync(join(lab.dir, f))); } catch { /* absent */ } }
      throw err;
    });
    const sum = steps.reduce((a, s) => ({ probes: a.probes + s.probes, lost: a.lost + s.lost, duplicates: a.duplicates + s.duplicates }), { probes: 0, lost: 0, duplicates: 0 });
    console.log(JSON.stringify({ total: sum }));
  } finally {
    await labDown(name);
  }
}

if (process.argv[1]?.endsWith('roll-nodes.ts')) void main();
