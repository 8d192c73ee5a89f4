/** The ports of a daemon on fakes: one fake network and one fake clock shared by every node. */
import type { DaemonPorts } from '../../../src/daemon/node-daemon.js';
import type { FakeClock } from '../../../src/util/clock.js';
import { fakeSysctl } from '../../../src/vmac/sysctl.js';
import { createFakePacketPort } from '../../../src/arp/fake-packet-port.js';
import type { createFakeNetwork } from '../../../src/cluster/fake-transport.js';
import type { DataPathPort } from '../../../src/vmac/datapath-port.js';

export const FAKE_KEY = new Uint8Array(32).fill(9);

/** Node `id`'s ports: real MAC 02:00:00:00:00:1<id>, addresses always added, arp_announce 0. */
export function fakeNodePorts(id: number, clock: FakeClock, net: ReturnType<typeof createFakeNetwork>, dp: DataPathPort, extra: Partial<DaemonPorts> = {}): DaemonPorts {
  return {
    dataPath: () => dp,
    rtnl: { getLink: (name) => Promise.resolve({ index: 2, name, mac: `02:00:00:00:00:1${id}`, up: true }), addAddress: () => Promise.resolve('added'), deleteAddress: () => Promise.resolve('deleted') },
    sysctl: fakeSysctl({ 'net.ipv4.conf.eth0.arp_announce': '0' }),
    openPacketPort: () => createFakePacketPort(),
    openTransport: (addresses) => Promise.resolve(net.attach(addresses)),
    loadKey: () => FAKE_KEY,
    clock,
    incarnation: BigInt(id),
    ...extra,
  };
}

/** The service file of node `id` of a 3-node cluster on 10.0.0.0/24 (60 buckets), plus `extra` YAML. */
export function threeNodeYaml(id: number, extra = ''): string {
  return `
service: web
interface: eth0
vip: 10.0.0.1
buckets: 60
hash: { seed: 0x1234 }
node: { id: ${id}, name: n${id}, address: 10.0.0.1${id} }
peers:
${[1, 2, 3].filter((x) => x !== id).map((x) => `  - { id: ${x}, name: n${x}, address: 10.0.0.1${x} }`).join('\n')}
heartbeat: { keyFile: /etc/vmac/web.key }
${extra}`;
}
