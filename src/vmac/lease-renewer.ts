/**
 * Renews the node's kernel lease every `renewMs`. The lease is what makes a dead or hung daemon
 * harmless: if this loop stops, the kernel stops answering after `leaseMs` by itself.
 * A renewal that comes later than the lease is reported as a gap (the node went silent meanwhile).
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { DataPathPort } from './datapath-port.js';

export interface LeaseStats {
  readonly renewals: number;
  readonly failures: number;
  readonly gaps: number; // renewals that came after the previous lease had expired
  readonly maxIntervalMs: number; // longest time between two renewals seen
}

export interface LeaseRenewer {
  stats(): LeaseStats;
  /** Whether renewal is wanted right now (a node without quorum will say no from the next issue on). */
  setActive(active: boolean): void;
  stop(): void;
}

export function startLeaseRenewer(opts: { port: DataPathPort; clock: Clock; leaseMs: number; renewMs: number; log: Logger }): LeaseRenewer {
  const { port, clock, leaseMs, renewMs, log } = opts;
  let last = clock.nowMs();
  let active = true;
  const s = { renewals: 0, failures: 0, gaps: 0, maxIntervalMs: 0 };
  const tick = (): void => {
    if (!active) return;
    const now = clock.nowMs();
    const since = now - last;
    s.maxIntervalMs = Math.max(s.maxIntervalMs, since);
    if (since >= leaseMs) {
      s.gaps++;
      log.error({ event: 'lease-gap', sinceMs: Math.round(since), leaseMs }, 'lease renewed after it had expired: the node was silent');
    }
    try {
      port.renew(leaseMs);
      s.renewals++;
      last = now;
    } catch (err) {
      s.failures++;
      log.error({ err, event: 'lease-renew-failed' }, 'lease renewal failed');
    }
  };
  const handle: TimerHandle = clock.setRepeating(renewMs, tick);
  return {
    stats: () => ({ ...s }),
    setActive(a) {
      if (a && !active) last = clock.nowMs();
      active = a;
      if (a) tick();
    },
    stop: () => clock.clear(handle),
  };
}
