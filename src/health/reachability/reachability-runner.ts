/**
 * Runs the data-path check: a round every `intervalMs` through the prober (never two at once),
 * the peers' health fed to the pure reducer (reachability-policy.ts) before each round and, while the
 * role is not `serving`, every heartbeat interval; its effects become log lines and a role
 * callback the daemon turns into leasing or draining.
 *
 * Why the peers are polled only off `serving`: while serving, a peers event can change no role
 * (only a round can judge the path unreachable, and the way out of `serving` is `settling`), so
 * the count is read where it is used, at each round, with no wake-up of its own. From `settling`
 * on, peer changes and the settle clock decide the role: then it is polled every interval.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { DataPathCheckConfig } from '../../config/reachability-config.js';
import type { DataPathProber } from './reachability-prober.js';
import { eachEffect, reducerLoop } from '../../util/reducer-loop.js';
import { initDataPath, step, type DataPathEffect, type DataPathEvent, type DataPathPolicy, type DataPathState, type PathHealth, type PathRole, type RoundOutcome } from './reachability-policy.js';

export interface DataPathStatus {
  readonly health: PathHealth;
  readonly role: PathRole;
  readonly roleForMs: number;
  readonly require: DataPathCheckConfig['require'];
  readonly intervalMs: number;
  readonly fall: number;
  readonly rise: number;
  readonly okStreak: number;
  readonly failStreak: number;
  readonly rounds: number;
  readonly failedRounds: number;
  readonly inconclusiveRounds: number;
  readonly healthyPeers: number;
  readonly lastRound: { agoMs: number; outcome: RoundOutcome; answered: readonly string[]; lost: readonly string[] } | null;
  readonly targets: { address: string; sent: number; answered: number; lastRttMs: number | null; lastAnsweredMsAgo: number | null }[];
}

export interface DataPathRunnerDeps {
  readonly cfg: DataPathCheckConfig & Pick<DataPathPolicy, 'settleMs'>;
  readonly prober: DataPathProber;
  readonly clock: Clock;
  readonly log: Logger;
  /** Peers heard announcing `active` (healthy, their own checks pass). */
  readonly healthyPeers: () => number;
  readonly peerPollMs: number;
  readonly onRole: (role: PathRole, from: PathRole) => void;
}

export interface DataPathRunner {
  role(): PathRole;
  status(): DataPathStatus;
  close(): void;
}

export function startDataPathCheck(d: DataPathRunnerDeps): DataPathRunner {
  const { cfg, clock, log } = d;
  let inFlight = false;
  let closed = false;
  let peerPoll: TimerHandle | null = null;
  const feedPeers = (): void => feed({ kind: 'peers', healthyPeers: d.healthyPeers() });
  /** The peer poll runs exactly while the role is not `serving` (see the header). */
  const pollPeersIfNeeded = (): void => {
    if (closed) return;
    const role = loop.state().role;
    if (role === 'serving' && peerPoll !== null) { clock.clear(peerPoll); peerPoll = null; }
    else if (role !== 'serving' && peerPoll === null) peerPoll = clock.setRepeating(d.peerPollMs, feedPeers);
  };
  const loop = reducerLoop<DataPathState, DataPathEvent, DataPathEffect>({
    init: initDataPath(cfg, clock.nowMs()),
    step: (s, e, nowMs) => step(s, e, nowMs, cfg),
    clock,
    perform: eachEffect((fx) => {
      if (fx.kind === 'log') log[fx.level]({ event: fx.event, targets: cfg.targets, ...(fx.data ?? {}) }, fx.msg);
      else {
        log.info({ event: 'datapath-role', from: fx.from, to: fx.to, reason: fx.reason }, `data path role ${fx.from} -> ${fx.to} (${fx.reason})`);
        d.onRole(fx.to, fx.from);
      }
    }),
    after: () => pollPeersIfNeeded(),
  });
  const feed = loop.dispatch;
  // A tick that finds the last round still waiting (its timeout ends with the interval) starts
  // the next round as soon as that one is judged: one round per interval, never two at once.
  let tickMissed = false;
  const round = (): void => {
    if (closed) return;
    if (inFlight) { tickMissed = true; return; }
    inFlight = true;
    tickMissed = false;
    const done = (): void => {
      inFlight = false;
      if (tickMissed) round();
    };
    d.prober.round(cfg.targets, cfg.timeoutMs).then((r) => {
      if (!closed) {
        feedPeers(); // the count the round's verdict may use, read now
        feed({ kind: 'round', rttMs: r.rttMs, lateMs: r.lateMs });
      }
      done();
    }, (err: unknown) => {
      log.error({ err, event: 'datapath-round-failed' }, 'data path round failed: not counted');
      done();
    });
  };
  const roundTimer = clock.setRepeating(cfg.intervalMs, round);
  feedPeers();
  round();
  return {
    role: () => loop.state().role,
    status() {
      const now = clock.nowMs();
      const s = loop.state();
      const ago = (x: number | null): number | null => (x === null ? null : Math.round(now - x));
      return {
        health: s.health, role: s.role, roleForMs: Math.round(now - s.roleSinceMs), require: cfg.require, intervalMs: cfg.intervalMs, fall: cfg.fall, rise: cfg.rise,
        okStreak: s.okStreak, failStreak: s.failStreak, rounds: s.rounds, failedRounds: s.failedRounds, inconclusiveRounds: s.inconclusiveRounds, healthyPeers: s.healthyPeers,
        lastRound: s.lastRound === null ? null : { agoMs: Math.round(now - s.lastRound.atMs), outcome: s.lastRound.outcome, answered: s.lastRound.answered, lost: s.lastRound.lost },
        targets: cfg.targets.map((address) => {
          const t = s.targets.get(address);
          return { address, sent: t?.sent ?? 0, answered: t?.answered ?? 0, lastRttMs: t?.lastRttMs ?? null, lastAnsweredMsAgo: ago(t?.lastAnsweredMs ?? null) };
        }),
      };
    },
    close() {
      closed = true;
      loop.close();
      clock.clear(roundTimer);
      if (peerPoll !== null) clock.clear(peerPoll);
      d.prober.close();
    },
  };
}
