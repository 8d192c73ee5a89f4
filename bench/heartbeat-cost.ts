/**
 * `npm run bench -- heartbeat [--nodes N] [--seconds S]`: what one daemon spends per second on
 * the cluster protocol at N nodes: N real cluster runtimes (membership + takeover reducers, the
 * real heartbeat codec with HMAC-SHA256) in one process on a fake network and clock, with the
 * default timing and 256 buckets. CPU is measured over S simulated seconds after convergence and
 * divided by N: the per-node cost a lab of N daemons pays N times on the same cores.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { fakeClock } from '../src/util/clock.js';
import { fakeDataPath } from '../src/vmac/fake-datapath.js';
import { createFakeNetwork } from '../src/cluster/fake-transport.js';
import { startCluster, type ClusterRuntime } from '../src/daemon/cluster-runtime.js';
import { parseConfig } from '../src/config/load.js';

export interface HeartbeatCost {
  nodes: number;
  intervalMs: number;
  simSeconds: number;
  converged: boolean;
  received: number; // heartbeats accepted, all nodes
  cpuMsPerNodePerSecond: number;
  cpuUsPerReceived: number;
}

function config(n: number, id: number, intervalMs: number | null): ReturnType<typeof parseConfig> {
  const peers = Array.from({ length: n }, (_, i) => i + 1).filter((x) => x !== id).map((x) => `  - { id: ${x}, name: n${x}, address: 10.9.0.${x} }`);
  return parseConfig([
    'service: bench', 'interface: eth0', 'vip: 10.9.9.9', 'buckets: 256', 'hash: { seed: 0x5eed }',
    `node: { id: ${id}, name: n${id}, address: 10.9.0.${id} }`,
    peers.length > 0 ? 'peers:' : 'peers: []', ...peers,
    'heartbeat: { keyFile: /bench.key }',
    intervalMs === null ? '' : `timing: { intervalMs: ${intervalMs} }`,
    '',
  ].join('\n'), `bench-n${id}.yaml`);
}

export function benchHeartbeatCost(o: { nodes: number; seconds: number; intervalMs?: number }): HeartbeatCost {
  const clock = fakeClock(1_000);
  const net = createFakeNetwork(clock);
  const log = pino({ level: 'silent' });
  const key = new Uint8Array(randomBytes(32));
  const runtimes: ClusterRuntime[] = [];
  for (let id = 1; id <= o.nodes; id++) {
    const cfg = config(o.nodes, id, o.intervalMs ?? null);
    const dp = fakeDataPath(() => clock.nowMs());
    dp.install([], null);
    runtimes.push(startCluster({ cfg, key, transport: net.attach([`10.9.0.${id}`]), dp, announce: () => undefined, clock, log, incarnation: BigInt(id) }));
  }
  const intervalMs = runtimes[0]?.status() ? config(o.nodes, 1, o.intervalMs ?? null).timing.intervalMs : 0;
  for (let t = 0; t < 3000; t++) clock.advance(1);
  const converged = runtimes.every((r) => r.serving());
  const before = runtimes.reduce((s, r) => s + r.status().heartbeats.received.accepted, 0);
  const cpu0 = process.cpuUsage();
  for (let t = 0; t < o.seconds * 1000; t++) clock.advance(1);
  const cpu = process.cpuUsage(cpu0);
  const received = runtimes.reduce((s, r) => s + r.status().heartbeats.received.accepted, 0) - before;
  for (const r of runtimes) r.close();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return { nodes: o.nodes, intervalMs, simSeconds: o.seconds, converged, received, cpuMsPerNodePerSecond: cpuMs / o.nodes / o.seconds, cpuUsPerReceived: (cpuMs * 1000) / Math.max(1, received) };
}
