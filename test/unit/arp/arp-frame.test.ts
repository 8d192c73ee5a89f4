import { describe, expect, it } from 'vitest';
import {
  ARP_FRAME_LEN, ETH_MIN_FRAME_LEN, arpReply, arpRequest, decodeArpFrame, encodeArpFrame, gratuitousArp, isUnicastMac,
  type ArpDecodeFailure,
} from '../../../src/arp/arp-frame.js';
import { isVmacError } from '../../../src/util/errors.js';
import { CLIENT_IP, CLIENT_MAC, PADDING_18, REAL_MAC, VIP, VMAC, hex, toHex } from './frames.js';

// Hand-written vectors. Layout: eth dst | eth src | type | htype ptype hlen plen op | sha | spa | tha | tpa | pad
const REPLY_HEX = hex(`
  525400123456 | 525400aabb01 | 0806 |
  0001 0800 06 04 0002 |
  02766d616301 | c000020a | 525400123456 | c000024d | ${PADDING_18}`);
const GARP_HEX = hex(`
  ffffffffffff | 525400aabb01 | 0806 |
  0001 0800 06 04 0001 |
  02766d616301 | c000020a | 000000000000 | c000020a | ${PADDING_18}`);
const REQUEST_HEX = hex(`
  ffffffffffff | 525400123456 | 0806 |
  0001 0800 06 04 0001 |
  525400123456 | c000024d | 000000000000 | c000020a | ${PADDING_18}`);
// Real captures quoted in cap's README (tcpdump): a padded request and an unpadded 42-byte
// reply, as a capture socket sees outgoing frames before the driver pads them.
const CAPTURED_REQUEST = hex(`ffff ffff ffff 848f 69b7 3d92 0806 0001 0800 0604 0001 848f 69b7 3d92 c0a8 01c7
  0000 0000 0000 c0a8 01c8 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000`);
const CAPTURED_REPLY = hex(`848f 69b7 3d92 74ea 3aa3 e669 0806 0001 0800 0604 0002 74ea 3aa3 e669 c0a8 01c8
  848f 69b7 3d92 c0a8 01c7`);

describe('ARP encoders are byte-exact', () => {
  it('encodes a reply: Ethernet from the real MAC, ARP sender = VMAC, padded to 60 bytes', () => {
    const frame = arpReply({ ethSrc: REAL_MAC, ethDst: CLIENT_MAC, senderMac: VMAC, senderIp: VIP, targetMac: CLIENT_MAC, targetIp: CLIENT_IP });
    expect(toHex(frame)).toBe(toHex(REPLY_HEX));
    expect(frame.length).toBe(ETH_MIN_FRAME_LEN);
  });

  it('encodes a request-style gratuitous ARP: broadcast, sender IP = target IP = VIP, zero target MAC', () => {
    expect(toHex(gratuitousArp({ ethSrc: REAL_MAC, senderMac: VMAC, ip: VIP }))).toBe(toHex(GARP_HEX));
  });

  it('encodes a unicast gratuitous ARP when a destination is given', () => {
    const frame = gratuitousArp({ ethSrc: REAL_MAC, senderMac: VMAC, ip: VIP, ethDst: CLIENT_MAC });
    expect(toHex(frame.subarray(0, 6))).toBe('525400123456');
    expect(toHex(frame.subarray(6))).toBe(toHex(GARP_HEX.subarray(6)));
  });

  it('encodes a broadcast who-has request', () => {
    expect(toHex(arpRequest({ ethSrc: CLIENT_MAC, senderMac: CLIENT_MAC, senderIp: CLIENT_IP, targetIp: VIP }))).toBe(toHex(REQUEST_HEX));
  });

  it('accepts MACs in any case and with dashes', () => {
    const frame = arpReply({ ethSrc: '52-54-00-AA-BB-01', ethDst: CLIENT_MAC.toUpperCase(), senderMac: VMAC, senderIp: VIP, targetMac: CLIENT_MAC, targetIp: CLIENT_IP });
    expect(toHex(frame)).toBe(toHex(REPLY_HEX));
  });

  it.each([
    ['an IPv6 sender', { senderIp: '2001:db8::1' }],
    ['a bad MAC', { ethSrc: '52:54:00:aa:bb' }],
    ['a non-address', { targetIp: 'vip' }],
  ])('refuses %s with VMAC_BAD_ADDRESS', (_name, override) => {
    const fields = { ethSrc: REAL_MAC, ethDst: CLIENT_MAC, senderMac: VMAC, senderIp: VIP, targetMac: CLIENT_MAC, targetIp: CLIENT_IP, ...override };
    let caught: unknown;
    try { arpReply(fields); } catch (err) { caught = err; }
    expect(isVmacError(caught, 'VMAC_BAD_ADDRESS')).toBe(true);
  });
});

