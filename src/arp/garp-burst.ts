/**
 * A short burst of gratuitous ARPs (VIP is-at VMAC), sent at start, on membership changes, on
 * takeover and as a periodic refresh. A burst rather than one frame because a single broadcast
 * can be lost, and a switch or client that missed it keeps a stale entry until it times out.
 * Dual stack: each step of the burst also sends an unsolicited Neighbor Advertisement for the
 * VIP6 (Override set: the IPv6 gratuitous ARP), so both families' clients are corrected together.
 * Timing comes from config (`arp.garpCount`, `arp.garpIntervalMs`); time itself comes from an
 * injected `Schedule`, so tests step a fake clock instead of sleeping.
 */
import type { Logger } from 'pino';
import { VmacError } from '../util/errors.js';
import { gratuitousArp } from './arp-frame.js';
import { validateArpIdentity } from './arp-identity.js';
import { unsolicitedNa } from './nd-frame.js';
import { validateNdIdentity } from './nd-responder.js';
import type { PacketPort } from './packet-port.js';

export type Cancel = () => void;
/** `setTimeout`-like: run `callback` once after `delayMs`; the returned function cancels it. */
export type Schedule = (callback: () => void, delayMs: number) => Cancel;

export const realSchedule: Schedule = (callback, delayMs) => {
  const timer = setTimeout(callback, delayMs);
  return () => clearTimeout(timer);
};

export interface GarpBurstOptions {
  readonly port: PacketPort;
  /** The IPv4 VIP (a gratuitous ARP per step); null: an IPv6-only service (unsolicited NAs only). */
  readonly vip: string | null;
  readonly vmac: string;
  readonly realMac: string;
  /** Frames in the burst, ≥ 1. The first goes out synchronously when the burst starts. */
  readonly count: number;
  /** Spacing between frames, ≥ 0 ms. */
  readonly intervalMs: number;
  readonly schedule: Schedule;
  readonly log: Logger;
  /** Broadcast by default; a unicast destination announces to one client (`arp` mode). */
  readonly ethDst?: string;
  /** Dual stack: the VIP6, announced by an unsolicited NA at every step. */
  readonly vip6?: string | null;
}

export type GarpBurstOutcome = 'completed' | 'canceled';

export interface GarpBurstResult {
  readonly outcome: GarpBurstOutcome;
  readonly sent: number; // frames (with a VIP6: two per step)
  /** Sends the link refused; the burst carries on, since the next frame may well get out. */
  readonly failed: number;
}

export interface GarpBurst {
  /** Synchronous view of the same end as `done`, for callers that must not wait a microtask. */
  readonly state: 'running' | GarpBurstOutcome;
  /** Resolves when the burst ends; never rejects. */
  readonly done: Promise<GarpBurstResult>;
  /** Stops the burst; no frame is sent after this returns. Idempotent. */
  cancel(): void;
}

/** Throws `VMAC_CONFIG_INVALID` on a bad identity, count or interval; send errors are counted. */
export function startGarpBurst(options: GarpBurstOptions): GarpBurst {
  const frames = burstFrames(options);
  checkGarpTiming(options.count, options.intervalMs);
  const { port, count, intervalMs, schedule, log } = options;
  const id = { vip: options.vip ?? options.vip6 };
  let steps = 0;
  let sent = 0;
  let failed = 0;
  let cancelTimer: Cancel | undefined;
  let state: GarpBurst['state'] = 'running';
  let resolve: (result: GarpBurstResult) => void = () => {};
  const done = new Promise<GarpBurstResult>((r) => { resolve = r; });

  function finish(outcome: GarpBurstOutcome): void {
    if (state !== 'running') return;
    state = outcome;
    cancelTimer?.();
    cancelTimer = undefined;
    log.debug({ outcome, sent, failed, vip: id.vip }, 'garp burst ended');
    resolve({ outcome, sent, failed });
  }

  function sendOne(frame: Uint8Array): void {
    try {
      port.send(frame);
      sent += 1;
    } catch (err) {
      failed += 1;
      if (failed === 1) log.warn({ err, vip: id.vip }, 'garp send failed');
    }
  }

  function step(): void {
    cancelTimer = undefined;
    if (state !== 'running') return;
    for (const frame of frames) sendOne(frame);
    steps += 1;
    if (steps >= count) finish('completed');
    else cancelTimer = schedule(step, intervalMs);
  }

  step();
  return {
    get state() { return state; },
    done,
    cancel: () => finish('canceled'),
  };
}

/**
 * The frames of one burst step, identities validated: a gratuitous ARP for the VIP and an
 * unsolicited NA for the VIP6, whichever the service has (an IPv6-only service: the NA alone).
 * Throws `VMAC_CONFIG_INVALID` on a bad identity or when there is neither VIP.
 */
export function burstFrames(options: Pick<GarpBurstOptions, 'vip' | 'vip6' | 'vmac' | 'realMac' | 'ethDst'>): Uint8Array[] {
  const vip6 = options.vip6 ?? null;
  if (options.vip === null && vip6 === null) throw new VmacError('VMAC_CONFIG_INVALID', 'a gratuitous burst needs a VIP or a VIP6, got neither', { vmac: options.vmac });
  const frames: Uint8Array[] = [];
  if (options.vip !== null) {
    const arpId = validateArpIdentity({ vip: options.vip, vmac: options.vmac, realMac: options.realMac });
    frames.push(gratuitousArp({ ethSrc: arpId.realMac, senderMac: arpId.vmac, ip: arpId.vip, ethDst: options.ethDst }));
  }
  if (vip6 !== null) {
    const ndId = validateNdIdentity({ vip6, vmac: options.vmac, realMac: options.realMac });
    frames.push(unsolicitedNa({ ...ndId, ethSrc: ndId.realMac }));
  }
  return frames;
}

/** Throws `VMAC_CONFIG_INVALID` unless count is an integer ≥ 1 and the interval ≥ 0 ms. */
export function checkGarpTiming(count: number, intervalMs: number): void {
  if (!Number.isInteger(count) || count < 1) {
    throw new VmacError('VMAC_CONFIG_INVALID', `garp burst count must be an integer ≥ 1, got ${count}`, { count });
  }
  if (!Number.isFinite(intervalMs) || intervalMs < 0) {
    throw new VmacError('VMAC_CONFIG_INVALID', `garp burst interval must be ≥ 0 ms, got ${intervalMs}`, { intervalMs });
  }
}
