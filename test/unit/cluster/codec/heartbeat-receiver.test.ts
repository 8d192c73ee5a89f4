import { describe, expect, it } from 'vitest';
import {
  RECEIVE_OUTCOMES, countOutcome, createDropCounters, receiveHeartbeat, totalReceived, type ReceiveContext, type ReplayStates,
} from '../../../../src/cluster/heartbeat-receiver.js';
import { DROP_REASONS } from '../../../../src/cluster/heartbeat-codec.js';
import { HEARTBEAT_HEX, KEY, WRONG_KEY, encode } from './vectors.js';

const KNOWN = new Set([1, 2, 3, 4]);

function ctx(replay: ReplayStates = new Map(), selfId = 1): ReceiveContext {
  return { key: KEY, selfId, knownIds: KNOWN, replay };
}

describe('receiveHeartbeat', () => {
  it('accepts a new heartbeat from a known peer and returns the replay map to keep, leaving the old one alone', () => {
    const before: ReplayStates = new Map();
    const r = receiveHeartbeat(HEARTBEAT_HEX, ctx(before));
    expect(r.outcome).toBe('accepted');
    if (r.outcome !== 'accepted') return;
    expect(r.hb.senderId).toBe(3);
    expect(r.replay.get(3)).toMatchObject({ incarnation: 1718000000123n, highestSeq: 4242 });
    expect(before.size).toBe(0);
  });

  it('reports the copy from another link as duplicate, with the heartbeat (link health may use it)', () => {
    const first = receiveHeartbeat(encode({ linkId: 0 }), ctx());
    const copy = receiveHeartbeat(encode({ linkId: 1 }), ctx(first.replay));
    expect(copy.outcome).toBe('duplicate');
    expect(copy.outcome === 'duplicate' && copy.hb.linkId).toBe(1);
    const again = receiveHeartbeat(encode({ linkId: 1 }), ctx(copy.replay));
    expect(again).toEqual({ outcome: 'replay', senderId: 3, replay: copy.replay });
  });

  it('drops a message from the previous incarnation after a restart', () => {
    const restarted = receiveHeartbeat(encode({ incarnation: 2000n, seq: 0 }), ctx());
    expect(receiveHeartbeat(encode({ incarnation: 1999n, seq: 99 }), ctx(restarted.replay)).outcome).toBe('stale-incarnation');
  });

  it('drops our own heartbeat looped back, before asking whether the id is configured', () => {
    expect(receiveHeartbeat(encode({ senderId: 1, peers: [] }), ctx()).outcome).toBe('from-self');
    expect(receiveHeartbeat(encode({ senderId: 9, peers: [] }), ctx(new Map(), 9)).outcome).toBe('from-self');
  });

  it('drops an authentic heartbeat from an unconfigured id, naming it', () => {
    const replay = new Map();
    expect(receiveHeartbeat(encode({ senderId: 7 }), ctx(replay))).toEqual({ outcome: 'unknown-node', senderId: 7, replay, serving: true });
  });

  it('says whether an unconfigured sender announces that it serves (a node of another list during a roll)', () => {
    const r = receiveHeartbeat(encode({ senderId: 7, hasQuorum: false }), ctx(new Map()));
    expect(r).toMatchObject({ outcome: 'unknown-node', serving: false });
  });

  it('passes decode reasons through and keeps the replay map unchanged', () => {
    const replay = receiveHeartbeat(HEARTBEAT_HEX, ctx()).replay;
    expect(receiveHeartbeat(encode({}, WRONG_KEY), ctx(replay))).toEqual({ outcome: 'bad-mac', replay });
    expect(receiveHeartbeat(new Uint8Array(3), ctx(replay))).toEqual({ outcome: 'bad-magic', replay });
  });
});

describe('drop counters', () => {
  it('has one zeroed counter per outcome, every decode reason included', () => {
    const counters = createDropCounters();
    expect(Object.keys(counters).sort()).toEqual([...RECEIVE_OUTCOMES].sort());
    expect(Object.values(counters).every((n) => n === 0)).toBe(true);
    for (const reason of DROP_REASONS) expect(RECEIVE_OUTCOMES).toContain(reason);
    expect(new Set(RECEIVE_OUTCOMES).size).toBe(RECEIVE_OUTCOMES.length);
  });

  it('adds up to the number of datagrams counted', () => {
    const counters = createDropCounters();
    for (const o of ['accepted', 'duplicate', 'bad-mac', 'bad-mac', 'replay'] as const) countOutcome(counters, o);
    expect(counters['bad-mac']).toBe(2);
    expect(totalReceived(counters)).toBe(5);
  });
});
