/**
 * Data-path benchmark: what the hash filter costs a node, measured side by side in one run.
 *
 * pps: trafgen in `tx` sends 60-byte UDP frames over a veth to `rx` for a fixed time; a counter
 * at `ip prerouting` in `rx` (after the netdev ingress hook, before routing) counts what the IP
 * stack received. Modes alternate round by round so machine noise hits all of them alike:
 *   plain        frames to the node's own MAC and IP, no vmac table
 *   plain+table  the same frames with the vmac table present (the cost to the node's own traffic)
 *   floor        frames to the VMAC, a one-rule netdev chain (VMAC -> pkttype host): what any
 *                netdev-ingress design pays before it decides anything
 *   vmac         frames to the VMAC and VIP from 64 sources, jhash + verdict map, all buckets owned
 *   plain+xdp    plain frames with the XDP program attached (datapath: xdp; the cost to the node's own traffic)
 *   xdp          the vmac frames through the XDP backend, all buckets owned
 *   drop-nft     the vmac frames, no bucket owned (lease live): every frame dropped by the nft chain
 *   drop-xdp     the same through the XDP program: dropped before a socket buffer would exist
 *   xdp-generic, drop-xdp-generic   the XDP program attached in generic (skb) mode
 * Sender and receiver share the machine's cores, so the ratio is of the whole path; the
 * per-packet difference (1/pps_vmac - 1/pps_plain) is the filter's own cost.
 * Dropped frames never reach the counter: their rate is the frames the sender's veth handed to
 * the node (its tx counter; the node's queues are bounded, so that is what the node consumed),
 * and their cost the whole path's ns per frame (sender included, the same in both).
 * On veth the XDP backend also attaches its tc pkt_type fix-up (src/vmac/xdp-datapath.ts): the
 * xdp rows include it; a NIC driver needs none.
 *
 * tcp: iperf3 through the VIP (VMAC, filter, all buckets owned) against the node's own address,
 * with the nft backend and with the XDP backend.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { openNftables } from '../native-shims/nftables.js';
import { openXdp } from '../native-shims/xdp.js';
import { xdpDataPath, type XdpDataPath } from '../src/vmac/xdp-datapath.js';
import { renderInstall, renderTeardown } from '../src/vmac/ruleset.js';
import { nftHashExpr } from '../src/hash/bucket-of.js';
import { nsRun, run, spawnInNs } from '../lab/exec.js';
import { median, withPair, type Pair } from './netns-pair.js';

const RX_IP = '10.210.0.2';
const TX_IP = '10.210.0.3';
const VIP = '10.210.0.100';
const VMAC = '02:bf:0a:d2:00:64';
const BUCKETS = 256;

export interface DatapathBenchOptions { rounds: number; secondsPerTrial: number; tcpRounds: number; tcpSeconds: number; log: (line: string) => void }

export interface DatapathResult {
  ppsRounds: Record<Mode, number[]>;
  pps: Record<Mode, number>;
  ppsRatio: number; // vmac / plain
  /** Per mode: the median over rounds of (mode / plain of the same round): robust when the machine's load swings between rounds. */
  pairedRatio: Record<Mode, number>;
  filterNsPerPacket: number;
  tcpGbps: { plain: number[]; vip: number[]; 'vip-xdp': number[]; 'vip-xdp-generic': number[] };
  tcpRatio: number; // vip / plain
  xdpPpsRatio: number; // xdp / plain
  tcpXdpRatio: number; // vip-xdp / plain
  xdpGenericPpsRatio: number;
  tcpXdpGenericRatio: number;
  /** Whole-path ns per dropped frame (foreign bucket), nft and XDP, and xdp/nft. */
  dropNs: { nft: number; xdp: number; ratio: number; xdpGeneric: number; genericRatio: number };
}

type Mode = 'plain' | 'plain+table' | 'floor' | 'vmac' | 'plain+xdp' | 'xdp' | 'xdp-generic' | 'drop-nft' | 'drop-xdp' | 'drop-xdp-generic';
const MODES: Mode[] = ['plain', 'plain+table', 'floor', 'vmac', 'plain+xdp', 'xdp', 'xdp-generic', 'drop-nft', 'drop-xdp', 'drop-xdp-generic'];
const VMAC_FRAMES: ReadonlySet<Mode> = new Set(['floor', 'vmac', 'xdp', 'xdp-generic', 'drop-nft', 'drop-xdp', 'drop-xdp-generic']);
const DROPS: ReadonlySet<Mode> = new Set(['drop-nft', 'drop-xdp', 'drop-xdp-generic']);

