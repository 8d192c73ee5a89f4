/**
 * `vmac lab compare`: the same topology, prober and fault injection against vmac (default and
 * fast profiles), keepalived (default and fastest timers) and ucarp, one lab per system, rows
 * in one table. Peers are active/standby: every client is a client of the master (n1), which is
 * the victim of every run; for vmac the victim rotates as in `vmac lab failover`.
 *
 * `kill` here is a node crash for every system: kill -9 of the HA daemon and of the echo
 * service (vmac's `crash` fault). Killing only keepalived or ucarp leaves the VIP configured and
 * the service answering from the old master, so there would be nothing to fail over.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labUp, type LabInfo } from './lab.js';
import { withLabCleanup } from './guard.js';
import { failoverRun, summarize, type FailoverSummary, type RunResult } from './failover.js';
import { isAlive, probeWindowMs, startEcho } from './faults.js';
import { run } from './exec.js';
import { PEER_PROFILES, killPeer, startPeer, waitMaster, type PeerProfile } from './peers.js';

export type CompareFault = 'kill' | 'link';
export const COMPARE_FAULTS: readonly CompareFault[] = ['kill', 'link'];

export interface CompareRow {
  system: string;
  profile: string;
  fault: CompareFault;
  runs: number;
  gapMs: { p50: number; p99: number; max: number };
  duplicates: number;
  lost: number; // probes lost by clients of nodes that did not fail (none exist for active/standby)
  lostAffected: number; // probes lost by the failed node's clients (the gap, in probes)
  falseTakeovers: number;
  proberBehind: number;
  p99VsVmacDefault: number | null; // this row's p99 gap / vmac default's
  p99VsVmacFast: number | null;
}

export function rowOf(system: string, profile: string, fault: CompareFault, s: FailoverSummary): CompareRow {
  return { system, profile, fault, runs: s.runs, gapMs: s.gapMs, duplicates: s.duplicates, lost: s.lostSurvivors, lostAffected: s.lostVictim, falseTakeovers: s.falseTakeovers, proberBehind: s.proberBehind, p99VsVmacDefault: null, p99VsVmacFast: null };
}

/** Pure: fills in the ratios against the vmac rows of the same run. */
export function withRatios(rows: readonly CompareRow[]): CompareRow[] {
  const ref = (profile: string): number | undefined => rows.find((r) => r.system === 'vmac' && r.profile === profile)?.gapMs.p99;
  const ratio = (x: number, base: number | undefined): number | null => (base === undefined || !(base > 0) ? null : Math.round((x / base) * 100) / 100);
  return rows.map((r) => ({ ...r, p99VsVmacDefault: ratio(r.gapMs.p99, ref('default')), p99VsVmacFast: ratio(r.gapMs.p99, ref('fast')) }));
}

export function compareTable(rows: readonly CompareRow[]): string {
  const ms = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
  const x = (n: number | null): string => (n === null ? 'n/a' : `${n.toFixed(2)}×`);
  return [
    '| system | profile | fault | runs | gap p50 ms | gap p99 ms | gap max ms | duplicates | lost | lost by affected clients | p99 / vmac default | p99 / vmac fast |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.system} | ${r.profile} | ${r.fault} | ${r.runs} | ${ms(r.gapMs.p50)} | ${ms(r.gapMs.p99)} | ${ms(r.gapMs.max)} | ${r.duplicates} | ${r.lost} | ${r.lostAffected} | ${x(r.p99VsVmacDefault)} | ${x(r.p99VsVmacFast)} |`),
  ].join('\n');
}

export interface CompareOptions { name: string; fault: CompareFault; runs: number; seed: number; perClient: number; systems?: readonly string[]; progress: (line: string) => void }

const labSpec = (name: string, seed: number, profile: 'default' | 'fast', daemons: boolean): Parameters<typeof labUp>[0] =>
  ({ name, nodes: 3, clients: 3, addrs: 60, seed, buckets: 256, profile, affinity: 'address', daemons });

/** vmac's rows: its two profiles on the product's default backend, and the fast profile on XDP (`xdp-fast`, config/defaults.ts fastXdpProfile). */
export type VmacVariant = 'default' | 'fast' | 'xdp-fast';

