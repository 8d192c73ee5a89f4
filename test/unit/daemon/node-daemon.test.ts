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
import { createFakeNetwork } from '../../../src/cluster/fake-transport.js';
import { FAKE_KEY as KEY, fakeNodePorts } from './fake-ports.js';

const yamlFor = (id: number): string => `
service: web
interface: eth0
vip: 10.0.0.1
hash: { seed: 0x1234 }
node: { id: ${id}, name: n${id}, address: 10.0.0.1${id} }
peers:
${[1, 2, 3].filter((x) => x !== id).map((x) => `  - { id: ${x}, name: n${x}, address: 10.0.0.1${x} }`).join('\n')}
heartbeat: { keyFile: /etc/vmac/web.key }
`;
const REAL_MAC = '02:00:00:00:00:11';

/** Node 1 under test, with nodes 2 and 3 as real daemons on the same fake network and clock. */
function harness() {
  const clock = fakeClock();
  const net = createFakeNetwork(clock);
  const peers = [2, 3].map((id) => {
    const pcfg = parseConfig(yamlFor(id), `web${id}.yaml`);
    const pdp = fakeDataPath(() => clock.nowMs());
    const ports = fakeNodePorts(id, clock, net, pdp);
    return { cfg: pcfg, ports, dp: pdp };
  });
  const cfg = parseConfig(yamlFor(1), 'web.yaml');
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
    openTransport: (addresses) => Promise.resolve(net.attach(addresses)),
    loadKey: () => KEY,
    clock,
    incarnation: 1n,
  };
  const log = pino({ level: 'silent' });
  const startPeers = () => Promise.all(peers.map((p) => startDaemon(p.cfg, p.ports, log)));
  return { cfg, clock, dp, addresses, sysctl, ports, log, peers, startPeers, packets: () => packets! };
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
    // Alone, the node has no quorum: its buckets are installed but nothing is answered.
    h.clock.advance(1000);
    expect(h.dp.inspect().leaseRemainingMs).toBeNull();
    expect(h.packets().sent).toHaveLength(0);
    await h.startPeers();
    h.clock.advance(200);
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
    const stopped = d.stop('request');
    h.clock.advance(1000);
    await stopped;
  });

  it('renews the lease so it never runs out while the cluster runs', async () => {
    const h = harness();
    const d = await startDaemon(h.cfg, h.ports, h.log);
    await h.startPeers();
    h.clock.advance(500);
    for (let t = 0; t < 10_000; t += 5) {
      h.clock.advance(5);
      expect(h.dp.inspect().leaseRemainingMs).not.toBeNull();
    }
    expect(d.status().cluster).toMatchObject({ quorum: { has: true, lease: 'renew' }, self: { state: 'active' } });
    expect(d.status().cluster.heartbeats.received['bad-mac']).toBe(0);
  });

  it('stop hands the buckets over, then removes the filter, the VIP and restores sysctls', async () => {
    const h = harness();
    const d = await startDaemon(h.cfg, h.ports, h.log);
    await h.startPeers();
    h.clock.advance(500);
    const mine = h.dp.inspect().owned;
    const stopped = d.stop('signal');
    // The leave completes once both peers report they took our buckets (a few heartbeats).
    for (let i = 0; i < 100; i++) h.clock.advance(10);
    await stopped;
    const taken = new Set([...h.peers[0]!.dp.inspect().owned, ...h.peers[1]!.dp.inspect().owned]);
    for (const b of mine) expect(taken.has(b)).toBe(true);
    expect(h.dp.inspect().installed).toBe(false);
    expect(h.addresses.size).toBe(0);
    expect(h.sysctl.values.get('net.ipv4.conf.eth0.arp_announce')).toBe('0');
    expect(h.packets().state).toBe('closed');
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
