/**
 * A drain under real load: `npm run bench -- drain-load` builds a 3-node lab, opens N established
 * TCP connections and N UDP flows to the VIP from client addresses that all hash to node 1
 * (lab/c/drainload.c: each TCP connection echoes 8 bytes every 2 s, each UDP flow sends a
 * datagram every 2 s from its own port), drains node 1, and, once the drain command is in, ends
 * every connection and flow at a random moment within `endSpreadMs`. Measured: the drain (first
 * bucket draining to the last let go, node 1's log), when the last old flow ended, the daemon's
 * CPU during the drain (utime + stime + its reaped children's, /proc/PID/stat), and what the
 * clients saw (resets, stalls, UDP lost, duplicate answers, flows answered by two nodes).
 * Readers side by side, same lab settings: ctnetlink with paced readings (the default) and the
 * old `conntrack -L` child read on every 100 ms poll tick (VMAC_CONNTRACK=tool,
 * VMAC_DRAIN_POLL=unpaced). Per-flow UDP hand-over on in both (udpIdleMs 5000).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { labDown, labUp, type LabInfo } from '../lab/lab.js';
import { drainWindow } from '../lab/handover.js';
import { labBinary, vmacCommand } from '../lab/paths.js';
import { nsRun, spawnInNs } from '../lab/exec.js';
import { parseExposition, scrapeNode, sumOf } from '../lab/metrics-scrape.js';
import { loadConfig } from '../src/config/load.js';
import { ownedBuckets, staticMap } from '../src/daemon/ownership.js';
import { bucketOf } from '../src/hash/bucket-of.js';

export type DrainLoadReader = 'netlink' | 'tool-unpaced';

interface Side { readonly nodes: Record<string, number> }
export interface DrainLoadClients {
  tcp: Side & { opened: number; greeted: number; resets: number; stalls: number; connectFailed: number; closedOk: number };
  udp: Side & { flows: number; sent: number; answered: number; lost: number; duplicates: number; switched: number; errors: number };
  endSignalEpochMs: number; lastTcpEndEpochMs: number; lastUdpEndEpochMs: number;
}
export interface DrainLoadRow {
  readonly reader: DrainLoadReader;
  readonly tcp: number; readonly udp: number; readonly udpIdleMs: number;
  /** Where the connections and flows landed before the drain (every one should be on node 1). */
  readonly readyTcpNodes: Record<string, number>; readonly readyUdpNodes: Record<string, number>;
  /** First bucket draining to the last one let go (null: not ended within the bound). */
  readonly drainMs: number | null;
  /** The last old flow's end from the drain's start: the last TCP close, or the last UDP flow's last datagram + udpIdleMs. */
  readonly lastFlowEndMs: number | null;
  /** Drain end minus the last flow's end: how long the daemon took to notice. */
  readonly noticedAfterMs: number | null;
  readonly daemonCpuMs: number;
  /** The daemon's CPU per second of the drain, and per second in an equal window before it (heartbeats, leases). */
  readonly cpuMsPerS: number; readonly idleCpuMsPerS: number;
  readonly clients: DrainLoadClients | null;
  /** The daemon's longest event-loop stall during the drain (prom-client's monitor, ms; null: not scraped) and its lease stops (log). */
  readonly loopLagMaxMs: number | null; readonly leaseStops: number;
}

/** nodejs_eventloop_lag_max_seconds since the last scrape (the monitor resets at each), in ms. */
async function loopLagMaxMs(ns: string): Promise<number | null> {
  try { return sumOf(parseExposition(await scrapeNode(ns)), 'nodejs_eventloop_lag_max_seconds') * 1000; } catch { return null; }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** utime + stime + cutime + cstime of a process (ms; USER_HZ 100): the `conntrack` children it reaped count. */
function cpuMsOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(x[11]) + Number(x[12]) + Number(x[13]) + Number(x[14])) * 10;
}

