/** The conntrack contract against the kernel: the ctnetlink shim in a namespace this test makes. */
import { afterAll } from 'vitest';
import { run } from '../../lab/exec.js';
import { IPPROTO_TCP, IPPROTO_UDP, openConntrack } from '../../native-shims/conntrack.js';
import { conntrackNetlink } from '../../src/takeover/conntrack-netlink.js';
import { conntrackContract, CT_BUCKETS, CT_HASH, CT_VIP } from '../contract/conntrack.contract.js';
import { deleteNamespaces, expectNoNamespacesLeft, uniqueLabName } from './support.js';

const prefix = uniqueLabName('ct');
let n = 0;

conntrackContract('ctnetlink in a namespace', async () => {
  const ns = `${prefix}-${++n}`;
  await run('ip', ['netns', 'add', ns]);
  const sock = openConntrack(`/run/netns/${ns}`);
  const port = conntrackNetlink(CT_VIP, CT_HASH, CT_BUCKETS, { socket: sock });
  return {
    port,
    add(seeds) {
      // Created entries are unreplied: UDP ones live nf_conntrack_udp_timeout (30 s) from now.
      for (const vip of new Set(seeds.map((x) => x.vip))) {
        const mine = seeds.filter((x) => x.vip === vip);
        sock.insert(vip, mine.map((x) => ({ saddr: x.saddr, sport: x.sport, dport: x.dport, proto: x.proto === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP, ...(x.tcpState ? { tcpState: x.tcpState } : {}) })), 30);
      }
    },
    async cleanup() {
      sock.close();
      await deleteNamespaces(ns);
    },
  };
});

afterAll(() => expectNoNamespacesLeft(prefix));
