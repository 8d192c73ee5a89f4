/** The per-bucket hand-over step, pure, against a hand-built peer view. */
import { describe, expect, it } from 'vitest';
import { EMPTY_HANDOVER, stepHandover, wireGrants, type HandoverState, type PeerView } from '../../../src/takeover/handover.js';
import type { WirePhase } from '../../../src/cluster/heartbeat-types.js';
import { busyFromListing } from '../../../src/takeover/conntrack-tool.js';
import { bucketOf } from '../../../src/hash/bucket-of.js';

interface Peer { phases: Record<number, WirePhase>; grants: Record<number, number>; ackedSeq: number; serving: boolean; leaving?: boolean }

function view(selfId: number, peers: Record<number, Peer>, o: { dead?: number[]; fresh?: boolean; nextSeq?: number; sameBase?: boolean } = {}): PeerView {
  const dead = new Set(o.dead ?? []);
  const live = (id: number): Peer | undefined => (dead.has(id) ? undefined : peers[id]);
  return {
    selfId, dead, mayTakeUnheld: o.fresh ?? true, mayTakeOrphans: (o.fresh ?? true) && (o.sameBase ?? true), nextSeq: o.nextSeq ?? 10,
    phaseAt: (p, b) => live(p)?.phases[b] ?? 'none',
    serving: (p) => live(p)?.serving ?? false,
    holders: (b) => Object.keys(peers).map(Number).filter((id) => (live(id)?.phases[b] ?? 'none') !== 'none'),
    grantOf: (p, b) => live(p)?.grants[b] ?? 0,
    leaving: (p) => live(p)?.leaving === true,
    acked: (p, seq) => (peers[p]?.ackedSeq ?? 0) >= seq,
  };
}

const params = { drainTimeoutMs: 1000 };
const held = (phases: [number, 'owned' | 'incoming' | 'draining'][]): HandoverState => ({ ...EMPTY_HANDOVER, phases: new Map(phases) });