async function vmacRows(o: CompareOptions, variant: VmacVariant): Promise<RunResult[]> {
  const profile = variant === 'default' ? 'default' : 'fast';
  return withLabCleanup(o.name, async () => {
    const info = await labUp({ ...labSpec(o.name, o.seed, profile, true), ...(variant === 'xdp-fast' ? { datapath: 'xdp' as const } : {}) }, { onProgress: (m) => o.progress(`[lab] ${m}`) });
    const out: RunResult[] = [];
    for (let i = 1; i <= o.runs; i++) {
      const victim = info.nodes[(i - 1) % info.nodes.length];
      if (!victim) break;
      const r = await failoverRun(info, { run: i, fault: o.fault === 'kill' ? 'crash' : 'link', victim, perClient: o.perClient, durationMs: probeWindowMs(o.fault), seed: o.seed + i });
      out.push(r);
      o.progress(`[compare] vmac ${variant} ${o.fault} run ${i}/${o.runs}: gap ${Math.max(...r.gapsMs).toFixed(0)} ms, duplicates ${r.duplicates}, lost ${r.lostSurvivors}`);
    }
    return out;
  });
}

async function peerRows(o: CompareOptions, p: PeerProfile): Promise<RunResult[]> {
  return withLabCleanup(o.name, async () => {
    const info: LabInfo = await labUp(labSpec(o.name, o.seed, 'default', false), { onProgress: (m) => o.progress(`[lab] ${m}`) });
    const master = info.nodes[0];
    if (!master) throw new Error('lab has no nodes');
    for (const n of info.nodes) startPeer(info, p, n);
    const checkFile = join(info.dir, 'master-check.addrs');
    writeFileSync(checkFile, `${(info.clients[0]?.addresses ?? []).slice(0, 5).join('\n')}\n`);
    await waitMaster(info, master, checkFile);
    const ops = {
      inject: async (): Promise<void> => {
        if (o.fault === 'kill') {
          await killPeer(master, p.system);
          if (isAlive(master.echoPid)) process.kill(master.echoPid, 'SIGKILL');
        } else await run('ip', ['-n', info.switchNs, 'link', 'set', master.name, 'down']);
      },
      undo: async (): Promise<void> => {
        if (o.fault === 'kill') {
          // As after a reboot: the crashed node comes back without the VIP it held.
          await run('ip', ['-n', master.ns, 'addr', 'del', `${info.vip}/16`, 'dev', 'eth0']).catch(() => undefined);
          startEcho(info, master);
          startPeer(info, p, master);
        } else await run('ip', ['-n', info.switchNs, 'link', 'set', master.name, 'up']);
      },
    };
    const out: RunResult[] = [];
    for (let i = 1; i <= o.runs; i++) {
      if (i > 1) {
        // A peer that cannot get back to its start state ends its series; the runs so far count.
        const ok = await waitMaster(info, master, checkFile).then(() => true, (err: unknown) => { o.progress(`[compare] ${p.system} ${p.profile}: stopped after ${i - 1} runs: ${String(err)}`); return false; });
        if (!ok) break;
      }
      const r = await failoverRun(info, { run: i, fault: o.fault === 'kill' ? 'crash' : 'link', victim: master, perClient: o.perClient, durationMs: p.probeWindowMs, seed: o.seed + i, owner: () => master.name, ops });
      out.push(r);
      o.progress(`[compare] ${p.system} ${p.profile} ${o.fault} run ${i}/${o.runs}: gap ${Math.max(...r.gapsMs).toFixed(0)} ms, duplicates ${r.duplicates}, lost ${r.lostSurvivors + r.lostVictim}`);
    }
    return out;
  });
}

/** Runs every system in turn (one lab at a time, so they do not compete for the 2 cores). */
export async function compare(o: CompareOptions): Promise<CompareRow[]> {
  const want = (s: string): boolean => o.systems === undefined || o.systems.includes(s);
  const rows: CompareRow[] = [];
  for (const variant of ['default', 'fast'] as const) {
    if (want(`vmac-${variant}`) || want('vmac')) rows.push(rowOf('vmac', variant, o.fault, summarize(o.fault, await vmacRows(o, variant))));
  }
  // Named only: the XDP backend needs a kernel and libbpf that can attach it (docs/xdp.md).
  if (want('vmac-xdp-fast') && o.systems !== undefined) rows.push(rowOf('vmac', 'xdp-fast', o.fault, summarize(o.fault, await vmacRows(o, 'xdp-fast'))));
  for (const p of PEER_PROFILES) {
    if (want(`${p.system}-${p.profile}`) || want(p.system)) rows.push(rowOf(p.system, p.profile, o.fault, summarize(o.fault, await peerRows(o, p))));
  }
  return withRatios(rows);
}
