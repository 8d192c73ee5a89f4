/**
 * A start-up that fails removes what it had added, in reverse order, and says why: the native
 * preflight (nothing touched), a failure inside the daemon's own start (after the data path is
 * installed), and a failure after the daemon is up (launch.ts stops it with reason `error`).
 * Every kernel change goes through a journal of fakes, so the order of clean-up is asserted.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import { startDaemon, type DaemonPorts } from '../../../src/daemon/node-daemon.js';
import { launch } from '../../../src/daemon/launch.js';
import { NATIVE_MODULES, nativeNeeds, preflight, refusalMessage, type NativeModule, type ProbeResult } from '../../../src/daemon/preflight.js';
import { fakeClock } from '../../../src/util/clock.js';
import { fakeDataPath } from '../../../src/vmac/fake-datapath.js';
import { fakeSysctl } from '../../../src/vmac/sysctl.js';
import { prepareHost } from '../../../src/vmac/host-setup.js';
import { createFakePacketPort } from '../../../src/arp/fake-packet-port.js';
import { createFakeNetwork } from '../../../src/cluster/fake-transport.js';
import type { DataPathPort } from '../../../src/vmac/datapath-port.js';
import { VmacError, isVmacError } from '../../../src/util/errors.js';
import { FAKE_KEY, threeNodeYaml } from './fake-ports.js';

const SYSCTL = 'net.ipv4.conf.eth0.arp_announce';
const log = pino({ level: 'silent' });

/** Node 1's ports on fakes; every kernel change is written to `journal` in the order it happens. */
function journaled(faults: { addAddress?: boolean; transport?: boolean; sysctlWrite?: boolean } = {}) {
  const clock = fakeClock();
  const net = createFakeNetwork(clock);
  const journal: string[] = [];
  const dp = fakeDataPath(() => clock.nowMs());
  const sysctl = fakeSysctl({ [SYSCTL]: '0' });
  const addresses = new Set<string>();
  const packets = createFakePacketPort();
  const recordingDp: DataPathPort = {
    ...dp,
    install: (buckets, leaseMs) => { dp.install(buckets, leaseMs); journal.push('nft: table installed'); },
    teardown: () => { const was = dp.inspect().installed; dp.teardown(); if (was) journal.push('nft: table removed'); },
  };
  const ports: DaemonPorts = {
    dataPath: () => recordingDp,
    rtnl: {
      getLink: (name) => Promise.resolve({ index: 2, name, mac: '02:00:00:00:00:11', up: true }),
      addAddress: (_i, bytes) => {
        if (faults.addAddress) return Promise.reject(new VmacError('VMAC_NETLINK_FAILED', 'adding the VIP: EPERM'));
        addresses.add(bytes.join('.')); journal.push('ip: VIP added'); return Promise.resolve('added');
      },
      deleteAddress: (_i, bytes) => { addresses.delete(bytes.join('.')); journal.push('ip: VIP removed'); return Promise.resolve('deleted'); },
    },
    sysctl: {
      read: (k) => sysctl.read(k),
      write: (k, v) => {
        if (faults.sysctlWrite && v === '2') throw new VmacError('VMAC_SYSCTL_FAILED', `${k}: read-only file system`);
        sysctl.write(k, v); journal.push(`sysctl: ${k}=${v}`);
      },
    },
    openPacketPort: () => packets,
    openTransport: (addresses) => faults.transport
      ? Promise.reject(new VmacError('VMAC_NETLINK_FAILED', 'cannot bind the heartbeat socket: bind EADDRINUSE 10.0.0.11:5789'))
      : Promise.resolve(net.attach(addresses)),
    loadKey: () => FAKE_KEY,
    clock,
    incarnation: 1n,
  };
  return { cfg: parseConfig(threeNodeYaml(1), 'web.yaml'), clock, journal, dp, sysctl, addresses, packets, ports };
}

const missing = (...mods: NativeModule[]) => (m: NativeModule): ProbeResult => mods.includes(m) ? { ok: false, code: 'VMAC_RT_UNAVAILABLE', message: `the ${m} module is not built` } : { ok: true };

