/**
 * A second vmac service on the nodes of a running lab: its own name (`lab2`), VIP (10.200.0.2),
 * heartbeat port, metrics port, control socket, hash seed (so its table and buckets are its own),
 * and an echo service on its VIP. Then the faults of issue 15's third must-show:
 *   - kill -9 of one service's daemon on one node while the clients probe both VIPs: the other
 *     service's clients must lose nothing;
 *   - a planned stop of one service on a node: `arp_announce` (all and eth0) stays 2 for the other.
 *
 *   VMAC_LAB_TAG=xx npx tsx lab/two-services.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabInfo, LabNodeInfo } from './lab.js';
import { nsRun, spawnInNs } from './exec.js';
import { labBinary, vmacCommand } from './paths.js';
import { probeUdp, type UdpProbeResult } from './probe.js';
import { statusOf, stopPid, waitFor } from './ha-lab.js';

export const VIP2 = '10.200.0.2';
export const HEARTBEAT_PORT2 = 5791;
const METRICS_PORT2 = 9791;

/** The second service's file for `node`, from its first service's file. */
export function secondServiceYaml(first: string, controlSocket: string): string {
  return first
    .replace(/^service: \S+$/m, 'service: lab2')
    .replace(/^vip: \S+$/m, `vip: ${VIP2}`)
    .replace(/seed: 0x[0-9a-f]+/, 'seed: 0x5eed0002')
    .replace(/^heartbeat: \{ keyFile: (\S+) \}$/m, `heartbeat: { keyFile: $1, port: ${HEARTBEAT_PORT2} }`)
    .replace(/^control: \{ socket: \S+ \}$/m, `control: { socket: ${controlSocket} }\nmetrics: { listen: 127.0.0.1:${METRICS_PORT2} }`);
}

/** Starts the second service (daemon + echo on VIP2) on every node; returns its nodes once all serve. */
export async function startSecondService(lab: LabInfo): Promise<LabNodeInfo[]> {
  const cmd = vmacCommand();
  const nodes: LabNodeInfo[] = [];
  for (const n of lab.nodes) {
    const config = join(lab.dir, `${n.name}-lab2.yaml`);
    writeFileSync(config, secondServiceYaml(readFileSync(n.config, 'utf8'), join(lab.dir, `${n.name}-lab2.sock`)));
    const log = join(lab.dir, `${n.name}-lab2.log`);
    const echo = spawnInNs(n.ns, labBinary('vmac-echo'), ['--name', n.name, '--addr', VIP2, '--udp', String(lab.echoPort), '--tcp', String(lab.echoPort)], join(lab.dir, `${n.name}-echo2.log`));
    const daemon = spawnInNs(n.ns, cmd.file, [...cmd.args, 'run', config], log);
    nodes.push({ ...n, config, log, daemonPid: daemon.pid ?? -1, echoPid: echo.pid ?? -1 });
  }
  const ok = await waitFor(nodes, (ss) => ss.every((s) => s !== null && s.cluster.self.servingSinceMs !== null), 60_000);
  if (!ok) throw new Error(`the second service did not serve on every node within 60 s: ${nodes.map((n) => readFileSync(n.log, 'utf8').slice(-400)).join('\n---\n')}`);
  return nodes;
}

export interface ProbeTotals { readonly sent: number; readonly lost: number; readonly duplicates: number; readonly addresses: number }

function totals(rs: readonly UdpProbeResult[]): ProbeTotals {
  let sent = 0; let lost = 0; let duplicates = 0; let addresses = 0;
  for (const r of rs) for (const a of r.addrs) { sent += a.sent; lost += a.lost; duplicates += a.duplicates; addresses++; }
  return { sent, lost, duplicates, addresses };
}

/** Probes both VIPs from every client every `intervalUs` for `durationMs` while `during` runs. */
export async function probeBoth(lab: LabInfo, intervalUs: number, durationMs: number, during: () => Promise<void>): Promise<{ first: ProbeTotals; second: ProbeTotals }> {
  const probe = (vip: string): Promise<UdpProbeResult[]> => Promise.all(lab.clients.map((c) => probeUdp(c.ns, { vip, port: lab.echoPort, addrFile: c.addrFile, intervalUs, durationMs, waitMs: 300 })));
  const a = probe(lab.vip);
  const b = probe(VIP2);
  await new Promise((r) => setTimeout(r, Math.min(500, durationMs / 4)));
  await during();
  return { first: totals(await a), second: totals(await b) };
}

/** `arp_announce` for all and eth0 in a node's namespace. */
export async function arpAnnounce(node: LabNodeInfo): Promise<{ all: string; eth0: string }> {
  const out = await nsRun(node.ns, 'sysctl', ['-n', 'net.ipv4.conf.all.arp_announce', 'net.ipv4.conf.eth0.arp_announce']);
  const [all, eth0] = out.trim().split('\n');
  return { all: all ?? '', eth0: eth0 ?? '' };
}

/** Whether a daemon of the first service still serves on `node`. */
export async function serving(node: LabNodeInfo): Promise<boolean> {
  return (await statusOf(node))?.cluster.self.servingSinceMs != null;
}

async function main(): Promise<void> {
  const { randomInt } = await import('node:crypto');
  const { labDown, labUp } = await import('./lab.js');
  const name = `${process.env.VMAC_LAB_TAG ?? ''}ts${randomInt(1000, 9999)}`.slice(0, 12);
  const lab = await labUp({ name, nodes: 3, clients: 3, addrs: 10, seed: randomInt(1, 2 ** 31), buckets: 256, profile: 'default', affinity: 'address', dataPathCheck: false, udpIdleMs: 1000 });
  try {
    const second = await startSecondService(lab);
    const victim = lab.nodes[0] as LabNodeInfo;
    const kill = await probeBoth(lab, 1000, 4000, () => { process.kill(victim.daemonPid, 'SIGKILL'); return Promise.resolve(); });
    console.log(JSON.stringify({ step: 'kill -9 lab on n1', lab: kill.first, lab2: kill.second }));
    const other = lab.nodes[1] as LabNodeInfo;
    const before = await arpAnnounce(other);
    const stop = await probeBoth(lab, 1000, 4000, async () => { await stopPid(other.daemonPid); });
    const after = await arpAnnounce(other);
    console.log(JSON.stringify({ step: 'planned stop of lab on n2', lab: stop.first, lab2: stop.second, arpAnnounceBefore: before, arpAnnounceAfter: after, lab2Serving: await Promise.all(second.map(serving)) }));
  } finally {
    await labDown(name);
  }
}

if (process.argv[1]?.endsWith('two-services.ts')) void main();
