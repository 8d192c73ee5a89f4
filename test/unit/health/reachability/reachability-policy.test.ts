/**
 * The data-path check reducer on explicit times (no clock, no sleeps): fall/rise streaks, any/all
 * targets, late rounds not counted, and the role rule — settle first (serve, announce standby),
 * then drain only while a healthy peer is heard; hold (keep serving) when none is, so every node
 * losing the target at once leaves nobody drained.
 */
import { describe, expect, it } from 'vitest';
import { degraded, initDataPath, leasingAllowed, roundOutcome, step, type DataPathEffect, type DataPathPolicy, type DataPathState } from '../../../../src/health/reachability/reachability-policy.js';

const P: DataPathPolicy = { targets: ['10.0.0.254', '10.0.0.253'], require: 'any', timeoutMs: 100, fall: 3, rise: 2, settleMs: 150 };

const rtts = (a: number | null, b: number | null): Map<string, number | null> => new Map([['10.0.0.254', a], ['10.0.0.253', b]]);

function feed(s0: DataPathState, rounds: readonly Map<string, number | null>[], t0: number, p = P, lateMs = 0): { s: DataPathState; effects: DataPathEffect[]; t: number } {
  let s = s0;
  let t = t0;
  const effects: DataPathEffect[] = [];
  for (const r of rounds) {
    t += 100;
    const x = step(s, { kind: 'round', rttMs: r, lateMs }, t, p);
    s = x.state;
    effects.push(...x.effects);
  }
  return { s, effects, t };
}

/** The settle time passes (the daemon reports the peers every heartbeat interval). */
function settled(s: DataPathState, t: number, healthyPeers = s.healthyPeers): { s: DataPathState; effects: DataPathEffect[]; t: number } {
  const effects: DataPathEffect[] = [];
  let x = s;
  for (let at = t + 40; at <= t + P.settleMs + 40; at += 40) {
    const r = step(x, { kind: 'peers', healthyPeers }, at, P);
    x = r.state;
    effects.push(...r.effects);
  }
  return { s: x, effects, t: t + P.settleMs + 40 };
}

const roles = (fx: readonly DataPathEffect[]): string[] => fx.flatMap((e) => (e.kind === 'role-changed' ? [`${e.from}->${e.to}`] : []));
const events = (fx: readonly DataPathEffect[]): string[] => fx.flatMap((e) => (e.kind === 'log' ? [e.event] : []));
const LOST = rtts(null, null);
const OK = rtts(0.3, 0.4);