/** The lab client's addresses whose bucket node 1 owns in the configured map. */
function addressesOfNode1(lab: LabInfo): string[] {
  const n1 = lab.nodes[0];
  if (!n1) throw new Error('no node 1');
  const cfg = loadConfig(n1.config);
  const mine = new Set(ownedBuckets(staticMap(cfg), n1.id));
  return (lab.clients[0]?.addresses ?? []).filter((a) => mine.has(bucketOf({ addr: a }, cfg.hash, cfg.buckets)));
}

function startLoad(ns: string, lab: LabInfo, addrFile: string, tcp: number, udp: number, endSpreadMs: number, log: (s: string) => void): { child: ChildProcess; waitEvent: (ev: string, ms: number) => Promise<Record<string, unknown> | null> } {
  const child = spawn('ip', ['netns', 'exec', ns, labBinary('vmac-drainload'), '--vip', lab.vip, '--port', String(lab.echoPort), '--addrs', addrFile, '--tcp', String(tcp), '--udp', String(udp),
    '--tcp-interval-ms', '2000', '--udp-interval-ms', '2000', '--end-spread-ms', String(endSpreadMs), '--max-ms', '240000', '--ready-timeout-ms', '90000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => { try { lines.push(JSON.parse(l) as Record<string, unknown>); } catch { log(`drainload: ${l}`); } });
  const waitEvent = async (ev: string, ms: number): Promise<Record<string, unknown> | null> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = lines.find((l) => l.event === ev);
      if (hit || Date.now() > deadline || child.exitCode !== null) return hit ?? null;
      await sleep(100);
    }
  };
  return { child, waitEvent };
}

/** The two processes' totals as one (TCP from one, UDP from the other). */
function mergeDone(d: readonly DrainLoadClients[]): DrainLoadClients {
  const sum = (f: (x: DrainLoadClients) => number): number => d.reduce((a, x) => a + f(x), 0);
  const nodes = (f: (x: DrainLoadClients) => Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const x of d) for (const [k, v] of Object.entries(f(x))) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  return {
    tcp: { opened: sum((x) => x.tcp.opened), greeted: sum((x) => x.tcp.greeted), resets: sum((x) => x.tcp.resets), stalls: sum((x) => x.tcp.stalls), connectFailed: sum((x) => x.tcp.connectFailed), closedOk: sum((x) => x.tcp.closedOk), nodes: nodes((x) => x.tcp.nodes) },
    udp: { flows: sum((x) => x.udp.flows), sent: sum((x) => x.udp.sent), answered: sum((x) => x.udp.answered), lost: sum((x) => x.udp.lost), duplicates: sum((x) => x.udp.duplicates), switched: sum((x) => x.udp.switched), errors: sum((x) => x.udp.errors), nodes: nodes((x) => x.udp.nodes) },
    endSignalEpochMs: Math.min(...d.map((x) => x.endSignalEpochMs)), lastTcpEndEpochMs: Math.max(...d.map((x) => x.lastTcpEndEpochMs)), lastUdpEndEpochMs: Math.max(...d.map((x) => x.lastUdpEndEpochMs)),
  };
}

