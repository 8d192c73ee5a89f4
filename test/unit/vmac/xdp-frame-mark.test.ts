import { describe, expect, it } from 'vitest';
import { arpRequest } from '../../../src/arp/arp-frame.js';
import { unmarkFrame, csumReplace16 } from '../../../src/vmac/xdp-frame-mark.js';
import { decodeNdFrame, encodeNdFrame, ICMPV6_NA, ICMPV6_NS } from '../../../src/arp/nd-frame.js';

describe('unmarkFrame: frames the XDP program hid from the kernel, as they were on the wire', () => {
  it('ARP: opcode | 0x8000 is cleared; an unmarked frame is returned as is', () => {
    const wire = arpRequest({ ethSrc: '02:00:00:00:00:02', senderMac: '02:00:00:00:00:02', senderIp: '10.0.0.9', targetIp: '10.0.0.1' });
    const marked = Uint8Array.from(wire);
    marked[14 + 6] = (marked[14 + 6] ?? 0) | 0x80; // what vmac_xdp.bpf.c does
    expect(unmarkFrame(marked)).toEqual(wire);
    expect(unmarkFrame(wire)).toBe(wire);
  });

  it('ND: type 200/201 back to 135/136 with the checksum the sender wrote', () => {
    for (const kind of ['ns', 'na'] as const) {
      const wire = encodeNdFrame(kind === 'ns'
        ? { type: ICMPV6_NS, flags: 0, ethSrc: '02:00:00:00:00:02', ethDst: '33:33:ff:00:00:01', srcIp: 'fd09::9', dstIp: 'ff02::1:ff00:1', target: 'fd09::1', lladdr: '02:00:00:00:00:02' }
        : { type: ICMPV6_NA, flags: 0x20, ethSrc: '02:00:00:00:00:02', ethDst: '33:33:00:00:00:01', srcIp: 'fd09::9', dstIp: 'ff02::1', target: 'fd09::1', lladdr: '02:00:00:00:00:02' });
      const marked = Uint8Array.from(wire);
      const v = new DataView(marked.buffer);
      const before = v.getUint16(54);
      marked[54] = kind === 'ns' ? 200 : 201;
      v.setUint16(56, csumReplace16(v.getUint16(56), before, v.getUint16(54)));
      expect(decodeNdFrame(marked).ok).toBe(false); // the marked frame is no ND to anyone
      expect(unmarkFrame(marked)).toEqual(wire);
      expect(decodeNdFrame(unmarkFrame(marked)).ok).toBe(true);
    }
  });

  it('other frames are untouched', () => {
    const ip = new Uint8Array(60);
    ip[12] = 0x08; // IPv4
    expect(unmarkFrame(ip)).toBe(ip);
    expect(unmarkFrame(new Uint8Array(10))).toHaveLength(10);
  });
});
