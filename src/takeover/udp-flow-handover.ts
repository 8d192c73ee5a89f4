/**
 * Per-flow UDP hand-over, pure: while a bucket moves, every UDP flow its old owner still serves
 * stays there until it goes quiet; only flows new to the cluster reach the new owner; no packet
 * is accepted by two nodes. The kernel does the per-packet work (src/vmac/udp-flow-rules.ts);
 * this reducer decides when each node fills its flow sets and what it tells the others.
 *
 * Why per flow: UDP has no handshake, so a node cannot tell a new flow from an old one by its own
 * conntrack; the old owner's conntrack, published, can. For QUIC a flow that switches node dies
 * (the new node answers a packet of an unknown connection with a stateless reset); DTLS,
 * WireGuard-like tunnels and RTP sessions break the same way.
 *
 *   old owner O (bucket b: owned → draining)          new owner N (none → incoming)
 *   1. kernel: draining_adopt. UDP of b accepted only    1. kernel: incoming_hold. No UDP of b
 *      for flows in `keep`, or that conntrack already       accepted; every UDP flow of b seen
 *      knew (adopted into `keep`). No new conntrack         is recorded in `seen`.
 *      entry for b's UDP can appear from now on.         2. once every node that drains b sent its
 *   2. dump conntrack's UDP flows of b (all of them: a      list: fill `listed` and `theirs`
 *      superset of what O can ever accept), fill            (remaining + margin), kernel: incoming.
 *      `keepfill` with each flow's idle time still          Listed flows are refused while `theirs`
 *      allowed, kernel: draining (no more adoption).        or `seen` (refreshed by their own
 *   3. for every node reporting b incoming: read            packets) lives; every other flow is
 *      `keep` + `keepfill` (and, if we were handed b         new to the cluster and ours.
 *      while another node drained it, our refusals of
 *      its flows), publish them; resend until acked.
 *   4. the drain of b ends when its TCP is gone and `keep`/`keepfill` hold no flow of b (each ends
 *      by the kernel's idle timer), or on the drain timeout.
 *
 * A drain for health (a dead service, a lost data path: `view.release`) keeps nothing: O moves b
 * to draining_release (no UDP of b accepted, old flows or new), reads no conntrack, and publishes
 * only the flows it still refuses for an earlier old owner (usually none), so N opens at once and
 * takes every flow of b. A planned drain that turns into a health drain releases the buckets it
 * has not published yet; a bucket already published stays kept (N refuses those flows on our
 * word; releasing them now would leave them with no node at all).
 *
 * The race (a packet of an old flow reaching N before O's list): N holds all of b's UDP from the
 * moment it takes the bucket until the list of every draining holder arrived, and O publishes
 * only after N reports `incoming` in a heartbeat (sent after N's kernel holds) and after its own
 * adoption ended: the list is read after both. Packets between O's reading and N's opening are
 * seen by both kernels (frames for the VMAC are flooded to every node): O refreshes `keep`, N
 * refreshes `seen`, so N's refusal of a flow outlasts O's keeping of it by the margin, never the
 * other way round. A new flow that arrives during the hold is dropped by both (as new TCP flows
 * are between O's switch and N's grant) and taken by N once it opens: `seen` refuses only listed
 * flows.
 */
import type { UdpFlowEntry } from './conntrack-port.js';
import type { WireFlow } from '../cluster/flow-codec.js';
import type { WirePhase } from '../cluster/heartbeat-types.js';
import { idleFor, type TimedFlow, type UdpPerFlowPlan } from '../vmac/udp-flow-rules.js';

export interface FlowHandoverParams extends Pick<UdpPerFlowPlan, 'idleMs' | 'portIdleMs' | 'marginMs'> {
  /** Resend an unacknowledged publication after this long. */
  readonly resendMs: number;
  /** How long the new owner remembers that a flow was listed (the old owner's drain can last no longer). */
  readonly listedMs: number;
}

interface Publication { readonly generation: number; readonly sentAtMs: number; readonly acked: boolean }

