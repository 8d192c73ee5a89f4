/**
 * Every mode shows itself where operators look (issue 17): `vmac status` (the daemon's status),
 * the metrics (`vmac_info{mode=…}`) and the dashboard's state. A running daemon per mode, fakes.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import { startDaemon } from '../../../src/daemon/node-daemon.js';
import { createMetrics } from '../../../src/metrics/registry.js';
import { fakeClock } from '../../../src/util/clock.js';
import { fakeDataPath } from '../../../src/vmac/fake-datapath.js';
import { createFakeNetwork } from '../../../src/cluster/fake-transport.js';
import { fakeNodePorts, threeNodeYaml } from '../daemon/fake-ports.js';

const log = pino({ level: 'silent' });

describe('the mode in status and metrics', () => {
  for (const mode of ['unicast', 'multicast', 'igmp', 'arp-steer'] as const) {
    it(`${mode}: status.mode and vmac_info{mode="${mode}"}`, async () => {
      const clock = fakeClock();
      const net = createFakeNetwork(clock);
      const d = await startDaemon(parseConfig(threeNodeYaml(1, `mode: ${mode}\n`), 'n1.yaml'), fakeNodePorts(1, clock, net, fakeDataPath(() => clock.nowMs())), log);
      // (not stopped: a stop waits for the leave on the fake clock; everything here is a fake)
      expect(d.status().mode).toBe(mode);
      const m = createMetrics({ status: () => d.status(), currentMap: () => d.currentMap(), totals: () => null, linkLoss: () => [] }, false);
      const text = await m.registry.getSingleMetricAsString('vmac_info');
      expect(text).toMatch(new RegExp(`vmac_info\\{[^}]*mode="${mode}"[^}]*\\} 1`));
    });
  }
});
