/**
 * The per-flow UDP hand-over reducer: when the old owner fills and publishes its flows, when the
 * new owner opens, and the race (a new owner never opens before every draining holder's list,
 * and a list is never read before the new owner holds and the old owner stopped adopting).
 */
import { describe, expect, it } from 'vitest';
import { EMPTY_FLOWS, keeping, publicationFor, stepFlows, unfilled, type FlowEffect, type FlowHandoverParams, type FlowState, type FlowView } from '../../../src/takeover/udp-flow-handover.js';
import type { WirePhase } from '../../../src/cluster/heartbeat-types.js';

const p: FlowHandoverParams = { idleMs: 30_000, portIdleMs: [{ port: 53, idleMs: 5_000 }], marginMs: 100, resendMs: 200, listedMs: 60_000 };
const view = (selfId: number, draining: number[], incoming: number[], holders: Record<number, [number, WirePhase][]>, release = false): FlowView => ({
  selfId, draining: new Set(draining), incoming: new Set(incoming), release,
  holders: (b) => (holders[b] ?? []).map(([id, phase]) => ({ id, phase })),
});
const kinds = (e: readonly FlowEffect[]): string[] => e.map((x) => x.kind);
const bucketOfAddr = (f: { saddr: string }): number => Number(f.saddr.split('.')[3]) % 10;

describe('old owner', () => {
  it('fills conntrack\'s flows of a draining bucket (idle time still allowed, per port), then publishes to the node that took it, again until acknowledged', () => {
    let s: FlowState = EMPTY_FLOWS;
    let r = stepFlows(s, { kind: 'sync', view: view(1, [5], [], { 5: [[1, 'draining'], [2, 'incoming']] }) }, p, 0);
    expect(kinds(r.effects)).toEqual(['dump-udp']); // adopting: nothing published yet, even though 2 took it
    s = r.state;
    expect(unfilled(s)).toEqual(new Set([5]));
    r = stepFlows(s, { kind: 'ct-udp', bucketOf: bucketOfAddr, flows: [
      { saddr: '10.0.0.5', sport: 4000, dport: 443, idleAtLeastMs: 2_000 },
      { saddr: '10.0.0.15', sport: 4001, dport: 53, idleAtLeastMs: 6_000 }, // DNS quiet past its 5 s: over
      { saddr: '10.0.0.6', sport: 4002, dport: 443, idleAtLeastMs: 0 }, // another bucket
    ] }, p, 10);
    expect(r.effects).toEqual([{ kind: 'fill-keep', bucket: 5, flows: [{ saddr: '10.0.0.5', sport: 4000, dport: 443, timeoutMs: 28_000 }] }]);
    s = r.state;
    expect(unfilled(s).size).toBe(0);
    const v = view(1, [5], [], { 5: [[1, 'draining'], [2, 'incoming']] });
    r = stepFlows(s, { kind: 'sync', view: v }, p, 20);
    expect(r.effects).toEqual([{ kind: 'publish', bucket: 5, to: 2, generation: 1, own: true }]);
    s = r.state;
    expect(stepFlows(s, { kind: 'sync', view: v }, p, 100).effects).toEqual([]);
    r = stepFlows(s, { kind: 'sync', view: v }, p, 220);
    expect(r.effects).toEqual([{ kind: 'publish', bucket: 5, to: 2, generation: 2, own: true }]);
    s = stepFlows(r.state, { kind: 'ack', from: 2, bucket: 5, generation: 1 }, p, 230).state; // the older one: not this publication
    expect(stepFlows(s, { kind: 'sync', view: v }, p, 430).effects).toEqual([{ kind: 'publish', bucket: 5, to: 2, generation: 3, own: true }]);
    s = stepFlows(stepFlows(s, { kind: 'sync', view: v }, p, 430).state, { kind: 'ack', from: 2, bucket: 5, generation: 3 }, p, 440).state;
    expect(stepFlows(s, { kind: 'sync', view: v }, p, 2000).effects).toEqual([]);
  });

  it('publishes only to a node that reports the bucket incoming (its kernel holds): not to one still without it', () => {
    let s = stepFlows(EMPTY_FLOWS, { kind: 'sync', view: view(1, [5], [], { 5: [[1, 'draining']] }) }, p, 0).state;
    s = stepFlows(s, { kind: 'ct-udp', bucketOf: bucketOfAddr, flows: [] }, p, 1).state;
    expect(stepFlows(s, { kind: 'sync', view: view(1, [5], [], { 5: [[1, 'draining']] }) }, p, 2).effects).toEqual([]);
    expect(stepFlows(s, { kind: 'sync', view: view(1, [5], [], { 5: [[1, 'draining'], [3, 'draining']] }) }, p, 2).effects).toEqual([]);
  });

  it('a bucket no longer draining is forgotten; draining again starts over with adoption', () => {
    let s = stepFlows(EMPTY_FLOWS, { kind: 'sync', view: view(1, [5], [], {}) }, p, 0).state;
    s = stepFlows(s, { kind: 'ct-udp', bucketOf: bucketOfAddr, flows: [] }, p, 1).state;
    s = stepFlows(s, { kind: 'sync', view: view(1, [], [], {}) }, p, 2).state;
    expect(s.out.size).toBe(0);
    expect(kinds(stepFlows(s, { kind: 'sync', view: view(1, [5], [], {}) }, p, 3).effects)).toEqual(['dump-udp']);
  });
});

