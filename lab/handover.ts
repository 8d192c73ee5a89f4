/**
 * Zero-disruption operations in a running lab, under 1 ms UDP probing: a hitless daemon restart
 * (SIGUSR2, then a new `vmac run` adopts the kernel state), a planned stop + start (SIGTERM, then
 * a new daemon), and `vmac drain` / `vmac resume`. Each returns what the victim's and the other
 * nodes' clients saw: lost probes, duplicate answers, the longest silence.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { udpRcvbufErrorsIn } from './udp-drops.js';
import { join } from 'node:path';
import type { LabInfo, LabNodeInfo } from './lab.js';
import { nsRun, spawnInNs } from './exec.js';
import { daemonEntry, vmacCommand } from './paths.js';
import { probeUdp, type UdpProbeResult } from './probe.js';
import { loadConfig } from '../src/config/load.js';

export type Operation = 'restart-hitless' | 'stop-start' | 'drain-resume';

export interface OperationResult {
  op: Operation;
  probes: number;
  lost: number;
  duplicates: number;
  /** Of those: the clients the victim answered (by the end of the run, or ever). */
  victimClients: number;
  victimLost: number;
  victimDuplicates: number;
  maxGapMs: number;
  behindTicks: number;
  /** UDP datagrams dropped on full socket buffers in the lab's namespaces (starved prober or echo). */
  socketDrops: number;
  /** How long the drain took (first bucket draining to the last one let go), from the victim's log. */
  drainMs: number | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitExit(pid: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { process.kill(pid, 0); } catch { return; }
    if (Date.now() > deadline) throw new Error(`pid ${pid} did not exit within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** Waits until the log (from `from`) shows `event`. */
export async function waitLog(log: string, from: number, event: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!readFileSync(log, 'utf8').slice(from).includes(`"event":"${event}"`)) {
    if (Date.now() > deadline) throw new Error(`${log}: no ${event} within ${timeoutMs} ms`);
    await sleep(20);
  }
}

export function startDaemon(victim: LabNodeInfo): void {
  const vmac = vmacCommand();
  const child = spawnInNs(victim.ns, vmac.file, [...vmac.args, 'run', victim.config], victim.log);
  victim.daemonPid = child.pid ?? -1;
}

export async function control(victim: LabNodeInfo, args: string[]): Promise<void> {
  const vmac = vmacCommand();
  await nsRun(victim.ns, vmac.file, [...vmac.args, ...args, '-c', victim.config]);
}

/** Drain duration from the log: first `draining` phase change to the last bucket let go. */
export function drainMs(log: string, from: number): number | null {
  const w = drainWindow(log, from);
  return w.endMs !== null && w.startMs !== null ? w.endMs - w.startMs : null;
}

/** When (epoch ms) the first bucket began draining and when the node last held nothing after that. */
export function drainWindow(log: string, from: number): { startMs: number | null; endMs: number | null } {
  const lines = readFileSync(log, 'utf8').slice(from).split('\n').filter((l) => l.includes('"event":"buckets-moved"'));
  let start: number | null = null;
  let end: number | null = null;
  for (const l of lines) {
    const e = JSON.parse(l) as { time: string | number; draining: number; released: number; holding: number };
    const at = typeof e.time === 'number' ? e.time : Date.parse(e.time);
    if (start === null && e.draining > 0) start = at;
    if (start !== null && e.holding === 0) { end = at; break; }
  }
  return { startMs: start, endMs: end };
}

export async function runOperation(lab: LabInfo, op: Operation, victim: LabNodeInfo, o: { perClient: number; durationMs: number }): Promise<OperationResult> {
  const files = lab.clients.map((c, i) => {
    const file = join(lab.dir, `op-c${i + 1}.addrs`);
    writeFileSync(file, `${c.addresses.slice(0, o.perClient).join('\n')}\n`);
    return { ns: c.ns, file };
  });
  const logFrom = statSync(victim.log).size;
  const logsFrom = new Map(lab.nodes.map((n) => [n.name, statSync(n.log).size]));
  const dropNs = [...lab.nodes.map((n) => n.ns), ...lab.clients.map((c) => c.ns)];
  const dropsBefore = await udpRcvbufErrorsIn(dropNs);
  const probing = Promise.all(files.map((f) => probeUdp(f.ns, { vip: lab.vip, port: lab.echoPort, addrFile: f.file, intervalUs: 1000, durationMs: o.durationMs, waitMs: 300 })));
  await sleep(Math.min(1000, o.durationMs / 4));
  let drain: number | null = null;
  if (op === 'restart-hitless') {
    process.kill(victim.daemonPid, 'SIGUSR2');
    await waitExit(victim.daemonPid);
    startDaemon(victim);
    await waitLog(victim.log, logFrom, 'serving');
  } else if (op === 'stop-start') {
    process.kill(victim.daemonPid, 'SIGTERM');
    await waitExit(victim.daemonPid);
    startDaemon(victim);
    await waitLog(victim.log, logFrom, 'serving');
  } else {
    await control(victim, ['drain', '--timeout', '3000']);
    await waitLog(victim.log, logFrom, 'buckets-moved');
    await sleep(o.durationMs / 3);
    // The probes' UDP flows never go quiet while they run: with the per-flow hand-over the drain
    // holds them to its 3 s timeout. Wait for its end (bounded) before resuming.
    const until = Date.now() + 4500;
    while ((drain = drainMs(victim.log, logFrom)) === null && Date.now() < until) await sleep(100);
    await control(victim, ['resume']);
  }
  const results: UdpProbeResult[] = await probing;
  const socketDrops = (await udpRcvbufErrorsIn(dropNs)) - dropsBefore;
  const addrs = results.flatMap((r) => r.addrs);
  const mine = addrs.filter((a) => (a.nodes[victim.name] ?? 0) > 0);
  // Keep the evidence: a lost probe is a finding, and the lab (and its logs) is gone afterwards.
  if (addrs.some((a) => a.lost > 0)) {
    for (const n of lab.nodes) writeFileSync(`/tmp/vmac-handover-${lab.name}-${op}-${n.name}.log`, readFileSync(n.log, 'utf8').slice(logsFrom.get(n.name) ?? 0));
  }
  return {
    op,
    victimClients: mine.length,
    victimLost: mine.reduce((a, x) => a + x.lost, 0),
    victimDuplicates: mine.reduce((a, x) => a + x.duplicates, 0),
    probes: addrs.reduce((a, x) => a + x.sent, 0),
    lost: addrs.reduce((a, x) => a + x.lost, 0),
    duplicates: addrs.reduce((a, x) => a + x.duplicates, 0),
    maxGapMs: Math.max(0, ...addrs.map((x) => x.maxGapUs / 1000)),
    behindTicks: results.reduce((a, r) => a + r.behindTicks, 0),
    drainMs: drain,
    socketDrops,
  };
}

/** The service name of a lab (its configs say it). */
export function labService(lab: LabInfo): string {
  return loadConfig(lab.nodes[0]?.config ?? '').service;
}

export interface StreamsResult { opened: number; closed_ok: number; open_at_end: number; resets: number; stalls: number; max_silent_ms: number; new_ok: number; new_failed: number; slow_connects: number; connect_failed: number }

/** Node 4 joining mid-run: when its daemon started, when it served, when it held its share (none incoming). */
export interface JoinTimes { servingMs: number | null; shareTakenMs: number | null; buckets: number }

/** From a joining node's log: serving, then the last phase change (before `untilMs`) that left nothing incoming. */
export function joinTimes(log: string, startedAt: number, untilMs = Infinity): JoinTimes {
  let serving: number | null = null;
  let taken: number | null = null;
  let buckets = 0;
  for (const l of readFileSync(log, 'utf8').split('\n')) {
    if (!l.includes('"event":"serving"') && !l.includes('"event":"buckets-moved"')) continue;
    const e = JSON.parse(l) as { time: string | number; event: string; owned?: number; incoming?: number; holding?: number };
    const at = typeof e.time === 'number' ? e.time : Date.parse(e.time);
    if (at > untilMs) break;
    if (e.event === 'serving' && serving === null) serving = at - startedAt;
    if (e.event === 'buckets-moved' && (e.holding ?? 0) > 0 && e.incoming === 0) { taken = at - startedAt; buckets = e.holding ?? 0; }
  }
  return { servingMs: serving, shareTakenMs: taken, buckets };
}

/**
 * Long-lived TCP streams and new connections from every client address while a node drains,
 * resumes, a configured node that was not started joins (`joinAt`, when the lab has a 4th node
 * started late), and another's weight changes. Sums the clients' `vmac-streams` reports.
 */
export async function streamsDuringOperations(lab: LabInfo, o: { streamsPerClient: number; newPerSec: number; durationMs: number; lifeMs: string; join?: boolean; family?: 4 | 6; udp?: UdpAlongside }): Promise<{ total: StreamsResult; drainMs: number | null; join: JoinTimes | null; leaseLapses: Record<string, { stopped: number; forgot: number }>; perClient: StreamsResult[]; udp?: UdpAlongsideResult }> {
  const [n1, n2, , n4] = lab.nodes;
  if (!n1 || !n2) throw new Error('needs 2 nodes');
  if (o.join === true && !n4) throw new Error('join needs a 4th node (started late)');
  const from = statSync(n1.log).size;
  const logFrom = new Map(lab.nodes.map((n) => [n.name, statSync(n.log).size]));
  const bin = join(labBinaryDir(), 'vmac-streams');
  // family 6: the streams run to the VIP6 from the clients' IPv6 addresses (dual-stack labs).
  const vip = o.family === 6 ? lab.vip6 : lab.vip;
  if (vip === undefined || vip === null) throw new Error(`lab ${lab.name} has no VIP6: build it with --ipv6`);
  const addrFileOf = (c: LabInfo['clients'][number]): string => {
    const f = o.family === 6 ? c.addrFile6 : c.addrFile;
    if (f === undefined) throw new Error(`client ${c.ns} has no IPv6 addresses`);
    return f;
  };
  const running = Promise.all(lab.clients.map((c) => nsRun(c.ns, bin, ['--vip', vip, '--port', String(lab.echoPort), '--addrs', addrFileOf(c), '--streams', String(o.streamsPerClient), '--duration-ms', String(o.durationMs), '--new-per-sec', String(o.newPerSec), '--life-ms', o.lifeMs], { timeoutMs: o.durationMs + 30_000 })));
  // UDP probes alongside (issue 20): each client's first addresses, one flow each for the whole run.
  const u = o.udp;
  const probing = u === undefined ? null : Promise.all(lab.clients.map((c, i) => {
    const file = join(lab.dir, `ops-udp-c${i + 1}.addrs`);
    writeFileSync(file, `${(o.family === 6 ? c.addresses6 ?? [] : c.addresses).slice(0, u.perClient).join('\n')}\n`);
    return probeUdp(c.ns, { vip, port: lab.echoPort, addrFile: file, intervalUs: u.intervalUs, durationMs: o.durationMs, waitMs: 300 });
  }));
  const t0 = Date.now();
  const at = async (frac: number): Promise<void> => { const w = t0 + o.durationMs * frac - Date.now(); if (w > 0) await sleep(w); };
  // With a join: drain, resume, join, weight; each step a few stream lifetimes after the last.
  const [drainAt, resumeAt, joinAt, weightAt] = o.join === true ? [0.07, 0.3, 0.4, 0.85] : [0.15, 0.6, 0, 0.75];
  await at(drainAt);
  await control(n1, ['drain', '--timeout', '10000']);
  await at(resumeAt);
  const drain = drainMs(n1.log, from);
  await control(n1, ['resume']);
  let joined: JoinTimes | null = null;
  let joinStart = 0;
  if (o.join === true && n4) {
    await at(joinAt);
    joinStart = Date.now();
    startDaemon(n4);
  }
  await at(weightAt);
  if (o.join === true && n4) joined = joinTimes(n4.log, joinStart, Date.now());
  await control(n2, ['weight', '50']);
  const perClient = (await running).map((out) => JSON.parse(out) as StreamsResult);
  const total = perClient.reduce((a, r) => {
    const out = { ...a };
    for (const k of Object.keys(r) as (keyof StreamsResult)[]) out[k] = k === 'max_silent_ms' ? Math.max(a[k], r[k]) : a[k] + r[k];
    return out;
  }, { opened: 0, closed_ok: 0, open_at_end: 0, resets: 0, stalls: 0, max_silent_ms: 0, new_ok: 0, new_failed: 0, slow_connects: 0, connect_failed: 0 });
  const udp = probing === null ? undefined : udpAlongside(await probing);
  return { total, drainMs: drain, join: joined, leaseLapses: leaseLapses(lab, logFrom), perClient, ...(udp ? { udp } : {}) };
}

/** UDP probes run beside the streams: `perClient` addresses per client, one probe every `intervalUs` each. */
export interface UdpAlongside { readonly perClient: number; readonly intervalUs: number }
/** Their totals: a flow is one address (one socket, fixed source port, for the whole run). */
export interface UdpAlongsideResult { flows: number; sent: number; lost: number; duplicates: number; switched: number; behindTicks: number }

function udpAlongside(results: readonly UdpProbeResult[]): UdpAlongsideResult {
  const addrs = results.flatMap((r) => r.addrs);
  return {
    flows: addrs.length,
    sent: addrs.reduce((a, x) => a + x.sent, 0),
    lost: addrs.reduce((a, x) => a + x.lost, 0),
    duplicates: addrs.reduce((a, x) => a + x.duplicates, 0),
    switched: addrs.filter((x) => Object.values(x.nodes).filter((v) => v > 0).length > 1).length,
    behindTicks: results.reduce((a, r) => a + r.behindTicks, 0),
  };
}

/**
 * Per node, how often during the run its lease was not renewed (`lease-stopped`: a starved daemon
 * whose proofs of being heard went stale) and how often it then forgot what it held (phases
 * changed for `lease-lost`: a quorum may have called it dead): the first thing to look at when a
 * run counts resets.
 */
export function leaseLapses(lab: LabInfo, from: ReadonlyMap<string, number>): Record<string, { stopped: number; forgot: number }> {
  const out: Record<string, { stopped: number; forgot: number }> = {};
  for (const n of lab.nodes) {
    const text = readFileSync(n.log, 'utf8').slice(from.get(n.name) ?? 0);
    const stopped = (text.match(/"event":"lease-stopped"/g) ?? []).length;
    const forgot = (text.match(/"reason":"lease-lost"/g) ?? []).length;
    if (stopped + forgot > 0) out[n.name] = { stopped, forgot };
  }
  return out;
}

function labBinaryDir(): string {
  return join(daemonEntry(), '..', '..', '..', '..', 'lab', 'bin');
}
