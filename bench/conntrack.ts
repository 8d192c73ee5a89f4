/**
 * Conntrack reading cost: the daemon's drain poll (which buckets still have TCP connections;
 * which UDP flows are live) through the ctnetlink shim against the old `conntrack -L` child
 * process, at 100, 10,000 and 100,000 tracked connections, side by side in one run.
 *
 * `npm run bench -- conntrack` makes one namespace per size, fills its conntrack table through
 * the shim (TCP ESTABLISHED entries to the VIP, plus as many UDP entries and 10 % entries to
 * another address that the kernel filter must skip), and re-runs this file inside it
 * (`ip netns exec`), so `conntrack -L` runs exactly as the daemon runs it: a child process in the
 * daemon's namespace. CPU = this process's user+system time plus its waited-for children's
 * (/proc/self/stat cutime+cstime), per reading.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run } from '../lab/exec.js';
import { IPPROTO_TCP, IPPROTO_UDP, openConntrack } from '../native-shims/conntrack.js';
import { conntrackNetlink } from '../src/takeover/conntrack-netlink.js';
import { conntrackTool } from '../src/takeover/conntrack-tool.js';
import type { HashConfig } from '../src/config/types.js';

const VIP = '10.211.0.100';
const OTHER = '10.211.0.101';
const BUCKETS = 256;
const HASH: HashConfig = { affinity: 'address', seed: 0x5eed, prefixLength: 24, prefixLength6: 64 };
const TICKS = 100; // USER_HZ: clock ticks per second in /proc/<pid>/stat

export interface ConntrackBenchRow {
  readonly connections: number; // TCP entries to the VIP (and as many UDP ones)
  readonly netlinkTcpMs: number; // median wall time of one TCP busy-bucket reading
  readonly netlinkCpuMs: number; // CPU per reading (process)
  readonly netlinkUdpMs: number; // median wall time of one UDP flow listing
  readonly toolTcpMs: number;
  readonly toolCpuMs: number; // CPU per reading (process + the conntrack child)
  readonly busyBuckets: number;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  const f = readFileSync('/proc/self/stat', 'utf8').slice(readFileSync('/proc/self/stat', 'utf8').lastIndexOf(')') + 2).split(' ');
  const children = (Number(f[13]) + Number(f[14])) * (1000 / TICKS); // cutime, cstime (fields 16, 17)
  return (u.user + u.system) / 1000 + children;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function measure(read: () => Promise<unknown>, rounds: number): Promise<{ wallMs: number; cpuMs: number }> {
  await read(); // warm
  const walls: number[] = [];
  const c0 = cpuMs();
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await read();
    walls.push(performance.now() - t0);
  }
  return { wallMs: median(walls), cpuMs: (cpuMs() - c0) / rounds };
}

/** Inside the namespace: fill the table, then time both readers alternately. */
async function inner(connections: number, rounds: number): Promise<ConntrackBenchRow> {
  const sock = openConntrack();
  const addr = (i: number, base: number): string => `10.${base + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
  const make = (n: number, proto: number, base: number): { saddr: string; sport: number; dport: number; proto: number }[] => Array.from({ length: n }, (_, i) => ({ saddr: addr(i, base), sport: 1024 + (i % 60000), dport: proto === IPPROTO_TCP ? 80 : 443, proto }));
  sock.insert(VIP, make(connections, IPPROTO_TCP, 100), 600);
  sock.insert(VIP, make(connections, IPPROTO_UDP, 110), 600);
  sock.insert(OTHER, make(Math.ceil(connections / 10), IPPROTO_TCP, 120), 600);
  const nl = conntrackNetlink(VIP, HASH, BUCKETS, { socket: sock });
  // The daemon's adapter gives up after 2 s; here the tool may take as long as it needs.
  const tool = conntrackTool(VIP, HASH, BUCKETS, 'conntrack', 120_000);
  const busy = await nl.busyBuckets();
  const toolBusy = await tool.busyBuckets();
  if (busy.size !== toolBusy.size) throw new Error(`readers disagree: netlink ${busy.size} busy buckets, tool ${toolBusy.size}`);
  const a = await measure(() => Promise.resolve(nl.busyBuckets()), rounds);
  const b = await measure(() => Promise.resolve(tool.busyBuckets()), rounds);
  const u = await measure(() => nl.udpFlows?.() ?? Promise.resolve([]), rounds);
  sock.close();
  return { connections, netlinkTcpMs: a.wallMs, netlinkCpuMs: a.cpuMs, netlinkUdpMs: u.wallMs, toolTcpMs: b.wallMs, toolCpuMs: b.cpuMs, busyBuckets: busy.size };
}

export async function benchConntrack(o: { sizes: readonly number[]; rounds: number; log: (s: string) => void }): Promise<ConntrackBenchRow[]> {
  const rows: ConntrackBenchRow[] = [];
  const self = fileURLToPath(import.meta.url);
  for (const n of o.sizes) {
    const ns = `${process.env.VMAC_LAB_TAG ?? ''}ctb${process.pid % 10000}`;
    await run('ip', ['netns', 'add', ns]);
    try {
      o.log(`${n} connections in ${ns}`);
      const r = await run('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', self, '--inner', String(n), String(o.rounds)], { timeoutMs: 300_000 });
      rows.push(JSON.parse(r) as ConntrackBenchRow);
    } finally {
      await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    }
  }
  return rows;
}

if (process.argv[2] === '--inner') {
  const row = await inner(Number(process.argv[3]), Number(process.argv[4]));
  process.stdout.write(`${JSON.stringify(row)}\n`);
}
