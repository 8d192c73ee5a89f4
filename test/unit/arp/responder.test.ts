import { describe, expect, it } from 'vitest';
import { arpReply, arpRequest, encodeArpFrame, gratuitousArp, type ArpFrame } from '../../../src/arp/arp-frame.js';
import { createFakePacketPort, createFakeSegment } from '../../../src/arp/fake-packet-port.js';
import {
  classifyArpFrame, createArpCounters, createArpResponder, type ArpDecision, type ArpOutcome,
} from '../../../src/arp/responder.js';
import { neighborSolicit } from '../../../src/arp/nd-frame.js';
import { isVmacError } from '../../../src/util/errors.js';
import { captureLogger, WARN } from './log-capture.js';
import { CLIENT_IP, CLIENT_MAC, IDENTITY, PADDING_18, REAL_MAC, VIP, VMAC, ethSource, hex, toHex } from './frames.js';

const OTHER_MAC = '52:54:00:99:99:99';
const PEER_MAC = '52:54:00:aa:bb:02';
const request = (over: Partial<{ ethSrc: string; senderMac: string; senderIp: string; targetIp: string; ethDst: string }> = {}): Uint8Array =>
  arpRequest({ ethSrc: CLIENT_MAC, senderMac: CLIENT_MAC, senderIp: CLIENT_IP, targetIp: VIP, ...over });

function setup(decide: (ip: string) => ArpDecision = () => 'answer') {
  const port = createFakePacketPort();
  const { log, records } = captureLogger();
  const asked: string[] = [];
  const responder = createArpResponder({ port, ...IDENTITY, log, decide: (ip) => { asked.push(ip); return decide(ip); } });
  return { port, responder, records, asked };
}

describe('ARP responder answers', () => {
  it('replies to a request for the VIP from the real MAC, announcing the VMAC, byte-exact', () => {
    const { port, responder, asked } = setup();
    port.inject(request());
    expect(asked).toEqual([CLIENT_IP]);
    expect(port.sent.map(toHex)).toEqual([toHex(hex(`
      525400123456 525400aabb01 0806 0001 0800 0604 0002
      02766d616301 c000020a 525400123456 c000024d ${PADDING_18}`))]);
    expect(responder.stats().answered).toBe(1);
  });

  it('answers an ARP probe (sender IP 0.0.0.0) for the VIP so the prober sees it is taken', () => {
    const { port, asked } = setup();
    port.inject(request({ senderIp: '0.0.0.0' }));
    expect(asked).toEqual(['0.0.0.0']);
    expect(port.sent).toHaveLength(1);
  });

  it('answers a unicast re-validation sent to the VMAC', () => {
    const { port } = setup();
    port.inject(request({ ethDst: VMAC }));
    expect(port.sent).toHaveLength(1);
  });
});

