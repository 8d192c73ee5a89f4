/** The fake packet ports (a flooding segment) meet the PacketPort contract; broken ports do not. */
import { describe, expect, it } from 'vitest';
import { createFakeSegment } from '../../../src/arp/fake-packet-port.js';
import type { FrameHandler, PacketPort } from '../../../src/arp/packet-port.js';
import { PACKET_PORT_CHECKS, packetPortContract, type PacketPortSubject } from '../../contract/packet-port.contract.js';

const fakeSubject = (wrap: (p: PacketPort) => PacketPort = (p) => p): PacketPortSubject => {
  const seg = createFakeSegment();
  const a = seg.attach();
  const b = wrap(seg.attach());
  return { a, b, settle: () => Promise.resolve(), cleanup: () => { a.close(); b.close(); } };
};

await packetPortContract('fake segment', () => Promise.resolve(fakeSubject()));

/** Negative controls: the contract catches the bugs it is there for. */
describe('PacketPort contract: broken ports fail it', () => {
  const check = (start: string) => {
    const c = PACKET_PORT_CHECKS.find((x) => x.name.startsWith(start));
    if (!c) throw new Error(`no check ${start}`);
    return c;
  };

  it('one receive buffer shared by every handler and reused for the next frame (unpatched cap)', async () => {
    const shared = (p: PacketPort): PacketPort => {
      const buf = new Uint8Array(2048);
      let view = buf.subarray(0, 0);
      const handlers = new Set<FrameHandler>();
      p.onFrame((f) => { buf.set(f); view = buf.subarray(0, f.length); for (const h of handlers) h(view); });
      return { send: (f) => p.send(f), close: () => p.close(), onFrame: (h) => { handlers.add(h); return () => { handlers.delete(h); }; } };
    };
    await expect(check('every handler gets its own copy').run(fakeSubject(shared))).rejects.toThrow();
  });

  it('a port that still delivers after close', async () => {
    const leaky = (p: PacketPort): PacketPort => {
      const handlers = new Set<FrameHandler>();
      p.onFrame((f) => { for (const h of handlers) h(f); });
      return { send: (f) => p.send(f), close: () => undefined, onFrame: (h) => { handlers.add(h); return () => { handlers.delete(h); }; } };
    };
    await expect(check('after close').run(fakeSubject(leaky))).rejects.toThrow();
  });
});
