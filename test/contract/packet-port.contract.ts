/**
 * The PacketPort contract (src/arp/packet-port.ts): what the ARP/ND responders and the
 * gratuitous-ARP announcer rely on from any port. Two ports on one link: a frame sent on `a`
 * reaches `b`. Run against the fake segment (test/unit/arp/packet-port-fake.test.ts) and against
 * libpcap on a veth pair inside a namespace (test/lab/packet-port-pcap.test.ts).
 *
 * The checks are plain async functions using node:assert, so the real adapter runs them in a
 * child process inside the namespace (a capture opens in its caller's namespace); under vitest
 * `packetPortContract` wraps each in an `it`.
 */
import assert from 'node:assert/strict';
import type { PacketPort } from '../../src/arp/packet-port.js';

export interface PacketPortSubject {
  /** Two open ports on one link. */
  readonly a: PacketPort;
  readonly b: PacketPort;
  /** Lets frames arrive: nothing for the fake (synchronous), a bounded wait until `done()` for real. */
  settle(done: () => boolean): Promise<void>;
  cleanup(): Promise<void> | void;
}

/** A broadcast frame with the local experimental EtherType 0x88b5 (harmless anywhere), tagged by `tag`. */
export function testFrame(tag: number, length = 60): Uint8Array {
  const f = new Uint8Array(length).fill(0xff, 0, 6).fill(0x02, 6, 12);
  f[12] = 0x88;
  f[13] = 0xb5;
  f[14] = tag;
  for (let i = 15; i < length; i++) f[i] = (i * 7 + tag) & 0xff;
  return f;
}

/** The frames tagged as ours (a real link also carries the host's own traffic). */
const ours = (f: Uint8Array): boolean => f.length >= 15 && f[12] === 0x88 && f[13] === 0xb5;

export interface PacketPortCheck { readonly name: string; run(s: PacketPortSubject): Promise<void> }

const collect = (port: PacketPort): { frames: Uint8Array[]; off: () => void } => {
  const frames: Uint8Array[] = [];
  const off = port.onFrame((f) => { if (ours(f)) frames.push(f); });
  return { frames, off };
};

export const PACKET_PORT_CHECKS: readonly PacketPortCheck[] = [
  {
    name: 'a frame sent on one port arrives whole, byte for byte, at a port on the same link',
    async run(s) {
      const got = collect(s.b);
      const sent = testFrame(1, 98);
      s.a.send(sent);
      await s.settle(() => got.frames.length >= 1);
      assert.equal(got.frames.length, 1);
      assert.deepEqual([...(got.frames[0] ?? [])], [...sent]);
    },
  },
  {
    name: 'send keeps no reference: the caller may reuse its buffer at once',
    async run(s) {
      const got = collect(s.b);
      const buf = testFrame(2);
      const original = Uint8Array.from(buf);
      s.a.send(buf);
      buf.fill(0);
      await s.settle(() => got.frames.length >= 1);
      assert.deepEqual([...(got.frames[0] ?? [])], [...original]);
    },
  },
  {
    name: 'every handler gets its own copy, kept intact across later frames',
    async run(s) {
      const first = collect(s.b);
      const second = collect(s.b);
      const vandal = s.b.onFrame((f) => { if (ours(f)) f.fill(0xee, 14); });
      s.a.send(testFrame(3));
      await s.settle(() => first.frames.length >= 1 && second.frames.length >= 1);
      vandal();
      s.a.send(testFrame(4));
      await s.settle(() => first.frames.length >= 2 && second.frames.length >= 2);
      const tags = (fs: Uint8Array[]): number[] => fs.map((f) => f[14] ?? -1);
      // The handler registered after ours scribbled on its own copy only; the first frame kept by
      // `first` was not overwritten by the second (a reused receive buffer would show here).
      assert.deepEqual(tags(first.frames), [3, 4]);
      assert.deepEqual([...(first.frames[0] ?? [])], [...testFrame(3)]);
      assert.deepEqual([...(second.frames[0] ?? [])], [...testFrame(3)]);
    },
  },
  {
    name: 'unsubscribe detaches that handler only, and a second call is harmless',
    async run(s) {
      const kept = collect(s.b);
      const gone = collect(s.b);
      gone.off();
      gone.off();
      s.a.send(testFrame(5));
      await s.settle(() => kept.frames.length >= 1);
      assert.equal(kept.frames.length, 1);
      assert.equal(gone.frames.length, 0);
    },
  },
  {
    name: 'after close: no frame reaches a handler, send throws VMAC_PCAP_FAILED, close again is harmless',
    async run(s) {
      const got = collect(s.b);
      s.b.close();
      s.b.close();
      s.a.send(testFrame(6));
      let rounds = 0;
      await s.settle(() => ++rounds > 1 && false); // one full settle: the real one waits its bound
      assert.equal(got.frames.length, 0);
      assert.throws(() => s.b.send(testFrame(7)), (err: unknown) => (err as { code?: string }).code === 'VMAC_PCAP_FAILED');
    },
  },
];

/** Runs every check as a vitest test, each on a fresh subject. */
export async function packetPortContract(name: string, make: () => Promise<PacketPortSubject>): Promise<void> {
  const { describe, it } = await import('vitest');
  describe(`PacketPort contract: ${name}`, () => {
    for (const c of PACKET_PORT_CHECKS) {
      it(c.name, async () => {
        const s = await make();
        try { await c.run(s); } finally { await s.cleanup(); }
      });
    }
  });
}
