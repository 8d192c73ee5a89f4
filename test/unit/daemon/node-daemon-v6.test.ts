/** Dual stack on fakes: VIP6 on lo without DAD, solicited-node membership, ND answered by the owner only, NA in the bursts, all undone at stop. */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import { startDaemon } from '../../../src/daemon/node-daemon.js';
import { fakeClock } from '../../../src/util/clock.js';
import { fakeDataPath } from '../../../src/vmac/fake-datapath.js';
import { fakeSysctl } from '../../../src/vmac/sysctl.js';
import { createFakePacketPort, type FakePacketPort } from '../../../src/arp/fake-packet-port.js';
import { decodeNdFrame, neighborSolicit } from '../../../src/arp/nd-frame.js';
import { bucketOf } from '../../../src/hash/bucket-of.js';
import { ownerOf } from '../../../src/hash/bucket-map.js';
import { staticMap } from '../../../src/daemon/ownership.js';
import { createFakeNetwork } from '../../../src/cluster/fake-transport.js';
import { isVmacError } from '../../../src/util/errors.js';
import { fakeNodePorts } from './fake-ports.js';

const VIP6 = 'fd00:200::1';
const yamlFor = (id: number): string => `
service: web
interface: eth0
vip: 10.0.0.1
vip6: ${VIP6}
hash: { seed: 0x1234, affinity: network, prefixLength6: 112 }
node: { id: ${id}, name: n${id}, address: 10.0.0.1${id} }
peers:
${[1, 2, 3].filter((x) => x !== id).map((x) => `  - { id: ${x}, name: n${x}, address: 10.0.0.1${x} }`).join('\n')}
heartbeat: { keyFile: /etc/vmac/web.key }
`;
const SYSCTLS = { 'net.ipv4.conf.eth0.arp_announce': '0', 'net.ipv6.conf.eth0.disable_ipv6': '0', 'net.ipv6.conf.lo.disable_ipv6': '0' };

function harness(sysctls: Record<string, string> = SYSCTLS) {
  const clock = fakeClock();
  const net = createFakeNetwork(clock);
  const log = pino({ level: 'silent' });
  const added: { link: string; addr: string; prefix: number }[] = [];
  const removed: string[] = [];
  const joined: { ifname: string; group: string; left: boolean }[] = [];
  let packets: FakePacketPort | undefined;
  const dp = fakeDataPath(() => clock.nowMs());
  const ports = {
    ...fakeNodePorts(1, clock, net, dp),
    rtnl: {
      getLink: (name: string) => Promise.resolve({ index: name === 'lo' ? 1 : 2, name, mac: '02:00:00:00:00:11', up: true }),
      addAddress: (i: number, bytes: Uint8Array, prefix: number) => { added.push({ link: i === 1 ? 'lo' : 'eth0', addr: Array.from(bytes).join('.'), prefix }); return Promise.resolve('added' as const); },
      deleteAddress: (i: number, bytes: Uint8Array) => { removed.push(`${i === 1 ? 'lo' : 'eth0'} ${Array.from(bytes).join('.')}`); return Promise.resolve('deleted' as const); },
    },
    sysctl: fakeSysctl(sysctls),
    openPacketPort: () => (packets = createFakePacketPort()),
    joinGroup6: (ifname: string, group: string) => { const j = { ifname, group, left: false }; joined.push(j); return Promise.resolve({ group, leave: () => { j.left = true; } }); },
  };
  const peers = [2, 3].map((id) => ({ cfg: parseConfig(yamlFor(id), `web${id}.yaml`), ports: fakeNodePorts(id, clock, net, fakeDataPath(() => clock.nowMs()), { sysctl: fakeSysctl(SYSCTLS) }) }));
  return { cfg: parseConfig(yamlFor(1), 'web.yaml'), clock, ports, log, added, removed, joined, packets: () => packets!, startPeers: () => Promise.all(peers.map((p) => startDaemon(p.cfg, p.ports, log))) };
}

describe('node daemon, dual stack, on fakes', () => {
  it('binds the VIP6 on lo, joins its solicited-node group, answers ND for its own clients only, announces with NAs, undoes it all', async () => {
    const h = harness();
    const d = await startDaemon(h.cfg, h.ports, h.log);
    expect(h.added).toContainEqual({ link: 'lo', addr: '253.0.2.0.0.0.0.0.0.0.0.0.0.0.0.1', prefix: 128 });
    expect(h.added).toContainEqual({ link: 'eth0', addr: '10.0.0.1', prefix: 32 });
    expect(h.joined).toEqual([{ ifname: 'eth0', group: 'ff02::1:ff00:1', left: false }]);
    await h.startPeers();
    h.clock.advance(200 + h.cfg.arp.garpIntervalMs * h.cfg.arp.garpCount);
    const nas = h.packets().sent.map((f) => decodeNdFrame(f)).filter((x) => x.ok);
    expect(nas.length).toBe(h.cfg.arp.garpCount);
    for (const na of nas) expect(na).toMatchObject({ ok: true, frame: { kind: 'advertisement', target: VIP6, lladdr: h.cfg.vmac, flags: 0x20, dstIp: 'ff02::1' } });
    h.packets().clearSent();

    // /112 network affinity: clients of one /112 share a bucket.
    const map = staticMap(h.cfg);
    const client = (mine: boolean): string => {
      for (let i = 1; i < 500; i++) {
        const addr = `fd00:300::${i.toString(16)}:1`;
        if ((ownerOf(map, bucketOf({ addr }, h.cfg.hash, h.cfg.buckets)) === 1) === mine) return addr;
      }
      throw new Error('no client');
    };
    h.packets().inject(neighborSolicit({ ethSrc: '02:00:00:00:99:01', srcIp: client(false), target: VIP6 }));
    expect(h.packets().sent).toHaveLength(0);
    const mine = client(true);
    h.packets().inject(neighborSolicit({ ethSrc: '02:00:00:00:99:02', srcIp: mine, target: VIP6 }));
    const [reply] = h.packets().sent.map((f) => decodeNdFrame(f));
    expect(reply).toMatchObject({ ok: true, frame: { kind: 'advertisement', ethSrc: '02:00:00:00:00:11', ethDst: '02:00:00:00:99:02', srcIp: VIP6, dstIp: mine, target: VIP6, lladdr: h.cfg.vmac, flags: 0x60 } });
    expect(d.status()).toMatchObject({ vip6: VIP6, nd: { answered: 1, 'not-owner': 1 } });

    const stopped = d.stop('request');
    h.clock.advance(2000);
    await stopped;
    expect(h.removed).toContain('lo 253.0.2.0.0.0.0.0.0.0.0.0.0.0.0.1');
    expect(h.joined[0]?.left).toBe(true);
  });

  it('refuses to start with IPv6 disabled on the interface, changing nothing', async () => {
    const h = harness({ ...SYSCTLS, 'net.ipv6.conf.eth0.disable_ipv6': '1' });
    const err: unknown = await startDaemon(h.cfg, h.ports, h.log).catch((e: unknown) => e);
    expect(isVmacError(err, 'VMAC_IPV6_DISABLED')).toBe(true);
    expect(h.added).toEqual([]);
    expect(h.ports.sysctl.read('net.ipv4.conf.eth0.arp_announce')).toBe('0');
  });
});
