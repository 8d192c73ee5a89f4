/**
 * The daemon with a resource, on fakes and a fake clock, three nodes: node 1 leases only after
 * its service started and passed `rise` checks; failing checks drain it (its buckets go to the
 * peers, it keeps running); recovery brings them back; a stop hands the buckets over before the
 * service is stopped. Status shows the resource.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import { startDaemon } from '../../../src/daemon/node-daemon.js';
import { fakeClock } from '../../../src/util/clock.js';
import { fakeDataPath } from '../../../src/vmac/fake-datapath.js';
import { createFakeNetwork } from '../../../src/cluster/fake-transport.js';
import { fakeCheck, fakeDriver } from '../../../src/health/resources/fake-driver.js';
import { fakeNodePorts, threeNodeYaml } from './fake-ports.js';

const yamlFor = (id: number): string => threeNodeYaml(id, `resources:
  - { name: echo, command: { start: x, stop: y, monitor: z } }
healthChecks:
  - { resource: echo, tcp: { host: 127.0.0.1, port: 7 }, intervalMs: 100, timeoutMs: 50, rise: 2, fall: 3 }
`);

describe('daemon with a resource (fakes, fake clock)', () => {
  it('leases after healthy, drains on failure without exiting, takes back on recovery, stops the service last', async () => {
    const clock = fakeClock();
    const net = createFakeNetwork(clock);
    const log = pino({ level: 'silent' });
    const nodes = [1, 2, 3].map((id) => {
      const dp = fakeDataPath(() => clock.nowMs());
      const driver = fakeDriver();
      const check = fakeCheck();
      const ports = fakeNodePorts(id, clock, net, dp, { resourceDriver: () => driver, resourceCheck: () => check });
      return { id, dp, driver, check, ports, cfg: parseConfig(yamlFor(id), `n${id}.yaml`) };
    });
    const daemons = await Promise.all(nodes.map((n) => startDaemon(n.cfg, n.ports, log)));
    const flush = async (): Promise<void> => { for (let i = 0; i < 10; i++) await Promise.resolve(); };
    const run = async (ms: number): Promise<void> => {
      for (let t = 0; t < ms; t += 5) {
        clock.advance(5);
        await flush();
        const seen = new Map<number, number>();
        for (const n of nodes) for (const b of n.dp.answeringNow() ?? []) {
          if (seen.has(b)) throw new Error(`t=${clock.nowMs()}: bucket ${b} answered by ${seen.get(b)} and ${n.id}`);
          seen.set(b, n.id);
        }
      }
    };
    const answered = (id: number): number => nodes[id - 1]!.dp.answeringNow()?.size ?? 0;
    await flush();
    expect(nodes.every((n) => n.driver.calls[0] === 'start')).toBe(true);
    // Before `rise` checks passed nobody leases.
    await run(150);
    expect(answered(1) + answered(2) + answered(3)).toBe(0);
    await run(1500);
    expect(answered(1)).toBe(20);
    expect(daemons[0]!.status().resources?.[0]).toMatchObject({ name: 'echo', phase: 'running', health: 'healthy', role: 'active', failures: 0 });
    // Node 1's service fails its checks: after `fall` checks it drains, its buckets go to 2 and 3.
    nodes[0]!.check.next = { outcome: 'fail', detail: 'ECONNREFUSED' };
    await run(1000);
    expect(answered(1)).toBe(0);
    expect(answered(2) + answered(3)).toBe(60);
    const st = daemons[0]!.status();
    expect(st.cluster.self.state).toBe('draining');
    expect(st.resources?.[0]).toMatchObject({ health: 'unhealthy', role: 'draining', lastCheck: { outcome: 'fail', detail: 'ECONNREFUSED' } });
    // Recovery: it takes its buckets back.
    nodes[0]!.check.next = { outcome: 'pass', detail: 'ok' };
    await run(1500);
    expect(answered(1)).toBe(20);
    expect(answered(1) + answered(2) + answered(3)).toBe(60);
    // Planned stop of node 1: buckets handed over first, then the service stopped.
    const stopping = daemons[0]!.stop('signal');
    let stoppedWhileOwning = false;
    for (let t = 0; t < 400; t += 5) {
      clock.advance(5);
      await flush();
      if (nodes[0]!.driver.calls.includes('stop') && answered(1) > 0) stoppedWhileOwning = true;
    }
    await stopping;
    expect(stoppedWhileOwning).toBe(false);
    expect(nodes[0]!.driver.calls.at(-1)).toBe('stop');
    expect(answered(2) + answered(3)).toBe(60);
    await Promise.all(daemons.slice(1).map((d) => d.stop('error')));
  });
});
