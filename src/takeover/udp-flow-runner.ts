/**
 * Carries out the per-flow UDP hand-over reducer (udp-flow-handover.ts): conntrack readings,
 * kernel flow sets and stages, flow messages to and from peers. Decisions stay in the reducer;
 * the cluster runtime calls `sync` after each of its steps and hands over flow datagrams.
 */
import type { Logger } from 'pino';
import type { HashConfig } from '../config/types.js';
import { bucketOf } from '../hash/bucket-of.js';
import type { HeartbeatKey } from '../cluster/heartbeat-auth.js';
import { decodeFlowMessage, encodeFlowMessage, flowParts, type WireFlow } from '../cluster/flow-codec.js';
import { checkReplay, type SenderReplayState } from '../cluster/replay-window.js';
import type { DataPathPort } from '../vmac/datapath-port.js';
import { FLOW_SETS, type FlowSet, type TimedFlow } from '../vmac/udp-flow-rules.js';
import type { ConntrackPort } from './conntrack-port.js';
import { reducerLoop } from '../util/reducer-loop.js';
import { EMPTY_FLOWS, keeping, publicationsByBucket, stepFlows, unfilled, type FlowEffect, type FlowSetsRead, type FlowEvent, type FlowHandoverParams, type FlowState, type FlowView } from './udp-flow-handover.js';

export interface FlowRunnerDeps {
  readonly selfId: number;
  readonly incarnation: bigint;
  readonly key: HeartbeatKey;
  readonly hash: HashConfig;
  readonly buckets: number;
  readonly params: FlowHandoverParams;
  readonly dp: DataPathPort;
  readonly conntrack?: ConntrackPort;
  /** Sends one datagram to a peer on every link. */
  readonly send: (peerId: number, bytes: Uint8Array) => void;
  readonly knownIds: ReadonlySet<number>;
  readonly nowMs: () => number;
  readonly log: Logger;
  /**
   * The current view: once conntrack's flows are filled in, publish at once to the nodes that hold
   * the bucket, not at the next sync (a heartbeat later: the new owner holds all UDP meanwhile).
   */
  readonly view?: () => FlowView;
}

export interface FlowRunner {
  sync(view: FlowView): void;
  onDatagram(bytes: Uint8Array, linkId: number, view: FlowView): void;
  /** Draining buckets whose old UDP flows are not over: kept flows, or conntrack's not filled in yet. */
  udpBusy(): Set<number>;
  counters(): Readonly<Record<string, number>>;
}

