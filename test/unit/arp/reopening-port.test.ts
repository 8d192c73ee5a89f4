import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { reopeningPort } from '../../../src/arp/reopening-port.js';
import { createFakePacketPort, type FakePacketPort } from '../../../src/arp/fake-packet-port.js';
import { fakeClock } from '../../../src/util/clock.js';
import { VmacError } from '../../../src/util/errors.js';

describe('reopening packet port', () => {
  it('reopens after a link error, keeps handlers attached, refuses sends while down', () => {
    const clock = fakeClock();
    const opened: FakePacketPort[] = [];
    let linkUp = true;
    let fail: ((e: VmacError) => void) | null = null;
    const port = reopeningPort((onLinkError) => {
      if (!linkUp) throw new VmacError('VMAC_PCAP_FAILED', 'That device is not up');
      fail = onLinkError;
      const p = createFakePacketPort();
      opened.push(p);
      return p;
    }, clock, pino({ level: 'silent' }), 100);
    const seen: number[] = [];
    port.onFrame((f) => seen.push(f[0] ?? -1));
    opened[0]!.inject(Uint8Array.from([1]));
    // The link goes down: the capture reports it, sends fail, reopening waits for the link.
    linkUp = false;
    fail!(new VmacError('VMAC_PCAP_FAILED', 'ENETDOWN'));
    expect(opened[0]!.state).toBe('closed');
    expect(() => port.send(Uint8Array.from([0]))).toThrow(VmacError);
    clock.advance(1000);
    expect(opened).toHaveLength(1);
    linkUp = true;
    clock.advance(100);
    expect(opened).toHaveLength(2);
    opened[1]!.inject(Uint8Array.from([2]));
    port.send(Uint8Array.from([9]));
    expect(opened[1]!.sent).toHaveLength(1);
    expect(seen).toEqual([1, 2]);
    port.close();
    expect(opened[1]!.state).toBe('closed');
  });
});
