/** Dual stack: every gratuitous-ARP step also sends the unsolicited NA for the VIP6. */
import { describe, expect, it } from 'vitest';
import { createFakePacketPort } from '../../../src/arp/fake-packet-port.js';
import { createGarpAnnouncer } from '../../../src/arp/garp-announcer.js';
import { startGarpBurst } from '../../../src/arp/garp-burst.js';
import { decodeNdFrame, unsolicitedNa } from '../../../src/arp/nd-frame.js';
import { createFakeScheduler } from './fake-scheduler.js';
import { IDENTITY, toHex } from './frames.js';
import { captureLogger } from './log-capture.js';

const VIP6 = 'fd00:200::1';

describe('unsolicited NA in the burst', () => {
  it('sends GARP then NA at each step; the NA is from the real MAC, to all nodes, Override set, target LLA = VMAC', async () => {
    const port = createFakePacketPort();
    const clock = createFakeScheduler();
    const { log } = captureLogger();
    const burst = startGarpBurst({ port, ...IDENTITY, vip6: VIP6, count: 3, intervalMs: 100, schedule: clock.schedule, log });
    clock.advance(1000);
    expect(port.sent).toHaveLength(6);
    const na = toHex(unsolicitedNa({ ethSrc: IDENTITY.realMac, vip6: VIP6, vmac: IDENTITY.vmac }));
    expect(port.sent.filter((_, i) => i % 2 === 1).map(toHex)).toEqual([na, na, na]);
    const d = decodeNdFrame(port.sent[1] ?? new Uint8Array());
    expect(d).toEqual({ ok: true, frame: { ethDst: '33:33:00:00:00:01', ethSrc: IDENTITY.realMac, srcIp: VIP6, dstIp: 'ff02::1', kind: 'advertisement', target: VIP6, flags: 0x20, lladdr: IDENTITY.vmac } });
    await expect(burst.done).resolves.toEqual({ outcome: 'completed', sent: 6, failed: 0 });
  });

  it('the announcer announces both families on takeover', () => {
    const port = createFakePacketPort();
    const clock = createFakeScheduler();
    const { log } = captureLogger();
    const a = createGarpAnnouncer({ port, ...IDENTITY, vip6: VIP6, count: 1, intervalMs: 100, refreshMs: 0, schedule: clock.schedule, log });
    a.announce('takeover');
    expect(port.sent.map((f) => (decodeNdFrame(f).ok ? 'na' : 'garp'))).toEqual(['garp', 'na']);
    a.close();
  });

  it('without a VIP6 the burst is ARP only', () => {
    const port = createFakePacketPort();
    const clock = createFakeScheduler();
    const { log } = captureLogger();
    startGarpBurst({ port, ...IDENTITY, count: 2, intervalMs: 100, schedule: clock.schedule, log });
    clock.advance(1000);
    expect(port.sent.filter((f) => decodeNdFrame(f).ok)).toHaveLength(0);
    expect(port.sent).toHaveLength(2);
  });
});