function trafgenConfig(dstMac: string, dstIp: string, sources: number): string {
  const lines: string[] = [];
  for (let i = 0; i < sources; i++) {
    lines.push(`{ eth(da=${dstMac}), ipv4(sa=10.211.${i >> 8}.${(i & 255) + 1}, da=${dstIp}), udp(sp=${1024 + i}, dp=9), fill(0x00, 18) }`);
  }
  return `${lines.join('\n')}\n`;
}

const HASH = { affinity: 'address', prefixLength: 24, prefixLength6: 64, seed: 0x5eed } as const;
const plan = { table: 'vmac_bench', ifname: 'eth0', vip: VIP, vmac: VMAC, buckets: BUCKETS, hashExpr: nftHashExpr(HASH, 4, BUCKETS) };
const allBuckets = Array.from({ length: BUCKETS }, (_, b) => b);

const FLOOR_TABLE = [
  'add table netdev vmac_floor',
  `add chain netdev vmac_floor ingress { type filter hook ingress device "eth0" priority -500; policy accept; }`,
  `add rule netdev vmac_floor ingress ether daddr ${VMAC} meta pkttype set host accept`,
].join('\n');

function setTable(nft: ReturnType<typeof openNftables>, xdps: { native: XdpDataPath; generic: XdpDataPath }, mode: Mode): void {
  const xdp = xdps.native;
  xdps.generic.teardown();
  xdp.teardown();
  const script = [renderTeardown(plan), renderTeardown({ table: 'vmac_floor' })];
  if (mode === 'plain+table' || mode === 'vmac') script.push(renderInstall(plan, allBuckets, 600_000));
  if (mode === 'drop-nft') script.push(renderInstall(plan, [], 600_000));
  if (mode === 'floor') script.push(FLOOR_TABLE);
  const r = nft.run(script.join('\n'));
  if (r.rc !== 0) throw new Error(`nft: ${r.error}`);
  if (mode === 'plain+xdp' || mode === 'xdp') xdp.install(allBuckets, 600_000);
  if (mode === 'drop-xdp') xdp.install([], 600_000);
  if (mode === 'xdp-generic') xdps.generic.install(allBuckets, 600_000);
  if (mode === 'drop-xdp-generic') xdps.generic.install([], 600_000);
}

/** Frames the sender's veth handed over (its tx counter). */
async function txPackets(p: Pair): Promise<number> {
  const doc = JSON.parse(await run('ip', ['-n', p.tx, '-s', '-j', 'link', 'show', 'eth0'])) as { stats64?: { tx?: { packets?: number } } }[];
  return doc[0]?.stats64?.tx?.packets ?? 0;
}

async function ppsTrial(p: Pair, nft: ReturnType<typeof openNftables>, conf: string, seconds: number, drops = false): Promise<number> {
  // Anonymous rule counters cannot be reset on nft 1.0.6: read the delta.
  const counter = (): number => Number(/packets (\d+)/.exec(nft.run('list chain ip bench pre').output)?.[1] ?? 0);
  const before = drops ? await txPackets(p) : counter();
  const started = process.hrtime.bigint();
  await nsRun(p.tx, 'timeout', ['-s', 'INT', String(seconds), 'trafgen', '--dev', 'eth0', '--conf', conf, '--cpus', '1', '-q']).catch(() => undefined);
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  return ((drops ? await txPackets(p) : counter()) - before) / elapsedS;
}

async function iperf(p: Pair, target: string, seconds: number): Promise<number> {
  const out = await nsRun(p.tx, 'iperf3', ['-c', target, '-t', String(seconds), '-J'], { timeoutMs: (seconds + 20) * 1000 });
  const doc = JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } };
  return doc.end.sum_received.bits_per_second / 1e9;
}

