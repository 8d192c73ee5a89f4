/**
 * The ND responder and its frames: byte-exact against frames built by hand (an independent
 * encoder outside the project computed the checksums), named drop reasons, one answer per NS.
 */
import { describe, expect, it } from 'vitest';
import { createFakePacketPort } from '../../../src/arp/fake-packet-port.js';
import { decodeNdFrame, icmpv6Checksum, multicastMac, neighborAdvert, neighborSolicit, solicitedNodeGroup, unsolicitedNa } from '../../../src/arp/nd-frame.js';
import { classifyNdFrame, createNdResponder, validateNdIdentity, type NdOutcome } from '../../../src/arp/nd-responder.js';
import type { ArpDecision } from '../../../src/arp/responder.js';
import { arpRequest } from '../../../src/arp/arp-frame.js';
import { isVmacError } from '../../../src/util/errors.js';
import { captureLogger, WARN } from './log-capture.js';

const VIP6 = 'fd00:200::1';
const VMAC = '02:bf:0a:c8:00:01';
const REAL_MAC = '02:00:00:00:00:11';
const CLIENT_MAC = '02:00:00:00:00:c1';
const CLIENT_IP = 'fd00:200::1:5';
const ID = { vip6: VIP6, vmac: VMAC, realMac: REAL_MAC };

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// Ethernet | IPv6 (payload 32, next header 58, hop limit 255, src, dst) | ICMPv6 | option
const NS_HEX = `
  3333ff000001 0200000000c1 86dd
  60000000 0020 3a ff fd000200000000000000000000010005 ff0200000000000000000001ff000001
  87 00 78d4 00000000 fd000200000000000000000000000001 01 01 0200000000c1`;
const NA_HEX = `
  0200000000c1 020000000011 86dd
  60000000 0020 3a ff fd000200000000000000000000000001 fd000200000000000000000000010005
  88 00 0b11 60000000 fd000200000000000000000000000001 02 01 02bf0ac80001`;
const UNSOLICITED_HEX = `
  333300000001 020000000011 86dd
  60000000 0020 3a ff fd000200000000000000000000000001 ff020000000000000000000000000001
  88 00 4b14 20000000 fd000200000000000000000000000001 02 01 02bf0ac80001`;

function setup(decide: (ip: string) => ArpDecision = () => 'answer') {
  const port = createFakePacketPort();
  const { log, records } = captureLogger();
  const asked: string[] = [];
  const responder = createNdResponder({ port, ...ID, log, decide: (ip) => { asked.push(ip); return decide(ip); } });
  return { port, responder, records, asked };
}

describe('ND frames', () => {
  it('encodes a client NS to the solicited-node group byte-exact', () => {
    expect(solicitedNodeGroup(VIP6)).toBe('ff02::1:ff00:1');
    expect(multicastMac('ff02::1:ff00:1')).toBe('33:33:ff:00:00:01');
    expect(toHex(neighborSolicit({ ethSrc: CLIENT_MAC, srcIp: CLIENT_IP, target: VIP6 }))).toBe(toHex(hex(NS_HEX)));
  });

  it('encodes the unsolicited NA (all nodes, Override, not Solicited, target LLA = VMAC) byte-exact', () => {
    expect(toHex(unsolicitedNa({ ethSrc: REAL_MAC, vip6: VIP6, vmac: VMAC }))).toBe(toHex(hex(UNSOLICITED_HEX)));
  });

  it('the checksum verifies to 0xffff over the pseudo-header and a one-bit change breaks it', () => {
    const f = hex(NA_HEX);
    expect(icmpv6Checksum(f.subarray(22, 38), f.subarray(38, 54), f.subarray(54))).toBe(0xffff);
    f[80] = (f[80] ?? 0) ^ 0x01;
    expect(decodeNdFrame(f)).toEqual({ ok: false, reason: 'bad-checksum' });
  });

  it('decodes what it encodes', () => {
    const d = decodeNdFrame(hex(NS_HEX));
    expect(d).toEqual({ ok: true, frame: { ethDst: '33:33:ff:00:00:01', ethSrc: CLIENT_MAC, srcIp: CLIENT_IP, dstIp: 'ff02::1:ff00:1', kind: 'solicitation', target: VIP6, flags: 0, lladdr: CLIENT_MAC } });
  });
});

