/** A node computing another bucket map than its peers is detected from the heartbeats and logged. */
import { describe, expect, it } from 'vitest';
import { pino, type Logger } from 'pino';
import { Writable } from 'node:stream';
import { fakeClock } from '../../../src/util/clock.js';
import { createFakeNetwork } from '../../../src/cluster/fake-transport.js';
import { fakeDataPath } from '../../../src/vmac/fake-datapath.js';
import { startCluster, type ClusterRuntime } from '../../../src/daemon/cluster-runtime.js';
import type { VmacConfig } from '../../../src/config/types.js';
import { simConfig, SIM_KEY } from '../../sim/sim-cluster.js';
import { PROFILES } from '../../sim/schedule.js';
import { fingerprintOf, type LocalFingerprint } from '../../../src/config/fingerprint.js';

function capture(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, cb) { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); cb(); } });
  return { log: pino({ level: 'info' }, stream), lines };
}

function boot(cfgs: VmacConfig[], fingerprint?: LocalFingerprint): { runtimes: ClusterRuntime[]; logs: Record<string, unknown>[][]; advance: (ms: number) => Promise<void> } {
  const clock = fakeClock(1_000);
  const net = createFakeNetwork(clock);
  const logs: Record<string, unknown>[][] = [];
  const runtimes = cfgs.map((cfg, i) => {
    const { log, lines } = capture();
    logs.push(lines);
    const dp = fakeDataPath(() => clock.nowMs());
    dp.install([], null);
    const transport = net.attach([`10.9.0.${cfg.node.id}`, `10.10.0.${cfg.node.id}`]);
    return startCluster({ cfg, key: SIM_KEY, transport, dp, announce: () => undefined, clock, log, incarnation: BigInt(i + 1), ...(fingerprint ? { fingerprint } : {}) });
  });
  const advance = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t++) clock.advance(1);
    await new Promise((r) => setImmediate(r)); // let pino's stream flush
  };
  return { runtimes, logs, advance };
}

describe('map agreement in the runtime', () => {
  it('three nodes with one config agree: nothing is logged, status lists no one', async () => {
    const timing = PROFILES.default;
    const c = boot([1, 2, 3].map((id) => simConfig(3, id, timing)));
    await c.advance(2_000);
    expect(c.logs.flat().filter((l) => l.event === 'map-disagreement')).toEqual([]);
    expect(c.runtimes.map((r) => r.status().view.disagreeing)).toEqual([[], [], []]);
    for (const r of c.runtimes) r.close();
  });

  it('a node configured with another bucket count is reported by its peers, once, with both digests', async () => {
    const timing = PROFILES.default;
    // (Weights would not do: they travel in the heartbeats, and every node uses the announced ones.)
    const cfgs = [simConfig(3, 1, timing), simConfig(3, 2, timing), simConfig(3, 3, timing, 32)];
    // The config fingerprint would catch this first (config-agreement.test.ts) and keep node 3 out
    // of membership: here every node announces the same fingerprint, as a bug computing another
    // map from equal configs would, so the map digest is what tells them apart.
    const c = boot(cfgs, fingerprintOf(simConfig(3, 1, timing), 'none'));
    await c.advance(2_000);
    const reports = c.logs.map((lines) => lines.filter((l) => l.event === 'map-disagreement'));
    expect(reports[0]).toHaveLength(1);
    expect(reports[0]?.[0]).toMatchObject({ node: 3, level: 50 });
    expect(reports[0]?.[0]?.ours).not.toBe(reports[0]?.[0]?.theirs);
    expect(reports[1]).toHaveLength(1);
    expect(reports[2]?.map((l) => l.node).sort()).toEqual([1, 2]);
    expect(c.runtimes[0]?.status().view.disagreeing).toEqual([3]);
    // Unheld buckets wait for every live peer to announce our agreed map, except for a peer whose
    // disagreement outlasted a dead time: nodes 1 and 2 serve despite the misconfigured node 3.
    expect(c.runtimes[0]?.status().owned.length).toBeGreaterThan(0);
    expect(c.runtimes[1]?.status().owned.length).toBeGreaterThan(0);
    for (const r of c.runtimes) r.close();
  });
});
