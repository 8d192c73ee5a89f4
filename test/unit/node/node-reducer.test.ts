import { describe, expect, it } from 'vitest';
import { WIRE_CODEC } from '../../../src/cluster/heartbeat-codec.js';
import type { Heartbeat } from '../../../src/cluster/heartbeat-types.js';
import { initNode, step, type NodeEffect, type NodeEvent, type NodeParams, type NodeState } from '../../../src/node/node-reducer.js';

const KEY = new Uint8Array(32).fill(7);
const FP = { layout: 1, digest: '0123456789abcdef', slots: [1, 2, 3], values: ['a', 'b', 'c'] };
const INPUTS = { tieBreaker: 'unknown' as const, fenced: new Set<number>() };

function params(selfId: number, ids: readonly number[]): NodeParams {
  const nodes = ids.map((id) => ({ id, weight: 1 }));
  return {
    selfId, incarnation: BigInt(selfId), nodes, knownIds: new Set(ids), peerIds: ids.filter((id) => id !== selfId), linkCount: 1, buckets: 16,
    intervalMs: 10, suspectAfter: 2, deadAfter: 4, leaseMs: 30, renewMs: 10, marginMs: 2, fencing: false, fingerprint: FP, key: KEY, decode: WIRE_CODEC.decode, perFlow: false,
    takeover: { nodes, buckets: 16, drainTimeoutMs: 100 },
  };
}

const run = (s: NodeState, e: NodeEvent, nowMs: number): { state: NodeState; effects: readonly NodeEffect[] } => step(s, { ...e, inputs: INPUTS }, nowMs);
const kinds = (effects: readonly NodeEffect[]): string[] => effects.map((e) => (e.kind === 'log' ? `log:${String(e.fields.event)}` : e.kind));
const sent = (effects: readonly NodeEffect[]): Omit<Heartbeat, 'linkId'>[] => effects.flatMap((e) => (e.kind === 'send' ? [e.hb] : []));

describe('node reducer', () => {
  it('a lone node: starts, renews, and counts itself serving only once the interpreter reports the renewal applied', () => {
    const s0 = initNode(params(1, [1]), 0);
    const r = run(s0, { kind: 'start' }, 0);
    // Heartbeat, lease, then the buckets nobody holds (all of them) once the lease runs.
    expect(kinds(r.effects)).toEqual(['send', 'renew-lease', 'announce', 'send', 'phases', 'send']);
    expect(r.state.wasServing).toBe(false);
    expect(r.state.t.leaseActive).toBe(true);
    const renewed = run(r.state, { kind: 'lease-renewed', leaseMs: 30 }, 1);
    expect(kinds(renewed.effects)).toEqual(['log:serving']);
    expect(renewed.state.servingSinceMs).toBe(1);
    // A second renewal is no news; a short one is.
    expect(kinds(run(renewed.state, { kind: 'lease-renewed', leaseMs: 30 }, 5).effects)).toEqual([]);
    expect(kinds(run(renewed.state, { kind: 'lease-renewed', leaseMs: 9 }, 5).effects)).toEqual(['log:lease-short']);
  });

  it('never changes the state it is given', () => {
    const s0 = initNode(params(1, [1, 2, 3]), 0);
    const snapshot = JSON.stringify(s0, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Map ? [...(v as Map<unknown, unknown>)] : v));
    const r = run(s0, { kind: 'start' }, 0);
    run(r.state, { kind: 'datagram', bytes: new Uint8Array([1, 2, 3]), linkId: 0 }, 1);
    expect(JSON.stringify(s0, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Map ? [...(v as Map<unknown, unknown>)] : v))).toBe(snapshot);
    expect(r.state).not.toBe(s0);
  });

  it('a datagram it cannot decode is counted by its reason and changes nothing else', () => {
    const s = run(initNode(params(1, [1, 2, 3]), 0), { kind: 'start' }, 0).state;
    const r = run(s, { kind: 'datagram', bytes: new Uint8Array(8), linkId: 0 }, 1);
    expect(r.effects).toEqual([]);
    const changed = Object.entries(r.state.counters).filter(([k, v]) => v !== s.counters[k as keyof typeof s.counters]);
    expect(changed.length).toBe(1);
    expect(r.state.m).toBe(s.m);
  });

  it('a heartbeat from a peer is merged, acknowledged in our next one, and counted per link', () => {
    const a0 = run(initNode(params(1, [1, 2, 3]), 0), { kind: 'start' }, 0);
    const b0 = run(initNode(params(2, [1, 2, 3]), 0), { kind: 'start' }, 0);
    const hb = sent(b0.effects)[0];
    if (!hb) throw new Error('node 2 sent nothing at start');
    const bytes = WIRE_CODEC.encode({ ...hb, linkId: 0 }, KEY);
    const r = run(a0.state, { kind: 'datagram', bytes, linkId: 0 }, 3);
    expect(r.state.counters.accepted).toBe(1);
    expect(r.state.perLinkReceived).toEqual([1]);
    expect(r.state.linkHeard.get(2)).toEqual([3]);
    expect(r.state.m.peers.get(2)?.lastSeq).toBe(hb.seq);
    // The same datagram again: a replay, dropped and counted, membership untouched.
    const again = run(r.state, { kind: 'datagram', bytes, linkId: 0 }, 4);
    expect(again.state.m).toBe(r.state.m);
    const next = sent(run(r.state, { kind: 'interval' }, 10).effects)[0];
    expect(next?.peers.find((p) => p.id === 2)).toMatchObject({ status: 'alive', incarnationHeard: 2n, lastSeqHeard: hb.seq });
  });

  it('degraded: announced as standby in one heartbeat, only when it changes', () => {
    const s = run(run(initNode(params(1, [1]), 0), { kind: 'start' }, 0).state, { kind: 'lease-renewed', leaseMs: 30 }, 0).state;
    const r = run(s, { kind: 'degraded', degraded: true }, 1);
    expect(sent(r.effects).map((h) => h.state)).toEqual(['standby']);
    expect(run(r.state, { kind: 'degraded', degraded: true }, 2).effects).toEqual([]);
    expect(sent(run(r.state, { kind: 'degraded', degraded: false }, 3).effects).map((h) => h.state)).toEqual(['active']);
  });

  it('a restart window with no acknowledgement is refused on the timeout, and announces no window from then on', () => {
    const s = run(initNode(params(1, [1, 2, 3]), 0), { kind: 'start' }, 0).state;
    const r = run(s, { kind: 'restart-requested', windowMs: 500 }, 1);
    expect(sent(r.effects).map((h) => h.handover?.restartWindowMs)).toEqual([500]);
    const refused = run(r.state, { kind: 'restart-timeout' }, 41);
    expect(kinds(refused.effects)).toEqual(['restart-refused']);
    const later = sent(run(refused.state, { kind: 'interval' }, 50).effects).map((h) => h.handover?.restartWindowMs);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((w) => w === 0)).toBe(true);
    // A late timeout after the answer changes nothing.
    expect(run(refused.state, { kind: 'restart-timeout' }, 60).effects).toEqual([]);
  });
});
