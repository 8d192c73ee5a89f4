/**
 * Pings the two-node tie-breaker every intervalMs (one ICMP echo through the raw-socket shim,
 * answered within timeoutMs or counted lost) and keeps its reachable/unreachable state with
 * quorum-policy.ts's rise/fall. Time comes from the injected clock.
 */
import type { Logger } from 'pino';
import type { IcmpEchoPort } from '../../native-shims/raw-socket.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { eachEffect, reducerLoop } from '../util/reducer-loop.js';
import { initTieBreaker, onPing, type TieBreaker, type TieBreakerConfig } from './quorum-policy.js';

export interface TieBreakerRunner {
  state(): TieBreaker;
  close(): void;
}

export function startTieBreaker(cfg: TieBreakerConfig, port: IcmpEchoPort, clock: Clock, log: Logger, id: number = process.pid & 0xffff, onChange: () => void = () => undefined): TieBreakerRunner {
  let seq = 0;
  let pending: { seq: number; sentMs: number; timer: TimerHandle } | null = null;
  // onPing (quorum-policy.ts) as a step: its one effect is a change of reachability.
  const loop = reducerLoop<TieBreaker, { rttMs: number | null }, TieBreaker>({
    init: initTieBreaker(),
    step(t, e) {
      const next = onPing(t, e.rttMs, cfg);
      return { state: next, effects: next.state !== t.state ? [next] : [] };
    },
    clock,
    perform: eachEffect((t) => {
      const level = t.state === 'unreachable' ? 'warn' : 'info';
      log[level]({ event: 'tie-breaker', target: cfg.target, state: t.state, lastRttMs: t.lastRttMs }, `tie-breaker ${cfg.target} ${t.state}`);
      onChange();
    }),
  });
  const record = (rttMs: number | null): void => loop.dispatch({ rttMs });
  port.onReply((r) => {
    if (pending === null || r.id !== id || r.seq !== pending.seq || r.source !== cfg.target) return;
    clock.clear(pending.timer);
    const rtt = clock.nowMs() - pending.sentMs;
    pending = null;
    record(rtt);
  });
  const ping = (): void => {
    if (pending !== null) return; // the last one is still within its timeout
    seq = (seq + 1) & 0xffff;
    const mine = seq;
    pending = { seq: mine, sentMs: clock.nowMs(), timer: clock.setTimer(cfg.timeoutMs, () => { if (pending?.seq === mine) { pending = null; record(null); } }) };
    try { port.send(cfg.target, id, mine); } catch (err) { log.error({ err, event: 'ping-send-failed' }, 'tie-breaker ping could not be sent'); }
  };
  const timer = clock.setRepeating(cfg.intervalMs, ping);
  ping();
  return {
    state: () => loop.state(),
    close() { loop.close(); clock.clear(timer); if (pending) clock.clear(pending.timer); port.close(); },
  };
}
