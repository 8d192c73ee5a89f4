/** The daemon end to end on fakes and a fake clock: start, ARP, lease renewal, stop, failure. */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import { startDaemon, type DaemonPorts } from '../../../src/daemon/node-daemon.js';
import { fakeClock } from '../../../src/util/clock.js';
import { fakeDataPath } from '../../../src/vmac/fake-datapath.js';
import { fakeSysctl } from '../../../src/vmac/sysctl.js';
import { createFakePacketPort, type FakePacketPort } from '../../../src/arp/fake-packet-port.js';
import { arpRequest, decodeArpFrame } from '../../../src/arp/arp-frame.js';
import { bucketOf } from '../../../src/hash/bucket-of.js';
import { ownerOf } from '../../../src/hash/bucket-map.js';
import { staticMap } from '../../../src/daemon/ownership.js';
import type { AddressPort } from '../../../src/vmac/host-setup.js';
import { VmacError } from '../../../src/util/errors.js';

const YAML = `
service: web
interface: eth0
vip: 10.0.0.1
hash: { seed: 0x1234 }
node: { id: 1, name: n1 }
peers:
  - { id: 2, name: n2, address: 10.0.0.12 }
  - { id: 3, name: n3, address: 10.0.0.13 }
`;
const REAL_MAC = '02:00:00:00:00:11';

function harness() {
  const cfg = parseConfig(YAML, 'web.yaml');
  const clock = fakeClock();
  const dp = fakeDataPath(() => clock.nowMs());
  const addresses = new Set<string>();
  const rtnl: AddressPort = {
    getLink: (name) => Promise.resolve({ index: 2, name, mac: REAL_MAC, up: true }),
    addAddress: (_i, bytes) => { const k = bytes.join('.'); const had = addresses.has(k); addresses.add(k); return Promise.resolve(had ? 'already-present' : 'added'); },
    deleteAddress: (_i, bytes) => Promise.resolve(addresses.delete(bytes.join('.')) ? 'deleted' : 'already-absent'),
  };
  const sysctl = fakeSysctl({ 'net.ipv4.conf.eth0.arp_announce': '0' });
  let packets: FakePacketPort | undefined;
  const ports: DaemonPorts = {
    dataPath: () => dp,
    rtnl,
    sysctl,
    openPacketPort: () => (packets = createFakePacketPort()),
    clock,
  };
  const log = pino({ level: 'silent' });
  return { cfg, clock, dp, addresses, sysctl, ports, log, packets: () => packets! };
}

/** A client address whose bucket is owned (or not) by node 1. */
function clientOwnedBy(cfg: ReturnType<typeof harness>['cfg'], wantOwner: boolean): string {
  const map = staticMap(cfg);
  for (let i = 1; i < 255; i++) {
    const addr = `10.0.1.${i}`;
    if ((ownerOf(map, bucketOf({ addr }, cfg.hash, cfg.buckets)) === 1) === wantOwner) return addr;
  }
  throw new Error('no such client');
}

describe('node daemon on fakes', () => {
  it('brings up the VIP, sysctls, filter and lease; announces; answers only its own clients', async () => {
    const h = harness();
    const d = await startDaemon(h.cfg, h.ports, h.log);
    expect(h.addresses.has('10.0.0.1')).toBe(true);
    expect(h.sysctl.values.get('net.ipv4.conf.eth0.arp_announce')).toBe('2');
    const st = h.dp.inspect();
    expect(st.owned.length).toBeGreaterThanOrEqual(85);
    expect(st.owned.length).toBeLessThanOrEqual(86);
    expect(st.leaseRemainingMs).toBe(h.cfg.timing.leaseMs);
    // Gratuitous ARP burst: every frame from the real MAC, announcing the VMAC.
    h.clock.advance(h.cfg.arp.garpIntervalMs * h.cfg.arp.garpCount);
    const garps = h.packets().sent.map((f) => decodeArpFrame(f));
    expect(garps.length).toBe(h.cfg.arp.garpCount);
    for (const g of garps) expect(g).toMatchObject({ ok: true, frame: { ethSrc: REAL_MAC, senderMac: h.cfg.vmac, senderIp: '10.0.0.1', targetIp: '10.0.0.1' } });
    h.packets().clearSent();

    const mine = clientOwnedBy(h.cfg, true);
    const theirs = clientOwnedBy(h.cfg, false);
    h.packets().inject(arpRequest({ ethSrc: '02:00:00:00:99:01', senderMac: '02:00:00:00:99:01', senderIp: theirs, targetIp: '10.0.0.1' }));
    expect(h.packets().sent).toHaveLength(0);
    h.packets().inject(arpRequest({ ethSrc: '02:00:00:00:99:02', senderMac: '02:00:00:00:99:02', senderIp: mine, targetIp: '10.0.0.1' }));
    const [reply] = h.packets().sent.map((f) => decodeArpFrame(f));
    expect(reply).toMatchObject({ ok: true, frame: { op: 'reply', ethSrc: REAL_MAC, ethDst: '02:00:00:00:99:02', senderMac: h.cfg.vmac, senderIp: '10.0.0.1', targetIp: mine } });
    expect(d.status().arp).toMatchObject({ answered: 1, 'not-owner': 1 });
    await d.stop('request');
  });

  it('renews the lease so it never runs out while the daemon runs', async () => {
    const h = harness();
    const d = await startDaemon(h.cfg, h.ports, h.log);
    for (let t = 0; t < 10_000; t += 10) {
      h.clock.advance(10);
      expect(h.dp.inspect().leaseRemainingMs).not.toBeNull();
    }
    expect(d.status().lease).toMatchObject({ gaps: 0, failures: 0 });
    expect(d.status().lease.renewals).toBeGreaterThanOrEqual(10_000 / h.cfg.timing.renewMs - 1);
    await d.stop('request');
  });

  it('stop removes the filter, the VIP and restores sysctls', async () => {
    const h = harness();
    const d = await startDaemon(h.cfg, h.ports, h.log);
    await d.stop('signal');
    expect(h.dp.inspect().installed).toBe(false);
    expect(h.addresses.size).toBe(0);
    expect(h.sysctl.values.get('net.ipv4.conf.eth0.arp_announce')).toBe('0');
    expect(h.packets().state).toBe('closed');
    expect(h.clock.pending()).toBe(0);
  });

  it('a failure during start undoes what was done and reports the error', async () => {
    const h = harness();
    h.dp.failNext('Operation not permitted');
    await expect(startDaemon(h.cfg, h.ports, h.log)).rejects.toBeInstanceOf(VmacError);
    expect(h.addresses.size).toBe(0);
    expect(h.sysctl.values.get('net.ipv4.conf.eth0.arp_announce')).toBe('0');
    expect(h.dp.inspect().installed).toBe(false);
  });
});