describe('ND responder answers', () => {
  it('answers an NS to the solicited-node group: from the real MAC, to the source LLA, VIP6 is-at VMAC, byte-exact', () => {
    const { port, responder, asked } = setup();
    port.inject(hex(NS_HEX));
    expect(asked).toEqual([CLIENT_IP]);
    expect(port.sent.map(toHex)).toEqual([toHex(hex(NA_HEX))]);
    expect(responder.stats().answered).toBe(1);
  });

  it('answers a unicast NS to the VMAC (reachability confirmation) without a source LLA at the Ethernet source', () => {
    const { port } = setup();
    port.inject(neighborSolicit({ ethSrc: CLIENT_MAC, srcIp: CLIENT_IP, target: VIP6, dstIp: VIP6, ethDst: VMAC, sourceMac: null }));
    expect(port.sent.map(toHex)).toEqual([toHex(hex(NA_HEX))]);
  });

  it('asks policy with the soliciting address and stays silent when another node owns it', () => {
    const { port, responder, asked } = setup(() => 'not-owner');
    port.inject(hex(NS_HEX));
    expect(asked).toEqual([CLIENT_IP]);
    expect(port.sent).toHaveLength(0);
    expect(responder.stats()['not-owner']).toBe(1);
  });

  it('a throwing policy is counted as policy-failed and warned about, never crashes', () => {
    const { port, responder, records } = setup(() => { throw new Error('boom'); });
    port.inject(hex(NS_HEX));
    expect(responder.stats()['policy-failed']).toBe(1);
    expect(records.some((r) => r.level === WARN && r.msg === 'nd policy-failed')).toBe(true);
  });
});

describe('ND responder drops with a named reason', () => {
  const ns = (over: Partial<Parameters<typeof neighborSolicit>[0]> = {}): Uint8Array =>
    neighborSolicit({ ethSrc: CLIENT_MAC, srcIp: CLIENT_IP, target: VIP6, ...over });
  const withByte = (f: Uint8Array, at: number, v: number): Uint8Array => { const c = Uint8Array.from(f); c[at] = v; return c; };
  const cases: [string, Uint8Array, NdOutcome][] = [
    ['a truncated frame', hex(NS_HEX).subarray(0, 60), 'truncated'],
    ['an IPv4 frame', withByte(withByte(hex(NS_HEX), 12, 0x08), 13, 0x00), 'not-ipv6'],
    ['an ICMPv6 echo', withByte(hex(NS_HEX), 54, 128), 'not-nd'],
    ['an NS that crossed a router (hop limit 254)', withByte(hex(NS_HEX), 21, 254), 'bad-hop-limit'],
    ['an NS with a bad checksum', withByte(hex(NS_HEX), 57, 0xd5), 'bad-checksum'],
    ['an NS for another address', ns({ target: 'fd00:200::2' }), 'not-for-vip'],
    ['our own frame seen by the tap', ns({ ethSrc: REAL_MAC }), 'from-self'],
    ['a DAD probe for the VIP6 (source ::)', ns({ srcIp: '::' }), 'dad-probe'],
    ['a DAD probe carrying a link-layer option', ns({ srcIp: '::', sourceMac: CLIENT_MAC }), 'bad-option'],
    ['a peer\'s unsolicited NA for the VIP6', unsolicitedNa({ ethSrc: '02:00:00:00:00:12', vip6: VIP6, vmac: VMAC }), 'advertisement'],
    ['an NA claiming the VIP6 for another MAC', neighborAdvert({ ethSrc: CLIENT_MAC, ethDst: '33:33:00:00:00:01', srcIp: VIP6, dstIp: 'ff02::1', target: VIP6, targetMac: CLIENT_MAC, flags: 0x20 }), 'vip-conflict'],
    ['an NS whose source LLA is a group address', ns({ sourceMac: '33:33:00:00:00:01' }), 'bad-sender-mac'],
  ];
  for (const [what, frame, outcome] of cases) {
    it(`${what} → ${outcome}`, () => {
      const { port, responder, asked } = setup();
      port.inject(frame);
      expect(port.sent).toHaveLength(0);
      expect(asked).toEqual([]);
      expect(responder.stats()[outcome]).toBe(1);
    });
  }

  it('an ARP frame on the shared capture is the ARP responder\'s: no ND counter moves', () => {
    const { port, responder, asked } = setup();
    port.inject(arpRequest({ ethSrc: CLIENT_MAC, senderMac: CLIENT_MAC, senderIp: '10.0.0.5', targetIp: '10.0.0.1' }));
    expect(port.sent).toHaveLength(0);
    expect(asked).toEqual([]);
    expect(Object.values(responder.stats()).reduce((a, b) => a + b, 0)).toBe(0);
    // The same frame with the IPv4 EtherType is nobody's: counted as not-ipv6.
    const v4 = arpRequest({ ethSrc: CLIENT_MAC, senderMac: CLIENT_MAC, senderIp: '10.0.0.5', targetIp: '10.0.0.1' });
    v4[12] = 0x08; v4[13] = 0x00;
    port.inject(v4);
    expect(responder.stats()['not-ipv6']).toBe(1);
  });

  it('classifies without policy (pure)', () => {
    expect(classifyNdFrame(hex(NS_HEX), ID)).toMatchObject({ kind: 'candidate', replyTo: CLIENT_MAC });
  });

  it('refuses an IPv4 VIP6 or a real MAC equal to the VMAC', () => {
    expect(() => validateNdIdentity({ ...ID, vip6: '10.0.0.1' })).toThrow(/ND needs an IPv6 VIP/);
    try { validateNdIdentity({ ...ID, realMac: VMAC }); } catch (err) { expect(isVmacError(err, 'VMAC_CONFIG_INVALID')).toBe(true); return; }
    throw new Error('expected a refusal');
  });
});
