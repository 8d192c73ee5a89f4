/**
 * The two-node quorum policy: the tie-breaker's rise/fall, the verdict table, and what the
 * verdicts do to membership's lease grant and failure agreement (plain numbers for time).
 */
import { describe, expect, it } from 'vitest';
import { fenceWanted, initTieBreaker, onPing, overrideFor, twoNodeVerdict, type TieBreaker } from '../../../src/cluster/quorum-policy.js';
import { agreedDead, initMembership, leaseGrant, withQuorumOverride } from '../../../src/cluster/membership.js';

const TB = { fall: 3, rise: 2 };

describe('tie-breaker', () => {
  it('turns reachable after `rise` answers and unreachable after `fall` losses in a row', () => {
    let t: TieBreaker = initTieBreaker();
    t = onPing(t, 0.4, TB);
    expect(t.state).toBe('unknown');
    t = onPing(t, 0.5, TB);
    expect(t.state).toBe('reachable');
    t = onPing(onPing(t, null, TB), null, TB);
    expect(t.state).toBe('reachable');
    t = onPing(t, 0.3, TB);
    t = onPing(onPing(onPing(t, null, TB), null, TB), null, TB);
    expect(t.state).toBe('unreachable');
    expect(t).toMatchObject({ sent: 8, answered: 3, lastRttMs: 0.3 });
  });
});

describe('two-node verdicts', () => {
  it.each([
    [true, 'unreachable', 'not-configured', 'normal'],
    [true, 'unknown', 'pending', 'normal'],
    [true, 'reachable', 'pending', 'keep-own'],
    [true, 'reachable', 'fenced', 'keep-own'],
    [false, 'unknown', 'pending', 'give-up'],
    [false, 'unreachable', 'fenced', 'give-up'],
    [false, 'reachable', 'not-configured', 'keep-own'],
    [false, 'reachable', 'pending', 'keep-own'],
    [false, 'reachable', 'fenced', 'solo'],
  ] as const)('peer heard %s, tie-breaker %s, fence %s -> %s', (heard, tb, fence, verdict) => {
    expect(twoNodeVerdict(heard, tb, fence)).toBe(verdict);
  });

  it('asks for a fence only while keeping its own with a fence pending', () => {
    expect(fenceWanted('keep-own', 'pending', false)).toBe(true);
    expect(fenceWanted('keep-own', 'pending', true)).toBe(false);
    expect(fenceWanted('keep-own', 'not-configured', false)).toBe(false);
    expect(fenceWanted('give-up', 'pending', false)).toBe(false);
    expect(fenceWanted('solo', 'fenced', false)).toBe(false);
  });
});

describe('two-node verdicts in membership', () => {
  const cfg = { selfId: 1, nodeIds: [1, 2], intervalMs: 40, suspectMs: 120, deadMs: 240, leaseMs: 100, marginMs: 10 };
  const silent = initMembership(cfg, 1n, 0); // node 2 never heard; at t=1000 it is dead in our view

  it('majority of two: a lone node never renews and agrees on nothing', () => {
    expect(leaseGrant(silent, 1000).verdict).toBe('no-quorum-heard');
    expect([...agreedDead(silent, 1000)]).toEqual([]);
  });

  it('keep-own: renews its own lease, still does not call the peer dead', () => {
    const m = withQuorumOverride(silent, overrideFor('keep-own'));
    expect(leaseGrant(m, 1000)).toEqual({ verdict: 'renew', leaseMs: 100 });
    expect([...agreedDead(m, 1000)]).toEqual([]);
  });

  it('solo (peer fenced): agrees alone that the peer is dead, so its buckets move', () => {
    const m = withQuorumOverride(silent, overrideFor('solo'));
    expect([...agreedDead(m, 1000)]).toEqual([2]);
    expect(withQuorumOverride(m, 'none').override).toBe('none');
    expect(leaseGrant(withQuorumOverride(m, 'none'), 1000).verdict).toBe('no-quorum-heard');
  });

  it('give-up maps to the plain majority rule', () => {
    expect(overrideFor('give-up')).toBe('none');
    expect(overrideFor('normal')).toBe('none');
  });
});
