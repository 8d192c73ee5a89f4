/**
 * When the daemon tells systemd it is ready, and when it pets the watchdog. Pure reducer:
 *   READY=1    once the data path and membership are up (startDaemon returned) AND either the
 *              node is serving (a quorum hears it, its lease runs) or READY_GRACE has passed:
 *              a node that boots first in its cluster has no quorum yet, and must not make
 *              `systemctl start` fail for that; its STATUS says it is waiting for a quorum.
 *   WATCHDOG=1 only when the heartbeat loop sent heartbeats since the previous ping: a hung or
 *              starved loop stops the pings and systemd restarts the unit (WatchdogSec), while
 *              the kernel lease has already stopped the node answering.
 *   STATUS=    a one-line summary whenever it changes (systemctl status shows it).
 */
export interface NotifySnapshot {
  readonly nowMs: number;
  readonly serving: boolean;
  readonly heartbeatsSent: number;
  readonly quorum: boolean;
  readonly owned: number;
}

export interface NotifyState {
  readonly startedMs: number;
  readonly ready: boolean;
  readonly lastPingSent: number; // heartbeatsSent at the previous watchdog check
  readonly lastStatus: string;
  readonly stopping: boolean; // after STOPPING=1 only watchdog pings follow
}

export type NotifyEvent = { readonly kind: 'check'; readonly snap: NotifySnapshot } | { readonly kind: 'watchdog-due'; readonly snap: NotifySnapshot } | { readonly kind: 'stopping' };

export type NotifyOutcome = 'ready' | 'ready-without-quorum' | 'pinged' | 'withheld-loop-stalled' | 'status' | 'stopping';

export interface NotifyEffect { readonly message: string; readonly outcome: NotifyOutcome }

export function initNotify(nowMs: number, heartbeatsSent: number): NotifyState {
  return { startedMs: nowMs, ready: false, lastPingSent: heartbeatsSent, lastStatus: '', stopping: false };
}

function statusLine(s: NotifySnapshot): string {
  if (s.serving) return `serving ${s.owned} buckets`;
  return s.quorum ? 'quorum heard, waiting for the lease' : 'waiting for a quorum: not answering';
}

export function notifyStep(st: NotifyState, ev: NotifyEvent, readyGraceMs: number): { state: NotifyState; effects: NotifyEffect[] } {
  if (ev.kind === 'stopping') return { state: { ...st, stopping: true }, effects: [{ message: 'STOPPING=1\nSTATUS=stopping: handing buckets over', outcome: 'stopping' }] };
  const s = ev.snap;
  const effects: NotifyEffect[] = [];
  let next = st;
  const status = statusLine(s);
  if (st.stopping) {
    // Nothing to report but liveness: systemd keeps watching the watchdog until the stop ends.
  } else if (!st.ready && (s.serving || s.nowMs - st.startedMs >= readyGraceMs)) {
    effects.push({ message: `READY=1\nSTATUS=${status}`, outcome: s.serving ? 'ready' : 'ready-without-quorum' });
    next = { ...next, ready: true, lastStatus: status };
  } else if (st.ready && status !== st.lastStatus) {
    effects.push({ message: `STATUS=${status}`, outcome: 'status' });
    next = { ...next, lastStatus: status };
  }
  if (ev.kind === 'watchdog-due') {
    if (s.heartbeatsSent > st.lastPingSent) effects.push({ message: 'WATCHDOG=1', outcome: 'pinged' });
    else effects.push({ message: '', outcome: 'withheld-loop-stalled' });
    next = { ...next, lastPingSent: s.heartbeatsSent };
  }
  return { state: next, effects };
}

/** systemd passes WatchdogSec as WATCHDOG_USEC (and WATCHDOG_PID); ping at half of it, as sd_watchdog_enabled(3) advises. */
export function watchdogPingMs(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(1, Math.floor(usec / 2000));
}