describe('hand-over step', () => {
  it('the old owner drains and grants the new owner (a serving node) in one step', () => {
    const r = stepHandover(held([[0, 'owned']]), [2], view(1, { 2: { phases: {}, grants: {}, ackedSeq: 0, serving: true } }), params, 100);
    expect(r.changes).toEqual([{ bucket: 0, from: 'owned', to: 'draining' }]);
    expect(wireGrants(r.state)).toEqual([{ bucket: 0, to: 2 }]);
  });

  it('does not hand a bucket to a node that does not renew its lease yet', () => {
    const r = stepHandover(held([[0, 'owned']]), [2], view(1, { 2: { phases: {}, grants: {}, ackedSeq: 0, serving: false } }), params, 100);
    expect(r.changes).toEqual([]);
  });

  it('the new owner takes new flows only once every holder drains and one grants it', () => {
    const owner = { phases: { 0: 'owned' as const }, grants: {}, ackedSeq: 0, serving: true };
    expect(stepHandover(EMPTY_HANDOVER, [2], view(2, { 1: owner }), params, 0).changes).toEqual([]);
    const draining = { phases: { 0: 'draining' as const }, grants: { 0: 2 }, ackedSeq: 0, serving: true };
    expect(stepHandover(EMPTY_HANDOVER, [2], view(2, { 1: draining }), params, 0).changes).toEqual([{ bucket: 0, from: 'none', to: 'incoming' }]);
    const toOther = { ...draining, grants: { 0: 3 } };
    expect(stepHandover(EMPTY_HANDOVER, [2], view(2, { 1: toOther }), params, 0).changes).toEqual([]);
  });

  it('incoming becomes owned once no one else holds the bucket; an unheld bucket is taken at once', () => {
    const r = stepHandover(held([[0, 'incoming']]), [2, 2], view(2, { 1: { phases: {}, grants: {}, ackedSeq: 0, serving: true } }), params, 0);
    expect(r.changes).toEqual([{ bucket: 0, from: 'incoming', to: 'owned' }, { bucket: 1, from: 'none', to: 'owned' }]);
  });

  it('a peer computing another base map (a weight in flight): no unheld bucket is taken, a granted or held one still moves', () => {
    const peer = { phases: {}, grants: {}, ackedSeq: 0, serving: true };
    const r = stepHandover(held([[0, 'incoming']]), [2, 2], view(2, { 1: peer }, { sameBase: false }), params, 0);
    expect(r.changes).toEqual([{ bucket: 0, from: 'incoming', to: 'owned' }]);
    const draining = { phases: { 0: 'draining' as const }, grants: { 0: 2 }, ackedSeq: 0, serving: true };
    expect(stepHandover(EMPTY_HANDOVER, [2], view(2, { 1: draining }, { sameBase: false }), params, 0).changes).toEqual([{ bucket: 0, from: 'none', to: 'incoming' }]);
  });

  it('takes nothing while what it knows is not fresh (no lease)', () => {
    const r = stepHandover(EMPTY_HANDOVER, [2], view(2, {}, { fresh: false }), params, 0);
    expect(r.changes).toEqual([]);
  });

  it('the old owner lets go when the new one took it and conntrack shows no connection, or on the timeout', () => {
    const start = stepHandover(held([[0, 'owned']]), [2], view(1, { 2: { phases: {}, grants: {}, ackedSeq: 0, serving: true } }), params, 100).state;
    const took = view(1, { 2: { phases: { 0: 'incoming' }, grants: {}, ackedSeq: 10, serving: true } });
    const busy = { ...start, busy: new Set([0]), busyAtMs: 150 };
    expect(stepHandover(busy, [2], took, params, 200).changes).toEqual([]);
    const idle = { ...start, busy: new Set<number>(), busyAtMs: 250 };
    expect(stepHandover(idle, [2], took, params, 260).changes).toEqual([{ bucket: 0, from: 'draining', to: 'none' }]);
    expect(stepHandover(busy, [2], took, params, 1100).changes).toEqual([{ bucket: 0, from: 'draining', to: 'none' }]);
    // A reading older than the drain's start says nothing about it.
    const old = { ...start, busy: new Set<number>(), busyAtMs: 50 };
    expect(stepHandover(old, [2], took, params, 260).changes).toEqual([]);
  });

  it('per-flow UDP: a reading taken in the very millisecond the drain began does not end it (its UDP part may predate the drain); a later one does', () => {
    const pf = { ...params, udpPerFlow: true };
    const start = stepHandover(held([[0, 'owned']]), [2], view(1, { 2: { phases: {}, grants: {}, ackedSeq: 0, serving: true } }), pf, 100).state;
    const took = view(1, { 2: { phases: { 0: 'incoming' }, grants: {}, ackedSeq: 10, serving: true } });
    const sameMs = { ...start, busy: new Set<number>(), busyAtMs: 100, udpBusy: new Set<number>() };
    expect(stepHandover(sameMs, [2], took, pf, 200).changes).toEqual([]);
    const later = { ...start, busy: new Set<number>(), busyAtMs: 101, udpBusy: new Set<number>() };
    expect(stepHandover(later, [2], took, pf, 200).changes).toEqual([{ bucket: 0, from: 'draining', to: 'none' }]);
    const kept = { ...later, udpBusy: new Set([0]) };
    expect(stepHandover(kept, [2], took, pf, 200).changes).toEqual([]);
  });

  it('an active node takes a bucket granted to it although its view targets another node, then hands it on; a node not in service does not (seed 17150)', () => {
    const giver = { phases: { 0: 'draining' as const }, grants: { 0: 2 }, ackedSeq: 0, serving: true };
    const target = { phases: {}, grants: {}, ackedSeq: 0, serving: true };
    const peers = { 1: giver, 3: target };
    // Our view (node 2) targets node 3: taken, new flows at once.
    const took = stepHandover(EMPTY_HANDOVER, [3], view(2, peers), { ...params, inService: true }, 0);
    expect(took.changes).toEqual([{ bucket: 0, from: 'none', to: 'incoming' }]);
    // Next step: handed on to the target, which serves.
    const next = stepHandover(took.state, [3], view(2, peers), { ...params, inService: true }, 1);
    expect(next.changes).toEqual([{ bucket: 0, from: 'incoming', to: 'draining' }]);
    expect(wireGrants(next.state)).toEqual([{ bucket: 0, to: 3 }]);
    // Draining, leaving or joining (not in service): left to the giver's revocation.
    expect(stepHandover(EMPTY_HANDOVER, [3], view(2, peers), { ...params, inService: false }, 0).changes).toEqual([]);
    // A grant to another node, or a holder that does not drain, is never taken off target.
    expect(stepHandover(EMPTY_HANDOVER, [3], view(2, { 1: { ...giver, grants: { 0: 3 } }, 3: target }), { ...params, inService: true }, 0).changes).toEqual([]);
    expect(stepHandover(EMPTY_HANDOVER, [3], view(2, { 1: giver, 3: { ...target, phases: { 0: 'owned' as const } } }), { ...params, inService: true }, 0).changes).toEqual([]);
  });

  it('a grant is withdrawn only after the grantee acknowledged the revocation', () => {
    const start = stepHandover(held([[0, 'owned']]), [2], view(1, { 2: { phases: {}, grants: {}, ackedSeq: 0, serving: true } }, { nextSeq: 10 }), params, 0).state;
    const peers = (acked: number): Record<number, Peer> => ({ 2: { phases: {}, grants: {}, ackedSeq: acked, serving: true }, 3: { phases: {}, grants: {}, ackedSeq: acked, serving: true } });
    // Target moves to 3, but 2 has not acknowledged the grant yet: nothing changes.
    expect(stepHandover(start, [3], view(1, peers(5), { nextSeq: 12 }), params, 10).state.grants.get(0)).toMatchObject({ to: 2, revoked: false });
    // 2 acknowledged the grant (and did not take it): revoke, stop sending it.
    const revoked = stepHandover(start, [3], view(1, peers(10), { nextSeq: 12 }), params, 10).state;
    expect(revoked.grants.get(0)).toMatchObject({ to: 2, revoked: true, seq: 12 });
    expect(wireGrants(revoked)).toEqual([]);
    // Only once 2 acknowledged the revocation is 3 granted.
    expect(stepHandover(revoked, [3], view(1, peers(11), { nextSeq: 13 }), params, 20).state.grants.get(0)).toMatchObject({ to: 2, revoked: true });
    expect(stepHandover(revoked, [3], view(1, peers(12), { nextSeq: 13 }), params, 20).state.grants.get(0)).toMatchObject({ to: 3, revoked: false, seq: 13 });
  });

  it('back to us while we drain it: new flows again only once our own grant is seen spent (seed 48839)', () => {
    // We (1) drain bucket 0 to node 4; node 2 still drains it too and its old grant to us (one we
    // used before) is still in the heartbeat we read.
    const start = stepHandover(held([[0, 'incoming']]), [4], view(1, { 2: { phases: { 0: 'draining' }, grants: { 0: 1 }, ackedSeq: 0, serving: true }, 4: { phases: {}, grants: {}, ackedSeq: 0, serving: true } }, { nextSeq: 10 }), params, 0).state;
    expect(start.grants.get(0)).toMatchObject({ to: 4 });
    const stale = { 2: { phases: { 0: 'draining' as const }, grants: { 0: 1 }, ackedSeq: 0, serving: true }, 4: { phases: {}, grants: {}, ackedSeq: 0, serving: true } };
    // The bucket comes back to us; node 4 may have taken new flows under our grant unseen: wait.
    expect(stepHandover(start, [1], view(1, stale), params, 8).changes).toEqual([]);
    // Node 4 took it and hands it back: new flows are ours again.
    const back = { ...stale, 4: { phases: { 0: 'draining' as const }, grants: { 0: 1 }, ackedSeq: 10, serving: true } };
    const consumed = stepHandover(start, [4], view(1, { ...stale, 4: { phases: { 0: 'incoming' }, grants: {}, ackedSeq: 10, serving: true } }), params, 6).state;
    expect(stepHandover(consumed, [1], view(1, back), params, 8).changes).toEqual([{ bucket: 0, from: 'draining', to: 'incoming' }]);
  });

  it('a grant we took a bucket by does not count again while its holder still sends it', () => {
    const drainingTo1 = { phases: { 0: 'draining' as const }, grants: { 0: 1 }, ackedSeq: 0, serving: true };
    const took = stepHandover(EMPTY_HANDOVER, [1], view(1, { 2: drainingTo1 }), params, 0);
    expect(took.changes).toEqual([{ bucket: 0, from: 'none', to: 'incoming' }]);
    expect(took.state.usedGrants?.get(0)).toBe(2);
    // We let it go again (say, drained on) and read node 2's old heartbeat: its grant is spent.
    const gone: HandoverState = { ...took.state, phases: new Map() };
    expect(stepHandover(gone, [1], view(1, { 2: drainingTo1 }), params, 5).changes).toEqual([]);
    // Once node 2 stopped sending it, a new grant of node 2 counts.
    const forgot = stepHandover(gone, [1], view(1, { 2: { ...drainingTo1, grants: {} } }), params, 6).state;
    expect(forgot.usedGrants?.has(0)).toBe(false);
    expect(stepHandover(forgot, [1], view(1, { 2: drainingTo1 }), params, 7).changes).toEqual([{ bucket: 0, from: 'none', to: 'incoming' }]);
  });

  it('a grantee that leaves without having taken the bucket needs no revocation (seed 6623)', () => {
    const start = stepHandover(held([[0, 'owned']]), [2], view(1, { 2: { phases: {}, grants: {}, ackedSeq: 0, serving: true } }, { nextSeq: 10 }), params, 0).state;
    expect(start.grants.get(0)).toMatchObject({ to: 2, revoked: false });
    // 2 leaves before it saw the grant (no acknowledgement): the bucket comes back to us at once.
    const gone = { 2: { phases: {}, grants: {}, ackedSeq: 5, serving: true, leaving: true } };
    expect(stepHandover(start, [1], view(1, gone), params, 10).changes).toEqual([{ bucket: 0, from: 'draining', to: 'owned' }]);
    // ... or goes to the next owner at once.
    const r = stepHandover(start, [3], view(1, { ...gone, 3: { phases: {}, grants: {}, ackedSeq: 0, serving: true } }, { nextSeq: 12 }), params, 10);
    expect(r.state.grants.get(0)).toMatchObject({ to: 3, revoked: false, seq: 12 });
    // A leaving grantee that took it (incoming) hands it on as usual: the grant was spent.
    const took = { 2: { phases: { 0: 'incoming' as const }, grants: {}, ackedSeq: 10, serving: true, leaving: true } };
    expect(stepHandover(start, [1], view(1, took), params, 10).state.grants.get(0)).toMatchObject({ to: 2, consumed: true });
  });
});

describe('conntrack listing', () => {
  it('counts live TCP entries to the VIP by the client bucket, ignoring TIME_WAIT and other destinations', () => {
    const hash = { affinity: 'address' as const, prefixLength: 24, prefixLength6: 64, seed: 0x5eed };
    const text = [
      'tcp      6 431999 ESTABLISHED src=10.200.1.7 dst=10.200.0.1 sport=40000 dport=7 src=10.200.0.1 dst=10.200.1.7 sport=7 dport=40000 [ASSURED] mark=0 use=1',
      'tcp      6 110 TIME_WAIT src=10.200.1.8 dst=10.200.0.1 sport=40001 dport=7 src=10.200.0.1 dst=10.200.1.8 sport=7 dport=40001 [ASSURED] mark=0 use=1',
      'tcp      6 431999 ESTABLISHED src=10.200.1.9 dst=10.9.9.9 sport=40002 dport=7 src=10.9.9.9 dst=10.200.1.9 sport=7 dport=40002 [ASSURED] mark=0 use=1',
      'conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.',
    ].join('\n');
    expect([...busyFromListing(text, '10.200.0.1', hash, 256)]).toEqual([bucketOf({ addr: '10.200.1.7' }, hash, 256)]);
  });
});