describe('ARP responder drops with a named reason', () => {
  const reply = (over: Partial<ArpFrame> = {}): Uint8Array => encodeArpFrame({
    ethDst: CLIENT_MAC, ethSrc: OTHER_MAC, op: 'reply', senderMac: OTHER_MAC, senderIp: '192.0.2.5', targetMac: CLIENT_MAC, targetIp: CLIENT_IP, ...over,
  });
  const ipv4Frame = Uint8Array.from(request());
  ipv4Frame[13] = 0x00;
  const cases: [string, Uint8Array, ArpOutcome][] = [
    ['a truncated frame', request().subarray(0, 30), 'truncated'],
    ['a non-ARP frame', ipv4Frame, 'not-arp'],
    ['a reply', reply(), 'reply-not-request'],
    ['a request for another address', request({ targetIp: '192.0.2.11' }), 'not-for-vip'],
    ['our own kernel\'s request (Ethernet source = real MAC)', request({ ethSrc: REAL_MAC, senderMac: REAL_MAC, senderIp: '192.0.2.1', targetIp: CLIENT_IP }), 'from-self'],
    ['a peer\'s gratuitous ARP', gratuitousArp({ ethSrc: PEER_MAC, senderMac: VMAC, ip: VIP }), 'gratuitous'],
    ['a reply claiming the VIP with another MAC', reply({ senderIp: VIP }), 'vip-conflict'],
    ['our kernel asking with the VIP as sender (no arp_announce=2)', request({ ethSrc: REAL_MAC, senderMac: REAL_MAC, senderIp: VIP, targetIp: CLIENT_IP }), 'vip-conflict'],
    ['a request with a broadcast sender MAC', request({ senderMac: 'ff:ff:ff:ff:ff:ff' }), 'bad-sender-mac'],
  ];
  it.each(cases)('%s → %s, nothing sent, policy not asked', (_name, frame, outcome) => {
    const { port, responder, asked } = setup();
    port.inject(frame);
    expect(port.sent).toHaveLength(0);
    expect(asked).toEqual([]);
    expect(responder.stats()[outcome]).toBe(1);
    const total = Object.values(responder.stats()).reduce((a, b) => a + b, 0);
    expect(total).toBe(1);
  });

  it('an ND frame on the shared capture is the ND responder\'s: no ARP counter moves', () => {
    const { port, responder, asked } = setup();
    const ns = neighborSolicit({ ethSrc: CLIENT_MAC, srcIp: 'fd00:200::1:5', target: 'fd00:200::1' });
    port.inject(ns);
    expect(port.sent).toHaveLength(0);
    expect(asked).toEqual([]);
    expect(Object.values(responder.stats()).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it.each(['not-owner', 'not-ready'] as const)('policy says %s → counted under that word, nothing sent', (reason) => {
    const { port, responder } = setup(() => reason);
    port.inject(request());
    expect(port.sent).toHaveLength(0);
    expect(responder.stats()[reason]).toBe(1);
  });

  it('a throwing policy counts as policy-failed and the next frame is still handled', () => {
    let calls = 0;
    const { port, responder, records } = setup(() => { calls += 1; if (calls === 1) throw new Error('boom'); return 'answer'; });
    port.inject(request());
    port.inject(request());
    expect(responder.stats()).toMatchObject({ 'policy-failed': 1, answered: 1 });
    expect(records.filter((r) => r.level === WARN).map((r) => r.msg)).toEqual(['arp policy-failed']);
  });

  it('a failing send counts as send-failed and the responder keeps answering', () => {
    const { port, responder } = setup();
    port.failSend({ times: 2 });
    for (let i = 0; i < 3; i++) port.inject(request());
    expect(responder.stats()).toMatchObject({ 'send-failed': 2, answered: 1 });
    expect(port.sent).toHaveLength(1);
  });
});

describe('ARP responder housekeeping', () => {
  it('logs routine outcomes at debug with wire data under `arp`, and rate-limits warnings to powers of two', () => {
    const { port, records } = setup();
    port.inject(request());
    expect(records.at(-1)).toMatchObject({ module: 'arp', outcome: 'answered', arp: { senderIp: CLIENT_IP, senderMac: CLIENT_MAC } });
    const conflict = arpReply({ ethSrc: OTHER_MAC, ethDst: CLIENT_MAC, senderMac: OTHER_MAC, senderIp: VIP, targetMac: CLIENT_MAC, targetIp: CLIENT_IP });
    for (let i = 0; i < 9; i++) port.inject(conflict);
    expect(records.filter((r) => r.level === WARN).map((r) => r.count)).toEqual([1, 2, 4, 8]);
  });

  it('close detaches from the port without closing it', () => {
    const { port, responder } = setup();
    responder.close();
    port.inject(request());
    expect(port.sent).toHaveLength(0);
    expect(port.state).toBe('open');
  });

  it('counters passed in survive a responder restart', () => {
    const port = createFakePacketPort();
    const counters = createArpCounters();
    const { log } = captureLogger();
    createArpResponder({ port, ...IDENTITY, log, decide: () => 'answer', counters }).close();
    port.inject(request()); // between responders: nobody listening
    const second = createArpResponder({ port, ...IDENTITY, log, decide: () => 'answer', counters });
    port.inject(request());
    expect(second.stats().answered).toBe(1);
    expect(counters.answered).toBe(1);
  });

  it.each([
    ['the real MAC equals the VMAC', { realMac: VMAC }],
    ['a multicast real MAC', { realMac: '01:00:5e:00:00:01' }],
    ['an IPv6 VIP', { vip: '2001:db8::10' }],
  ])('refuses %s at creation with VMAC_CONFIG_INVALID', (_name, over) => {
    const { log } = captureLogger();
    let caught: unknown;
    try { createArpResponder({ port: createFakePacketPort(), ...IDENTITY, ...over, log, decide: () => 'answer' }); } catch (err) { caught = err; }
    expect(isVmacError(caught, 'VMAC_CONFIG_INVALID')).toBe(true);
  });

  it('classifyArpFrame is usable alone (pure)', () => {
    expect(classifyArpFrame(request(), IDENTITY)).toMatchObject({ kind: 'candidate', request: { senderIp: CLIENT_IP } });
    expect(classifyArpFrame(new Uint8Array(3), IDENTITY)).toEqual({ kind: 'drop', reason: 'truncated' });
  });
});

describe('the VMAC is never an Ethernet source', () => {
  it('holds for every reply, whatever requests arrive (including ones that mention the VMAC)', () => {
    const { port } = setup();
    const senders = [CLIENT_MAC, OTHER_MAC, '02:76:6d:61:63:02', '52:54:00:00:00:01'];
    for (const [i, mac] of senders.entries()) {
      port.inject(request({ ethSrc: mac, senderMac: mac, senderIp: `192.0.2.${100 + i}` }));
      port.inject(request({ ethSrc: mac, senderMac: mac, senderIp: `192.0.2.${100 + i}`, ethDst: VMAC }));
    }
    port.inject(request({ ethSrc: VMAC, senderMac: CLIENT_MAC })); // a forged frame from the VMAC
    expect(port.sent.length).toBe(senders.length * 2 + 1);
    for (const frame of port.sent) expect(ethSource(frame)).toBe(REAL_MAC);
  });
});

describe('three nodes on one flooding segment', () => {
  it('exactly one node — the owner of the requester\'s bucket — answers each client', () => {
    const segment = createFakeSegment();
    const client = segment.attach();
    const nodeMacs = ['52:54:00:aa:bb:01', '52:54:00:aa:bb:02', '52:54:00:aa:bb:03'];
    const { log } = captureLogger();
    // Toy policy standing in for the bucket map: last octet mod 3 picks the owner.
    const owner = (ip: string): number => Number(ip.split('.').at(-1)) % 3;
    nodeMacs.forEach((realMac, node) => {
      createArpResponder({ port: segment.attach(), vip: VIP, vmac: VMAC, realMac, log, decide: (ip) => (owner(ip) === node ? 'answer' : 'not-owner') });
    });
    const replies: Uint8Array[] = [];
    client.onFrame((f) => replies.push(f));
    for (let last = 20; last < 50; last++) {
      const ip = `192.0.2.${last}`;
      replies.length = 0;
      client.send(request({ senderIp: ip }));
      expect(replies).toHaveLength(1);
      const reply = replies[0] ?? new Uint8Array();
      expect(ethSource(reply)).toBe(nodeMacs[owner(ip)]);
      expect(toHex(reply.subarray(22, 28))).toBe('02766d616301'); // ARP sender = VMAC
    }
    for (const { frame } of segment.log) expect(ethSource(frame)).not.toBe(VMAC);
  });
});
