/**
 * Quorum policy, pure. `majority` is membership.ts's rule unchanged. `two-node` is the explicit
 * policy for a cluster of two, where a majority of two is both nodes and a lone node could never
 * serve: a tie-breaker (an address pinged through the raw-socket shim) decides which side of a
 * split may go on, and fencing decides whether the survivor may take the other's buckets.
 *
 *   tie-breaker reachable                      -> keep-own (renew our own buckets on our own: in
 *                                                 two-node mode no peer takes a bucket of ours
 *                                                 without handing-over or fencing us first, so our
 *                                                 lease needs no proof from the peer — which also
 *                                                 means a silent peer does not make us drop ours)
 *     … peer silent and fenced (success)       -> solo     (take its buckets: it is off)
 *   tie-breaker not reachable, peer heard      -> normal   (majority rule: both nodes)
 *   tie-breaker not reachable, peer silent     -> give-up  (stop renewing: the other side may be
 *                                                 the one still connected)
 *   Without fencing configured a split never goes past keep-own: a silent peer cannot be told
 *   from a cut-off one, so its buckets stay with it (logged), never answered twice.
 * A node that starts alone in two-node mode waits until it hears its peer once (like corosync's
 * wait_for_all): its first lease needs the peer's confirmation (ownership-reducer.ts).
 */
import type { QuorumOverride } from './membership.js';
import type { QuorumPolicyConfig, TieBreakerConfig } from '../config/ha-types.js';

export type TieBreakerState = 'unknown' | 'reachable' | 'unreachable';

export type { TieBreakerConfig, QuorumPolicyConfig };


export interface TieBreaker {
  readonly state: TieBreakerState;
  readonly okStreak: number;
  readonly lostStreak: number;
  readonly lastRttMs: number | null;
  readonly sent: number;
  readonly answered: number;
}

export function initTieBreaker(): TieBreaker {
  return { state: 'unknown', okStreak: 0, lostStreak: 0, lastRttMs: null, sent: 0, answered: 0 };
}

/** One ping's result: `rttMs` null when no answer came within the timeout. */
export function onPing(t: TieBreaker, rttMs: number | null, cfg: Pick<TieBreakerConfig, 'fall' | 'rise'>): TieBreaker {
  if (rttMs === null) {
    const lostStreak = t.lostStreak + 1;
    return { ...t, sent: t.sent + 1, okStreak: 0, lostStreak, state: lostStreak >= cfg.fall ? 'unreachable' : t.state };
  }
  const okStreak = t.okStreak + 1;
  return { ...t, sent: t.sent + 1, answered: t.answered + 1, lastRttMs: rttMs, lostStreak: 0, okStreak, state: okStreak >= cfg.rise ? 'reachable' : t.state };
}

export type FenceGate = 'not-configured' | 'pending' | 'fenced';

export type TwoNodeVerdict = 'normal' | 'give-up' | 'keep-own' | 'solo';

export function twoNodeVerdict(peerHeard: boolean, tieBreaker: TieBreakerState, fence: FenceGate): TwoNodeVerdict {
  if (tieBreaker !== 'reachable') return peerHeard ? 'normal' : 'give-up';
  return !peerHeard && fence === 'fenced' ? 'solo' : 'keep-own';
}

/** What membership is told: its quorum rule, overridden only by the two-node verdicts that allow it. */
export function overrideFor(v: TwoNodeVerdict): QuorumOverride {
  return v === 'solo' ? 'solo' : v === 'keep-own' ? 'keep-own' : 'none';
}

/** Whether the survivor should ask for the peer to be fenced (a split it may win). */
export function fenceWanted(v: TwoNodeVerdict, fence: FenceGate, peerHeard: boolean): boolean {
  return v === 'keep-own' && fence === 'pending' && !peerHeard;
}