async function once(reader: DrainLoadReader, o: { tcp: number; udp: number; endSpreadMs: number; udpIdleMs: number; log: (s: string) => void }): Promise<DrainLoadRow> {
  const name = `${process.env.VMAC_LAB_TAG ?? ''}dl${reader === 'netlink' ? 'n' : 't'}${process.pid % 1000}`.slice(0, 12);
  const saved = { ct: process.env.VMAC_CONNTRACK, poll: process.env.VMAC_DRAIN_POLL };
  if (reader === 'tool-unpaced') { process.env.VMAC_CONNTRACK = 'tool'; process.env.VMAC_DRAIN_POLL = 'unpaced'; } else { delete process.env.VMAC_CONNTRACK; delete process.env.VMAC_DRAIN_POLL; }
  let lab: LabInfo | null = null;
  try {
    lab = await labUp({ name, nodes: 3, clients: 1, addrs: 400, seed: 21, buckets: 256, profile: 'default', affinity: 'address', udpIdleMs: o.udpIdleMs });
    const n1 = lab.nodes[0];
    const client = lab.clients[0];
    if (!n1 || !client) throw new Error('lab without node 1 or a client');
    const addrs = addressesOfNode1(lab).slice(0, 100);
    const addrFile = join(lab.dir, 'drainload.addrs');
    writeFileSync(addrFile, `${addrs.join('\n')}\n`);
    // Node 1's echo takes every connection: restart it with room for them (default 4096).
    const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
    try { process.kill(n1.echoPid, 'SIGTERM'); } catch { /* gone */ }
    for (let i = 0; i < 100 && alive(n1.echoPid); i++) await sleep(50);
    const echoLog = join(lab.dir, `${n1.name}-echo-load.log`);
    writeFileSync(echoLog, '');
    spawnInNs(n1.ns, labBinary('vmac-echo'), ['--name', n1.name, '--addr', lab.vip, '--udp', String(lab.echoPort), '--tcp', String(lab.echoPort), '--max-conns', String(o.tcp + 1000)], echoLog);
    for (let i = 0; i < 100 && !readFileSync(echoLog, 'utf8').includes('"ready"'); i++) await sleep(50);
    if (!readFileSync(echoLog, 'utf8').includes('"ready"')) throw new Error(`node 1's echo did not restart: ${readFileSync(echoLog, 'utf8')}`);
    o.log(`${reader}: ${addrs.length} client addresses of node 1; opening ${o.tcp} TCP connections and ${o.udp} UDP flows`);
    // TCP and UDP in two processes: each stays under the usual 20,000-descriptor hard limit.
    const loads = [{ tcp: o.tcp, udp: 0 }, { tcp: 0, udp: o.udp }].filter((l) => l.tcp + l.udp > 0).map((l) => startLoad(client.ns, lab as LabInfo, addrFile, l.tcp, l.udp, o.endSpreadMs, o.log));
    const readies = await Promise.all(loads.map((l) => l.waitEvent('ready', 120_000)));
    if (readies.some((r) => r === null)) throw new Error('the load never got ready');
    const ready = { tcpNodes: readies[0]?.tcpNodes as Record<string, number>, udpNodes: readies[readies.length - 1]?.udpNodes as Record<string, number> };
    o.log(`${reader}: ready ${JSON.stringify(readies)}`);
    // The idle baseline: the daemon's CPU over 3 s with every flow open and nothing moving.
    const idle0 = cpuMsOf(n1.daemonPid);
    await sleep(3000);
    const idleCpuMsPerS = (cpuMsOf(n1.daemonPid) - idle0) / 3;
    const vmac = vmacCommand();
    const from = readFileSync(n1.log, 'utf8').length;
    await loopLagMaxMs(n1.ns);
    const cpu0 = cpuMsOf(n1.daemonPid);
    // The CLI may take long to start on a loaded machine: 120 s, not the lab's usual 30 s.
    await nsRun(n1.ns, vmac.file, [...vmac.args, 'drain', '--timeout', '60000', '-c', n1.config], { timeoutMs: 120_000 });
    for (const l of loads) l.child.kill('SIGUSR1');
    const deadline = Date.now() + 90_000;
    let w = drainWindow(n1.log, from);
    let cpuEnd = cpuMsOf(n1.daemonPid);
    while (w.endMs === null && Date.now() < deadline) { await sleep(100); cpuEnd = cpuMsOf(n1.daemonPid); w = drainWindow(n1.log, from); }
    const lagMs = await loopLagMaxMs(n1.ns);
    const leaseStops = readFileSync(n1.log, 'utf8').slice(from).split('\n').filter((l) => l.includes('"event":"lease-stopped"')).length;
    const dones = await Promise.all(loads.map((l) => l.waitEvent('done', 30_000)));
    for (const l of loads) if (l.child.exitCode === null) l.child.kill('SIGTERM');
    const done = dones.every((d) => d !== null) ? mergeDone(dones as unknown as DrainLoadClients[]) : undefined;
    const drainMs = w.startMs !== null && w.endMs !== null ? w.endMs - w.startMs : null;
    const lastEnd = done ? Math.max(done.lastTcpEndEpochMs, done.lastUdpEndEpochMs > 0 ? done.lastUdpEndEpochMs + o.udpIdleMs : 0) : null;
    const row: DrainLoadRow = {
      reader, tcp: o.tcp, udp: o.udp, udpIdleMs: o.udpIdleMs,
      readyTcpNodes: ready.tcpNodes, readyUdpNodes: ready.udpNodes,
      drainMs, lastFlowEndMs: lastEnd !== null && w.startMs !== null ? lastEnd - w.startMs : null,
      noticedAfterMs: lastEnd !== null && w.endMs !== null ? w.endMs - lastEnd : null,
      daemonCpuMs: cpuEnd - cpu0, cpuMsPerS: drainMs ? ((cpuEnd - cpu0) * 1000) / drainMs : 0, idleCpuMsPerS,
      clients: done ?? null, loopLagMaxMs: lagMs, leaseStops,
    };
    o.log(`${reader}: ${JSON.stringify(row)}`);
    return row;
  } finally {
    if (saved.ct === undefined) delete process.env.VMAC_CONNTRACK; else process.env.VMAC_CONNTRACK = saved.ct;
    if (saved.poll === undefined) delete process.env.VMAC_DRAIN_POLL; else process.env.VMAC_DRAIN_POLL = saved.poll;
    // Node 1's log outlives the lab (VMAC_BENCH_LOGS=dir): what to read when a figure looks wrong.
    if (lab && process.env.VMAC_BENCH_LOGS) { try { copyFileSync(lab.nodes[0]?.log ?? '', join(process.env.VMAC_BENCH_LOGS, `${name}-n1.log`)); } catch { /* no log */ } }
    if (lab) await labDown(name);
  }
}