export async function benchDatapath(o: DatapathBenchOptions): Promise<DatapathResult> {
  return withPair('bdp', async (p) => {
    const dir = mkdtempSync(join(tmpdir(), 'vmac-bench-'));
    try {
      await run('ip', ['-n', p.rx, 'addr', 'add', `${RX_IP}/24`, 'dev', 'eth0']);
      await run('ip', ['-n', p.rx, 'addr', 'add', `${VIP}/32`, 'dev', 'eth0']);
      await run('ip', ['-n', p.tx, 'addr', 'add', `${TX_IP}/24`, 'dev', 'eth0']);
      await run('ip', ['-n', p.tx, 'route', 'add', `${VIP}/32`, 'dev', 'eth0']);
      // The benchmark measures the filter, not ARP: the sender's VIP entry is static here.
      await run('ip', ['-n', p.tx, 'neigh', 'replace', VIP, 'lladdr', VMAC, 'dev', 'eth0', 'nud', 'permanent']);
      const nft = openNftables(`/run/netns/${p.rx}`);
      const netnsPath = `/run/netns/${p.rx}`;
      const xdp = { native: xdpDataPath(openXdp(), nft, plan, { hash: HASH, netnsPath }), generic: xdpDataPath(openXdp(), nft, plan, { hash: HASH, netnsPath, mode: 'generic' }) };
      const counter = nft.run('add table ip bench\nadd chain ip bench pre { type filter hook prerouting priority -300; }\nadd rule ip bench pre meta l4proto udp udp dport 9 counter drop');
      if (counter.rc !== 0) throw new Error(`nft: ${counter.error}`);
      const confPlain = join(dir, 'plain.cfg');
      const confVmac = join(dir, 'vmac.cfg');
      writeFileSync(confPlain, trafgenConfig(p.rxMac, RX_IP, 64));
      writeFileSync(confVmac, trafgenConfig(VMAC, VIP, 64));
      const ppsRounds = Object.fromEntries(MODES.map((m) => [m, [] as number[]])) as Record<Mode, number[]>;
      for (let r = 1; r <= o.rounds; r++) {
        for (const mode of MODES) {
          setTable(nft, xdp, mode);
          const pps = await ppsTrial(p, nft, VMAC_FRAMES.has(mode) ? confVmac : confPlain, o.secondsPerTrial, DROPS.has(mode));
          ppsRounds[mode].push(pps);
          o.log(`pps round ${r}/${o.rounds} ${mode.padEnd(11)} ${(pps / 1000).toFixed(0)} kpps`);
        }
      }
      const pps = Object.fromEntries(MODES.map((m) => [m, median(ppsRounds[m])])) as Record<Mode, number>;
      const server = spawnInNs(p.rx, 'iperf3', ['-s'], join(dir, 'iperf3.log'));
      await new Promise((r) => setTimeout(r, 300));
      const tcpGbps = { plain: [] as number[], vip: [] as number[], 'vip-xdp': [] as number[], 'vip-xdp-generic': [] as number[] };
      try {
        for (let r = 1; r <= o.tcpRounds; r++) {
          for (const which of ['plain', 'vip', 'vip-xdp', 'vip-xdp-generic'] as const) {
            setTable(nft, xdp, which === 'vip-xdp' ? 'xdp' : which === 'vip-xdp-generic' ? 'xdp-generic' : 'vmac');
            const g = await iperf(p, which === 'plain' ? RX_IP : VIP, o.tcpSeconds);
            tcpGbps[which].push(g);
            o.log(`tcp round ${r}/${o.tcpRounds} ${which.padEnd(5)} ${g.toFixed(2)} Gbit/s`);
          }
        }
      } finally {
        server.kill('SIGTERM');
        xdp.native.teardown();
        xdp.generic.teardown();
      }
      return {
        ppsRounds,
        pps,
        ppsRatio: pps.vmac / pps.plain,
        pairedRatio: Object.fromEntries(MODES.map((m) => [m, median(ppsRounds[m].map((v, i) => v / (ppsRounds.plain[i] ?? v)))])) as Record<Mode, number>,
        filterNsPerPacket: (1 / pps.vmac - 1 / pps.plain) * 1e9,
        tcpGbps,
        tcpRatio: median(tcpGbps.vip) / median(tcpGbps.plain),
        xdpPpsRatio: pps.xdp / pps.plain,
        tcpXdpRatio: median(tcpGbps['vip-xdp']) / median(tcpGbps.plain),
        dropNs: { nft: 1e9 / pps['drop-nft'], xdp: 1e9 / pps['drop-xdp'], ratio: pps['drop-nft'] / pps['drop-xdp'], xdpGeneric: 1e9 / pps['drop-xdp-generic'], genericRatio: pps['drop-nft'] / pps['drop-xdp-generic'] },
        xdpGenericPpsRatio: pps['xdp-generic'] / pps.plain,
        tcpXdpGenericRatio: median(tcpGbps['vip-xdp-generic']) / median(tcpGbps.plain),
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