export interface OutBucket {
  /**
   * adopting: conntrack's flows not filled in yet (dump asked: `dumpAsked`); kept: filled;
   * released: a drain for health, no flow kept.
   */
  readonly stage: 'adopting' | 'kept' | 'released';
  readonly dumpAsked: boolean;
  /** Per node that reports the bucket incoming: our latest publication to it. */
  readonly sent: ReadonlyMap<number, Publication>;
}

export interface InBucket {
  readonly stage: 'hold' | 'open';
  /** Complete lists received, by sender (generation and its flows), while holding. */
  readonly lists: ReadonlyMap<number, { readonly generation: number; readonly parts: ReadonlyMap<number, readonly WireFlow[]>; readonly total: number }>;
}

export interface FlowState {
  readonly out: ReadonlyMap<number, OutBucket>;
  readonly in: ReadonlyMap<number, InBucket>;
  readonly generation: number; // the last publication generation we used
}

export const EMPTY_FLOWS: FlowState = { out: new Map(), in: new Map(), generation: 0 };

/** What this node and its peers hold, for one step. */
export interface FlowView {
  readonly selfId: number;
  readonly draining: ReadonlySet<number>; // our buckets in phase draining
  readonly incoming: ReadonlySet<number>; // ours in phase incoming
  /** The drain is for health (service or data path gone): hand every UDP flow over at once. */
  readonly release?: boolean;
  /** Live peers holding `bucket`, with their phase. */
  holders(bucket: number): readonly { readonly id: number; readonly phase: WirePhase }[];
}

export type FlowEvent =
  | { readonly kind: 'sync'; readonly view: FlowView }
  | { readonly kind: 'ct-udp'; readonly flows: readonly UdpFlowEntry[]; readonly bucketOf: (f: UdpFlowEntry) => number }
  /** The conntrack reading failed: ask again at the next sync (the buckets keep adopting meanwhile). */
  | { readonly kind: 'ct-failed' }
  | { readonly kind: 'flows'; readonly from: number; readonly bucket: number; readonly generation: number; readonly part: number; readonly parts: number; readonly flows: readonly WireFlow[]; readonly view: FlowView }
  | { readonly kind: 'ack'; readonly from: number; readonly bucket: number; readonly generation: number };

export type FlowEffect =
  | { readonly kind: 'dump-udp' }
  /** Fill `keepfill` and move the bucket from draining_adopt to draining. */
  | { readonly kind: 'fill-keep'; readonly bucket: number; readonly flows: readonly TimedFlow[] }
  /** Move the bucket to draining_release: no UDP of it accepted here (a drain for health). */
  | { readonly kind: 'release'; readonly bucket: number }
  /**
   * Read our flows of the bucket and send them to `to` under `generation`; `own: false` (released):
   * only the flows we refuse for an earlier old owner, none of our own.
   */
  | { readonly kind: 'publish'; readonly bucket: number; readonly to: number; readonly generation: number; readonly own: boolean }
  /** Fill `listed` and `theirs` and move the bucket from incoming_hold to incoming. */
  | { readonly kind: 'open'; readonly bucket: number; readonly listed: readonly TimedFlow[]; readonly theirs: readonly TimedFlow[] }
  | { readonly kind: 'send-ack'; readonly to: number; readonly bucket: number; readonly generation: number };

export interface FlowStep { readonly state: FlowState; readonly effects: readonly FlowEffect[] }

const flowKey = (f: { saddr: string; sport: number; dport: number }): string => `${f.saddr}:${f.sport}:${f.dport}`;

/** The draining holders whose lists an incoming bucket waits for. */
function drainers(v: FlowView, b: number): number[] {
  return v.holders(b).filter((h) => h.id !== v.selfId && h.phase === 'draining').map((h) => h.id);
}

