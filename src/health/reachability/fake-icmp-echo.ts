/**
 * An in-memory ICMP echo port for tests: targets in `reachable` answer after `rttMs` on the
 * injected clock; every other target stays silent. `sent` records every echo request.
 */
import type { EchoReply, IcmpEchoPort } from '../../../native-shims/raw-socket.js';
import type { Clock } from '../../util/clock.js';

export interface FakeIcmpEcho extends IcmpEchoPort {
  readonly reachable: Set<string>;
  rttMs: number;
  readonly sent: { target: string; id: number; seq: number }[];
  closed: boolean;
}

export function fakeIcmpEcho(clock: Clock, reachable: Iterable<string> = [], rttMs = 1): FakeIcmpEcho {
  const listeners: ((r: EchoReply) => void)[] = [];
  const port: FakeIcmpEcho = {
    reachable: new Set(reachable),
    rttMs,
    sent: [],
    closed: false,
    send(target, id16, seq16) {
      // As on the wire: identifier and sequence are 16-bit fields (raw-socket.ts echoRequest).
      const id = id16 & 0xffff;
      const seq = seq16 & 0xffff;
      port.sent.push({ target, id, seq });
      if (!port.reachable.has(target)) return;
      clock.setTimer(port.rttMs, () => { if (!port.closed) for (const fn of listeners) fn({ source: target, id, seq }); });
    },
    onReply(fn) { listeners.push(fn); },
    close() { port.closed = true; },
  };
  return port;
}