export function startFlowRunner(d: FlowRunnerDeps): FlowRunner {
  let seq = 0;
  let dumping = false;
  /** Our buckets in a hand-over phase at the last sync. */
  let moving = new Set<number>();
  let replay = new Map<number, SenderReplayState>();
  const counts: Record<string, number> = { published: 0, received: 0, acked: 0, dropped: 0, opened: 0, filled: 0, released: 0, expired: 0 };
  const byAddr = new Map<string, number>();
  const bucketOfFlow = (f: { saddr: string; sport: number }): number => {
    if (d.hash.affinity !== 'address') return bucketOf({ addr: f.saddr, sport: f.sport }, d.hash, d.buckets);
    let b = byAddr.get(f.saddr);
    if (b === undefined) {
      if (byAddr.size > 100_000) byAddr.clear();
      byAddr.set(f.saddr, (b = bucketOf({ addr: f.saddr }, d.hash, d.buckets)));
    }
    return b;
  };

  function send(to: number, bucket: number, generation: number, type: 'flows' | 'ack', parts: readonly (readonly { saddr: string; sport: number; dport: number; remainingMs: number }[])[]): void {
    parts.forEach((flows, part) => {
      seq = (seq + 1) >>> 0;
      d.send(to, encodeFlowMessage({ type, senderId: d.selfId, incarnation: d.incarnation, seq, toId: to, bucket, generation, part, parts: parts.length, flows }, d.key));
    });
  }

  const loop = reducerLoop<FlowState, FlowEvent, FlowEffect>({
    init: EMPTY_FLOWS, step: (s, e, nowMs) => stepFlows(s, e, d.params, nowMs), clock: { nowMs: d.nowMs }, perform: (effects) => apply(effects),
  });
  const run = loop.dispatch;

  /**
   * The kernel stages of one step (fills, opens, releases) in one nft transaction: a drain or a
   * takeover moves many buckets at once, and one libnftables run per bucket (each re-reads the
   * ruleset) kept a real-time daemon busy for tens of ms on a 2-core machine, starving the
   * services and clients beside it. Falls back to one run per bucket if the batch fails.
   */
  function stageBatch(effects: readonly FlowEffect[]): Set<FlowEffect> {
    const done = new Set<FlowEffect>();
    if (d.dp.udpFlowStages === undefined) return done;
    const batch: { e: FlowEffect; bucket: number; stage: 'draining' | 'incoming' | 'draining_release'; fills: { set: 'keepfill' | 'listed' | 'theirs'; flows: readonly TimedFlow[] }[] }[] = [];
    for (const e of effects) {
      if (e.kind === 'fill-keep') batch.push({ e, bucket: e.bucket, stage: 'draining', fills: [{ set: 'keepfill', flows: e.flows }] });
      else if (e.kind === 'open') batch.push({ e, bucket: e.bucket, stage: 'incoming', fills: [{ set: 'listed', flows: e.listed }, { set: 'theirs', flows: e.theirs }] });
      else if (e.kind === 'release') batch.push({ e, bucket: e.bucket, stage: 'draining_release', fills: [] });
    }
    if (batch.length < 2) return done;
    try {
      d.dp.udpFlowStages(batch);
    } catch (err) {
      d.log.warn({ err, event: 'udp-flow-batch-failed', buckets: batch.length }, 'one transaction for the flow stages failed: one per bucket');
      return done;
    }
    for (const x of batch) {
      done.add(x.e);
      if (x.e.kind === 'fill-keep') counts.filled = (counts.filled ?? 0) + x.e.flows.length;
      if (x.e.kind === 'open') counts.opened = (counts.opened ?? 0) + 1;
      if (x.e.kind === 'release') counts.released = (counts.released ?? 0) + 1;
    }
    d.log.debug({ event: 'udp-flow-stages', buckets: batch.length }, 'flow stages of several buckets in one transaction');
    return done;
  }

  function apply(effects: readonly FlowEffect[]): void {
    // Our flow sets, read at most once per batch of publications.
    let sets: FlowSetsRead | null = null;
    const pubs = new Map<boolean, Map<number, WireFlow[]>>();
    const staged = stageBatch(effects);
    for (const e of effects) {
      if (staged.has(e)) continue;
      try {
        switch (e.kind) {
          case 'dump-udp':
            readConntrack();
            break;
          case 'fill-keep':
            d.dp.udpFlowStage?.(e.bucket, 'draining', [{ set: 'keepfill', flows: e.flows }]);
            counts.filled = (counts.filled ?? 0) + e.flows.length;
            d.log.debug({ event: 'udp-flows-kept', bucket: e.bucket, flows: e.flows.length }, 'conntrack\'s UDP flows of a draining bucket kept');
            break;
          case 'release':
            d.dp.udpFlowStage?.(e.bucket, 'draining_release', []);
            counts.released = (counts.released ?? 0) + 1;
            d.log.info({ event: 'udp-flows-released', bucket: e.bucket }, 'drain for health: the bucket\'s UDP flows go to the new owner at once');
            break;
          case 'publish': {
            sets ??= { keep: read('keep'), keepfill: read('keepfill'), listed: read('listed'), theirs: read('theirs'), seen: read('seen') };
            let byBucket = pubs.get(e.own);
            if (byBucket === undefined) pubs.set(e.own, (byBucket = publicationsByBucket(bucketOfFlow, sets, e.own)));
            const flows = byBucket.get(e.bucket) ?? [];
            send(e.to, e.bucket, e.generation, 'flows', flowParts(flows));
            counts.published = (counts.published ?? 0) + 1;
            d.log.debug({ event: 'udp-flows-published', bucket: e.bucket, to: e.to, flows: flows.length, generation: e.generation }, 'UDP flows of a moving bucket published');
            break;
          }
          case 'open':
            d.dp.udpFlowStage?.(e.bucket, 'incoming', [{ set: 'listed', flows: e.listed }, { set: 'theirs', flows: e.theirs }]);
            counts.opened = (counts.opened ?? 0) + 1;
            d.log.debug({ event: 'udp-flows-opened', bucket: e.bucket, refused: e.theirs.length }, 'old owners\' UDP flows refused; new UDP flows taken');
            break;
          case 'send-ack':
            send(e.to, e.bucket, e.generation, 'ack', [[]]);
            break;
        }
      } catch (err) {
        d.log.error({ err, event: 'udp-flow-effect-failed', effect: e.kind }, 'per-flow UDP hand-over step failed');
      }
    }
  }

  /**
   * Buckets that left the hand-over (let go after a drain, or owned outright by the new owner):
   * their flows' entries end now. Left to their idle timers they would outlive the move, and if
   * the bucket came back soon (a resume right after a drain's timeout), a stale `keep` entry would
   * make the returning node accept a flow its current owner adopts: one datagram, two answers.
   * Nothing refreshes them meanwhile: a bucket out of the phase map reaches none of these chains.
   */
  function expireLeft(view: FlowView): void {
    const now = new Set<number>([...view.draining, ...view.incoming]);
    const left = [...moving].filter((b) => !now.has(b));
    moving = now;
    if (left.length === 0 || d.dp.udpFlowExpire === undefined) return;
    const gone = new Set(left);
    try {
      const sets = FLOW_SETS.map((set) => ({ set, flows: read(set).filter((f) => f.timeoutMs > 1 && gone.has(bucketOfFlow(f))) })).filter((x) => x.flows.length > 0);
      if (sets.length > 0) d.dp.udpFlowExpire(sets);
      counts.expired = (counts.expired ?? 0) + sets.reduce((a, x) => a + x.flows.length, 0);
    } catch (err) {
      d.log.error({ err, event: 'udp-flow-expire-failed', buckets: left }, 'ending the flows of buckets that left the hand-over failed');
    }
  }

  function read(set: FlowSet): TimedFlow[] {
    return d.dp.udpFlowSet?.(set) ?? [];
  }

  function readConntrack(): void {
    if (dumping) return;
    const ct = d.conntrack;
    if (ct?.udpFlows === undefined) { run({ kind: 'ct-udp', flows: [], bucketOf: bucketOfFlow }); return; }
    dumping = true;
    ct.udpFlows().then((flows) => {
      dumping = false;
      run({ kind: 'ct-udp', flows, bucketOf: bucketOfFlow });
      if (d.view) run({ kind: 'sync', view: d.view() });
    }, (err: unknown) => {
      dumping = false;
      d.log.warn({ err, event: 'udp-conntrack-failed' }, 'reading conntrack\'s UDP flows failed: asking again');
      run({ kind: 'ct-failed' });
    });
  }

  return {
    sync(view) {
      expireLeft(view);
      run({ kind: 'sync', view });
    },
    onDatagram(bytes, linkId, view) {
      const r = decodeFlowMessage(bytes, d.key);
      if (!r.ok) { counts.dropped = (counts.dropped ?? 0) + 1; return; }
      const m = r.msg;
      if (m.toId !== d.selfId || !d.knownIds.has(m.senderId)) { counts.dropped = (counts.dropped ?? 0) + 1; return; }
      const v = checkReplay(replay.get(m.senderId), m.incarnation, m.seq, linkId);
      if (v.verdict !== 'accept') { if (v.verdict !== 'duplicate') counts.dropped = (counts.dropped ?? 0) + 1; return; }
      replay = new Map(replay).set(m.senderId, v.next);
      if (m.type === 'ack') { counts.acked = (counts.acked ?? 0) + 1; run({ kind: 'ack', from: m.senderId, bucket: m.bucket, generation: m.generation }); return; }
      counts.received = (counts.received ?? 0) + 1;
      run({ kind: 'flows', from: m.senderId, bucket: m.bucket, generation: m.generation, part: m.part, parts: m.parts, flows: m.flows, view });
    },
    udpBusy() {
      const busy = unfilled(loop.state());
      const kept = keeping(loop.state());
      if (kept.size === 0) return busy;
      for (const f of [...read('keep'), ...read('keepfill')]) {
        const b = bucketOfFlow(f);
        if (kept.has(b)) busy.add(b);
      }
      return busy;
    },
    counters: () => ({ ...counts }),
  };
}
