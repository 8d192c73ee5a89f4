/**
 * Three daemons with cluster resources (a singleton and a group of two) on fakes and a fake
 * clock: reports travel on the heartbeat transport; each singleton runs on exactly one node at
 * every step; a planned stop of the node that runs them moves them to a survivor, in order;
 * `status().crm` shows the same placement on every node; operator requests go through the
 * control path's parser.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import { startDaemon } from '../../../src/daemon/node-daemon.js';
import { fakeClock } from '../../../src/util/clock.js';
import { fakeDataPath } from '../../../src/vmac/fake-datapath.js';
import { createFakeNetwork } from '../../../src/cluster/fake-transport.js';
import type { ResourceDriver } from '../../../src/health/resources/driver.js';
import { fakeNodePorts, threeNodeYaml } from './fake-ports.js';

const yamlFor = (id: number): string => threeNodeYaml(id, `resources:
  - { name: ip, kind: singleton, command: { start: x, stop: y, monitor: z }, prefer: { n1: 100 } }
  - { name: q, kind: singleton, command: { start: x, stop: y, monitor: z } }
  - { name: m, kind: singleton, command: { start: x, stop: y, monitor: z } }
  - { name: mail, kind: group, members: [q, m], colocate: [{ with: ip }], after: [ip] }
`);

describe('daemon with cluster resources (fakes, fake clock)', () => {
  it('runs each singleton on one node, moves them in order on a planned stop', async () => {
    const clock = fakeClock();
    const net = createFakeNetwork(clock);
    const log = pino({ level: 'silent' });
    const running = new Map<string, Set<number>>();
    const timeline: string[] = [];
    const violations: string[] = [];
    const driver = (id: number, r: string): ResourceDriver => ({
      kind: 'fake', describe: r,
      start: () => { const on = running.get(r) ?? new Set(); on.add(id); running.set(r, on); timeline.push(`n${id}+${r}`); if (on.size > 1) violations.push(`${r}@${[...on].join()}`); return Promise.resolve({ outcome: 'ok', detail: '' }); },
      stop: () => { running.get(r)?.delete(id); timeline.push(`n${id}-${r}`); return Promise.resolve({ outcome: 'ok', detail: '' }); },
      monitor: () => Promise.resolve({ state: running.get(r)?.has(id) ? 'running' : 'stopped', detail: '' }),
    });
    const nodes = [1, 2, 3].map((id) => {
      const dp = fakeDataPath(() => clock.nowMs());
      return { id, ports: fakeNodePorts(id, clock, net, dp, { crmDriver: (r) => driver(id, r) }), cfg: parseConfig(yamlFor(id), `n${id}.yaml`) };
    });
    const daemons = await Promise.all(nodes.map((n) => startDaemon(n.cfg, n.ports, log)));
    const flush = async (): Promise<void> => { for (let i = 0; i < 10; i++) await Promise.resolve(); };
    const run = async (ms: number): Promise<void> => { for (let t = 0; t < ms; t += 10) { clock.advance(10); await flush(); } };
    const where = (r: string): number[] => [...(running.get(r) ?? [])].sort();
    await run(3000);
    expect(violations).toEqual([]);
    for (const r of ['ip', 'q', 'm']) expect(where(r)).toEqual([1]);
    expect(timeline).toEqual(['n1+ip', 'n1+q', 'n1+m']);
    for (const d of daemons) expect(d.status().crm?.resources.map((r) => `${r.name}@${r.runningOn.join()}`)).toEqual(['ip@n1', 'q@n1', 'm@n1']);
    timeline.length = 0;
    const stopping = daemons[0]!.stop('signal');
    await run(5000);
    await stopping;
    expect(violations).toEqual([]);
    const to = where('ip');
    expect(to).toHaveLength(1);
    expect(to[0]).not.toBe(1);
    for (const r of ['q', 'm']) expect(where(r)).toEqual(to);
    expect(timeline).toEqual(['n1-m', 'n1-q', 'n1-ip', `n${to[0]}+ip`, `n${to[0]}+q`, `n${to[0]}+m`]);
    expect(daemons[1]!.status().crm?.counters.dropped).toEqual({});
    let done = false;
    const all = Promise.all(daemons.slice(1).map((d) => d.stop('signal'))).then(() => { done = true; });
    for (let i = 0; i < 2000 && !done; i++) await run(10);
    await all;
  });
});
