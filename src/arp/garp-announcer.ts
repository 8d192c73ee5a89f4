/**
 * When gratuitous ARP bursts go out: on demand (start, membership change, takeover) and as a
 * periodic refresh, so a client or switch that missed a burst is corrected within `refreshMs`.
 * At most one burst runs at a time: an explicit announcement replaces a running burst (the
 * newest reason restarts the count), while a refresh that finds a burst running is skipped.
 */
import { VmacError } from '../util/errors.js';
import { burstFrames, checkGarpTiming, startGarpBurst, type Cancel, type GarpBurst, type GarpBurstOptions } from './garp-burst.js';

export type AnnounceReason = 'start' | 'membership-change' | 'takeover' | 'refresh';

export interface GarpAnnouncerOptions extends Omit<GarpBurstOptions, 'ethDst'> {
  /** Period of the refresh burst in ms; 0 = no periodic refresh (`arp.refreshMs`). */
  readonly refreshMs: number;
}

export interface GarpAnnouncer {
  /** Starts a burst now, replacing a running one. After `close` it returns a canceled burst. */
  announce(reason: Exclude<AnnounceReason, 'refresh'>): GarpBurst;
  /** Cancels the running burst and the refresh timer. Idempotent. */
  close(): void;
}

const CANCELED: GarpBurst = {
  state: 'canceled',
  done: Promise.resolve({ outcome: 'canceled', sent: 0, failed: 0 }),
  cancel: () => {},
};

/** Throws `VMAC_CONFIG_INVALID` on a bad identity or timing, like `startGarpBurst`. */
export function createGarpAnnouncer(options: GarpAnnouncerOptions): GarpAnnouncer {
  const { schedule, refreshMs, log } = options;
  let current: GarpBurst | undefined;
  let cancelRefresh: Cancel | undefined;
  let closed = false;

  function burst(reason: AnnounceReason): GarpBurst {
    current?.cancel();
    log.debug({ reason }, 'garp burst starting');
    current = startGarpBurst(options);
    return current;
  }

  function armRefresh(): void {
    if (refreshMs > 0 && !closed) cancelRefresh = schedule(onRefresh, refreshMs);
  }

  function onRefresh(): void {
    cancelRefresh = undefined;
    if (closed) return;
    if (current?.state === 'running') log.debug({ reason: 'refresh' }, 'garp refresh skipped: a burst is running');
    else burst('refresh');
    armRefresh();
  }

  // Fail at construction, not at the first refresh, on a bad identity or timing.
  burstFrames(options);
  checkGarpTiming(options.count, options.intervalMs);
  if (!Number.isFinite(refreshMs) || refreshMs < 0) {
    throw new VmacError('VMAC_CONFIG_INVALID', `garp refresh period must be ≥ 0 ms, got ${refreshMs}`, { refreshMs });
  }
  armRefresh();
  return {
    announce(reason) {
      return closed ? CANCELED : burst(reason);
    },
    close() {
      closed = true;
      cancelRefresh?.();
      cancelRefresh = undefined;
      current?.cancel();
    },
  };
}
