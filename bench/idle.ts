/**
 * `npm run bench -- idle [--nodes 3,8,32] [--profiles default,fast] [--seconds S] [--datapath-check] [--json]`: CPU of an
 * idle daemon (no client traffic), vmac beside keepalived, side by side in one run.
 *
 * For each node count and each vmac profile, labs are up at once: N nodes running `vmac run`, and
 * N nodes running keepalived (one VRRP instance, n1 the master) for each keepalived setting it is
 * compared with — the default profile beside keepalived default (VRRPv2, 1 s adverts) and
 * keepalived with adverts at vmac's heartbeat interval (VRRPv3, 40 ms: the matching timer); the
 * fast profile beside keepalived fastest (VRRPv3, 10 ms adverts, the shortest it accepts). Once all
 * settled, the CPU time (utime + stime from /proc, all threads; for keepalived its parent and VRRP
 * child together) of every daemon is read over the same window of S seconds: every system pays
 * the same machine load. Printed: mean and max % of one core per daemon, and vmac's mean over
 * each keepalived's.
 *
 * vmac runs with the lab's node config except the data-path check (an ICMP echo to the gateway
 * every 100 ms, which keepalived has no counterpart of); --datapath-check keeps it. A vmac lab
 * that does not converge within the lab's budget is reported as such (its CPU is still read).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { labDown, labUp, type LabInfo } from '../lab/lab.js';
import { PEER_PROFILES, peerPids, startPeer, type PeerProfile } from '../lab/peers.js';

export interface IdleSample {
  readonly nodes: number;
  readonly system: 'vmac' | 'keepalived';
  readonly profile: string;
  readonly converged: boolean;
  readonly windowS: number;
  /** % of one core per daemon over the window. */
  readonly meanPct: number;
  readonly maxPct: number;
  readonly daemons: number;
}

