/**
 * The heartbeat transport contract: what the daemon relies on from any HeartbeatTransport. Run
 * against the in-memory network (test/unit/cluster/fake-transport.test.ts) and against UDP sockets on
 * loopback addresses (test/lab/transport-udp.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { HeartbeatTransport } from '../../src/cluster/transport.js';

export interface TransportSubject {
  /** Two nodes with one link each, on `aAddr` and `bAddr`. */
  a: HeartbeatTransport;
  b: HeartbeatTransport;
  aAddr: string;
  bAddr: string;
  /** Lets datagrams travel: advances a fake clock, or waits until `done()` holds (bounded) for real. */
  settle(done: () => boolean): Promise<void>;
  cleanup(): Promise<void> | void;
}

interface Got { bytes: number[]; linkId: number; from: string }

export function transportContract(name: string, make: () => Promise<TransportSubject>): void {
  describe(`HeartbeatTransport contract: ${name}`, () => {
    const withSubject = async (fn: (s: TransportSubject) => Promise<void>): Promise<void> => {
      const s = await make();
      try { await fn(s); } finally { await s.cleanup(); }
    };
    const collect = (t: HeartbeatTransport): Got[] => {
      const got: Got[] = [];
      t.onMessage((bytes, linkId, from) => void got.push({ bytes: [...bytes], linkId, from }));
      return got;
    };

    it('a datagram sent on a link arrives once, whole, with the link id and the sender\'s address', () => withSubject(async (s) => {
      const got = collect(s.b);
      s.a.send(0, s.bAddr, Uint8Array.from([0x56, 1, 2, 3, 255]));
      await s.settle(() => got.length >= 1);
      expect(got).toEqual([{ bytes: [0x56, 1, 2, 3, 255], linkId: 0, from: s.aAddr }]);
    }));

    it('every handler gets its own copy', () => withSubject(async (s) => {
      const first = collect(s.b);
      const second: Uint8Array[] = [];
      s.b.onMessage((bytes) => void second.push(bytes));
      s.a.send(0, s.bAddr, Uint8Array.from([9, 8, 7]));
      await s.settle(() => first.length >= 1 && second.length >= 1);
      expect(first.map((g) => g.bytes)).toEqual([[9, 8, 7]]);
      expect(second.map((b) => [...b])).toEqual([[9, 8, 7]]);
    }));

    it('the sender\'s buffer may be reused at once: what arrives is what was sent', () => withSubject(async (s) => {
      const got = collect(s.b);
      const buf = Uint8Array.from([1, 1, 1]);
      s.a.send(0, s.bAddr, buf);
      buf.fill(2);
      s.a.send(0, s.bAddr, buf);
      await s.settle(() => got.length >= 2);
      expect(got.map((g) => g.bytes).sort()).toEqual([[1, 1, 1], [2, 2, 2]]);
    }));

    it('a closed transport receives nothing more, and sending from one is not an error', () => withSubject(async (s) => {
      const got = collect(s.b);
      const back = collect(s.a);
      s.b.close();
      s.a.send(0, s.bAddr, Uint8Array.from([1]));
      s.b.send(0, s.aAddr, Uint8Array.from([2]));
      s.a.send(0, s.aAddr, Uint8Array.from([3])); // a marker the open side does receive
      await s.settle(() => back.length >= 1);
      expect(got).toEqual([]);
      expect(back.map((g) => g.bytes)).toEqual([[3]]);
    }));

    it('a link the node does not have sends nothing and does not throw', () => withSubject(async (s) => {
      const got = collect(s.b);
      expect(() => s.a.send(5, s.bAddr, Uint8Array.from([1]))).not.toThrow();
      s.a.send(0, s.bAddr, Uint8Array.from([2])); // marker
      await s.settle(() => got.length >= 1);
      expect(got.map((g) => g.bytes)).toEqual([[2]]);
    }));
  });
}
