import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { arpRequest, decodeArpFrame } from '../../../src/arp/arp-frame.js';
import { createFakePacketPort } from '../../../src/arp/fake-packet-port.js';
import { classifyArpFrame, buildArpReply } from '../../../src/arp/responder.js';
import { validateArpIdentity } from '../../../src/arp/arp-identity.js';
import { stepGain, EMPTY_GAIN_STATE, watchGains } from '../../../src/modes/gain-watch.js';
import { parseNeighJson, SteerClients } from '../../../src/modes/steer-clients.js';
import { createSteerAnnouncer } from '../../../src/modes/steer-announcer.js';
import { fakeDataPath } from '../../../src/vmac/fake-datapath.js';
import { createFakeScheduler } from '../arp/fake-scheduler.js';

const VIP = '192.0.2.10';
const ME = '52:54:00:aa:bb:01';
const log = pino({ level: 'silent' });
const clientMac = (i: number): string => `52:54:00:00:00:${i.toString(16).padStart(2, '0')}`;
const request = (i: number): Uint8Array => arpRequest({ ethSrc: clientMac(i), senderMac: clientMac(i), senderIp: `192.0.2.${100 + i}`, targetIp: VIP });

describe('gain bookkeeping', () => {
  it('reports buckets once they are answered with a live lease; draining is not answering; a released lease forgets', () => {
    let r = stepGain(EMPTY_GAIN_STATE, { kind: 'install', owned: [], leaseMs: null });
    expect(r.gained).toEqual([]);
    r = stepGain(r.state, { kind: 'move', add: [1, 2], remove: [] });
    expect(r.gained).toEqual([]); // no lease yet: the node answers nothing
    r = stepGain(r.state, { kind: 'renew' });
    expect(r.gained).toEqual([1, 2]);
    r = stepGain(r.state, { kind: 'renew' });
    expect(r.gained).toEqual([]);
    r = stepGain(r.state, { kind: 'phases', changes: [{ bucket: 3, from: 'none', to: 'incoming' }, { bucket: 1, from: 'owned', to: 'draining' }] });
    expect(r.gained).toEqual([3]);
    r = stepGain(r.state, { kind: 'phases', changes: [{ bucket: 1, from: 'draining', to: 'none' }, { bucket: 3, from: 'incoming', to: 'owned' }] });
    expect(r.gained).toEqual([]);
    r = stepGain(r.state, { kind: 'release' });
    r = stepGain(r.state, { kind: 'renew' });
    expect(r.gained).toEqual([2, 3]);
  });

  it('watchGains passes every call through to the port', () => {
    const fake = fakeDataPath(() => 0);
    const seen: number[][] = [];
    const dp = watchGains(fake, (b) => seen.push([...b]));
    dp.install([4, 5], 1000);
    dp.move([6], [4]);
    expect(fake.inspect().owned).toEqual([5, 6]);
    expect(seen).toEqual([[4, 5], [6]]);
  });
});

describe('steer clients', () => {
  it('keeps unicast requesters, bounded, oldest out', () => {
    const c = new SteerClients(2);
    c.see('10.0.0.1', clientMac(1));
    c.see('10.0.0.2', 'ff:ff:ff:ff:ff:ff');
    c.see('10.0.0.3', clientMac(3));
    c.see('10.0.0.4', clientMac(4));
    expect(c.size).toBe(2);
    expect(c.inBuckets(new Set([0]), () => 0).map((x) => x.ip)).toEqual(['10.0.0.3', '10.0.0.4']);
  });

  it('parses the neighbour table, skipping the VIP and failed entries, never throwing', () => {
    const text = JSON.stringify([
      { dst: '192.0.2.101', dev: 'eth0', lladdr: '52:54:00:00:00:01', state: ['STALE'] },
      { dst: VIP, lladdr: '02:bf:00:00:00:01', state: ['REACHABLE'] },
      { dst: '192.0.2.102', state: ['FAILED'] },
      { dst: '192.0.2.103', lladdr: '52:54:00:00:00:03', state: ['FAILED'] },
    ]);
    expect(parseNeighJson(text, VIP)).toEqual([{ ip: '192.0.2.101', mac: '52:54:00:00:00:01' }]);
    expect(parseNeighJson('not json', VIP)).toEqual([]);
  });
});

