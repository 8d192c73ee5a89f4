/**
 * vmac_health_checks_total and vmac_fence_actions_total are fed by the resource manager and the
 * fencing machine of a running daemon (fakes, fake clock): what the scrape shows is what their
 * status counted, and it grows with their work (no hard-coded zeros).
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import { startDaemon, type Daemon } from '../../../src/daemon/node-daemon.js';
import { createMetrics } from '../../../src/metrics/registry.js';
import { fakeClock } from '../../../src/util/clock.js';
import { fakeDataPath } from '../../../src/vmac/fake-datapath.js';
import { createFakeNetwork } from '../../../src/cluster/fake-transport.js';
import { fakeCheck, fakeDriver } from '../../../src/health/resources/fake-driver.js';
import { fakeAgent } from '../../../src/fencing/fake-agent.js';
import { fakeNodePorts, threeNodeYaml } from '../daemon/fake-ports.js';

const log = pino({ level: 'silent' });
const flush = async (): Promise<void> => { for (let i = 0; i < 10; i++) await Promise.resolve(); };

/** The value of one series of a counter, as Prometheus would scrape it. */
async function series(d: Daemon, name: string, result: string): Promise<number> {
  const m = createMetrics({ status: () => d.status(), currentMap: () => d.currentMap(), totals: () => null, linkLoss: () => [] }, false);
  const text = await m.registry.getSingleMetricAsString(name);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`result="${result}"`));
  return Number(line?.split(' ').pop());
}

describe('metrics fed by the resource manager and the fencing machine', () => {
  it('vmac_health_checks_total counts the checks the resource policy counted, pass and fail', async () => {
    const clock = fakeClock();
    const net = createFakeNetwork(clock);
    const yaml = (id: number): string => threeNodeYaml(id, 'resources:\n  - { name: echo, command: { start: x, stop: y, monitor: z } }\nhealthChecks:\n  - { resource: echo, tcp: { host: 127.0.0.1, port: 7 }, intervalMs: 100, timeoutMs: 50, rise: 2, fall: 3 }\n');
    const checks = [1, 2, 3].map(() => fakeCheck());
    const daemons = await Promise.all([1, 2, 3].map((id) => startDaemon(parseConfig(yaml(id), `n${id}.yaml`), fakeNodePorts(id, clock, net, fakeDataPath(() => clock.nowMs()), { resourceDriver: () => fakeDriver(), resourceCheck: () => checks[id - 1]! }), log)));
    const run = async (ms: number): Promise<void> => { for (let t = 0; t < ms; t += 5) { clock.advance(5); await flush(); } };
    const d = daemons[0]!;
    expect(await series(d, 'vmac_health_checks_total', 'pass')).toBe(0);
    await run(1000);
    const passed = d.status().resources?.[0]?.passes ?? 0;
    expect(passed).toBeGreaterThanOrEqual(8);
    expect(await series(d, 'vmac_health_checks_total', 'pass')).toBe(passed);
    expect(await series(d, 'vmac_health_checks_total', 'fail')).toBe(0);
    checks[0]!.next = { outcome: 'fail', detail: 'ECONNREFUSED' };
    await run(500);
    const failed = d.status().resources?.[0]?.failures ?? 0;
    expect(failed).toBeGreaterThanOrEqual(4);
    expect(await series(d, 'vmac_health_checks_total', 'fail')).toBe(failed);
    expect(await series(d, 'vmac_health_checks_total', 'pass')).toBe(passed);
    for (const x of daemons) await x.stop('error');
  });

  it('vmac_fence_actions_total counts the fencing machine\'s agent attempts, failed and ok', async () => {
    const clock = fakeClock();
    const net = createFakeNetwork(clock);
    const fencing = 'fencing: { delayMs: 0, timeoutMs: 1000, retryBaseMs: 200, retryMaxMs: 1000, agent: { exec: { path: /bin/true } } }\n';
    const agents = [1, 2, 3].map(() => fakeAgent());
    const daemons = await Promise.all([1, 2, 3].map((id) => startDaemon(parseConfig(threeNodeYaml(id, fencing), `n${id}.yaml`), fakeNodePorts(id, clock, net, fakeDataPath(() => clock.nowMs()), { fenceAgent: agents[id - 1]! }), log)));
    const run = async (ms: number): Promise<void> => { for (let t = 0; t < ms; t += 5) { clock.advance(5); await flush(); } };
    await run(1000);
    for (const a of agents) a.next = { outcome: 'failed', detail: 'switch unreachable' };
    // Node 3 goes silent: the survivors must fence it before they take its buckets.
    await daemons[2]!.stop('error');
    await run(600);
    agents[0]!.next = { outcome: 'success', detail: 'off' };
    agents[1]!.next = { outcome: 'success', detail: 'off' };
    await run(3000);
    const d = daemons[0]!;
    const counters = d.status().cluster.fencing?.counters;
    expect(agents[0]!.calls.length).toBeGreaterThanOrEqual(2);
    expect(counters?.failed).toBeGreaterThanOrEqual(1);
    expect(counters?.succeeded).toBe(1);
    expect(await series(d, 'vmac_fence_actions_total', 'failed')).toBe(counters?.failed);
    expect(await series(d, 'vmac_fence_actions_total', 'ok')).toBe(1);
    // Without fencing the series exist at zero.
    expect(await series(daemons[1]!, 'vmac_health_checks_total', 'pass')).toBe(0);
    for (const x of daemons.slice(0, 2)) await x.stop('error');
  });
});
