/**
 * The daemon's periodic duties on one timer armed at the next deadline, not a fixed-rate tick.
 *
 * Two duties: the heartbeat (every intervalMs) and the lease renewal. A renewal is needed only
 * before the lease written last would run out, not every renewMs: so each heartbeat wake-up also
 * renews (one wake-up for both), and a wake-up of its own is armed only for a renewal that cannot
 * wait for the next heartbeat. `renewDueAtMs` (pure) says when that is:
 *
 * - no lease running (not serving, refused, or lapsed): renewMs after the last attempt, as the
 *   fixed-rate tick did, so a node starts serving as soon as a quorum hears it;
 * - a lease running until U: at U − earlyMs − renewMs (the kernel may end it earlyMs before U; a
 *   renewal late by up to renewMs still lands in time), but never sooner than renewMs after the
 *   last one. With the default profile (lease 100, renew 20, heartbeat 40, nft: early 8) that is
 *   72 ms after a renewal: the heartbeat 40 ms after it renews first, so an idle serving daemon
 *   wakes 25 times a second instead of 50. A lease shortened by old proofs (the safety rule caps
 *   it at what a quorum provably heard) falls back to renewMs.
 *
 * The lease is never longer than before (the reducer's grant is unchanged), so the safety rule
 * stands as it was; what changes is only how much of it is left when the next renewal comes: at
 * least leaseMs − earlyMs − intervalMs when the heartbeat renews (52 ms at the default profile;
 * semantic-check's rule 2 × renewMs + 8 ≤ leaseMs keeps it ≥ renewMs with the heartbeat no
 * slower than renewMs + the slack), else renewMs, as before.
 *
 * Heartbeat instants are optionally aligned on the wall clock (multiples of intervalMs since the
 * epoch): nodes whose clocks agree then send in the same instant, so peers' heartbeats arrive
 * while a daemon is awake for its own instead of waking it once each.
 */
import type { Clock, TimerHandle } from '../util/clock.js';

export interface PacerParams {
  readonly intervalMs: number;
  readonly renewMs: number;
  /** How early the data path's kernel may end a lease (nft set timeouts: 8 ms; XDP deadline: 0). */
  readonly earlyMs: number;
}

/** When the next renewal is due, from the last attempt and the lease it left running (null: none). */
export function renewDueAtMs(p: PacerParams, lastAttemptMs: number, leaseUntilMs: number | null): number {
  const soonest = lastAttemptMs + p.renewMs;
  if (leaseUntilMs === null || leaseUntilMs <= lastAttemptMs) return soonest;
  return Math.max(soonest, leaseUntilMs - p.earlyMs - p.renewMs);
}

/**
 * Delay to the next heartbeat instant: intervalMs after `nowMs`, or, aligned, to the next multiple
 * of intervalMs of the wall clock — at least an eighth of an interval away, so a timer that fires
 * a hair early on the wall clock does not send twice (the gap is then at most 9/8 intervals).
 */
export function heartbeatDelayMs(intervalMs: number, wallMs: number | null): number {
  if (wallMs === null) return intervalMs;
  const d = intervalMs - (((wallMs % intervalMs) + intervalMs) % intervalMs);
  return d < intervalMs / 8 ? d + intervalMs : d;
}

export interface PacerDeps {
  readonly clock: Clock;
  readonly params: PacerParams;
  /** Align heartbeat instants on the wall clock (the real daemon; off in the simulator). */
  readonly align: boolean;
  readonly heartbeat: () => void;
  readonly renew: () => void;
  /** The lease the last renewal left running (its end on the monotonic clock), null if none. */
  readonly leaseUntilMs: () => number | null;
}

export interface Pacer {
  /** Wake-ups so far (timer firings): what the pacing saves is visible in status. */
  wakeups(): number;
  stop(): void;
}

/** Starts the duties; the first of each is due one period from now (the caller sends the first at once). */
export function startPacer(d: PacerDeps): Pacer {
  const { clock, params } = d;
  const wall = (): number | null => (d.align ? clock.wallMs() : null);
  let hbAtMs = clock.nowMs() + heartbeatDelayMs(params.intervalMs, wall());
  let lastRenewMs = clock.nowMs();
  let renewAtMs = renewDueAtMs(params, lastRenewMs, d.leaseUntilMs());
  let handle: TimerHandle | null = null;
  let stopped = false;
  let wakeups = 0;

  const arm = (): void => {
    if (stopped) return;
    // Whole milliseconds, rounded up: Node arms libuv with the truncated delay and, finding the
    // timer a fraction early, sleeps once more for the rest (a second wake-up per deadline).
    handle = clock.setTimer(Math.max(0, Math.ceil(Math.min(hbAtMs, renewAtMs) - clock.nowMs())), fire);
  };
  function fire(): void {
    handle = null;
    if (stopped) return;
    wakeups++;
    const now = clock.nowMs();
    const beat = now >= hbAtMs;
    if (beat) {
      d.heartbeat();
      hbAtMs = now + heartbeatDelayMs(params.intervalMs, wall());
    }
    // The heartbeat's wake-up renews too (coalesced); otherwise only a renewal that is due.
    if (!stopped && (beat || now >= renewAtMs)) {
      d.renew();
      lastRenewMs = now;
      renewAtMs = renewDueAtMs(params, lastRenewMs, d.leaseUntilMs());
    }
    arm();
  }
  arm();
  return {
    wakeups: () => wakeups,
    stop() {
      stopped = true;
      if (handle !== null) clock.clear(handle);
      handle = null;
    },
  };
}