describe('arp-steer identity and replies', () => {
  it('answers with the node\'s own MAC; another MAC claiming the VIP is a peer, not a conflict', () => {
    const id = validateArpIdentity({ vip: VIP, vmac: ME, realMac: ME, steer: true });
    const c = classifyArpFrame(request(1), id);
    expect(c.kind).toBe('candidate');
    if (c.kind !== 'candidate') return;
    const reply = decodeArpFrame(buildArpReply(c.request, id));
    expect(reply.ok && reply.frame).toMatchObject({ op: 'reply', ethSrc: ME, senderMac: ME, senderIp: VIP, ethDst: clientMac(1) });
    const peerClaim = arpRequest({ ethSrc: '52:54:00:aa:bb:02', senderMac: '52:54:00:aa:bb:02', senderIp: VIP, targetIp: '192.0.2.1' });
    expect(classifyArpFrame(peerClaim, id)).toMatchObject({ kind: 'drop', reason: 'not-for-vip' });
    // Without steer the same claim is a conflict (negative control), and own MAC = VMAC is refused.
    expect(classifyArpFrame(peerClaim, validateArpIdentity({ vip: VIP, vmac: '02:bf:00:00:00:01', realMac: ME }))).toMatchObject({ reason: 'vip-conflict' });
    expect(() => validateArpIdentity({ vip: VIP, vmac: ME, realMac: ME })).toThrow(/VMAC must never be an Ethernet source/);
  });
});

describe('the directed announcer', () => {
  it('sends each known client of the gained buckets a directed reply burst; other buckets\' clients get nothing', async () => {
    const port = createFakePacketPort();
    const sch = createFakeScheduler();
    const neigh = JSON.stringify([{ dst: '192.0.2.150', lladdr: '52:54:00:00:00:50', state: ['STALE'] }]);
    // bucket = last byte of the address mod 2
    const a = createSteerAnnouncer({ port, vip: VIP, realMac: ME, bucketOf: (ip) => Number(ip.split('.')[3]) % 2, count: 3, intervalMs: 100, schedule: sch.schedule, log, readNeighbours: () => Promise.resolve(neigh) });
    for (const i of [1, 2, 3, 4]) port.inject(request(i));
    a.gained([0]);
    const firstRound = port.sent.map((f) => decodeArpFrame(f)).map((d) => (d.ok ? `${d.frame.ethDst} ${d.frame.op} ${d.frame.senderIp}=${d.frame.targetIp} ${d.frame.senderMac}=${d.frame.targetMac}` : 'bad'));
    // Unicast to each client, in gratuitous form (sip = tip, sha = tha): Linux lets it override the locktime.
    expect(firstRound).toEqual([`${clientMac(2)} reply ${VIP}=${VIP} ${ME}=${ME}`, `${clientMac(4)} reply ${VIP}=${VIP} ${ME}=${ME}`]);
    sch.advance(250);
    expect(port.sent.length).toBe(6);
    await Promise.resolve(); await Promise.resolve();
    // The neighbour found only in the table (bucket 0) gets its own burst.
    expect(port.sent.slice(6).map((f) => decodeArpFrame(f)).map((d) => (d.ok ? d.frame.ethDst : 'bad'))).toEqual(['52:54:00:00:00:50']);
    expect(a.stats().clients).toBe(5);
    a.close();
  });

  it('enabled: false learns but sends nothing (the contrast run)', () => {
    const port = createFakePacketPort();
    const a = createSteerAnnouncer({ port, vip: VIP, realMac: ME, bucketOf: () => 0, count: 3, intervalMs: 100, schedule: createFakeScheduler().schedule, log, enabled: false });
    port.inject(request(1));
    a.gained([0]);
    expect(port.sent.length).toBe(0);
    expect(a.stats().clients).toBe(1);
  });
});

describe('known clients across a restart', () => {
  it('are saved once, shortly after they change, and loaded by the next announcer', () => {
    const port = createFakePacketPort();
    const sch = createFakeScheduler();
    let saved: { ip: string; mac: string }[] = [];
    let saves = 0;
    const store = { load: () => saved, save: (c: readonly { ip: string; mac: string }[]) => { saved = [...c]; saves += 1; } };
    const a = createSteerAnnouncer({ port, vip: VIP, realMac: ME, bucketOf: () => 0, count: 1, intervalMs: 100, schedule: sch.schedule, log, store });
    port.inject(request(1));
    port.inject(request(2));
    port.inject(request(1)); // unchanged: no new save
    sch.advance(1000);
    expect(saves).toBe(1);
    expect(saved.map((c) => c.ip).sort()).toEqual(['192.0.2.101', '192.0.2.102']);
    a.close();
    // The restarted daemon re-steers them on its first gain although it saw no request.
    const port2 = createFakePacketPort();
    const b = createSteerAnnouncer({ port: port2, vip: VIP, realMac: ME, bucketOf: () => 0, count: 1, intervalMs: 100, schedule: sch.schedule, log, store });
    b.gained([0]);
    expect(port2.sent.length).toBe(2);
    b.close();
  });
});
