/**
 * The data-path check's prober: one *round* sends one ICMP echo to each target and reports each
 * target's round-trip time, or null when no answer came within the timeout. `DataPathProber` is
 * the narrow port the runner uses; `icmpProber` is the adapter over the typed raw-socket shim
 * (native-shims/raw-socket.ts), whose socket the daemon binds to the cluster interface so the
 * echo leaves through the data path, not through some other route. A fake echo port
 * (fake-icmp-echo.ts) stands in for the socket in unit tests; time comes from the injected clock.
 */
import type { EchoReply, IcmpEchoPort } from '../../../native-shims/raw-socket.js';
import type { Clock, TimerHandle } from '../../util/clock.js';

export interface RoundReport {
  readonly rttMs: ReadonlyMap<string, number | null>;
  /** How late the round's timeout fired (0 when every target answered first): a stalled daemon. */
  readonly lateMs: number;
}

export interface DataPathProber {
  round(targets: readonly string[], timeoutMs: number): Promise<RoundReport>;
  close(): void;
}

/** Runs `fn` after the I/O already queued: replies that arrived during a stall are read before the verdict. */
export type Defer = (fn: () => void) => void;
const afterPendingIo: Defer = (fn) => void setImmediate(fn);

export function icmpProber(echo: IcmpEchoPort, clock: Clock, id: number, onSendError: (err: Error, target: string) => void = () => undefined, defer: Defer = afterPendingIo): DataPathProber {
  let seq = 0;
  let current: { seq: number; sentMs: number; rtt: Map<string, number | null>; waiting: Set<string>; timer: TimerHandle; finish: (lateMs: number) => void } | null = null;
  echo.onReply((r: EchoReply) => {
    const c = current;
    if (c === null || r.id !== id || r.seq !== c.seq || !c.waiting.has(r.source)) return;
    c.waiting.delete(r.source);
    c.rtt.set(r.source, Math.max(0, clock.nowMs() - c.sentMs));
    if (c.waiting.size === 0) {
      clock.clear(c.timer);
      c.finish(0);
    }
  });
  return {
    round(targets, timeoutMs) {
      return new Promise<RoundReport>((resolve) => {
        seq = (seq + 1) & 0xffff;
        const sentMs = clock.nowMs();
        const rtt = new Map<string, number | null>(targets.map((t) => [t, null]));
        const mine = seq;
        let done = false;
        const finish = (lateMs: number): void => {
          if (done) return;
          done = true;
          if (current?.seq === mine) current = null;
          resolve({ rttMs: rtt, lateMs });
        };
        const timer = clock.setTimer(timeoutMs, () => {
          const lateMs = Math.max(0, clock.nowMs() - (sentMs + timeoutMs));
          defer(() => finish(lateMs));
        });
        current = { seq: mine, sentMs, rtt, waiting: new Set(targets), timer, finish };
        for (const t of targets) {
          try { echo.send(t, id, mine); } catch (err) { onSendError(err as Error, t); }
        }
      });
    },
    close() {
      if (current) clock.clear(current.timer);
      current = null;
      echo.close();
    },
  };
}
