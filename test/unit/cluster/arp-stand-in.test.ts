/** While a peer restarts its daemon (announced window), one other node answers its clients' ARP. */
import { describe, expect, it } from 'vitest';
import type { Heartbeat } from '../../../src/cluster/heartbeat-types.js';
import { arpStandInFor, initMembership, onHeartbeat, restartingPeers, type MembershipState } from '../../../src/cluster/membership.js';
import { arpDecider } from '../../../src/daemon/ownership.js';
import { balancedMap } from '../../../src/hash/bucket-map.js';

const cfgFor = (selfId: number) => ({ selfId, nodeIds: [1, 2, 3], intervalMs: 40, suspectMs: 120, deadMs: 240, leaseMs: 100, marginMs: 10 });

function hb(from: number, seq: number, restartWindowMs: number, incarnation = BigInt(from)): Heartbeat {
  return {
    version: 2, type: 'heartbeat', senderId: from, incarnation, seq, state: 'active', hasQuorum: true, weight: 100,
    mapEpoch: 0, mapDigest: '0000000000000000', linkId: 0, peers: [],
    handover: { phases: new Uint8Array(0), grants: [], restartWindowMs },
  } as unknown as Heartbeat;
}

/** Node `self` hears 1..3 (but itself); node 2 announced a 3 s restart window at t=100. */
function heard(self: number): MembershipState {
  let m = initMembership(cfgFor(self), BigInt(self), 0);
  for (const id of [1, 2, 3]) if (id !== self) m = onHeartbeat(m, hb(id, 1, 0), 50);
  if (self !== 2) m = onHeartbeat(m, hb(2, 2, 3000), 100);
  if (self !== 1) m = onHeartbeat(m, hb(1, 2, 0), 100);
  if (self !== 3) m = onHeartbeat(m, hb(3, 2, 0), 100);
  return m;
}

describe('ARP stand-in for a restarting peer', () => {
  it('a peer is restarting from its announcement until the window runs out', () => {
    const m = heard(1);
    expect(restartingPeers(m, 120)).toEqual([2]);
    expect(restartingPeers(m, 3099)).toEqual([2]);
    expect(restartingPeers(m, 3100)).toEqual([]);
  });

  it('exactly one node (the lowest-numbered other one) stands in', () => {
    expect([...arpStandInFor(heard(1), 200)]).toEqual([2]);
    expect([...arpStandInFor(heard(3), 200)]).toEqual([]);
  });

  it('the next one stands in when the lowest is not heard', () => {
    const m = heard(3);
    expect([...arpStandInFor(m, 100 + 239)]).toEqual([]); // node 1 still heard
    const m2 = onHeartbeat(m, hb(2, 3, 3000), 300); // node 1 silent since t=100
    expect([...arpStandInFor(m2, 341)]).toEqual([2]);
  });

  it('ends as soon as the successor (a new incarnation) is heard', () => {
    const m = onHeartbeat(heard(1), hb(2, 1, 0, 99n), 900);
    expect(restartingPeers(m, 1000)).toEqual([]);
    expect(arpStandInFor(m, 1000).size).toBe(0);
  });

  it('the ARP decision answers for the stand-in owners only', () => {
    const map = balancedMap([{ id: 1, weight: 1 }, { id: 2, weight: 1 }, { id: 3, weight: 1 }], 16);
    const cfg = { hash: { affinity: 'address' as const, seed: 1 }, buckets: 16, node: { id: 1 } } as never;
    const clients = Array.from({ length: 200 }, (_, i) => `10.9.${i >> 8}.${i & 255}`);
    const plain = arpDecider(cfg, () => map, () => true);
    const standIn = arpDecider(cfg, () => map, () => true, () => new Set([2]));
    const answered = (d: (ip: string) => string): number => clients.filter((c) => d(c) === 'answer').length;
    expect(answered(standIn)).toBeGreaterThan(answered(plain));
    const notReady = arpDecider(cfg, () => map, () => false, () => new Set([2]));
    expect(answered(notReady)).toBe(0);
  });
});
