/**
 * ND steering for arp-steer (issue 17): the IPv6 twin of the ARP steering in steer.test.ts.
 * Each node answers an NS for the VIP6 with its own MAC (only for solicitors of its own buckets,
 * by the shared policy callback), another node's NA is a peer's and not a conflict, and on gained
 * buckets the node sends each known IPv6 client of them a directed NA with the Override flag.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createFakePacketPort } from '../../../src/arp/fake-packet-port.js';
import { arpRequest } from '../../../src/arp/arp-frame.js';
import { decodeNdFrame, NA_FLAG_OVERRIDE, NA_FLAG_SOLICITED, neighborAdvert, neighborSolicit, unsolicitedNa } from '../../../src/arp/nd-frame.js';
import { classifyNdFrame, createNdResponder, validateNdIdentity } from '../../../src/arp/nd-responder.js';
import { createSteerAnnouncer, directedNa } from '../../../src/modes/steer-announcer.js';
import { isLinkLocal6, parseNeighJson } from '../../../src/modes/steer-clients.js';
import { parseConfig } from '../../../src/config/load.js';
import { createFakeScheduler } from '../arp/fake-scheduler.js';

const VIP = '192.0.2.10';
const VIP6 = 'fd00:200::1';
const ME = '52:54:00:aa:bb:01';
const PEER = '52:54:00:aa:bb:02';
const log = pino({ level: 'silent' });
const mac = (i: number): string => `52:54:00:00:00:${i.toString(16).padStart(2, '0')}`;
const ip6 = (i: number): string => `fd00:200::1:${i.toString(16)}`;
const ns = (i: number): Uint8Array => neighborSolicit({ ethSrc: mac(i), srcIp: ip6(i), target: VIP6 });
const decoded = (f: Uint8Array): string => {
  const d = decodeNdFrame(f);
  return d.ok ? `${d.frame.kind} ${d.frame.ethSrc}>${d.frame.ethDst} ${d.frame.srcIp}>${d.frame.dstIp} ${d.frame.target} is-at ${d.frame.lladdr ?? ''} flags ${d.frame.flags}` : `bad ${d.reason}`;
};

describe('ND answers in arp-steer', () => {
  it('answers an NS with the node\'s own MAC as target link-layer address, only for its own solicitors', () => {
    const port = createFakePacketPort();
    // bucket owner: odd clients are ours
    const r = createNdResponder({ port, vip6: VIP6, vmac: ME, realMac: ME, steer: true, decide: (src) => (parseInt(src.split(':').pop() ?? '0', 16) % 2 === 1 ? 'answer' : 'not-owner'), log });
    for (const i of [1, 2, 3, 4]) port.inject(ns(i));
    expect(port.sent.map(decoded)).toEqual([1, 3].map((i) => `advertisement ${ME}>${mac(i)} ${VIP6}>${ip6(i)} ${VIP6} is-at ${ME} flags ${NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE}`));
    expect(r.stats()['not-owner']).toBe(2);
    r.close();
  });

  it('another node\'s NA for the VIP6 with its own MAC is a peer, not a conflict; without steer it is a conflict', () => {
    const peerNa = neighborAdvert({ ethSrc: PEER, ethDst: mac(1), srcIp: VIP6, dstIp: ip6(1), target: VIP6, targetMac: PEER, flags: NA_FLAG_OVERRIDE });
    expect(classifyNdFrame(peerNa, validateNdIdentity({ vip6: VIP6, vmac: ME, realMac: ME, steer: true }))).toMatchObject({ kind: 'drop', reason: 'advertisement' });
    expect(classifyNdFrame(peerNa, validateNdIdentity({ vip6: VIP6, vmac: '02:bf:0a:c8:00:01', realMac: ME }))).toMatchObject({ kind: 'drop', reason: 'vip-conflict' });
    // Own MAC as the VMAC only with steer; and with steer only the own MAC.
    expect(() => validateNdIdentity({ vip6: VIP6, vmac: ME, realMac: ME })).toThrow(/VMAC must never be an Ethernet source/);
    expect(() => validateNdIdentity({ vip6: VIP6, vmac: '02:bf:0a:c8:00:01', realMac: ME, steer: true })).toThrow(/own MAC/);
  });
});

describe('directed NA on gained buckets', () => {
  it('is an unsolicited NA with Override, unicast to the client, VIP6 is-at our MAC', () => {
    expect(decoded(directedNa({ realMac: ME, vip6: VIP6 }, { ip: ip6(7), mac: mac(7) }))).toBe(`advertisement ${ME}>${mac(7)} ${VIP6}>${ip6(7)} ${VIP6} is-at ${ME} flags ${NA_FLAG_OVERRIDE}`);
  });

  it('sends each known client of the gained buckets its own family\'s announcement; NS and the neighbour table both teach clients', async () => {
    const port = createFakePacketPort();
    const sch = createFakeScheduler();
    const neigh = JSON.stringify([
      { dst: ip6(0x20), lladdr: mac(0x20), state: ['STALE'] }, // bucket 0, from the table only
      { dst: 'fe80::5054:ff:fe00:22', lladdr: mac(0x22), state: ['REACHABLE'] }, // link-local: not a client
      { dst: VIP6, lladdr: PEER, state: ['REACHABLE'] },
    ]);
    // bucket = last hex group mod 2 (IPv6) or last byte mod 2 (IPv4)
    const bucketOf = (ip: string): number => (ip.includes(':') ? parseInt(ip.split(':').pop() ?? '0', 16) : Number(ip.split('.')[3])) % 2;
    const a = createSteerAnnouncer({ port, vip: VIP, vip6: VIP6, realMac: ME, bucketOf, count: 2, intervalMs: 100, schedule: sch.schedule, log, readNeighbours: () => Promise.resolve(neigh) });
    for (const i of [1, 2, 3, 4]) port.inject(ns(i));
    port.inject(arpRequest({ ethSrc: mac(0x10), senderMac: mac(0x10), senderIp: '192.0.2.16', targetIp: VIP }));
    port.inject(neighborSolicit({ ethSrc: mac(0x12), srcIp: 'fd00:200::12', target: VIP6 }));
    port.inject(neighborSolicit({ ethSrc: mac(8), srcIp: 'fe80::8', target: VIP6 })); // link-local solicitor: not learned
    port.inject(neighborSolicit({ ethSrc: mac(9), srcIp: '::', target: VIP6 })); // DAD: not a client
    port.inject(neighborSolicit({ ethSrc: mac(6), srcIp: ip6(6), target: 'fd00:200::99' })); // for another address
    a.gained([0]);
    const first = port.sent.map((f) => (decodeNdFrame(f).ok ? decoded(f) : 'arp'));
    expect(first).toEqual([
      `advertisement ${ME}>${mac(2)} ${VIP6}>${ip6(2)} ${VIP6} is-at ${ME} flags ${NA_FLAG_OVERRIDE}`,
      `advertisement ${ME}>${mac(4)} ${VIP6}>${ip6(4)} ${VIP6} is-at ${ME} flags ${NA_FLAG_OVERRIDE}`,
      'arp', // 192.0.2.16, bucket 0
      `advertisement ${ME}>${mac(0x12)} ${VIP6}>fd00:200::12 ${VIP6} is-at ${ME} flags ${NA_FLAG_OVERRIDE}`,
    ]);
    sch.advance(150);
    expect(port.sent.length).toBe(8); // the burst's second round
    await Promise.resolve(); await Promise.resolve();
    // The table's global neighbour of bucket 0 gets its own burst; the link-local one and the VIP6 none.
    expect(port.sent.slice(8).map(decoded)).toEqual([`advertisement ${ME}>${mac(0x20)} ${VIP6}>${ip6(0x20)} ${VIP6} is-at ${ME} flags ${NA_FLAG_OVERRIDE}`]);
    a.close();
  });

  it('an IPv4-only service sends no NA, whatever its neighbour table holds', async () => {
    const port = createFakePacketPort();
    const neigh = JSON.stringify([{ dst: ip6(0x20), lladdr: mac(0x20), state: ['STALE'] }]);
    const a = createSteerAnnouncer({ port, vip: VIP, realMac: ME, bucketOf: () => 0, count: 1, intervalMs: 100, schedule: createFakeScheduler().schedule, log, readNeighbours: () => Promise.resolve(neigh) });
    port.inject(ns(2));
    a.gained([0]);
    await Promise.resolve(); await Promise.resolve();
    expect(port.sent.length).toBe(0);
    a.close();
  });

  it('broadcast announcements are not what steering sends (negative control: an unsolicited NA to all nodes would steer every client)', () => {
    const all = decodeNdFrame(unsolicitedNa({ ethSrc: ME, vip6: VIP6, vmac: ME }));
    expect(all.ok && all.frame.dstIp).toBe('ff02::1');
    expect(decodeNdFrame(directedNa({ realMac: ME, vip6: VIP6 }, { ip: ip6(2), mac: mac(2) }))).toMatchObject({ ok: true, frame: { dstIp: ip6(2), ethDst: mac(2) } });
  });
});

describe('neighbour table and config', () => {
  it('skips link-local IPv6 neighbours and both VIPs', () => {
    expect(isLinkLocal6('fe80::1')).toBe(true);
    expect(isLinkLocal6('fd00::1')).toBe(false);
    const text = JSON.stringify([{ dst: 'fe80::1', lladdr: mac(1) }, { dst: VIP6, lladdr: mac(2) }, { dst: VIP, lladdr: mac(3) }, { dst: ip6(4), lladdr: mac(4) }]);
    expect(parseNeighJson(text, VIP, VIP6)).toEqual([{ ip: ip6(4), mac: mac(4) }]);
  });

  it('arp-steer accepts a vip6 beside the vip, and still refuses an IPv6-only service', () => {
    const base = 'service: web\ninterface: eth0\nhash: { seed: 1 }\nnode: { id: 1, name: n1 }\nmode: arp-steer\n';
    expect(parseConfig(`${base}vip: 10.0.0.1\nvip6: fd00::1\n`, 'web.yaml').vip6).toBe('fd00::1');
    let problems = '';
    try { parseConfig(`${base}vip6: fd00::1\n`, 'web.yaml'); } catch (err) { problems = JSON.stringify((err as { details?: unknown }).details); }
    expect(problems).toMatch(/arp-steer needs an IPv4 vip/);
  });
});