describe('drain for health (service or data path gone): flows handed over at once', () => {
  const holders: Record<number, [number, WirePhase][]> = { 5: [[1, 'draining'], [2, 'incoming']] };
  it('keeps nothing: released (no UDP accepted here), no conntrack reading, an empty-handed publication at once so the new owner opens', () => {
    let r = stepFlows(EMPTY_FLOWS, { kind: 'sync', view: view(1, [5], [], holders, true) }, p, 0);
    expect(r.effects).toEqual([{ kind: 'release', bucket: 5 }, { kind: 'publish', bucket: 5, to: 2, generation: 1, own: false }]);
    expect(unfilled(r.state).size).toBe(0); // the drain waits for no UDP flow of it
    expect(keeping(r.state).size).toBe(0);
    // conntrack's reading (asked by another bucket, say) fills nothing for it.
    expect(stepFlows(r.state, { kind: 'ct-udp', bucketOf: () => 5, flows: [{ saddr: '10.0.0.5', sport: 1, dport: 443, idleAtLeastMs: 0 }] }, p, 1).effects).toEqual([]);
    r = stepFlows(r.state, { kind: 'sync', view: view(1, [5], [], holders, true) }, p, 2);
    expect(r.effects).toEqual([]); // released once
  });

  it('a planned drain that turns into a health drain releases what it has not published; a bucket already published stays kept (the new owner refuses its flows on our word)', () => {
    let s = stepFlows(EMPTY_FLOWS, { kind: 'sync', view: view(1, [5, 6], [], {}) }, p, 0).state;
    s = stepFlows(s, { kind: 'ct-udp', bucketOf: () => 5, flows: [] }, p, 1).state;
    // 5 has a new owner that holds: published. 6 has none yet.
    s = stepFlows(s, { kind: 'sync', view: view(1, [5, 6], [], holders) }, p, 2).state;
    const r = stepFlows(s, { kind: 'sync', view: view(1, [5, 6], [], { ...holders, 6: [[1, 'draining'], [3, 'incoming']] }, true) }, p, 3);
    expect(r.effects).toEqual([{ kind: 'release', bucket: 6 }, { kind: 'publish', bucket: 6, to: 3, generation: 2, own: false }]);
    expect(keeping(r.state)).toEqual(new Set([5]));
  });

  it('a released bucket publishes only the flows it refuses for an earlier old owner, none of its own', () => {
    const f = (sport: number, ms: number): { saddr: string; sport: number; dport: number; timeoutMs: number } => ({ saddr: '10.0.0.5', sport, dport: 443, timeoutMs: ms });
    const sets = { keep: [f(1, 500)], keepfill: [f(2, 700)], listed: [f(3, 60_000)], theirs: [f(3, 200)], seen: [] };
    expect(publicationFor(5, bucketOfAddr, sets, false).map((x) => x.sport)).toEqual([3]);
    expect(publicationFor(5, bucketOfAddr, sets, true).map((x) => x.sport).sort()).toEqual([1, 2, 3]);
  });
});

