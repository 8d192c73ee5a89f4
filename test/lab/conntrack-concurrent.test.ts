/**
 * Two ctnetlink dumps at once on one socket: the daemon's TCP reading (drain poll) and the
 * per-flow UDP hand-over's flow list run independently, each on the libuv pool, on the same
 * netlink socket. Each must get every entry of its own protocol (a UDP flow list silently short
 * of flows ends a drain while those flows still send: QUIC connections die of stateless resets).
 */
import { afterAll, expect, it } from 'vitest';
import { run } from '../../lab/exec.js';
import { IPPROTO_TCP, IPPROTO_UDP, openConntrack } from '../../native-shims/conntrack.js';
import { deleteNamespaces, expectNoNamespacesLeft, uniqueLabName } from './support.js';

const prefix = uniqueLabName('cc');
const VIP = '10.77.0.1';
const N = 3000;

it(`concurrent TCP and UDP dumps on one socket each return all ${N} entries of their protocol`, async () => {
  const ns = `${prefix}-1`;
  await run('ip', ['netns', 'add', ns]);
  const sock = openConntrack(`/run/netns/${ns}`);
  try {
    const entries = (proto: number): { saddr: string; sport: number; dport: number; proto: number; tcpState?: 'ESTABLISHED' }[] =>
      Array.from({ length: N }, (_, i) => ({ saddr: `10.78.${Math.floor(i / 250)}.${(i % 250) + 1}`, sport: 20000 + (i % 1000), dport: 443, proto, ...(proto === IPPROTO_TCP ? { tcpState: 'ESTABLISHED' as const } : {}) }));
    sock.insert(VIP, entries(IPPROTO_TCP), 60);
    sock.insert(VIP, entries(IPPROTO_UDP), 60);
    // One at a time, the dumps see every entry.
    expect((await sock.dump(VIP, IPPROTO_TCP)).length).toBe(N);
    expect((await sock.dump(VIP, IPPROTO_UDP)).length).toBe(N);
    const failures: string[] = [];
    for (let round = 0; round < 40; round++) {
      const [tcp, udp] = await Promise.allSettled([sock.dump(VIP, IPPROTO_TCP), sock.dump(VIP, IPPROTO_UDP)]);
      if (tcp.status === 'rejected') failures.push(`round ${round} tcp: ${(tcp.reason as Error).message}`);
      else if (tcp.value.length !== N) failures.push(`round ${round} tcp: ${tcp.value.length} entries`);
      if (udp.status === 'rejected') failures.push(`round ${round} udp: ${(udp.reason as Error).message}`);
      else if (udp.value.length !== N) failures.push(`round ${round} udp: ${udp.value.length} entries`);
    }
    expect(failures).toEqual([]);
  } finally {
    sock.close();
    await deleteNamespaces(ns);
  }
}, 120_000);

afterAll(() => expectNoNamespacesLeft(prefix));
