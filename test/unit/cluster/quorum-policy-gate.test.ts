/**
 * quorumGate, pure: with fencing configured a peer a quorum agrees is dead is held back (its
 * buckets stay put) and fenced; once fenced it is released; a peer that handed over (leaving or
 * draining) is never fenced. Two-node: fencing asked only for a silent peer heard once.
 */
import { describe, expect, it } from 'vitest';
import { initMembership, onHeartbeat, recordSent, type MembershipState } from '../../../src/cluster/membership.js';
import type { Heartbeat, NodeState, PeerReport } from '../../../src/cluster/heartbeat-types.js';
import { quorumGate } from '../../../src/cluster/quorum-policy-gate.js';

const CFG = { intervalMs: 40, suspectMs: 120, deadMs: 240, leaseMs: 100, marginMs: 10 };

function hb(sender: number, seq: number, peers: PeerReport[], state: NodeState = 'active'): Heartbeat {
  return { version: 1, type: 'heartbeat', linkId: 0, senderId: sender, incarnation: BigInt(sender), seq, state, hasQuorum: true, weight: 100, mapEpoch: 0, mapDigest: '0000000000000000', peers };
}
const rep = (id: number, status: PeerReport['status'], seq = 0, inc = 0n): PeerReport => ({ id, status, incarnationHeard: inc, lastSeqHeard: seq, ageMs: 0 });

/** Node 1's view of 3 nodes at `now`: node 2 alive and reporting node 3 dead, node 3 silent since t=100. */
function threeNodes(state3: NodeState = 'active'): { m: MembershipState; now: number } {
  let m = initMembership({ selfId: 1, nodeIds: [1, 2, 3], ...CFG }, 1n, 0);
  m = recordSent(m, 0).state;
  m = onHeartbeat(m, hb(3, 1, [rep(1, 'alive', 1, 1n), rep(2, 'alive')], state3), 100);
  m = onHeartbeat(m, hb(2, 1, [rep(1, 'alive', 1, 1n), rep(3, 'dead')]), 390);
  return { m, now: 400 };
}

describe('quorum gate', () => {
  it('majority without fencing: nothing held back, nothing fenced', () => {
    const { m, now } = threeNodes();
    const g = quorumGate({ policy: { policy: 'majority' }, m, nowMs: now, fencing: false, fenced: () => false, tieBreaker: 'unknown' });
    expect([...g.holdBack]).toEqual([]);
    expect(g.fence).toEqual([]);
    expect(g.m).toBe(m);
  });

  it('majority with fencing: the agreed-dead peer is held back and fenced; released once fenced', () => {
    const { m, now } = threeNodes();
    const g = quorumGate({ policy: { policy: 'majority' }, m, nowMs: now, fencing: true, fenced: () => false, tieBreaker: 'unknown' });
    expect([...g.holdBack]).toEqual([3]);
    expect(g.fence).toEqual([{ target: 3, reason: 'dead while holding buckets' }]);
    const after = quorumGate({ policy: { policy: 'majority' }, m, nowMs: now, fencing: true, fenced: (id) => id === 3, tieBreaker: 'unknown' });
    expect([...after.holdBack]).toEqual([]);
    expect(after.fence).toEqual([]);
  });

  it('a peer that was draining or leaving handed over: never fenced', () => {
    for (const st of ['draining', 'leaving'] as const) {
      const { m, now } = threeNodes(st);
      const g = quorumGate({ policy: { policy: 'majority' }, m, nowMs: now, fencing: true, fenced: () => false, tieBreaker: 'unknown' });
      expect(g.fence).toEqual([]);
      expect([...g.holdBack]).toEqual([]);
    }
  });

  it('two-node: a silent peer heard once is fenced when the tie-breaker is reachable, not when it is not', () => {
    let m = initMembership({ selfId: 1, nodeIds: [1, 2], ...CFG }, 1n, 0);
    m = onHeartbeat(m, hb(2, 1, [rep(1, 'alive')]), 10);
    const policy = { policy: 'two-node', tieBreaker: { target: '10.0.0.254', intervalMs: 200, timeoutMs: 150, fall: 3, rise: 2 } } as const;
    const reach = quorumGate({ policy, m, nowMs: 400, fencing: true, fenced: () => false, tieBreaker: 'reachable' });
    expect(reach.verdict).toBe('keep-own');
    expect(reach.fence.map((f) => f.target)).toEqual([2]);
    expect(reach.m.override).toBe('keep-own');
    const lost = quorumGate({ policy, m, nowMs: 400, fencing: true, fenced: () => false, tieBreaker: 'unreachable' });
    expect(lost.verdict).toBe('give-up');
    expect(lost.fence).toEqual([]);
    const never = quorumGate({ policy, m: initMembership({ selfId: 1, nodeIds: [1, 2], ...CFG }, 1n, 0), nowMs: 400, fencing: true, fenced: () => false, tieBreaker: 'reachable' });
    expect(never.fence).toEqual([]);
    const solo = quorumGate({ policy, m, nowMs: 400, fencing: true, fenced: () => true, tieBreaker: 'reachable' });
    expect(solo.verdict).toBe('solo');
    expect([...solo.holdBack]).toEqual([]);
  });
});
