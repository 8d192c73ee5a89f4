/**
 * `vmac lab modes` (issue 17): one lab per mode × switch setting, each measured the same way:
 *   answered      client addresses answered (UDP and TCP) by exactly the node `vmac which` names
 *   duplicates    requests answered twice
 *   gap p50/p99   kill failover: per client of the victim, the silence from the victim's last
 *                 answer to a survivor's first (lab/failover.ts); skipped when nothing is answered
 *   bystander     frames for the VIP that reached the bystander namespace during the cell
 *   members       igmp: the switch ports in the group's snooping entry, and after one node is
 *                 stopped (the group must lose its port)
 * Every client namespace has one address: in arp-steer a host is steered by the address its ARP
 * requests carry, and the same topology is used for every mode so the rows compare.
 */
import { randomInt } from 'node:crypto';
import type { Mode } from '../src/config/types.js';
import { igmpGroup } from '../src/model/mode-addresses.js';
import { checkAnswers, predictor } from './answers.js';
import { failoverRun, percentile } from './failover.js';
import { probeWindowMs } from './faults.js';
import { labDown, labUp, type LabInfo } from './lab.js';
import { bystanderFrames, groupMembers, SWITCH_MODES, type SwitchMode } from './switch.js';
import type { LabSpec } from './plan.js';
import { VmacError } from '../src/util/errors.js';
import { fenceKill, withLabFencing, type FenceKillResult } from './modes-fence.js';

export const LAB_MODES: readonly Mode[] = ['unicast', 'multicast', 'igmp', 'arp-steer'];

export interface ModesCellOptions {
  readonly name: string;
  readonly mode: Mode;
  readonly switchMode: SwitchMode;
  readonly nodes: number;
  readonly clients: number;
  readonly runs: number; // kill failover runs (0: answers only)
  readonly seed: number;
  /** arp-steer: false starts the daemons with VMAC_STEER_ANNOUNCE=off (the contrast run). */
  readonly steerAnnounce?: boolean;
  /** Probe window of each failover run (default: the kill fault's, 2 s). */
  readonly windowMs?: number;
  /** Dual stack: IPv6 clients too (one address each), probed and failed over in the same runs. */
  readonly ipv6?: boolean;
  /**
   * The lab's nodes fence a dead peer (lab agent) and the cell ends with one kill of a serving
   * node, fenced and taken over, plus the survivors' metrics and dashboard (lab/modes-fence.ts).
   * Needs `runs: 0` (a fenced node is not restored between runs).
   */
  readonly fenceKill?: boolean;
  readonly log: (line: string) => void;
}

export interface ModesCell {
  mode: Mode;
  switchMode: SwitchMode;
  steerAnnounce: boolean;
  clients: number;
  answered: number; // by exactly the predicted node, UDP and TCP
  wrongNode: number; // answered, but (also) by another node
  duplicates: number;
  lostProbes: number;
  runs: number;
  gapMs: { p50: number; p99: number; max: number } | null;
  failoverDuplicates: number;
  lostVictim: number;
  bystanderFrames: number;
  members?: { before: string[]; afterStop: string[]; stopped: string };
  /** `fenceKill`: the fenced kill, taken over, and what the survivors' metrics and dashboard showed. */
  fence?: FenceKillResult;
  /** Dual stack (`ipv6`): the IPv6 clients' figures, measured beside the IPv4 ones. */
  v6?: { clients: number; answered: number; duplicates: number; gapMs: { p50: number; p99: number; max: number } | null; failoverDuplicates: number; lostVictim: number };
  elapsedMs: number;
  /** The cell could not be measured (the lab did not come up twice): why. */
  error?: string;
}

/** A row for a cell that failed to build or measure (kept in the table, never silently dropped). */
export function failedCell(o: Pick<ModesCellOptions, 'mode' | 'switchMode' | 'steerAnnounce'>, err: unknown): ModesCell {
  return { mode: o.mode, switchMode: o.switchMode, steerAnnounce: o.steerAnnounce !== false, clients: 0, answered: 0, wrongNode: 0, duplicates: 0, lostProbes: 0, runs: 0, gapMs: null, failoverDuplicates: 0, lostVictim: 0, bystanderFrames: 0, elapsedMs: 0, error: (err as Error).message.split('\n')[0] ?? String(err) };
}

/** A snooping querier prunes only after its start-up delay (the query response interval, 10 s). */
const QUERIER_DELAY_MS = 12_000;

