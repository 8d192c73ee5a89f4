/** Typed wrappers over the C prober (lab/c/prober.c): one process per client namespace. */
import { nsRun } from './exec.js';
import { labBinary } from './paths.js';

export interface UdpAddrResult {
  addr: string;
  sent: number;
  answered: number;
  lost: number;
  duplicates: number;
  nodes: Record<string, number>;
  lastNode: string | null;
  maxGapUs: number;
  maxGapStartUs: number | null; // null: fewer than two answers
  firstUs: number | null; // null: never answered
  lastUs: number | null;
}
/** Times in the result are µs after `startMonoNs` (CLOCK_MONOTONIC, as `process.hrtime`). */
export interface UdpProbeResult {
  mode: 'udp';
  intervalUs: number;
  durationMs: number;
  startMonoNs: number;
  rounds: number;
  skippedRounds: number;
  behindTicks: number; // rounds sent more than one interval late: the prober itself fell behind
  sendEndUs: number;
  addrs: UdpAddrResult[];
}
export interface TcpAddrResult { addr: string; node: string | null; error: string | null }
export interface TcpProbeResult { mode: 'tcp'; startMonoNs: number; addrs: TcpAddrResult[] }

export interface UdpProbeOptions {
  vip: string;
  port: number;
  addrFile: string;
  intervalUs: number;
  durationMs: number;
  maxProbes?: number;
  waitMs?: number;
  timelineFile?: string;
}

export async function probeUdp(ns: string, o: UdpProbeOptions): Promise<UdpProbeResult> {
  const args = ['udp', '--vip', o.vip, '--port', String(o.port), '--addrs', o.addrFile, '--interval-us', String(o.intervalUs), '--duration-ms', String(o.durationMs)];
  if (o.maxProbes !== undefined) args.push('--max-probes', String(o.maxProbes));
  if (o.waitMs !== undefined) args.push('--wait-ms', String(o.waitMs));
  if (o.timelineFile !== undefined) args.push('--timeline', o.timelineFile);
  const out = await nsRun(ns, labBinary('vmac-prober'), args, { timeoutMs: o.durationMs + (o.waitMs ?? 200) + 30_000 });
  return JSON.parse(out) as UdpProbeResult;
}

export async function probeTcp(ns: string, o: { vip: string; port: number; addrFile: string; timeoutMs?: number }): Promise<TcpProbeResult> {
  const args = ['tcp', '--vip', o.vip, '--port', String(o.port), '--addrs', o.addrFile, '--timeout-ms', String(o.timeoutMs ?? 2000)];
  const out = await nsRun(ns, labBinary('vmac-prober'), args, { timeoutMs: 60_000 });
  return JSON.parse(out) as TcpProbeResult;
}