export interface IdleRow { readonly vmac: IdleSample; readonly keepalived: IdleSample; readonly ratio: number; readonly loadavg: number }

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** utime + stime of a process (all its threads), in ms; null if it is gone. */
export function cpuMs(pid: number): number | null {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(f[11]) + Number(f[12])) * 1000) / USER_HZ;
  } catch {
    return null;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function labName(kind: string): string {
  return `${process.env.VMAC_LAB_TAG ?? ''}${kind}${randomBytes(2).toString('hex')}`.slice(0, 12);
}

/** The processes whose CPU counts as one node's daemon. */
type DaemonPids = () => Promise<number[][]>;

async function measure(groups: readonly DaemonPids[], seconds: number): Promise<number[][]> {
  const pids = await Promise.all(groups.map((g) => g()));
  const before = pids.map((nodes) => nodes.map((ps) => ps.reduce((s, p) => s + (cpuMs(p) ?? 0), 0)));
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const wallMs = performance.now() - t0;
  return pids.map((nodes, g) => nodes.map((ps, i) => (100 * (ps.reduce((s, p) => s + (cpuMs(p) ?? 0), 0) - (before[g]?.[i] ?? 0))) / wallMs));
}

function sample(nodes: number, system: IdleSample['system'], profile: string, converged: boolean, windowS: number, pct: readonly number[]): IdleSample {
  const mean = pct.length === 0 ? NaN : pct.reduce((s, x) => s + x, 0) / pct.length;
  return { nodes, system, profile, converged, windowS, meanPct: mean, maxPct: pct.length === 0 ? NaN : Math.max(...pct), daemons: pct.length };
}

/** The keepalived settings each vmac profile is measured beside (bench/idle.ts header). */
export const IDLE_PEERS: Readonly<Record<'default' | 'fast', readonly PeerProfile[]>> = {
  default: [
    PEER_PROFILES.find((p) => p.system === 'keepalived' && p.profile === 'default') as PeerProfile,
    { system: 'keepalived', profile: 'adverts 40 ms', probeWindowMs: 2000, advertMs: 40 },
  ],
  fast: [PEER_PROFILES.find((p) => p.system === 'keepalived' && p.profile === 'fastest') as PeerProfile],
};

export async function benchIdle(o: { nodes: readonly number[]; profiles?: readonly ('default' | 'fast')[]; seconds: number; dataPathCheck: boolean; log: (line: string) => void }): Promise<IdleRow[]> {
  const out: IdleRow[] = [];
  for (const n of o.nodes) {
    for (const profile of o.profiles ?? ['default', 'fast'] as const) {
      const peers = IDLE_PEERS[profile];
      const vName = labName('iv');
      const kNames = peers.map(() => labName('ik'));
      const names = [vName, ...kNames];
      const onSignal = (): void => { void Promise.all(names.map((x) => labDown(x))).finally(() => process.exit(130)); };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const spec = { nodes: n, clients: 1, addrs: 4, seed: 1000 + n, buckets: 256, affinity: 'address' as const, dataPathCheck: o.dataPathCheck };
        const kLabs: LabInfo[] = [];
        for (const [i, peer] of peers.entries()) {
          o.log(`${n} nodes: keepalived ${peer.profile} lab`);
          const k = await labUp({ ...spec, name: kNames[i] as string, profile: 'default', daemons: false });
          for (const node of k.nodes) startPeer(k, peer, node);
          kLabs.push(k);
        }
        o.log(`${n} nodes: vmac ${profile} lab`);
        let converged = true;
        let v: LabInfo | null = null;
        try {
          v = await labUp({ ...spec, name: vName, profile });
        } catch (err) {
          converged = false;
          o.log(`vmac ${profile} at ${n} nodes did not come up: ${(err as Error).message.split('\n')[0] ?? ''}`);
        }
        // keepalived elects its master within a few adverts (3 s at 1 s adverts); vmac is balanced.
        await sleep(4000);
        const vmacPids: DaemonPids = () => Promise.resolve(v === null ? [] : v.nodes.map((x) => [x.daemonPid]));
        const peerGroups: DaemonPids[] = kLabs.map((k) => () => Promise.all(k.nodes.map((x) => peerPids(x, 'keepalived'))));
        o.log(`${n} nodes: measuring vmac ${profile} and keepalived ${peers.map((p) => p.profile).join(', ')} over the same ${o.seconds} s`);
        const [vPct, ...kPcts] = await measure([vmacPids, ...peerGroups], o.seconds);
        const vs = sample(n, 'vmac', profile, converged, o.seconds, vPct ?? []);
        const load = loadavg()[0] ?? NaN;
        for (const [i, peer] of peers.entries()) {
          const ks = sample(n, 'keepalived', peer.profile, true, o.seconds, kPcts[i] ?? []);
          out.push({ vmac: vs, keepalived: ks, ratio: vs.meanPct / ks.meanPct, loadavg: load });
          o.log(`${n} nodes ${profile}: vmac ${vs.meanPct.toFixed(2)}% vs keepalived ${peer.profile} ${ks.meanPct.toFixed(2)}% of a core per daemon`);
        }
      } finally {
        for (const x of names) await labDown(x);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    }
  }
  return out;
}

export function idleTable(rows: readonly IdleRow[], seconds: number, dataPathCheck: boolean): string {
  const pct = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}%` : 'n/a');
  const ratio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');
  const timers = (p: string): string => (p === 'fastest' ? 'fastest (VRRPv3, 10 ms adverts)' : p === 'default' ? 'default (VRRPv2, 1 s adverts)' : `VRRPv3, ${p}`);
  return [
    `## idle CPU per daemon (% of one core, mean / max over the nodes; ${seconds} s window, vmac and keepalived measured over the same window${dataPathCheck ? '; vmac with its data-path check' : ''})`,
    '',
    '| nodes | vmac profile | vmac | keepalived | keepalived CPU | vmac / keepalived | load average |',
    '| ---: | --- | ---: | --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.vmac.nodes} | ${r.vmac.profile}${r.vmac.converged ? '' : ' (did not converge)'} | ${pct(r.vmac.meanPct)} / ${pct(r.vmac.maxPct)} | ${timers(r.keepalived.profile)} | ${pct(r.keepalived.meanPct)} / ${pct(r.keepalived.maxPct)} | ${ratio(r.ratio)} | ${r.loadavg.toFixed(1)} |`),
    '',
  ].join('\n');
}
