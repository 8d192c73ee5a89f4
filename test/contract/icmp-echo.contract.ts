/**
 * The ICMP echo contract: what the tie-breaker and the data-path check rely on from any
 * IcmpEchoPort. Run against the fake (test/unit/health/reachability/fake-icmp-echo.test.ts) and against
 * the raw socket pinging loopback (test/lab/icmp-echo-raw.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { EchoReply, IcmpEchoPort } from '../../native-shims/raw-socket.js';

export interface IcmpEchoSubject {
  port: IcmpEchoPort;
  /** An address that answers echo requests. */
  reachable: string;
  /** Lets replies arrive: advances a fake clock, or waits until `done()` holds (bounded) for real. */
  settle(done: () => boolean): Promise<void>;
  cleanup(): Promise<void> | void;
}

export function icmpEchoContract(name: string, make: () => Promise<IcmpEchoSubject>): void {
  describe(`IcmpEchoPort contract: ${name}`, () => {
    const withSubject = async (fn: (s: IcmpEchoSubject) => Promise<void>): Promise<void> => {
      const s = await make();
      try { await fn(s); } finally { await s.cleanup(); }
    };
    // Other pingers on the host share a raw socket's view: keep only our identifier.
    const ID = 0x7a5c;
    const collect = (s: IcmpEchoSubject): EchoReply[] => {
      const got: EchoReply[] = [];
      s.port.onReply((r) => { if (r.id === ID) got.push(r); });
      return got;
    };

    it('an echo to a reachable address is answered with its identifier, sequence and source', () => withSubject(async (s) => {
      const got = collect(s);
      s.port.send(s.reachable, ID, 1);
      s.port.send(s.reachable, ID, 2);
      await s.settle(() => got.length >= 2);
      expect(got.map((r) => r.seq).sort()).toEqual([1, 2]);
      expect(got.every((r) => r.source === s.reachable && r.id === ID)).toBe(true);
    }));

    it('identifier and sequence are 16-bit on the wire', () => withSubject(async (s) => {
      const got = collect(s);
      s.port.send(s.reachable, ID, 0x1_0003);
      await s.settle(() => got.length >= 1);
      expect(got.map((r) => r.seq)).toEqual([3]);
    }));

    it('after close, no reply reaches a listener', () => withSubject(async (s) => {
      const got = collect(s);
      s.port.send(s.reachable, ID, 7);
      s.port.close();
      let waited = false;
      await s.settle(() => (waited = !waited) && false); // one full settle: fake timers fire, real waits its bound
      expect(got).toEqual([]);
    }));
  });
}
