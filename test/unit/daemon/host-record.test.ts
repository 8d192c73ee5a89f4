/**
 * A daemon that died without stopping (kill -9, the systemd watchdog's abort) left its VIP and
 * sysctls; its successor must remove that VIP and write back the values from before the first
 * start when it stops (found under real systemd: a watchdog restart, then a stop, left the VIP).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import { startDaemon, type DaemonPorts } from '../../../src/daemon/node-daemon.js';
import { mergeHostChanges } from '../../../src/daemon/host-record.js';
import { fakeClock } from '../../../src/util/clock.js';
import { fakeDataPath } from '../../../src/vmac/fake-datapath.js';
import { fakeSysctl } from '../../../src/vmac/sysctl.js';
import { createFakeNetwork } from '../../../src/cluster/fake-transport.js';
import { fakeNodePorts, threeNodeYaml } from './fake-ports.js';

const dir = mkdtempSync(join(tmpdir(), 'vmac-host-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });
const SYSCTL = 'net.ipv4.conf.eth0.arp_announce';
const link = { index: 2, name: 'eth0', mac: '02:00:00:00:00:11', up: true };

describe('host changes of a predecessor that never stopped', () => {
  it('mergeHostChanges keeps the first values and the VIP as ours; ignores a record for another VIP or interface', () => {
    const prepared = { link, vipAdded: false, sysctlsBefore: new Map([[SYSCTL, '2']]) };
    const record = { version: 1 as const, service: 'web', ifname: 'eth0', vip: '10.0.0.1', vipAdded: true, sysctlsBefore: [[SYSCTL, '0']] as const };
    expect(mergeHostChanges(prepared, record, 'eth0', '10.0.0.1')).toEqual({ link, vipAdded: true, sysctlsBefore: new Map([[SYSCTL, '0']]) });
    expect(mergeHostChanges(prepared, { ...record, vip: '10.0.0.2' }, 'eth0', '10.0.0.1')).toBe(prepared);
    expect(mergeHostChanges(prepared, null, 'eth0', '10.0.0.1')).toBe(prepared);
  });

  it('a successor started after a crash removes the VIP and restores the original sysctl on stop', async () => {
    const clock = fakeClock();
    const net = createFakeNetwork(clock);
    const cfg = parseConfig(`${threeNodeYaml(1)}control: { socket: ${join(dir, 'web.sock')} }\n`, 'web.yaml');
    const addresses = new Set<string>();
    const sysctl = fakeSysctl({ [SYSCTL]: '0' });
    const ports = (): DaemonPorts => fakeNodePorts(1, clock, net, fakeDataPath(() => clock.nowMs()), {
      rtnl: {
        getLink: () => Promise.resolve(link),
        addAddress: (_i, b) => { const k = b.join('.'); const had = addresses.has(k); addresses.add(k); return Promise.resolve(had ? 'already-present' : 'added'); },
        deleteAddress: (_i, b) => Promise.resolve(addresses.delete(b.join('.')) ? 'deleted' : 'already-absent'),
      },
      sysctl,
      serveControl: () => Promise.resolve({ close: () => undefined }),
    });
    await startDaemon(cfg, ports(), log); // then "killed": never stopped
    expect(addresses.size).toBe(1);
    expect(sysctl.values.get(SYSCTL)).toBe('2');
    const successor = await startDaemon(cfg, ports(), log);
    await successor.stop('error');
    expect(addresses.size).toBe(0);
    expect(sysctl.values.get(SYSCTL)).toBe('0');
    // Negative control: without the record (a fresh directory) the successor would leave both.
    const cfg2 = parseConfig(`${threeNodeYaml(1)}control: { socket: ${join(dir, 'other', 'web.sock')} }\n`, 'web.yaml');
    await startDaemon(cfg, ports(), log);
    const blind = await startDaemon(cfg2, ports(), log);
    await blind.stop('error');
    expect(addresses.size).toBe(1);
    expect(sysctl.values.get(SYSCTL)).toBe('2');
  });

  it('mergeHostChanges takes over the VIP6 a predecessor added, only for the same VIP6', () => {
    const prepared = { link, vipAdded: false, vip6Added: false, sysctlsBefore: new Map([[SYSCTL, '2']]) };
    const record = { version: 1 as const, service: 'web', ifname: 'eth0', vip: '10.0.0.1', vipAdded: true, vip6: 'fd00::1', vip6Added: true, sysctlsBefore: [[SYSCTL, '0']] as const };
    expect(mergeHostChanges(prepared, record, 'eth0', '10.0.0.1', 'fd00::1').vip6Added).toBe(true);
    expect(mergeHostChanges(prepared, { ...record, vip6: 'fd00::2' }, 'eth0', '10.0.0.1', 'fd00::1').vip6Added).toBe(false);
    expect(mergeHostChanges(prepared, { ...record, vip6Added: false }, 'eth0', '10.0.0.1', 'fd00::1').vip6Added).toBe(false);
  });

  it('dual stack: a successor started after a crash removes the VIP6 the dead daemon put on lo', async () => {
    const clock = fakeClock();
    const net = createFakeNetwork(clock);
    const cfg = parseConfig(`${threeNodeYaml(1)}vip6: fd00:200::1\ncontrol: { socket: ${join(dir, 'v6', 'web.sock')} }\n`, 'web.yaml');
    const addresses = new Set<string>();
    const sysctl = fakeSysctl({ [SYSCTL]: '0', 'net.ipv6.conf.eth0.disable_ipv6': '0', 'net.ipv6.conf.lo.disable_ipv6': '0' });
    const ports = (): DaemonPorts => fakeNodePorts(1, clock, net, fakeDataPath(() => clock.nowMs()), {
      rtnl: {
        getLink: (name) => Promise.resolve({ ...link, index: name === 'lo' ? 1 : 2, name }),
        addAddress: (i, b) => { const k = `${i}/${b.join('.')}`; const had = addresses.has(k); addresses.add(k); return Promise.resolve(had ? 'already-present' : 'added'); },
        deleteAddress: (i, b) => Promise.resolve(addresses.delete(`${i}/${b.join('.')}`) ? 'deleted' : 'already-absent'),
      },
      sysctl,
      serveControl: () => Promise.resolve({ close: () => undefined }),
    });
    await startDaemon(cfg, ports(), log); // then "killed": never stopped
    expect([...addresses].filter((a) => a.startsWith('1/'))).toHaveLength(1); // the VIP6 on lo
    const successor = await startDaemon(cfg, ports(), log);
    await successor.stop('error');
    expect([...addresses]).toEqual([]);
  });
});