describe('data-path policy', () => {
  it('a round passes with any answering target (require any), only with all (require all); late silence is inconclusive', () => {
    expect(roundOutcome(P, 1, 0)).toBe('pass');
    expect(roundOutcome(P, 0, 0)).toBe('fail');
    expect(roundOutcome({ ...P, require: 'all' }, 1, 0)).toBe('fail');
    expect(roundOutcome({ ...P, require: 'all' }, 2, 0)).toBe('pass');
    expect(roundOutcome(P, 0, 100)).toBe('fail'); // late by exactly the timeout: still counted
    expect(roundOutcome(P, 0, 101)).toBe('inconclusive');
    expect(roundOutcome(P, 1, 5000)).toBe('pass'); // an answer is an answer
  });

  it('starts serving (not judged yet); fall failed rounds with a healthy peer drain; rise good rounds serve again', () => {
    let s = step(initDataPath(P, 0), { kind: 'peers', healthyPeers: 2 }, 0, P).state;
    expect(s.role).toBe('serving');
    expect(leasingAllowed(s.role)).toBe(true);
    let r = feed(s, [LOST, LOST], 0);
    expect(r.s.health).toBe('unknown');
    expect(r.s.role).toBe('serving');
    r = feed(r.s, [LOST], r.t);
    expect(r.s.health).toBe('unreachable');
    // First it settles: still serving, but announcing standby.
    expect(r.s.role).toBe('settling');
    expect(leasingAllowed(r.s.role)).toBe(true);
    expect(degraded(r.s.role)).toBe(true);
    expect(events(r.effects)).toEqual(['datapath-unreachable', 'datapath-settling']);
    const early = step(r.s, { kind: 'peers', healthyPeers: 2 }, r.t + P.settleMs - 1, P);
    expect(early.state.role).toBe('settling');
    r = settled(r.s, r.t);
    expect(r.s.role).toBe('draining');
    expect(leasingAllowed(r.s.role)).toBe(false);
    expect(degraded(r.s.role)).toBe(false); // it announces draining itself
    expect(roles(r.effects)).toEqual(['settling->draining']);
    expect(events(r.effects)).toEqual(['datapath-drain']);
    expect(r.s.failedRounds).toBe(3);
    // One good round is not enough (rise 2); a failure in between starts over.
    r = feed(r.s, [OK, LOST, OK], r.t);
    expect(r.s.role).toBe('draining');
    r = feed(r.s, [OK], r.t);
    expect(r.s.health).toBe('reachable');
    expect(r.s.role).toBe('serving');
    expect(roles(r.effects)).toEqual(['draining->serving']);
    s = r.s;
    expect(s.targets.get('10.0.0.254')).toMatchObject({ sent: 7, answered: 3, lastRttMs: 0.3 });
  });

  it('one of two targets lost: any keeps serving, all drains', () => {
    const half = rtts(0.5, null);
    const any = feed(step(initDataPath(P, 0), { kind: 'peers', healthyPeers: 1 }, 0, P).state, [half, half, half, half], 0);
    expect(any.s.role).toBe('serving');
    const A = { ...P, require: 'all' as const };
    const all = feed(step(initDataPath(A, 0), { kind: 'peers', healthyPeers: 1 }, 0, A).state, [half, half, half], 0, A);
    expect(all.s.role).toBe('settling');
    expect(settled(all.s, all.t).s.role).toBe('draining');
    expect(all.s.lastRound).toMatchObject({ outcome: 'fail', answered: ['10.0.0.254'], lost: ['10.0.0.253'] });
  });

  it('rounds judged late (the daemon stalled) neither fail nor pass, and keep the streaks', () => {
    const s0 = step(initDataPath(P, 0), { kind: 'peers', healthyPeers: 1 }, 0, P).state;
    let r = feed(s0, [LOST, LOST], 0);
    r = feed(r.s, [LOST, LOST, LOST], r.t, P, 250);
    expect(r.s.failStreak).toBe(2);
    expect(r.s.inconclusiveRounds).toBe(3);
    expect(r.s.role).toBe('serving');
    expect(events(r.effects)).toEqual(['datapath-round-late', 'datapath-round-late', 'datapath-round-late']);
    r = feed(r.s, [LOST], r.t);
    expect(r.s.role).toBe('settling');
  });

  it('no healthy peer (the last node, or every node lost the target): holds and says so; drains once a healthy peer appears', () => {
    const r = settled(feed(initDataPath(P, 0), [LOST, LOST, LOST], 0).s, 300);
    expect(r.s.health).toBe('unreachable');
    expect(r.s.role).toBe('holding');
    expect(degraded(r.s.role)).toBe(true);
    expect(leasingAllowed(r.s.role)).toBe(true);
    expect(events(r.effects)).toContain('datapath-all-failing');
    const x = step(r.s, { kind: 'peers', healthyPeers: 1 }, r.t + 10, P);
    expect(x.state.role).toBe('draining');
    expect(x.state.roleSinceMs).toBe(r.t + 10);
    const y = step(x.state, { kind: 'peers', healthyPeers: 0 }, r.t + 20, P);
    expect(y.state.role).toBe('holding');
    expect(step(y.state, { kind: 'peers', healthyPeers: 0 }, r.t + 30, P).effects).toEqual([]);
  });

  it.each([
    ['within the settle time: nobody ever drains', [0, 40, 90], false],
    ['one after the settle time: some drain for a while, all end up holding', [0, 30, 400], true],
  ])('every node loses the target (%s)', (_what, offsets, someDrain) => {
    // Three nodes, each noticing at its own offset; a settling or holding node announces standby,
    // a draining one draining: neither counts as healthy. Peers are re-read every 10 ms.
    const nodes = [0, 1, 2].map(() => feed(step(initDataPath(P, 0), { kind: 'peers', healthyPeers: 2 }, 0, P).state, [OK, OK], 0).s);
    const healthy = (i: number): number => nodes.filter((s, j) => j !== i && s.role === 'serving').length;
    const seen = new Set<string>();
    for (let t = 1000; t < 2500; t += 10) {
      for (const i of [0, 1, 2]) {
        if (t === 1000 + offsets[i]!) nodes[i] = feed(nodes[i]!, [LOST, LOST, LOST], t - 300).s;
        nodes[i] = step(nodes[i]!, { kind: 'peers', healthyPeers: healthy(i) }, t, P).state;
        seen.add(nodes[i].role);
      }
    }
    expect(nodes.map((s) => s.role)).toEqual(['holding', 'holding', 'holding']);
    expect(nodes.every((s) => leasingAllowed(s.role))).toBe(true);
    expect(seen.has('draining')).toBe(someDrain);
  });
});
