/**
 * Long-lived UDP flows across a drain: every client address is one flow (the prober binds one
 * socket per address, so its source address and port stay fixed) sending a datagram every
 * `intervalMs`; node 1 drains while they run, then the flows stop (go idle). Per flow: which
 * nodes answered it, lost and duplicate answers. With handover.udpFlowTimeoutMs on, node 1 keeps
 * answering its flows until they went idle for the flow timeout; off, they move mid-flow.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabInfo } from './lab.js';
import { probeUdp } from './probe.js';
import { control, drainWindow, leaseLapses } from './handover.js';

export interface UdpFlowsResult {
  flows: number;
  /** Flows node 1 answered at some point (its share when the drain began). */
  drainedNodeFlows: number;
  /** Flows answered by more than one node over their life. */
  switched: number;
  lost: number;
  duplicates: number;
  sent: number;
  /** First bucket draining to the last one let go, from node 1's log (null: not finished). */
  drainMs: number | null;
  /** When the flows stopped, from the drain's start (node 1's log). */
  flowsStoppedAfterMs: number | null;
  /** With a resume: when `vmac resume` returned, from the drain's start (node 1's log; null: no resume). */
  resumedAfterMs: number | null;
  /** Per node, lease stops during the run (a starved daemon): what to look at first when flows were lost. */
  leaseLapses: Record<string, { stopped: number; forgot: number }>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * `family: 6`: the flows come from the clients' IPv6 addresses to the VIP6 (a dual-stack or
 * IPv6-only lab). `resumeAfterMs`: node 1 resumes that long after its drain was asked for, while
 * the flows still run (drain then resume: every bucket goes back to node 1 mid-flow).
 */
export async function udpFlowsThroughDrain(lab: LabInfo, o: { perClient: number; intervalMs: number; durationMs: number; drainAtMs: number; waitDrainMs: number; settleMs: number; family?: 4 | 6; resumeAfterMs?: number }): Promise<UdpFlowsResult> {
  const n1 = lab.nodes[0];
  if (!n1) throw new Error('needs a node');
  const files = lab.clients.map((c, i) => {
    const file = join(lab.dir, `udpflows-c${i + 1}.addrs`);
    const sources = o.family === 6 ? c.addresses6 ?? [] : c.addresses;
    writeFileSync(file, `${sources.slice(0, o.perClient).join('\n')}\n`);
    return { ns: c.ns, file };
  });
  // Let the start-up hand-overs (a node taking what nobody held, then handing it to its owner) end.
  await sleep(o.settleMs);
  const logFrom = new Map(lab.nodes.map((n) => [n.name, statSync(n.log).size]));
  const vip = o.family === 6 ? lab.vip6 ?? '' : lab.vip;
  const probing = Promise.all(files.map((f) => probeUdp(f.ns, { vip, port: lab.echoPort, addrFile: f.file, intervalUs: o.intervalMs * 1000, durationMs: o.durationMs, waitMs: 300 })));
  const t0 = Date.now();
  await sleep(o.drainAtMs);
  const from = statSync(n1.log).size;
  await control(n1, ['drain', '--timeout', String(o.waitDrainMs)]);
  let resumedAt: number | null = null;
  if (o.resumeAfterMs !== undefined) { await sleep(o.resumeAfterMs); await control(n1, ['resume']); resumedAt = Date.now(); }
  const results = await probing;
  // The drain ends once the flows were idle for the flow timeout (or on the drain timeout).
  const deadline = Date.now() + o.waitDrainMs;
  let w = drainWindow(n1.log, from);
  while (w.endMs === null && Date.now() < deadline) { await sleep(100); w = drainWindow(n1.log, from); }
  const drain = w.startMs !== null && w.endMs !== null ? w.endMs - w.startMs : null;
  const stoppedAfter = w.startMs === null ? null : t0 + o.durationMs - w.startMs;
  const addrs = results.flatMap((r) => r.addrs);
  return {
    flows: addrs.length,
    drainedNodeFlows: addrs.filter((a) => (a.nodes[n1.name] ?? 0) > 0).length,
    switched: addrs.filter((a) => Object.values(a.nodes).filter((x) => x > 0).length > 1).length,
    lost: addrs.reduce((s, a) => s + a.lost, 0),
    duplicates: addrs.reduce((s, a) => s + a.duplicates, 0),
    sent: addrs.reduce((s, a) => s + a.sent, 0),
    drainMs: drain,
    flowsStoppedAfterMs: stoppedAfter,
    resumedAfterMs: resumedAt === null || w.startMs === null ? null : resumedAt - w.startMs,
    leaseLapses: leaseLapses(lab, logFrom),
  };
}