/** Opens `b` if every draining holder's list is complete: `listed` and `theirs` from all of them. */
function tryOpen(b: number, ib: InBucket, v: FlowView, p: FlowHandoverParams, effects: FlowEffect[]): InBucket {
  if (ib.stage === 'open') return ib;
  const from = drainers(v, b);
  if (from.some((id) => { const l = ib.lists.get(id); return l === undefined || l.parts.size < l.total; })) return ib;
  const theirs = new Map<string, TimedFlow>();
  for (const id of from) {
    for (const part of (ib.lists.get(id)?.parts ?? new Map<number, readonly WireFlow[]>()).values()) {
      for (const f of part) {
        const t: TimedFlow = { saddr: f.saddr, sport: f.sport, dport: f.dport, timeoutMs: f.remainingMs + p.marginMs };
        const k = flowKey(f);
        const had = theirs.get(k);
        if (had === undefined || had.timeoutMs < t.timeoutMs) theirs.set(k, t);
      }
    }
  }
  const list = [...theirs.values()];
  effects.push({ kind: 'open', bucket: b, listed: list.map((f) => ({ ...f, timeoutMs: p.listedMs })), theirs: list });
  return { stage: 'open', lists: new Map() };
}

export function stepFlows(s: FlowState, e: FlowEvent, p: FlowHandoverParams, nowMs: number): FlowStep {
  const effects: FlowEffect[] = [];
  switch (e.kind) {
    case 'sync': {
      const v = e.view;
      const out = new Map<number, OutBucket>();
      let generation = s.generation;
      let ask = false;
      for (const b of v.draining) {
        const prev = s.out.get(b) ?? { stage: 'adopting', dumpAsked: false, sent: new Map() };
        let ob: OutBucket = prev;
        // Health: let go of every flow we have not vouched for yet (nothing published).
        if (v.release === true && ob.stage !== 'released' && ob.sent.size === 0) {
          ob = { stage: 'released', dumpAsked: false, sent: new Map() };
          effects.push({ kind: 'release', bucket: b });
        }
        if (ob.stage === 'adopting' && !ob.dumpAsked) { ask = true; ob = { ...ob, dumpAsked: true }; }
        if (ob.stage !== 'adopting') {
          // Publish to every node that took the bucket (it holds until it has our list), again until acknowledged.
          const sent = new Map<number, Publication>();
          for (const h of v.holders(b)) {
            if (h.phase !== 'incoming' || h.id === v.selfId) continue;
            const last = ob.sent.get(h.id);
            if (last !== undefined && (last.acked || nowMs - last.sentAtMs < p.resendMs)) { sent.set(h.id, last); continue; }
            generation = (generation + 1) >>> 0 || 1;
            sent.set(h.id, { generation, sentAtMs: nowMs, acked: false });
            effects.push({ kind: 'publish', bucket: b, to: h.id, generation, own: ob.stage === 'kept' });
          }
          ob = { ...ob, sent };
        }
        out.set(b, ob);
      }
      if (ask) effects.unshift({ kind: 'dump-udp' });
      const inb = new Map<number, InBucket>();
      for (const b of v.incoming) inb.set(b, tryOpen(b, s.in.get(b) ?? { stage: 'hold', lists: new Map() }, v, p, effects));
      return { state: { out, in: inb, generation }, effects };
    }
    case 'ct-udp': {
      // conntrack's UDP flows, read after every adopting bucket stopped taking new flows.
      const byBucket = new Map<number, TimedFlow[]>();
      for (const f of e.flows) {
        const b = e.bucketOf(f);
        const ob = s.out.get(b);
        if (ob?.stage !== 'adopting' || !ob.dumpAsked) continue;
        const left = idleFor(p, f.dport) - f.idleAtLeastMs;
        if (left <= 0) continue; // quiet longer than its idle timeout: over, and not ours to keep
        let l = byBucket.get(b);
        if (!l) byBucket.set(b, (l = []));
        l.push({ saddr: f.saddr, sport: f.sport, dport: f.dport, timeoutMs: left });
      }
      const out = new Map(s.out);
      for (const [b, ob] of s.out) {
        if (ob.stage !== 'adopting' || !ob.dumpAsked) continue;
        out.set(b, { ...ob, stage: 'kept' });
        effects.push({ kind: 'fill-keep', bucket: b, flows: byBucket.get(b) ?? [] });
      }
      return { state: { ...s, out }, effects };
    }
    case 'ct-failed': {
      const out = new Map(s.out);
      for (const [b, ob] of s.out) if (ob.stage === 'adopting') out.set(b, { ...ob, dumpAsked: false });
      return { state: { ...s, out }, effects };
    }
    case 'flows': {
      const ib = s.in.get(e.bucket);
      // Acknowledge whatever we have of it once open (our ack was lost), nothing while not ours.
      if (ib === undefined) return { state: s, effects };
      if (ib.stage === 'open') {
        if (e.part === e.parts - 1) effects.push({ kind: 'send-ack', to: e.from, bucket: e.bucket, generation: e.generation });
        return { state: s, effects };
      }
      const had = ib.lists.get(e.from);
      const cur = had !== undefined && had.generation === e.generation ? had : { generation: e.generation, parts: new Map<number, readonly WireFlow[]>(), total: e.parts };
      if (had !== undefined && had.generation > e.generation && had.parts.size === had.total) return { state: s, effects }; // an older reading, late
      const lists = new Map(ib.lists);
      const parts = new Map(cur.parts);
      parts.set(e.part, e.flows);
      lists.set(e.from, { ...cur, parts });
      const complete = parts.size === cur.total;
      const next = tryOpen(e.bucket, { ...ib, lists }, e.view, p, effects);
      if (complete) effects.push({ kind: 'send-ack', to: e.from, bucket: e.bucket, generation: e.generation });
      const inb = new Map(s.in);
      inb.set(e.bucket, next);
      return { state: { ...s, in: inb }, effects };
    }
    case 'ack': {
      const ob = s.out.get(e.bucket);
      const pub = ob?.sent.get(e.from);
      if (!ob || !pub || pub.generation !== e.generation || pub.acked) return { state: s, effects };
      const sent = new Map(ob.sent);
      sent.set(e.from, { ...pub, acked: true });
      const out = new Map(s.out);
      out.set(e.bucket, { ...ob, sent });
      return { state: { ...s, out }, effects };
    }
  }
}