export async function modesCell(o: ModesCellOptions): Promise<ModesCell> {
  const t0 = Date.now();
  const announce = o.steerAnnounce !== false;
  const saved = process.env.VMAC_STEER_ANNOUNCE;
  if (!announce) process.env.VMAC_STEER_ANNOUNCE = 'off'; // inherited by the daemons the lab starts and restarts
  let lab: LabInfo | null = null;
  if (o.fenceKill === true && o.runs > 0) throw new VmacError('VMAC_LAB_BAD_OPTION', 'fenceKill needs runs: 0 (a fenced node is not restored between runs)');
  try {
    o.log(`[modes] ${o.mode} on ${o.switchMode}${announce ? '' : ' (directed ARP off)'}: building the lab`);
    lab = await labUp({ name: o.name, nodes: o.nodes, clients: o.clients, addrs: 1, seed: o.seed, buckets: 256, profile: 'default', affinity: 'address', mode: o.mode, switchMode: o.switchMode, bystander: true, udpIdleMs: 1000, ...(o.ipv6 === true ? { ipv6: true } : {}) });
    const l = lab;
    const since = l.switchSinceMs ?? 0;
    if (o.switchMode.startsWith('igmp') && Date.now() - since < QUERIER_DELAY_MS) {
      o.log(`[modes] waiting ${Math.ceil((QUERIER_DELAY_MS - (Date.now() - since)) / 1000)} s for the snooping querier to start pruning`);
      await new Promise((r) => setTimeout(r, QUERIER_DELAY_MS - (Date.now() - since)));
    }
    const by = l.bystanderNs ?? '';
    const byBefore = await bystanderFrames(by);
    const a = await checkAnswers(l, { probes: 5 });
    const answered = a.clients.filter((c) => c.udpNodes.length === 1 && c.udpNodes[0] === c.expected && c.tcpNode === c.expected).length;
    const wrongNode = a.clients.filter((c) => c.udpNodes.some((n) => n !== c.expected)).length;
    o.log(`[modes] ${o.mode} on ${o.switchMode}: ${answered}/${a.clients.length} answered by the predicted node, ${a.duplicates} duplicates, ${a.lost} probes lost`);
    const a6 = o.ipv6 === true ? await checkAnswers(l, { probes: 5, family: 6 }) : null;
    const answered6 = a6 ? a6.clients.filter((c) => c.udpNodes.length === 1 && c.udpNodes[0] === c.expected && c.tcpNode === c.expected).length : 0;
    if (a6) o.log(`[modes] ${o.mode} on ${o.switchMode} IPv6: ${answered6}/${a6.clients.length} answered by the predicted node, ${a6.duplicates} duplicates, ${a6.lost} probes lost`);
    const gaps6: number[] = [];
    let failoverDuplicates6 = 0;
    let lostVictim6 = 0;
    const gaps: number[] = [];
    let failoverDuplicates = 0;
    let lostVictim = 0;
    let runs = 0;
    if (answered > 0) {
      // Victims in turn among the nodes that serve at least one client (one address per client namespace).
      const predict = predictor(l);
      const serving = l.nodes.filter((n) => l.clients.some((c) => c.addresses.some((x) => predict(x) === n.name)));
      for (let r = 1; r <= o.runs; r++) {
        const victim = serving[r % serving.length];
        if (!victim) break;
        const res = await failoverRun(l, { run: r, fault: 'kill', victim, perClient: 1, durationMs: o.windowMs ?? probeWindowMs('kill'), seed: o.seed + r, ...(a6 ? { ipv6: true } : {}) });
        gaps.push(...res.gapsMs);
        if (res.v6) { gaps6.push(...res.v6.gapsMs); failoverDuplicates6 += res.v6.duplicates; lostVictim6 += res.v6.lostVictim; }
        failoverDuplicates += res.duplicates;
        lostVictim += res.lostVictim;
        runs += 1;
        o.log(`[modes] ${o.mode} on ${o.switchMode}: run ${r}/${o.runs} kill ${victim.name}: gap ${res.gapsMs.length > 0 ? `${Math.min(...res.gapsMs).toFixed(0)}-${Math.max(...res.gapsMs).toFixed(0)} ms` : 'n/a'}, duplicates ${res.duplicates}`);
      }
    } else if (o.runs > 0) o.log(`[modes] ${o.mode} on ${o.switchMode}: nothing answered, no failover runs`);
    const fenced = o.fenceKill === true ? await withLabFencing(l, o.log) : l;
    const fence = o.fenceKill === true ? await fenceKill(fenced) : undefined;
    if (fence) o.log(`[modes] ${o.mode} on ${o.switchMode}: fenced kill of ${fence.victim}: ${fence.takenOver}/${fence.victimClients} clients taken over, ${fence.duplicates} duplicates, ${fence.fenceOk} fence actions ok, link ${fence.victimLink}, metrics mode ${fence.metricsModes.join(',')}, dashboard mode ${fence.dashboardModes.join(',')}`);
    const byAfter = await bystanderFrames(by);
    let members: ModesCell['members'];
    if (o.mode === 'igmp') members = await memberCheck(fenced, o.log);
    return {
      mode: o.mode, switchMode: o.switchMode, steerAnnounce: announce, clients: a.clients.length, answered, wrongNode, duplicates: a.duplicates, lostProbes: a.lost,
      runs, gapMs: gaps.length > 0 ? { p50: percentile(gaps, 50), p99: percentile(gaps, 99), max: Math.max(...gaps) } : null,
      failoverDuplicates, lostVictim, bystanderFrames: byAfter - byBefore, ...(members ? { members } : {}), ...(fence ? { fence } : {}),
      ...(a6 ? { v6: { clients: a6.clients.length, answered: answered6, duplicates: a6.duplicates, gapMs: gaps6.length > 0 ? { p50: percentile(gaps6, 50), p99: percentile(gaps6, 99), max: Math.max(...gaps6) } : null, failoverDuplicates: failoverDuplicates6, lostVictim: lostVictim6 } } : {}),
      elapsedMs: Date.now() - t0,
    };
  } finally {
    if (saved === undefined) delete process.env.VMAC_STEER_ANNOUNCE; else process.env.VMAC_STEER_ANNOUNCE = saved;
    await labDown(o.name);
  }
}

