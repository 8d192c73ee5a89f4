/**
 * The rest of the HA stack in a mode's lab (issue 17, "everything else works in every mode"):
 * one kill of a serving node in a lab whose nodes fence through the lab's fence program (exec agent). The survivors must fence it
 * with the lab agent (its link down, its processes killed) before they take its buckets, then
 * answer its clients; the survivors' metrics must count the fence and name the mode, and the
 * dashboard's state must name it too. No restore: the lab is torn down after.
 * The nodes are restarted with the fencing section just before (withLabFencing): a lab that
 * started with it fenced a node still starting on a loaded machine ("never heard since our start").
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { predictor } from './answers.js';
import { run } from './exec.js';
import type { LabInfo } from './lab.js';
import { parseExposition, scrapeNode, sumOf } from './metrics-scrape.js';
import { probeUdp, type UdpProbeResult } from './probe.js';
import { echoResourceYaml, labFenceAgentYaml, restartWith } from './ha-lab.js';
import { waitBalanced } from './balance.js';

/**
 * Restarts every node with a `fencing` section (the lab agent; a 3 s delay, so a peer that is
 * only slow to start on a loaded machine is heard before anyone fences it: "never heard since our
 * start") and waits for the map to settle.
 */
export async function withLabFencing(l: LabInfo, log: (line: string) => void): Promise<LabInfo> {
  const agent = labFenceAgentYaml(l);
  // restartWith stops the echo service too: it comes back as the node's managed resource.
  const nodes = await restartWith(l, (n) => ['fencing:', '  delayMs: 3000', '  timeoutMs: 5000', '  retryBaseMs: 500', '  retryMaxMs: 2000', `  agent: ${agent}`,
    echoResourceYaml(l, n, { intervalMs: 100, timeoutMs: 50, rise: 2, fall: 3 }), ''].join('\n'));
  const b = await waitBalanced(nodes, 30_000, 200);
  if (!b.ok) throw new Error(`the lab did not settle after the restart with fencing: ${JSON.stringify(b.reading).slice(0, 400)}`);
  log(`[modes] restarted with fencing (lab agent), settled after ${b.afterMs.toFixed(0)} ms`);
  return { ...l, nodes };
}

export interface FenceKillResult {
  victim: string;
  /** Client addresses (of the chosen family) whose bucket the victim served. */
  victimClients: number;
  /** Of those, answered by a survivor by the end of the window. */
  takenOver: number;
  /** Requests answered twice, all clients. */
  duplicates: number;
  /** The longest silence of a victim's client (ms); null when none was probed. */
  maxGapMs: number | null;
  /** Successful fence actions counted by the survivors' metrics. */
  fenceOk: number;
  /** The victim's link after the fence: 'down' when the lab agent took it down. */
  victimLink: 'down' | 'up';
  /** Dual stack: the IPv6 clients of the victim, probed through the same kill. */
  v6?: FenceFamily;
  /** The mode label of vmac_info on each survivor, and the mode in each survivor's dashboard state. */
  metricsModes: string[];
  dashboardModes: string[];
}

/** One family's clients of the victim during the fenced kill. */
export interface FenceFamily { victimClients: number; takenOver: number; duplicates: number; maxGapMs: number | null }

export async function fenceKill(l: LabInfo, o: { windowMs?: number } = {}): Promise<FenceKillResult> {
  const predict = predictor(l);
  const v6 = l.vip6 !== undefined && l.vip6 !== null;
  const addrsOf = (c: LabInfo['clients'][number], family: 4 | 6): readonly string[] => (family === 6 ? c.addresses6 ?? [] : c.addresses);
  const serves = (name: string, family: 4 | 6): boolean => l.clients.some((c) => addrsOf(c, family).some((a) => predict(a) === name));
  // The last node that serves a client (of both families, dual stack): node 1 stays (the igmp membership check stops it later).
  const victim = [...l.nodes].reverse().find((n) => n.id !== 1 && serves(n.name, 4) && (!v6 || serves(n.name, 6)));
  if (!victim) throw new Error('no node but n1 serves a client (of each family)');
  // The fence delay (3 s) comes before the takeover: the window leaves room for it.
  const windowMs = o.windowMs ?? 6000;
  const probesOf = (family: 4 | 6): Promise<UdpProbeResult[]> => Promise.all(l.clients.map((c, i) => {
    const f = join(l.dir, `fence${family}-c${i + 1}.addrs`);
    writeFileSync(f, `${addrsOf(c, family).join('\n')}\n`);
    return probeUdp(c.ns, { vip: family === 6 ? l.vip6 ?? '' : l.vip, port: l.echoPort, addrFile: f, intervalUs: 1000, durationMs: windowMs, waitMs: 300 });
  }));
  const p4 = probesOf(4);
  const p6 = v6 ? probesOf(6) : Promise.resolve(null);
  await new Promise((r) => setTimeout(r, 400));
  try { process.kill(victim.daemonPid, 'SIGKILL'); } catch { /* already gone */ }
  const family = (results: readonly UdpProbeResult[]): FenceFamily => {
    // The longest silence, counting one still open when the probe ended (a client never taken over).
    const mine = results.flatMap((r) => r.addrs.map((a) => ({ ...a, openUs: a.lastUs === null ? Infinity : r.sendEndUs - a.lastUs }))).filter((a) => predict(a.addr) === victim.name);
    return {
      victimClients: mine.length,
      takenOver: mine.filter((a) => a.lastNode !== null && a.lastNode !== victim.name).length,
      duplicates: results.flatMap((r) => r.addrs).reduce((s, a) => s + a.duplicates, 0),
      maxGapMs: mine.length === 0 ? null : Math.max(...mine.map((a) => Math.max(a.maxGapUs, a.openUs) / 1000)),
    };
  };
  const r4 = family(await p4);
  const r6raw = await p6;
  const survivors = l.nodes.filter((n) => n.name !== victim.name);
  let fenceOk = 0;
  const metricsModes: string[] = [];
  const dashboardModes: string[] = [];
  for (const n of survivors) {
    const s = parseExposition(await scrapeNode(n.ns));
    fenceOk += sumOf(s, 'vmac_fence_actions_total', { result: 'ok' });
    metricsModes.push(s.find((x) => x.name === 'vmac_info')?.labels.mode ?? '');
    const state = JSON.parse(await scrapeNode(n.ns, '/api/state')) as { state?: { mode?: string } };
    dashboardModes.push(state.state?.mode ?? '');
  }
  const link = await run('ip', ['-n', victim.ns, '-o', 'link', 'show', 'eth0']);
  return { victim: victim.name, ...r4, ...(r6raw ? { v6: family(r6raw) } : {}), fenceOk, victimLink: link.includes('state UP') || link.includes(',UP') ? 'up' : 'down', metricsModes, dashboardModes };
}