/** Buckets whose UDP drain cannot be judged done yet: conntrack's flows not filled in. */
export function unfilled(s: FlowState): Set<number> {
  const out = new Set<number>();
  for (const [b, ob] of s.out) if (ob.stage === 'adopting') out.add(b);
  return out;
}

/** Draining buckets that keep their old flows (their drain waits for them); not released ones. */
export function keeping(s: FlowState): Set<number> {
  const out = new Set<number>();
  for (const [b, ob] of s.out) if (ob.stage !== 'released') out.add(b);
  return out;
}

/** Flow sets as read from the kernel, each flow with the time it has left. */
export interface FlowSetsRead { keep: readonly TimedFlow[]; keepfill: readonly TimedFlow[]; listed: readonly TimedFlow[]; theirs: readonly TimedFlow[]; seen: readonly TimedFlow[] }

/**
 * What we publish, per bucket: our kept flows (keep and keepfill, each with its time left) and,
 * if we were handed the bucket while another node drained it, the flows we still refuse (listed,
 * with the longer of theirs and seen): the next owner must refuse them as well. One pass over
 * the sets for every bucket published at once.
 */
export function publicationsByBucket(bucketOf: (f: TimedFlow) => number, sets: FlowSetsRead, own = true): Map<number, WireFlow[]> {
  const best = new Map<number, Map<string, WireFlow>>();
  const put = (f: TimedFlow, ms: number): void => {
    if (ms <= 0) return;
    const b = bucketOf(f);
    let m = best.get(b);
    if (!m) best.set(b, (m = new Map<string, WireFlow>()));
    const k = flowKey(f);
    const had = m.get(k);
    if (had === undefined || had.remainingMs < ms) m.set(k, { saddr: f.saddr, sport: f.sport, dport: f.dport, remainingMs: ms });
  };
  if (own) {
    for (const f of sets.keep) put(f, f.timeoutMs);
    for (const f of sets.keepfill) put(f, f.timeoutMs);
  }
  const listed = new Set(sets.listed.map(flowKey));
  for (const f of [...sets.theirs, ...sets.seen]) if (listed.has(flowKey(f))) put(f, f.timeoutMs);
  return new Map([...best].map(([b, m]) => [b, [...m.values()]]));
}

/** What we publish for one bucket (publicationsByBucket, one bucket). */
export function publicationFor(bucket: number, bucketOf: (f: TimedFlow) => number, sets: FlowSetsRead, own = true): WireFlow[] {
  return publicationsByBucket(bucketOf, sets, own).get(bucket) ?? [];
}
