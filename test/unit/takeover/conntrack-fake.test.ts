import { conntrackContract, CT_BUCKETS, CT_HASH, CT_VIP, type ConntrackSubject } from '../../contract/conntrack.contract.js';
import { fakeConntrack, type FakeCtEntry } from '../../../src/takeover/conntrack-port.js';
import { bucketOf } from '../../../src/hash/bucket-of.js';

conntrackContract('fake', () => {
  const entries: FakeCtEntry[] = [];
  const now = 1_000_000;
  const port = fakeConntrack({ vip: CT_VIP, entries: () => entries, bucketOf: (addr) => bucketOf({ addr }, CT_HASH, CT_BUCKETS), nowMs: () => now });
  const s: ConntrackSubject = {
    port,
    add(seeds) {
      for (const x of seeds) entries.push(x.proto === 'tcp' ? { proto: 'tcp', vip: x.vip, saddr: x.saddr, sport: x.sport, dport: x.dport, state: x.tcpState ?? 'ESTABLISHED' } : { proto: 'udp', vip: x.vip, saddr: x.saddr, sport: x.sport, dport: x.dport, lastSeenMs: now });
    },
    cleanup: () => undefined,
  };
  return Promise.resolve(s);
});
