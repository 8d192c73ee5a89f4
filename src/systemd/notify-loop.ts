/** Runs notify-policy.ts against a live daemon: timers, the notify socket, logs. */
import type { Logger } from 'pino';
import type { NotifySocket } from '../../native-shims/sdnotify.js';
import type { DaemonStatus } from '../daemon/node-daemon.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { eachEffect, reducerLoop } from '../util/reducer-loop.js';
import { initNotify, notifyStep, type NotifyEffect, type NotifyEvent, type NotifySnapshot, type NotifyState } from './notify-policy.js';

export interface NotifyLoop { stopping(): void; close(): void }

/** Readiness is checked this often until READY=1: it follows the first serving snapshot within 50 ms. */
const CHECK_MS = 50;
/**
 * After READY=1 the check only keeps STATUS= (read by people, `systemctl status`) up to date:
 * once a second is soon enough for that, and an idle daemon is not woken 20 times a second for it.
 */
const STATUS_CHECK_MS = 1000;

export function startNotifyLoop(o: { socket: NotifySocket; status: () => DaemonStatus; clock: Clock; watchdogMs: number | null; readyGraceMs: number; log: Logger }): NotifyLoop {
  const snap = (): NotifySnapshot => {
    const s = o.status().cluster;
    return { nowMs: o.clock.nowMs(), serving: s.self.servingSinceMs !== null, heartbeatsSent: s.heartbeats.sent, quorum: s.quorum.has, owned: s.owned.length };
  };
  let check: TimerHandle | null = null;
  // The events carry their snapshot's time (notify-policy.ts reads no clock of its own).
  const loop = reducerLoop<NotifyState, NotifyEvent, NotifyEffect>({
    init: initNotify(o.clock.nowMs(), snap().heartbeatsSent),
    step: (st, ev) => notifyStep(st, ev, o.readyGraceMs),
    clock: o.clock,
    perform: eachEffect((e) => {
      if (e.outcome === 'withheld-loop-stalled') { o.log.warn({ event: 'watchdog-withheld', reason: 'no heartbeat sent since the last ping' }, 'heartbeat loop stalled: not petting the watchdog'); return; }
      try { o.socket.send(e.message); } catch (err) { o.log.error({ err, event: 'notify-failed', reason: e.outcome }, 'sd_notify failed'); return; }
      if (e.outcome !== 'pinged') o.log.info({ event: 'notify', reason: e.outcome }, e.message.replace(/\n/g, ' '));
    }),
    after(before, now) {
      // Ready: from now on the check only keeps STATUS= current.
      if (!before.ready && now.ready && check !== null) {
        o.clock.clear(check);
        check = o.clock.setRepeating(STATUS_CHECK_MS, () => run({ kind: 'check', snap: snap() }));
      }
    },
  });
  const run = loop.dispatch;
  check = o.clock.setRepeating(CHECK_MS, () => run({ kind: 'check', snap: snap() }));
  const watchdog = o.watchdogMs === null ? null : o.clock.setRepeating(o.watchdogMs, () => run({ kind: 'watchdog-due', snap: snap() }));
  run({ kind: 'check', snap: snap() });
  return {
    stopping() { run({ kind: 'stopping' }); },
    close() {
      loop.close();
      if (check !== null) o.clock.clear(check);
      check = null;
      if (watchdog !== null) o.clock.clear(watchdog);
    },
  };
}
