/** Membership and quorum as pure functions: proofs of being heard, the lease grant, agreement. */
import { describe, expect, it } from 'vitest';
import type { Heartbeat, PeerStatus } from '../../../src/cluster/heartbeat-types.js';
import { agreedDead, confirmsPresence, heardByQuorumUntil, initMembership, leaseGrant, MIN_LEASE_MS, onHeartbeat, peerStatus, recordSent, type MembershipState } from '../../../src/cluster/membership.js';

const CFG = { selfId: 1, nodeIds: [1, 2, 3], intervalMs: 40, suspectMs: 120, deadMs: 240, leaseMs: 100, marginMs: 10 };
const ME = 1000n;

/** A heartbeat from `from` that acknowledges our seq `ackSeq` and reports `about` statuses. */
function hb(from: number, seq: number, ackSeq: number, statuses: Record<number, PeerStatus> = {}): Heartbeat {
  return {
    version: 1, type: 'heartbeat', senderId: from, incarnation: BigInt(from), seq, state: 'active', hasQuorum: true, weight: 100,
    mapEpoch: 0, mapDigest: '0000000000000000', linkId: 0,
    peers: [1, 2, 3].filter((id) => id !== from).map((id) => ({ id, status: statuses[id] ?? 'alive', incarnationHeard: id === 1 ? ME : BigInt(id), lastSeqHeard: id === 1 ? ackSeq : 1, ageMs: 1 })),
  };
}

/** We send seq 1 at t=0 and seq 2 at t=40; peers 2 and 3 acknowledge as told. */
function setup(): MembershipState {
  let m = initMembership(CFG, ME, 0);
  m = recordSent(m, 0).state;
  m = recordSent(m, 40).state;
  return m;
}

describe('membership', () => {
  it('a peer that acknowledged our seq sent at t proves it cannot call us dead before t + deadMs', () => {
    let m = setup();
    m = onHeartbeat(m, hb(2, 1, 2), 45);
    expect(heardByQuorumUntil(m)).toBe(40 + 240);
    m = onHeartbeat(m, hb(3, 1, 1), 46);
    // Quorum of 3 is 2: us and the best peer.
    expect(heardByQuorumUntil(m)).toBe(280);
  });

  it('the lease is granted in full, then shortened as proofs age, then refused', () => {
    let m = setup();
    m = onHeartbeat(m, hb(2, 1, 2), 45); // proof: 40 + 240 - 10 = 270 is the deadline
    expect(leaseGrant(m, 50)).toEqual({ verdict: 'renew', leaseMs: 100 });
    expect(leaseGrant(m, 200)).toEqual({ verdict: 'renew', leaseMs: 70 });
    expect(leaseGrant(m, 270 - MIN_LEASE_MS)).toEqual({ verdict: 'renew', leaseMs: MIN_LEASE_MS });
    // Peer 2 still heard (suspect, not dead) but the proof is too old.
    expect(leaseGrant(m, 270 - MIN_LEASE_MS + 1)).toEqual({ verdict: 'not-heard-by-quorum', leaseMs: 0 });
  });

  it('without a quorum heard, nothing is granted', () => {
    const m = setup();
    expect(leaseGrant(m, 10)).toEqual({ verdict: 'no-quorum-heard', leaseMs: 0 });
  });

  it('a proof of an old incarnation of ours does not count', () => {
    let m = initMembership(CFG, ME + 1n, 0);
    m = recordSent(m, 0).state;
    m = onHeartbeat(m, hb(2, 1, 1), 5); // acknowledges seq 1 of incarnation ME, not ME+1
    expect(leaseGrant(m, 10).verdict).toBe('not-heard-by-quorum');
  });

  it('peer status: unknown, alive, suspect, dead from silence', () => {
    let m = setup();
    expect(peerStatus(m, 2, 100)).toBe('unknown');
    expect(peerStatus(m, 2, 240)).toBe('dead'); // never heard for a dead time since start
    m = onHeartbeat(m, hb(2, 1, 2), 300);
    expect(peerStatus(m, 2, 350)).toBe('alive');
    expect(peerStatus(m, 2, 420)).toBe('suspect');
    expect(peerStatus(m, 2, 540)).toBe('dead');
  });

  it('a failure is agreed only when a quorum reports it: our view alone is not enough', () => {
    let m = setup();
    m = onHeartbeat(m, hb(2, 1, 2), 10);
    m = onHeartbeat(m, hb(3, 1, 2), 10);
    // t=300: we have not heard 3 for 290 ms (dead to us); 2 is heard and has not reported 3 dead.
    m = onHeartbeat(m, hb(2, 2, 2), 290);
    expect(peerStatus(m, 3, 300)).toBe('dead');
    expect([...agreedDead(m, 300)]).toEqual([]);
    m = onHeartbeat(m, hb(2, 3, 2, { 3: 'dead' }), 301);
    expect([...agreedDead(m, 302)]).toEqual([3]);
  });

  it('a peer confirms our presence only in an acknowledgement of a heartbeat we sent since then', () => {
    let m = setup();
    m = onHeartbeat(m, hb(2, 1, 1), 45); // acknowledges seq 1 (sent at 0)
    expect(confirmsPresence(m, 2, 0)).toBe(true);
    expect(confirmsPresence(m, 2, 20)).toBe(false); // seq 1 is older than 20
    m = onHeartbeat(m, hb(2, 2, 2, { 1: 'suspect' }), 50);
    expect(confirmsPresence(m, 2, 20)).toBe(true);
    m = onHeartbeat(m, hb(2, 3, 2, { 1: 'dead' }), 60);
    expect(confirmsPresence(m, 2, 20)).toBe(false); // a peer that calls us dead has not released
  });
});