export async function benchDrainLoad(o: { tcp: number; udp: number; endSpreadMs: number; udpIdleMs: number; readers: readonly DrainLoadReader[]; log: (s: string) => void }): Promise<DrainLoadRow[]> {
  const rows: DrainLoadRow[] = [];
  for (const r of o.readers) rows.push(await once(r, o));
  return rows;
}

export function drainLoadTable(rows: readonly DrainLoadRow[]): string {
  const f = (v: number | null): string => (v === null ? 'not ended' : `${Math.round(v).toLocaleString('en')} ms`);
  return ['', `## drain with ${rows[0]?.tcp ?? 0} TCP connections and ${rows[0]?.udp ?? 0} UDP flows on the drained node (udpIdleMs ${rows[0]?.udpIdleMs ?? 0})`, '',
    '| reader | drain | last old flow ended | drain end after it | daemon CPU during the drain | CPU ms/s (idle ms/s) | longest loop stall | lease stops | TCP resets | stalls | UDP lost | duplicate answers | flows on two nodes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.reader} | ${f(r.drainMs)} | ${f(r.lastFlowEndMs)} | ${f(r.noticedAfterMs)} | ${r.daemonCpuMs.toLocaleString('en')} ms | ${r.cpuMsPerS.toFixed(0)} (${r.idleCpuMsPerS.toFixed(0)}) | ${r.loopLagMaxMs === null ? '?' : `${r.loopLagMaxMs.toFixed(0)} ms`} | ${r.leaseStops} | ${r.clients?.tcp.resets ?? '?'} | ${r.clients?.tcp.stalls ?? '?'} | ${r.clients?.udp.lost ?? '?'} | ${r.clients?.udp.duplicates ?? '?'} | ${r.clients?.udp.switched ?? '?'} |`), ''].join('\n');
}
