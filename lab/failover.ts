/**
 * Failover runs on a live lab: probe every 1 ms, inject a fault at a random moment after
 * warm-up, measure what the clients saw, restore the node, repeat.
 *   gap            per client of the victim, from the prober's timeline: the victim's last answer
 *                  to the first answer by another node after the fault (at most 3 ms when the
 *                  answers switched without a silence); when no other node answered (rejoin,
 *                  partition-data) the client's longest silence
 *   duplicates     requests answered twice (by two nodes), all clients
 *   lost           probes never answered by clients of the surviving nodes
 *   falseTakeovers survivors' client addresses answered by a node other than their owner
 *   victimMoved    victim's client addresses answered by another node (expected for kill and,
 *                  through the data-path check's drain, for partition-data; not for loss)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabInfo, LabNodeInfo } from './lab.js';
import { predictor } from './answers.js';
import { probeUdp, type UdpProbeResult } from './probe.js';
import { injectFault, prepareFault, undoFault, type FaultKind, type FaultOptions } from './faults.js';
import { prng } from './plan.js';
import { parseTimelineCsv, takeoverOf, type TimelineEvent } from './timeline.js';
import { tcpDuringRun, summarizeTcp, type TcpLoad, type TcpRunResult, type TcpSummary } from './failover-tcp.js';
import { waitBalanced } from './balance.js';
import { openNftables } from '../native-shims/nftables.js';
import { inspectTable } from '../src/vmac/nft-datapath.js';
import { leaseEndedAtNs, xdpLeaseReader, type XdpLeaseReader } from './lease-watch-xdp.js';
import { waitHandoverSettled } from './settle.js';
import { takeoverLogs, type TakeoverLog } from './takeover-log.js';

export type { FaultKind } from './faults.js';

export interface RunResult {
  run: number;
  fault: FaultKind;
  victim: string;
  faultAtMs: number; // after the probe started
  gapsMs: number[]; // one per victim client
  lostVictim: number; // probes never answered, clients of the victim
  duplicates: number;
  lostSurvivors: number;
  falseTakeovers: number;
  victimMoved: number;
  /** Victim's client addresses that the victim itself answered at least once in the window (rejoin: after its start). */
  victimAnswered: number;
  /** From the fault to the victim's first `serving` log line after it (null: none; restarted only by the restore). */
  victimServingAfterFaultMs: number | null;
  victimLastAnswerAfterFaultMs: number | null; // when the victim itself went silent (max over its clients)
  proberBehind: number;
  leaseStops: string[]; // nodes other than the victim that stopped renewing during the run (should be none)
  leaseGoneAfterMs: number | null; // link/partition: when the cut-off node's kernel lease was gone
  takeoverAfterMs: number | null; // first answer by a survivor to one of the victim's clients
  /** Each survivor's first takeover decision, from its log: victim silent for, transaction time. */
  takeoverLog: TakeoverLog[];
  /** After the restore: how long until every node held exactly its buckets again (null: not within the limit). */
  rebalancedAfterMs?: number | null;
  /** With a TCP load (--tcp): what the streams and new connections of each side saw. */
  tcp?: TcpRunResult;
  /** Per client namespace, when asked for: the prober's timeline CSV and its start time. */
  timelines?: { file: string; startMonoNs: number; addrs: string[] }[];
  /** Dual-stack labs with `ipv6`: the same measures for the IPv6 clients probed in the same run. */
  v6?: FamilyResult;
}

/** What one family's probes saw in a run (the IPv4 figures are the run's own fields). */
export interface FamilyResult {
  gapsMs: number[];
  lostVictim: number;
  duplicates: number;
  lostSurvivors: number;
  falseTakeovers: number;
  victimMoved: number;
  /** Victim's client addresses that the victim itself answered at least once in the window. */
  victimAnswered: number;
  proberBehind: number;
}

export interface FailoverSummary {
  fault: FaultKind;
  runs: number;
  gapMs: { p50: number; p99: number; max: number };
  duplicates: number;
  lostSurvivors: number;
  lostVictim: number;
  falseTakeovers: number;
  victimMoved: number;
  victimSilentAfterMs: { p50: number; max: number };
  proberBehind: number;
  survivorLeaseStops: number;
  leaseGoneBeforeTakeover: number; // runs in which the cut-off node's lease was gone before a survivor answered
  leaseWatched: number; // runs in which the cut-off node's lease was watched (link, partition)
  /**
   * The survivors' takeover decisions (one per survivor per run, from their logs): how long the
   * victim had been silent (dead time + agreement) and how long the ruleset transaction took.
   */
  takeoverDecision: { decisions: number; silentMs: { p50: number; max: number }; applyMs: { p50: number; max: number } };
  tcp?: TcpSummary;
  /** Dual stack: the IPv6 clients' figures from the same runs. */
  v6?: { gapMs: { p50: number; p99: number; max: number }; duplicates: number; lostSurvivors: number; lostVictim: number; falseTakeovers: number; victimMoved: number; proberBehind: number };
}

