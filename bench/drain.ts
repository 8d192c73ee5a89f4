/**
 * A drain with many tracked connections: `npm run bench -- drain` builds a 3-node lab (daemons
 * with `handover.udpIdleMs: 2000`), fills node 1's conntrack table with N TCP ESTABLISHED entries
 * that expire after `tcpLifeS` and N UDP entries to the VIP (through the ctnetlink shim, in its
 * namespace; clients spread over every bucket), drains node 1 and reports the drain duration and
 * the daemon's CPU during it: the default (ctnetlink, per-flow UDP hand-over), ctnetlink with
 * the per-flow hand-over off, and the old `conntrack -L` child without it (VMAC_CONNTRACK=tool),
 * side by side; CPU includes the daemon's `conntrack` children. The entries are synthetic
 * (no sockets behind them): this measures what the daemon pays to learn that connections ended, not resets.
 */
import { readFileSync } from 'node:fs';
import { labDown, labUp, type LabInfo } from '../lab/lab.js';
import { control, drainWindow } from '../lab/handover.js';
import { IPPROTO_TCP, IPPROTO_UDP, openConntrack } from '../native-shims/conntrack.js';

/** netlink: the default (ctnetlink, per-flow UDP); netlink-tcp-only: ctnetlink with udpPerFlow off; tool: `conntrack -L`, udpPerFlow off (the old behaviour). */
export type Reader = 'netlink' | 'netlink-tcp-only' | 'tool';

export interface DrainBenchRow { readonly reader: Reader; readonly connections: number; readonly drainMs: number | null; readonly daemonCpuMs: number; readonly tcpLifeS: number }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
function cpuMsOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
  // utime + stime + cutime + cstime (the `conntrack` children it waited for), USER_HZ 100.
  return (Number(x[11]) + Number(x[12]) + Number(x[13]) + Number(x[14])) * 10;
}

async function once(reader: Reader, n: number, tcpLifeS: number, log: (s: string) => void): Promise<DrainBenchRow> {
  const name = `${process.env.VMAC_LAB_TAG ?? ''}bd${reader[0] ?? ''}${reader.length}${process.pid % 1000}`.slice(0, 12);
  const before = process.env.VMAC_CONNTRACK;
  if (reader === 'tool') process.env.VMAC_CONNTRACK = 'tool'; else delete process.env.VMAC_CONNTRACK;
  let lab: LabInfo | null = null;
  try {
    lab = await labUp({ name, nodes: 3, clients: 1, addrs: 10, seed: 11, buckets: 256, profile: 'default', affinity: 'address', ...(reader === 'netlink' ? { udpIdleMs: 2000 } : { udpPerFlow: false }) });
    await sleep(3000);
    const v = lab.nodes[0];
    if (!v) throw new Error('no node 1');
    const ct = openConntrack(`/run/netns/${v.ns}`);
    const addr = (i: number, base: number): string => `10.${base + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    ct.insert(lab.vip, Array.from({ length: n }, (_, i) => ({ saddr: addr(i, 100), sport: 1024 + (i % 60000), dport: 80, proto: IPPROTO_TCP, tcpState: 'ESTABLISHED' as const })), tcpLifeS);
    ct.insert(lab.vip, Array.from({ length: n }, (_, i) => ({ saddr: addr(i, 110), sport: 1024 + (i % 60000), dport: 443, proto: IPPROTO_UDP })), 30);
    ct.close();
    const from = readFileSync(v.log, 'utf8').length;
    const cpu0 = cpuMsOf(v.daemonPid);
    await control(v, ['drain', '--timeout', '30000']);
    const deadline = Date.now() + 40_000;
    let w = drainWindow(v.log, from);
    while (w.endMs === null && Date.now() < deadline) { await sleep(200); w = drainWindow(v.log, from); }
    const row: DrainBenchRow = { reader, connections: n, drainMs: w.startMs !== null && w.endMs !== null ? w.endMs - w.startMs : null, daemonCpuMs: cpuMsOf(v.daemonPid) - cpu0, tcpLifeS };
    log(`${reader}: ${JSON.stringify(row)}`);
    return row;
  } finally {
    if (before === undefined) delete process.env.VMAC_CONNTRACK; else process.env.VMAC_CONNTRACK = before;
    if (lab) await labDown(name);
  }
}

export async function benchDrain(o: { connections: number; tcpLifeS: number; log: (s: string) => void }): Promise<DrainBenchRow[]> {
  const rows: DrainBenchRow[] = [];
  for (const r of ['netlink', 'netlink-tcp-only', 'tool'] as const) rows.push(await once(r, o.connections, o.tcpLifeS, o.log));
  return rows;
}
