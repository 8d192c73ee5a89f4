/**
 * An IPv6-only service on fakes: no IPv4 VIP, no arp_announce, no ARP responder (ARP requests go
 * unanswered and uncounted), the VIP6 on lo, ND answered by the owner, NAs alone in the bursts,
 * everything undone at stop.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import { startDaemon } from '../../../src/daemon/node-daemon.js';
import { fakeClock } from '../../../src/util/clock.js';
import { fakeDataPath } from '../../../src/vmac/fake-datapath.js';
import { fakeSysctl } from '../../../src/vmac/sysctl.js';
import { createFakePacketPort, type FakePacketPort } from '../../../src/arp/fake-packet-port.js';
import { decodeNdFrame, neighborSolicit } from '../../../src/arp/nd-frame.js';
import { arpRequest, decodeArpFrame } from '../../../src/arp/arp-frame.js';
import { bucketOf } from '../../../src/hash/bucket-of.js';
import { ownerOf } from '../../../src/hash/bucket-map.js';
import { staticMap } from '../../../src/daemon/ownership.js';
import { createFakeNetwork } from '../../../src/cluster/fake-transport.js';
import { arpCaptureFilter } from '../../../src/cli/cmd-run.js';
import { fakeNodePorts } from './fake-ports.js';

const VIP6 = 'fd00:200::1';
const yamlFor = (id: number): string => `
service: web
interface: eth0
vip6: ${VIP6}
hash: { seed: 0x1234 }
node: { id: ${id}, name: n${id}, address: 10.0.0.1${id} }
peers:
${[1, 2, 3].filter((x) => x !== id).map((x) => `  - { id: ${x}, name: n${x}, address: 10.0.0.1${x} }`).join('\n')}
heartbeat: { keyFile: /etc/vmac/web.key }
`;
const SYSCTLS = { 'net.ipv4.conf.eth0.arp_announce': '0', 'net.ipv6.conf.eth0.disable_ipv6': '0', 'net.ipv6.conf.lo.disable_ipv6': '0' };

describe('node daemon, IPv6 only, on fakes', () => {
  it('binds only the VIP6, never touches arp_announce, answers ND (not ARP), announces with NAs alone, undoes it all', async () => {
    const clock = fakeClock();
    const net = createFakeNetwork(clock);
    const log = pino({ level: 'silent' });
    const added: string[] = [];
    const removed: string[] = [];
    let packets: FakePacketPort | undefined;
    const sysctl = fakeSysctl(SYSCTLS);
    const ports = {
      ...fakeNodePorts(1, clock, net, fakeDataPath(() => clock.nowMs())),
      rtnl: {
        getLink: (name: string) => Promise.resolve({ index: name === 'lo' ? 1 : 2, name, mac: '02:00:00:00:00:11', up: true }),
        addAddress: (i: number, b: Uint8Array, prefix: number) => { added.push(`${i === 1 ? 'lo' : 'eth0'} ${b.length}/${prefix}`); return Promise.resolve('added' as const); },
        deleteAddress: (i: number, b: Uint8Array, prefix: number) => { removed.push(`${i === 1 ? 'lo' : 'eth0'} ${b.length}/${prefix}`); return Promise.resolve('deleted' as const); },
      },
      sysctl,
      openPacketPort: () => (packets = createFakePacketPort()),
      joinGroup6: (_ifname: string, group: string) => Promise.resolve({ group, leave: () => undefined }),
    };
    const cfg = parseConfig(yamlFor(1), 'web.yaml');
    const d = await startDaemon(cfg, ports, log);
    expect(added).toEqual(['lo 16/128']);
    expect(sysctl.read('net.ipv4.conf.eth0.arp_announce')).toBe('0');
    const peers = [2, 3].map((id) => startDaemon(parseConfig(yamlFor(id), `web${id}.yaml`), fakeNodePorts(id, clock, net, fakeDataPath(() => clock.nowMs()), { sysctl: fakeSysctl(SYSCTLS) }), log));
    await Promise.all(peers);
    clock.advance(200 + cfg.arp.garpIntervalMs * cfg.arp.garpCount);
    const port = packets!;
    // Bursts: unsolicited NAs only, no gratuitous ARP.
    expect(port.sent.filter((f) => decodeArpFrame(f).ok)).toEqual([]);
    expect(port.sent.filter((f) => decodeNdFrame(f).ok).length).toBe(cfg.arp.garpCount);
    port.clearSent();

    const map = staticMap(cfg);
    let mine = '';
    for (let i = 1; i < 500 && mine === ''; i++) {
      const addr = `fd00:300::${i.toString(16)}`;
      if (ownerOf(map, bucketOf({ addr }, cfg.hash, cfg.buckets)) === 1) mine = addr;
    }
    port.inject(neighborSolicit({ ethSrc: '02:00:00:00:99:02', srcIp: mine, target: VIP6 }));
    port.inject(arpRequest({ ethSrc: '02:00:00:00:99:03', senderMac: '02:00:00:00:99:03', senderIp: '10.0.0.77', targetIp: '10.0.0.1' }));
    expect(port.sent.map((f) => decodeNdFrame(f))).toMatchObject([{ ok: true, frame: { kind: 'advertisement', target: VIP6, lladdr: cfg.vmac } }]);
    const s = d.status();
    expect(s.vip).toBeNull();
    expect(s.nd?.answered).toBe(1);
    expect(Object.values(s.arp).reduce((a, b) => a + b, 0)).toBe(0);

    const stopped = d.stop('request');
    clock.advance(2000);
    await stopped;
    expect(removed).toEqual(['lo 16/128']);
  });

  it('captures ND for the VIP6 and no ARP', () => {
    const f = arpCaptureFilter(null, VIP6);
    expect(f).not.toMatch(/arp/);
    expect(f).toMatch(/^ip6 and ip6\[6\] == 58 /);
  });
});
