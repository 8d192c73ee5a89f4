/**
 * A node added at weight 0 that runs during the roll (roll-compat.ts `extra-zero`), with real
 * runtimes on a fake network and clock: nodes 1 and 2 run the old list (1..3), nodes 3 and 4 the
 * new one (1..4, node 4 at weight 0). While node 2 is away (a restart), node 3 keeps its lease:
 * its list's majority (3 of 4) counts node 4. Negative control, same run with node 4 not running:
 * node 3 loses its lease while node 2 is away (the loss the documented procedure avoids). Checked
 * every millisecond in both: no bucket takes new flows on two nodes.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import { fakeClock } from '../../../src/util/clock.js';
import { createFakeNetwork } from '../../../src/ha/fake-transport.js';
import { fakeDataPath, type FakeDataPath } from '../../../src/vmac/fake-datapath.js';
import { startCluster, type ClusterRuntime } from '../../../src/daemon/cluster-runtime.js';

const KEY = new Uint8Array(32).fill(7);
const log = pino({ level: 'silent' });

function cfg(id: number, list: readonly number[]): ReturnType<typeof parseConfig> {
  const line = (x: number): string => `{ id: ${x}, name: n${x}, address: 10.8.0.${x}${x === 4 ? ', weight: 0' : ''} }`;
  return parseConfig([
    'service: roll', 'interface: eth0', 'vip: 10.8.9.9', 'buckets: 32', 'hash: { seed: 42 }',
    `node: ${line(id)}`, `peers: [${list.filter((x) => x !== id).map(line).join(', ')}]`,
    'heartbeat: { keyFile: /k }', 'timing: { intervalMs: 40, deadAfter: 6, suspectAfter: 3, leaseMs: 100, renewMs: 20, marginMs: 10 }', '',
  ].join('\n'), `n${id}.yaml`);
}

interface Outcome { n3LeaseLapsedMs: number; n1LeaseLapsedMs: number; doubles: number; answeredAtEnd: number }

function run(n4Runs: boolean): Outcome {
  const clock = fakeClock(1000);
  const net = createFakeNetwork(clock);
  const dps = new Map<number, FakeDataPath>();
  const rts = new Map<number, ClusterRuntime>();
  let inc = 1n;
  const start = (id: number, list: readonly number[]): void => {
    const dp = fakeDataPath(() => clock.nowMs());
    dp.install([], null);
    dps.set(id, dp);
    rts.set(id, startCluster({ cfg: cfg(id, list), key: KEY, transport: net.attach([`10.8.0.${id}`]), dp, announce: () => undefined, clock, log, incarnation: inc++ }));
  };
  const old = [1, 2, 3];
  const next = [1, 2, 3, 4];
  start(1, old); start(2, old); start(3, next);
  if (n4Runs) start(4, next);
  let doubles = 0;
  const lapsed = new Map<number, number>();
  const tick = (ms: number, watch: boolean): void => {
    for (let i = 0; i < ms; i++) {
      clock.advance(1);
      const taking = new Map<number, number>();
      for (const dp of dps.values()) for (const b of dp.acceptingNewNow() ?? []) taking.set(b, (taking.get(b) ?? 0) + 1);
      if ([...taking.values()].some((c) => c > 1)) doubles++;
      if (watch) for (const id of [1, 3]) if (dps.get(id)?.answeringNow() === null) lapsed.set(id, (lapsed.get(id) ?? 0) + 1);
    }
  };
  tick(3000, false);
  // Node 2 goes away for 1.5 s (its kernel keeps nothing in this test: a kill).
  rts.get(2)?.close();
  dps.get(2)?.teardown();
  dps.delete(2);
  tick(1500, true);
  start(2, old);
  tick(3000, false);
  const answered = new Set<number>();
  for (const dp of dps.values()) for (const b of dp.answeringNow() ?? []) answered.add(b);
  for (const rt of rts.values()) rt.close();
  return { n3LeaseLapsedMs: lapsed.get(3) ?? 0, n1LeaseLapsedMs: lapsed.get(1) ?? 0, doubles, answeredAtEnd: answered.size };
}

describe('a node added at weight 0 runs during the roll', () => {
  it('node 3 (new list, 3 of 4 needed) keeps its lease while node 2 is away, because node 4 runs at weight 0', () => {
    const r = run(true);
    expect(r).toEqual({ n3LeaseLapsedMs: 0, n1LeaseLapsedMs: 0, doubles: 0, answeredAtEnd: 32 });
  });
  it('negative control: with node 4 not running, node 3 loses its lease while node 2 is away', () => {
    const r = run(false);
    expect(r.n3LeaseLapsedMs).toBeGreaterThan(500);
    expect(r.doubles).toBe(0);
  });
});
