import { describe, expect, it } from 'vitest';
import { createFakePacketPort, createFakeSegment } from '../../../src/arp/fake-packet-port.js';
import { isVmacError } from '../../../src/util/errors.js';

describe('fake packet port', () => {
  it('records copies of sent frames, so a caller reusing its buffer changes nothing', () => {
    const port = createFakePacketPort();
    const buf = Uint8Array.from([1, 2, 3]);
    port.send(buf);
    buf[0] = 9;
    expect(Array.from(port.sent[0] ?? [])).toEqual([1, 2, 3]);
  });

  it('gives every handler its own copy of an injected frame', () => {
    const port = createFakePacketPort();
    const seen: Uint8Array[] = [];
    port.onFrame((f) => { f[0] = 7; seen.push(f); });
    port.onFrame((f) => seen.push(f));
    port.inject(Uint8Array.from([1]));
    expect(seen.map((f) => f[0])).toEqual([7, 1]);
  });

  it('unsubscribes one handler at a time, idempotently', () => {
    const port = createFakePacketPort();
    let a = 0;
    let b = 0;
    const offA = port.onFrame(() => { a += 1; });
    port.onFrame(() => { b += 1; });
    offA();
    offA();
    port.inject(new Uint8Array(1));
    expect([a, b]).toEqual([0, 1]);
  });

  it('fails scripted sends in order, then recovers', () => {
    const port = createFakePacketPort();
    const custom = new Error('ENOBUFS');
    port.failSend({ times: 2 });
    port.failSend({ error: custom });
    const results = [1, 2, 3, 4].map(() => {
      try { port.send(new Uint8Array(1)); return 'ok'; } catch (err) { return isVmacError(err, 'VMAC_PCAP_FAILED') ? 'pcap' : err === custom ? 'custom' : 'other'; }
    });
    expect(results).toEqual(['pcap', 'pcap', 'custom', 'ok']);
    expect(port.sent).toHaveLength(1);
  });

  it('after close: send throws VMAC_PCAP_FAILED and inject reports closed', () => {
    const port = createFakePacketPort();
    port.close();
    port.close();
    expect(() => port.send(new Uint8Array(1))).toThrow(/closed/);
    expect(port.inject(new Uint8Array(1))).toBe('closed');
    expect(port.state).toBe('closed');
  });
});

describe('fake segment', () => {
  it('floods a frame to every other port, not back to the sender', () => {
    const segment = createFakeSegment();
    const ports = [segment.attach(), segment.attach(), segment.attach()];
    const got = ports.map(() => 0);
    ports.forEach((p, i) => p.onFrame(() => { got[i] = (got[i] ?? 0) + 1; }));
    ports[1]?.send(new Uint8Array(60));
    expect(got).toEqual([1, 0, 1]);
    expect(segment.log.map((e) => e.from)).toEqual([1]);
  });
});