function decisionSummary(logs: readonly TakeoverLog[]): FailoverSummary['takeoverDecision'] {
  const silent = logs.map((l) => l.silentMs).filter((x): x is number => x !== null);
  const apply = logs.map((l) => l.applyMs);
  const max = (xs: readonly number[]): number => (xs.length > 0 ? Math.max(...xs) : NaN);
  return { decisions: logs.length, silentMs: { p50: percentile(silent, 50), max: max(silent) }, applyMs: { p50: percentile(apply, 50), max: max(apply) } };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Polls the victim's kernel (its own namespace) until its lease element is gone; ms after the fault. */
async function watchLeaseGone(victim: LabNodeInfo, faultMono: number, limitMs: number): Promise<number | null> {
  // The XDP backend keeps its lease in the program's map, not in an nft set (lease-watch-xdp.ts).
  const xdp = xdpLeaseReader(`/run/netns/${victim.ns}`);
  if (xdp !== null) return watchXdpLeaseGone(xdp, faultMono, limitMs);
  const nft = openNftables(`/run/netns/${victim.ns}`);
  while (monoMs() - faultMono < limitMs) {
    if (inspectTable(nft, { table: 'vmac_lab' }).leaseRemainingMs === null) return monoMs() - faultMono;
    await new Promise((r) => setTimeout(r, 1));
  }
  return null;
}

async function watchXdpLeaseGone(xdp: XdpLeaseReader, faultMono: number, limitMs: number): Promise<number | null> {
  try {
    while (monoMs() - faultMono < limitMs) {
      const d = xdp.deadlineNs();
      const ended = d === null ? null : leaseEndedAtNs(d, process.hrtime.bigint());
      if (ended !== null) return Number(ended) / 1e6 - faultMono;
      await new Promise((r) => setTimeout(r, 1));
    }
    return null;
  } finally {
    xdp.close();
  }
}

/**
 * Waits until the victim's log, from `logFrom` (its size when the fault was injected), shows it
 * serving again after its last lease stop: a continued or restarted daemon first loses its
 * lease, then reclaims its buckets from the peers and serves.
 */
export async function waitServing(victim: LabNodeInfo, logFrom: number, o: { restarted: boolean }, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = readFileSync(victim.log, 'utf8').slice(logFrom).split('\n');
    const lastServing = lines.map((l) => l.includes('"event":"serving"')).lastIndexOf(true);
    const lastStop = lines.map((l) => l.includes('"event":"lease-stopped"')).lastIndexOf(true);
    if (lastServing >= 0 && lastServing > lastStop) return;
    // The same daemon never let its lease go (the fault did not cut it off from the quorum).
    if (!o.restarted && lastStop < 0) return;
    if (Date.now() > deadline) throw new Error(`${victim.ns} did not serve again within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface FailoverRunOptions {
  run: number;
  fault: FaultKind;
  victim: LabNodeInfo;
  perClient: number;
  durationMs: number;
  seed: number;
  faultOptions?: FaultOptions;
  timeline?: boolean; // keep the probers' timeline CSVs (for --svg)
  /** Node names and their predicted owner, when the caller overrides the static map. */
  owner?: (addr: string) => string;
  /** Long-lived TCP streams and new connections from both sides' client addresses during the run. */
  tcp?: TcpLoad;
  /** Fault and restore for a system other than vmac (the compared peers). */
  ops?: { inject: () => Promise<void>; undo: () => Promise<void> };
  /** Dual-stack lab: probe the VIP6 from the clients' IPv6 addresses as well, in the same run. */
  ipv6?: boolean;
}

interface ProbeFile { ns: string; file: string; victimFile: string; othersFile: string; mine: Set<string>; addrs: string[]; timeline: string }

interface FamilyAnalysis extends FamilyResult { takeoverAfterMs: number | null; victimSilent: number | null }

/** One family's gaps, duplicates and losses from its probers' results and timelines. */
function analyzeFamily(results: readonly UdpProbeResult[], files: readonly ProbeFile[], o: { fault: FaultKind; victim: LabNodeInfo }, predict: (addr: string) => string, faultMono: number): FamilyAnalysis {
  let takeoverAfterMs: number | null = null;
  const gapsMs: number[] = [];
  let duplicates = 0;
  let lostSurvivors = 0;
  let lostVictim = 0;
  let falseTakeovers = 0;
  let victimMoved = 0;
  let victimAnswered = 0;
  let victimSilent: number | null = null;
  let behind = 0;
  results.forEach((r, i) => {
    behind += r.behindTicks;
    const file = files[i];
    const mine = file?.mine ?? new Set<string>();
    // The timeline gives the gap the fault caused (victim's last answer to a survivor's first).
    const byAddr = new Map<number, TimelineEvent[]>();
    for (const e of file ? parseTimelineCsv(readFileSync(file.timeline, 'utf8')).events : []) byAddr.set(e.addr, [...(byAddr.get(e.addr) ?? []), e]);
    const faultUsLocal = (faultMono - r.startMonoNs / 1e6) * 1000;
    for (const [index, a] of r.addrs.entries()) {
      duplicates += a.duplicates;
      const strangers = Object.keys(a.nodes).filter((n) => n !== predict(a.addr));
      if (!mine.has(a.addr)) {
        lostSurvivors += a.lost;
        if (strangers.length > 0) falseTakeovers += 1;
        continue;
      }
      if (strangers.length > 0) victimMoved += 1;
      if ((a.nodes[o.victim.name] ?? 0) > 0) victimAnswered += 1;
      lostVictim += a.lost;
      const t = o.fault === 'rejoin' ? null : takeoverOf(byAddr.get(index) ?? [], o.victim.name, faultUsLocal, r.intervalUs);
      if (t) {
        gapsMs.push(t.gapUs / 1000);
        const silentAt = r.startMonoNs / 1e6 + t.lastVictimUs / 1000 - faultMono;
        victimSilent = Math.max(victimSilent ?? -Infinity, silentAt);
        takeoverAfterMs = Math.min(takeoverAfterMs ?? Infinity, r.startMonoNs / 1e6 + t.takeoverUs / 1000 - faultMono);
        continue;
      }
      // No takeover: the longest silence, counting one still open when the probe ended.
      const openUs = a.lastUs === null ? r.sendEndUs : r.sendEndUs - a.lastUs;
      gapsMs.push(Math.max(a.maxGapUs, openUs) / 1000);
      if (a.maxGapStartUs !== null) {
        const silentAt = r.startMonoNs / 1e6 + a.maxGapStartUs / 1000 - faultMono;
        victimSilent = Math.max(victimSilent ?? -Infinity, silentAt);
        const takenAt = silentAt + a.maxGapUs / 1000;
        takeoverAfterMs = Math.min(takeoverAfterMs ?? Infinity, takenAt);
      }
    }
  });
  return { gapsMs, duplicates, lostSurvivors, lostVictim, falseTakeovers, victimMoved, victimAnswered, proberBehind: behind, takeoverAfterMs, victimSilent };
}

export async function failoverRun(lab: LabInfo, o: FailoverRunOptions): Promise<RunResult> {
  const predict = o.owner ?? predictor(lab);
  const rnd = prng(o.seed);
  const filesOf = (family: '' | '6', pick: (c: LabInfo['clients'][number]) => readonly string[]): ProbeFile[] => lab.clients.map((c, i) => {
    const mine = pick(c).filter((a) => predict(a) === o.victim.name).slice(0, o.perClient);
    const others = pick(c).filter((a) => predict(a) !== o.victim.name).slice(0, o.perClient);
    const file = join(lab.dir, `fo${family}-c${i + 1}.addrs`);
    writeFileSync(file, `${[...mine, ...others].join('\n')}\n`);
    const victimFile = join(lab.dir, `fo${family}-c${i + 1}-victim.addrs`);
    const othersFile = join(lab.dir, `fo${family}-c${i + 1}-others.addrs`);
    if (o.tcp) { writeFileSync(victimFile, `${mine.join('\n')}\n`); writeFileSync(othersFile, `${others.join('\n')}\n`); }
    return { ns: c.ns, file, victimFile, othersFile, mine: new Set(mine), addrs: [...mine, ...others], timeline: join(lab.dir, `fo${family}-c${i + 1}-run${o.run}.csv`) };
  });
  const files = filesOf('', (c) => c.addresses);
  const vip6 = o.ipv6 === true ? lab.vip6 ?? null : null;
  if (o.ipv6 === true && vip6 === null) throw new Error(`lab ${lab.name} has no VIP6: build it with --ipv6`);
  const files6 = vip6 === null ? [] : filesOf('6', (c) => c.addresses6 ?? []);
  // A drained node comes back through the hand-over: start only once every node is settled.
  const drains = !o.ops && o.fault === 'partition-data';
  if (drains) await waitHandoverSettled(lab);
  if (!o.ops) await prepareFault(o.victim, o.fault);
  if (o.fault === 'rejoin') await new Promise((r) => setTimeout(r, 1000)); // survivors own its buckets by now
  const logSizes = new Map(lab.nodes.map((n) => [n.name, readFileSync(n.log, 'utf8').length]));
  const tcp = o.tcp ? tcpDuringRun(lab, files, o.tcp, o.durationMs) : Promise.resolve(undefined);
  const probes = files.map((f) => probeUdp(f.ns, { vip: lab.vip, port: lab.echoPort, addrFile: f.file, intervalUs: 1000, durationMs: o.durationMs, waitMs: 300, timelineFile: f.timeline }));
  const probes6 = vip6 === null ? [] : files6.map((f) => probeUdp(f.ns, { vip: vip6, port: lab.echoPort, addrFile: f.file, intervalUs: 1000, durationMs: o.durationMs, waitMs: 300, timelineFile: f.timeline }));
  const warmupMs = 300 + rnd() * 300;
  await new Promise((r) => setTimeout(r, warmupMs));
  const faultMono = monoMs();
  const faultWallMs = Date.now();
  const victimLogFrom = readFileSync(o.victim.log, 'utf8').length;
  const pidAtFault = o.victim.daemonPid;
  if (o.ops) await o.ops.inject();
  else await injectFault(lab, o.victim, o.fault, o.faultOptions);
  // A node cut off from the cluster must drop its kernel lease by itself: watch its table.
  const watched = !o.ops && (o.fault === 'link' || o.fault === 'partition');
  const leaseGone = watched ? watchLeaseGone(o.victim, faultMono, o.durationMs) : Promise.resolve(null);
  const results: UdpProbeResult[] = await Promise.all(probes);
  const results6: UdpProbeResult[] = await Promise.all(probes6);
  const leaseGoneAfterMs = await leaseGone;
  const tcpResult = await tcp;
  const v4 = analyzeFamily(results, files, o, predict, faultMono);
  const { gapsMs, duplicates, lostSurvivors, lostVictim, falseTakeovers, victimMoved, victimAnswered, takeoverAfterMs, victimSilent } = v4;
  const behind = v4.proberBehind;
  const v6 = vip6 === null ? undefined : (({ takeoverAfterMs: _t, victimSilent: _s, ...rest }) => rest)(analyzeFamily(results6, files6, o, predict, faultMono));
  const faultAtMs = faultMono - Math.min(...results.map((r) => r.startMonoNs / 1e6));
  const takeoverLog = takeoverLogs(o.victim.id, lab.nodes.filter((n) => n.name !== o.victim.name).map((n) => ({ node: n.name, logSince: readFileSync(n.log, 'utf8').slice(logSizes.get(n.name) ?? 0) })));
  const leaseStops = lab.nodes.filter((n) => n.name !== o.victim.name && readFileSync(n.log, 'utf8').slice(logSizes.get(n.name) ?? 0).includes('"event":"lease-stopped"')).map((n) => n.name);
  // Keep the evidence: a survivor that stopped renewing is a finding, not noise.
  for (const name of leaseStops) {
    const n = lab.nodes.find((x) => x.name === name);
    if (n) writeFileSync(`/tmp/vmac-failover-${lab.name}-run${o.run}-${name}.log`, readFileSync(n.log, 'utf8').slice(logSizes.get(name) ?? 0));
  }
  let rebalancedAfterMs: number | null | undefined;
  if (o.ops) await o.ops.undo();
  else {
    await undoFault(lab, o.victim, o.fault);
    // A restarted daemon loads, hears a quorum and reclaims its buckets: slower the more nodes share the cores.
    const restoreMs = 15_000 + 1000 * lab.nodes.length;
    await waitServing(o.victim, victimLogFrom, { restarted: o.victim.daemonPid !== pidAtFault || o.fault === 'term' || o.fault === 'rejoin' }, restoreMs);
    if (drains) await waitHandoverSettled(lab);
    // The next run starts from the configured map: the victim has its buckets back, nothing moving.
    const b = await waitBalanced(lab.nodes, restoreMs, 100);
    rebalancedAfterMs = b.ok ? b.afterMs : null;
  }
  const servingLine = readFileSync(o.victim.log, 'utf8').slice(victimLogFrom).split('\n').find((l) => l.includes('"event":"serving"'));
  const servingTime = servingLine === undefined ? undefined : (JSON.parse(servingLine) as { time?: string | number }).time;
  const servingAtMs = typeof servingTime === 'number' ? servingTime : Date.parse(servingTime ?? ''); // epoch ms or ISO
  const victimServingAfterFaultMs = Number.isFinite(servingAtMs) ? servingAtMs - faultWallMs : null;
  const timelines = o.timeline === true ? files.map((f, i) => ({ file: f.timeline, startMonoNs: results[i]?.startMonoNs ?? 0, addrs: f.addrs })) : undefined;
  return {
    run: o.run, fault: o.fault, victim: o.victim.name, faultAtMs, gapsMs, lostVictim, duplicates, lostSurvivors, falseTakeovers, victimMoved, victimAnswered, victimServingAfterFaultMs,
    victimLastAnswerAfterFaultMs: victimSilent, proberBehind: behind, leaseStops, leaseGoneAfterMs, takeoverAfterMs, takeoverLog,
    ...(tcpResult ? { tcp: tcpResult } : {}),
    ...(rebalancedAfterMs !== undefined ? { rebalancedAfterMs } : {}),
    ...(timelines ? { timelines } : {}),
    ...(v6 ? { v6 } : {}),
  };
}

export function summarize(fault: FaultKind, runs: readonly RunResult[]): FailoverSummary {
  const gaps = runs.flatMap((r) => r.gapsMs);
  const silent = runs.map((r) => r.victimLastAnswerAfterFaultMs).filter((x): x is number => x !== null);
  const sum = (f: (r: RunResult) => number): number => runs.reduce((s, r) => s + f(r), 0);
  const tcp = summarizeTcp(runs);
  return {
    fault,
    runs: runs.length,
    gapMs: { p50: percentile(gaps, 50), p99: percentile(gaps, 99), max: gaps.length > 0 ? Math.max(...gaps) : NaN },
    duplicates: sum((r) => r.duplicates),
    lostSurvivors: sum((r) => r.lostSurvivors),
    lostVictim: sum((r) => r.lostVictim),
    falseTakeovers: sum((r) => r.falseTakeovers),
    victimMoved: sum((r) => r.victimMoved),
    victimSilentAfterMs: { p50: percentile(silent, 50), max: silent.length > 0 ? Math.max(...silent) : NaN },
    proberBehind: sum((r) => r.proberBehind),
    survivorLeaseStops: sum((r) => r.leaseStops.length),
    // Partition safety, per run: the cut-off node's lease was gone before any survivor answered.
    leaseGoneBeforeTakeover: runs.filter((r) => r.leaseGoneAfterMs !== null && r.takeoverAfterMs !== null && r.leaseGoneAfterMs < r.takeoverAfterMs).length,
    leaseWatched: runs.filter((r) => r.fault === 'link' || r.fault === 'partition').length,
    takeoverDecision: decisionSummary(runs.flatMap((r) => r.takeoverLog)),
    ...(tcp ? { tcp } : {}),
    ...(runs.some((r) => r.v6) ? { v6: summarizeV6(runs) } : {}),
  };
}

function summarizeV6(runs: readonly RunResult[]): NonNullable<FailoverSummary['v6']> {
  const v6 = runs.flatMap((r) => (r.v6 ? [r.v6] : []));
  const gaps = v6.flatMap((r) => r.gapsMs);
  const sum = (f: (r: FamilyResult) => number): number => v6.reduce((s, r) => s + f(r), 0);
  return {
    gapMs: { p50: percentile(gaps, 50), p99: percentile(gaps, 99), max: gaps.length > 0 ? Math.max(...gaps) : NaN },
    duplicates: sum((r) => r.duplicates), lostSurvivors: sum((r) => r.lostSurvivors), lostVictim: sum((r) => r.lostVictim),
    falseTakeovers: sum((r) => r.falseTakeovers), victimMoved: sum((r) => r.victimMoved), proberBehind: sum((r) => r.proberBehind),
  };
}