describe('new owner', () => {
  const flows = (n: number, base: number): { saddr: string; sport: number; dport: number; remainingMs: number }[] => Array.from({ length: n }, (_, i) => ({ saddr: '10.0.0.5', sport: base + i, dport: 443, remainingMs: 1000 + i }));

  it('holds until every part of the list arrived, then opens: theirs = remaining + margin, listed for the drain bound; acknowledges', () => {
    const v = view(2, [], [5], { 5: [[1, 'draining'], [2, 'incoming']] });
    let r = stepFlows(EMPTY_FLOWS, { kind: 'sync', view: v }, p, 0);
    expect(r.effects).toEqual([]);
    r = stepFlows(r.state, { kind: 'flows', from: 1, bucket: 5, generation: 4, part: 1, parts: 2, flows: flows(1, 7000), view: v }, p, 5);
    expect(r.effects).toEqual([]);
    expect(r.state.in.get(5)?.stage).toBe('hold');
    r = stepFlows(r.state, { kind: 'flows', from: 1, bucket: 5, generation: 4, part: 0, parts: 2, flows: flows(1, 6000), view: v }, p, 6);
    expect(r.effects).toEqual([
      { kind: 'open', bucket: 5, listed: [{ saddr: '10.0.0.5', sport: 7000, dport: 443, timeoutMs: 60_000 }, { saddr: '10.0.0.5', sport: 6000, dport: 443, timeoutMs: 60_000 }], theirs: [{ saddr: '10.0.0.5', sport: 7000, dport: 443, timeoutMs: 1100 }, { saddr: '10.0.0.5', sport: 6000, dport: 443, timeoutMs: 1100 }] },
      { kind: 'send-ack', to: 1, bucket: 5, generation: 4 },
    ]);
    // A resend after we opened (our ack was lost): acknowledged again, nothing reopened.
    expect(stepFlows(r.state, { kind: 'flows', from: 1, bucket: 5, generation: 5, part: 0, parts: 1, flows: [], view: v }, p, 300).effects).toEqual([{ kind: 'send-ack', to: 1, bucket: 5, generation: 5 }]);
  });

  it('handed a bucket two nodes still drain: opens only once both lists arrived (the earlier owner\'s flows stay refused)', () => {
    const v = view(3, [], [5], { 5: [[1, 'draining'], [2, 'draining'], [3, 'incoming']] });
    let r = stepFlows(EMPTY_FLOWS, { kind: 'sync', view: v }, p, 0);
    r = stepFlows(r.state, { kind: 'flows', from: 2, bucket: 5, generation: 1, part: 0, parts: 1, flows: flows(1, 100), view: v }, p, 1);
    expect(kinds(r.effects)).toEqual(['send-ack']);
    r = stepFlows(r.state, { kind: 'flows', from: 1, bucket: 5, generation: 9, part: 0, parts: 1, flows: flows(1, 200), view: v }, p, 2);
    expect(kinds(r.effects)).toEqual(['open', 'send-ack']);
    // One holder let go meanwhile: its list is no longer needed.
    const v2 = view(3, [], [5], { 5: [[2, 'draining'], [3, 'incoming']] });
    let r2 = stepFlows(EMPTY_FLOWS, { kind: 'sync', view: v }, p, 0);
    r2 = stepFlows(r2.state, { kind: 'flows', from: 2, bucket: 5, generation: 1, part: 0, parts: 1, flows: flows(1, 100), view: v }, p, 1);
    expect(kinds(stepFlows(r2.state, { kind: 'sync', view: v2 }, p, 2).effects)).toEqual(['open']);
  });

  it('a list for a bucket we do not hold changes nothing; one from a node that is no holder does not open it', () => {
    const v = view(2, [], [5], { 5: [[1, 'draining'], [2, 'incoming']] });
    expect(stepFlows(EMPTY_FLOWS, { kind: 'flows', from: 1, bucket: 5, generation: 1, part: 0, parts: 1, flows: [], view: v }, p, 0).effects).toEqual([]);
    const s = stepFlows(EMPTY_FLOWS, { kind: 'sync', view: v }, p, 0).state;
    expect(kinds(stepFlows(s, { kind: 'flows', from: 4, bucket: 5, generation: 1, part: 0, parts: 1, flows: [], view: v }, p, 1).effects)).toEqual(['send-ack']);
    expect(stepFlows(s, { kind: 'flows', from: 4, bucket: 5, generation: 1, part: 0, parts: 1, flows: [], view: v }, p, 1).state.in.get(5)?.stage).toBe('hold');
  });
});

describe('publicationFor', () => {
  it('our kept flows and the listed flows we still refuse, each with the longest time left, of one bucket', () => {
    const f = (sport: number, ms: number, last = 5): { saddr: string; sport: number; dport: number; timeoutMs: number } => ({ saddr: `10.0.0.${last}`, sport, dport: 443, timeoutMs: ms });
    const out = publicationFor(5, bucketOfAddr, {
      keep: [f(1, 500), f(9, 100, 6)], keepfill: [f(1, 700), f(2, 300)],
      listed: [f(3, 60_000)], theirs: [f(3, 200)], seen: [f(3, 900), f(4, 800)], // 4 was never listed: a new flow we held
    });
    expect(out.sort((a, b) => a.sport - b.sport).map((x) => [x.sport, x.remainingMs])).toEqual([[1, 700], [2, 300], [3, 900]]);
  });
});
