/**
 * Self-fencing with a watchdog device (/dev/watchdog from a hardware driver or `softdog`): once
 * armed, the kernel resets the machine unless it is kicked within its timeout. The daemon kicks
 * it from its event loop; a hung daemon stops kicking and the node is reset, so a peer may take
 * its buckets without trusting it to stop by itself. Optional and off by default: it must never
 * be armed by tests or CI (tests use the fake port). Disarming writes the magic 'V' before close.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../util/clock.js';
import { VmacError } from '../util/errors.js';

export interface WatchdogPort {
  open(path: string): void;
  kick(): void;
  /** Magic close: the driver stops the countdown (unless built with nowayout). */
  disarm(): void;
}

export function deviceWatchdog(): WatchdogPort {
  let fd: number | null = null;
  return {
    open(path) {
      try { fd = openSync(path, 'w'); } catch (err) { throw new VmacError('VMAC_WATCHDOG_FAILED', `cannot open watchdog ${path}: ${(err as Error).message}`, { path }, { cause: err }); }
    },
    kick() { if (fd !== null) writeSync(fd, '\0'); },
    disarm() { if (fd !== null) { writeSync(fd, 'V'); closeSync(fd); fd = null; } },
  };
}

export interface WatchdogConfig { readonly enabled: boolean; readonly device: string; readonly kickMs: number }

export interface Watchdog { readonly armed: boolean; kicks(): number; close(): void }

/** Arms the watchdog when enabled and kicks it every kickMs; `close` disarms it (planned stop). */
export function startWatchdog(cfg: WatchdogConfig, port: WatchdogPort, clock: Clock, log: Logger): Watchdog {
  if (!cfg.enabled) return { armed: false, kicks: () => 0, close: () => undefined };
  port.open(cfg.device);
  let kicks = 0;
  const timer: TimerHandle = clock.setRepeating(cfg.kickMs, () => {
    try { port.kick(); kicks++; } catch (err) { log.error({ err, event: 'watchdog-kick-failed' }, 'watchdog kick failed: this node will be reset'); }
  });
  port.kick();
  log.warn({ event: 'watchdog-armed', device: cfg.device, kickMs: cfg.kickMs }, 'watchdog armed: a hung daemon resets this node');
  return {
    armed: true,
    kicks: () => kicks,
    close() { clock.clear(timer); port.disarm(); log.info({ event: 'watchdog-disarmed' }, 'watchdog disarmed'); },
  };
}