describe('native preflight (before any kernel change)', () => {
  const cfg = parseConfig(threeNodeYaml(1), 'web.yaml');

  it('needs nftables, netlink and cap always; realtime optionally; sd_notify only under systemd; raw-socket only for ICMP features', () => {
    const plain = nativeNeeds(cfg, {});
    expect(Object.fromEntries(NATIVE_MODULES.map((m) => [m, plain[m].need]))).toEqual({ nftables: 'required', netlink: 'required', cap: 'required', 'raw-socket': 'unused', realtime: 'optional', sdnotify: 'unused', conntrack: 'required', xdp: 'unused' });
    expect(nativeNeeds(cfg, { NOTIFY_SOCKET: '/run/systemd/notify' }).sdnotify.need).toBe('required');
    expect(nativeNeeds(cfg, { VMAC_REALTIME: '0' }).realtime.need).toBe('unused');
    const twoNode = parseConfig(threeNodeYaml(1).replace(/ {2}- \{ id: 3.*\n/, '') + 'quorum: { policy: two-node, tieBreaker: { ping: 10.0.0.254 } }\n', 'web.yaml');
    expect(nativeNeeds(twoNode, {})['raw-socket'].need).toBe('required');
  });

  it('datapath: xdp needs the libbpf shim: refused without it, naming it, before any kernel change', () => {
    const xdp = parseConfig(threeNodeYaml(1) + 'datapath: xdp\n', 'web.yaml');
    expect(xdp.datapath).toBe('xdp');
    expect(cfg.datapath).toBe('nft');
    expect(nativeNeeds(xdp, {}).xdp.need).toBe('required');
    const r = preflight(nativeNeeds(xdp, {}), missing('xdp'));
    expect(r.verdict).toBe('refuse');
    expect(refusalMessage(r)).toContain('native module xdp (needed for the XDP data path (datapath: xdp))');
  });

  it('a missing optional module is reported and the start goes on; a missing required one refuses', () => {
    const needs = nativeNeeds(cfg, { NOTIFY_SOCKET: '@x' });
    const ok = preflight(needs, missing('realtime'));
    expect(ok.verdict).toBe('start');
    expect(ok.degraded.map((d) => d.module)).toEqual(['realtime']);
    expect(ok.loaded).toEqual(['nftables', 'netlink', 'cap', 'sdnotify', 'conntrack']);
    const refused = preflight(needs, missing('sdnotify', 'realtime'));
    expect(refused.verdict).toBe('refuse');
    expect(refused.refused.map((r) => r.module)).toEqual(['sdnotify']);
    // Unused modules are not even loaded.
    const probed: NativeModule[] = [];
    preflight(nativeNeeds(cfg, {}), (m) => { probed.push(m); return { ok: true }; });
    expect(probed).toEqual(['nftables', 'netlink', 'cap', 'realtime', 'conntrack']);
  });

  it('launch refuses before start is called, naming the module and what it is for', async () => {
    const h = journaled();
    let started = false;
    const err = await launch({
      preflight: () => preflight(nativeNeeds(h.cfg, {}), missing('nftables')),
      onDegraded: () => undefined,
      start: async () => { started = true; return startDaemon(h.cfg, h.ports, log); },
      afterStart: () => Promise.resolve(null),
    }).catch((e: unknown) => e);
    expect(isVmacError(err, 'VMAC_NATIVE_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(/nothing was changed: native module nftables \(needed for the kernel data path/);
    expect(started).toBe(false);
    expect(h.journal).toEqual([]);
  });
});

describe('clean-up when the start fails after the kernel was touched', () => {
  it('the heartbeat socket cannot be bound (after the table, VIP and sysctl): all removed in reverse order', async () => {
    const h = journaled({ transport: true });
    const err = await startDaemon(h.cfg, h.ports, log).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/EADDRINUSE/);
    expect(h.journal).toEqual([
      `sysctl: ${SYSCTL}=2`, 'ip: VIP added', 'nft: table installed',
      'nft: table removed', 'ip: VIP removed', `sysctl: ${SYSCTL}=0`,
    ]);
    expect(h.packets.state).toBe('closed');
    expect(h.dp.inspect().installed).toBe(false);
  });

  it('the VIP cannot be added: the sysctl already written is written back', async () => {
    const h = journaled({ addAddress: true });
    await expect(startDaemon(h.cfg, h.ports, log)).rejects.toThrow(/EPERM/);
    expect(h.journal).toEqual([`sysctl: ${SYSCTL}=2`, `sysctl: ${SYSCTL}=0`]);
    expect(h.sysctl.values.get(SYSCTL)).toBe('0');
  });

  it('prepareHost alone is all or nothing (a sysctl that cannot be written changes nothing)', async () => {
    const h = journaled({ sysctlWrite: true });
    await expect(prepareHost(h.ports, 'eth0', '10.0.0.1')).rejects.toThrow(/read-only/);
    expect(h.journal).toEqual([]);
    expect(h.addresses.size).toBe(0);
  });

  it('a failure after the daemon is up stops it with reason error: buckets not handed over, every change removed, the cause named', async () => {
    const h = journaled();
    const order: string[] = [];
    const err = await launch({
      preflight: () => preflight(nativeNeeds(h.cfg, {}), missing('realtime')),
      onDegraded: (r) => order.push(`degraded: ${r.degraded.map((d) => d.module).join()}`),
      start: async () => {
        const d = await startDaemon(h.cfg, h.ports, log);
        order.push('started');
        return { ...d, stop: async (reason: 'error') => { order.push(`stop ${reason}`); await d.stop(reason); } };
      },
      afterStart: () => { order.push('afterStart'); return Promise.reject(new VmacError('VMAC_RT_UNAVAILABLE', 'the realtime shim is not built')); },
    }).catch((e: unknown) => e);
    expect(order).toEqual(['degraded: realtime', 'started', 'afterStart', 'stop error']);
    expect(isVmacError(err, 'VMAC_START_FAILED')).toBe(true);
    expect((err as Error).message).toBe('start-up failed after the data path was up (VMAC_RT_UNAVAILABLE: the realtime shim is not built); every kernel change was removed');
    expect(h.journal).toEqual([
      `sysctl: ${SYSCTL}=2`, 'ip: VIP added', 'nft: table installed',
      'nft: table removed', 'ip: VIP removed', `sysctl: ${SYSCTL}=0`,
    ]);
  });

  it('negative control: without the clean-up in launch, the failure after start would leave the table, VIP and sysctl', async () => {
    const h = journaled();
    const d = await startDaemon(h.cfg, h.ports, log);
    expect(h.dp.inspect().installed).toBe(true);
    expect(h.addresses.size).toBe(1);
    expect(h.sysctl.values.get(SYSCTL)).toBe('2');
    await d.stop('error');
  });
});