describe('decodeArpFrame', () => {
  it('decodes the hand-written request and round-trips it', () => {
    const result = decodeArpFrame(REQUEST_HEX);
    expect(result).toEqual({
      ok: true,
      frame: { ethDst: 'ff:ff:ff:ff:ff:ff', ethSrc: CLIENT_MAC, op: 'request', senderMac: CLIENT_MAC, senderIp: CLIENT_IP, targetMac: '00:00:00:00:00:00', targetIp: VIP },
    });
    if (result.ok) expect(toHex(encodeArpFrame(result.frame))).toBe(toHex(REQUEST_HEX));
  });

  it('decodes real captured frames, including an unpadded 42-byte one', () => {
    expect(decodeArpFrame(CAPTURED_REQUEST)).toMatchObject({ ok: true, frame: { op: 'request', senderIp: '192.168.1.199', targetIp: '192.168.1.200', senderMac: '84:8f:69:b7:3d:92' } });
    expect(CAPTURED_REPLY.length).toBe(ARP_FRAME_LEN);
    expect(decodeArpFrame(CAPTURED_REPLY)).toMatchObject({ ok: true, frame: { op: 'reply', senderMac: '74:ea:3a:a3:e6:69', senderIp: '192.168.1.200', targetIp: '192.168.1.199' } });
  });

  it('decodes a frame that is a view into a larger buffer (non-zero byteOffset)', () => {
    const big = new Uint8Array(100);
    big.set(REPLY_HEX, 17);
    expect(decodeArpFrame(big.subarray(17, 17 + 60))).toMatchObject({ ok: true, frame: { op: 'reply', senderMac: VMAC, targetIp: CLIENT_IP } });
  });

  const withByte = (base: Uint8Array, offset: number, value: number): Uint8Array => {
    const copy = Uint8Array.from(base);
    copy[offset] = value;
    return copy;
  };
  const cases: [string, Uint8Array, ArpDecodeFailure][] = [
    ['an empty frame', new Uint8Array(0), 'truncated'],
    ['a frame shorter than an Ethernet header', REQUEST_HEX.subarray(0, 13), 'truncated'],
    ['an ARP header cut short', REQUEST_HEX.subarray(0, 20), 'truncated'],
    ['an ARP body cut short (41 bytes)', REQUEST_HEX.subarray(0, 41), 'truncated'],
    ['an IPv4 frame', withByte(REQUEST_HEX, 13, 0x00), 'not-arp'],
    ['an 802.1Q-tagged frame', withByte(withByte(REQUEST_HEX, 12, 0x81), 13, 0x00), 'not-arp'],
    ['hardware type IEEE 802', withByte(REQUEST_HEX, 15, 6), 'not-ipv4-over-ethernet'],
    ['protocol type IPv6', withByte(REQUEST_HEX, 16, 0x86), 'not-ipv4-over-ethernet'],
    ['hardware length 8', withByte(REQUEST_HEX, 18, 8), 'not-ipv4-over-ethernet'],
    ['protocol length 16', withByte(REQUEST_HEX, 19, 16), 'not-ipv4-over-ethernet'],
    ['opcode 3 (RARP request)', withByte(REQUEST_HEX, 21, 3), 'unknown-opcode'],
    ['opcode 0', withByte(REQUEST_HEX, 21, 0), 'unknown-opcode'],
  ];
  it.each(cases)('names why %s is not usable', (_name, bytes, reason) => {
    expect(decodeArpFrame(bytes)).toEqual({ ok: false, reason });
  });

  it('never throws: every truncation of a valid frame and many random frames', () => {
    for (let n = 0; n <= REQUEST_HEX.length; n++) expect(() => decodeArpFrame(REQUEST_HEX.subarray(0, n))).not.toThrow();
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 5000; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(rand() * 80) }, () => Math.floor(rand() * 256));
      if (bytes.length > 13 && rand() < 0.5) { bytes[12] = 0x08; bytes[13] = 0x06; } // reach the ARP branches
      const result = decodeArpFrame(bytes);
      expect(typeof result.ok).toBe('boolean');
    }
  });
});

describe('isUnicastMac', () => {
  it.each([
    [REAL_MAC, true], [VMAC, true], ['ff:ff:ff:ff:ff:ff', false], ['01:00:5e:00:00:01', false], ['00:00:00:00:00:00', false],
  ])('%s → %s', (mac, unicast) => {
    expect(isUnicastMac(mac)).toBe(unicast);
  });
});