/** igmp: the group's member ports; then node 1's daemon is stopped and the group must lose its port. */
async function memberCheck(lab: LabInfo, log: (line: string) => void): Promise<NonNullable<ModesCell['members']>> {
  const group = igmpGroup(lab.vip);
  const before = await groupMembers(lab.switchNs, group);
  const n1 = lab.nodes[0];
  if (!n1) return { before, afterStop: before, stopped: '' };
  try { process.kill(n1.daemonPid, 'SIGTERM'); } catch { /* already gone */ }
  let after = before;
  const deadline = Date.now() + 8000; // leave, then the querier's group-specific queries (2 × 1 s)
  while (Date.now() < deadline) {
    after = await groupMembers(lab.switchNs, group);
    if (!after.includes(n1.name)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`[modes] igmp group ${group}: members ${before.join(',') || 'none'}; after stopping ${n1.name}: ${after.join(',') || 'none'}`);
  return { before, afterStop: after, stopped: n1.name };
}

/** The Markdown table of a series of cells. */
export function modesTable(cells: readonly ModesCell[]): string {
  const f = (n: number): string => `${n.toFixed(1)} ms`;
  return [
    '| mode | switch | answered by the node `vmac which` names | duplicates | kill gap p50 | kill gap p99 | failover duplicates | frames at the bystander |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...cells.flatMap((c) => c.error !== undefined ? [`| ${c.mode}${c.steerAnnounce ? '' : ' (no directed ARP)'} | ${c.switchMode} | not measured: ${c.error.replaceAll('|', '/')} | | | | | |`] : [
      `| ${c.mode}${c.steerAnnounce ? '' : ' (no directed ARP)'} | ${c.switchMode} | ${c.answered}/${c.clients} | ${c.duplicates} | ${c.gapMs ? f(c.gapMs.p50) : 'n/a'} | ${c.gapMs ? f(c.gapMs.p99) : 'n/a'} | ${c.runs > 0 ? c.failoverDuplicates : 'n/a'} | ${c.bystanderFrames} |`,
      // Dual stack: the IPv6 clients of the same cell (the bystander counts both families once, above).
      ...(c.v6 ? [`| ${c.mode}${c.steerAnnounce ? '' : ' (no directed NA)'}, IPv6 | ${c.switchMode} | ${c.v6.answered}/${c.v6.clients} | ${c.v6.duplicates} | ${c.v6.gapMs ? f(c.v6.gapMs.p50) : 'n/a'} | ${c.v6.gapMs ? f(c.v6.gapMs.p99) : 'n/a'} | ${c.runs > 0 ? c.v6.failoverDuplicates : 'n/a'} | (above) |`] : []),
    ]),
  ].join('\n');
}

export function randomSeed(): number {
  return randomInt(1, 2 ** 31);
}

/** `--mode`, `--switch`, `--bystander` of `vmac lab up|failover` as LabSpec fields; bad values name the flag. */
export function modeSpecOf(o: { mode?: string; switch?: string; bystander?: boolean }): Pick<LabSpec, 'mode' | 'switchMode' | 'bystander'> {
  if (o.mode !== undefined && !(LAB_MODES as readonly string[]).includes(o.mode)) throw new VmacError('VMAC_LAB_BAD_OPTION', `--mode: ${JSON.stringify(o.mode)} is not one of ${LAB_MODES.join(', ')}`, { mode: o.mode });
  if (o.switch !== undefined && !(SWITCH_MODES as readonly string[]).includes(o.switch)) throw new VmacError('VMAC_LAB_BAD_OPTION', `--switch: ${JSON.stringify(o.switch)} is not one of ${SWITCH_MODES.join(', ')}`, { switch: o.switch });
  return {
    ...(o.mode !== undefined ? { mode: o.mode as Mode } : {}),
    ...(o.switch !== undefined ? { switchMode: o.switch as SwitchMode } : {}),
    ...(o.bystander === true ? { bystander: true } : {}),
  };
}

/** The options that go with `modeSpecOf`. */
export function modeOptionHelp(): { mode: string; switch: string; bystander: string } {
  return {
    mode: `cluster mode written into every node config: ${LAB_MODES.join(' | ')} (docs/switch-modes.md)`,
    switch: `lab switch setting: ${SWITCH_MODES.join(' | ')} (default: a plain flooding bridge)`,
    bystander: 'add a bystander namespace on the bridge that counts the VIP\'s frames reaching it',
  };
}
