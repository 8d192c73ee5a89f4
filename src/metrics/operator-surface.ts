/**
 * The operator surface of one daemon: Prometheus metrics and the live dashboard on one local
 * HTTP address. It only reads: a status snapshot and the bucket map from the daemon, the
 * per-bucket counters from the kernel, and the daemon's log events through the event tap.
 * A poll loop (POLL_MS) turns snapshots into dashboard updates and membership events.
 */
import type { Logger } from 'pino';
import type { NftRunner } from '../../native-shims/nftables.js';
import type { DaemonStatus } from '../daemon/node-daemon.js';
import type { ClusterStatus } from '../daemon/cluster-runtime.js';
import type { BucketMap } from '../hash/bucket-map.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { serveOperatorHttp } from '../dashboard/operator-http.js';
import { emptyTotals, observeCounters, sumTotals, type BucketTotals } from './bucket-totals.js';
import type { EventTap } from './event-tap.js';
import { linkLoss, pushSample, type LinkSample } from './link-loss.js';
import { readOwnedCounters, type BucketCounters } from './nft-counters.js';
import { createMetrics } from './registry.js';
import { diffStatus, fromLog, TimelineRing, type TimelineEvent } from './timeline.js';

export interface OperatorView {
  status(): DaemonStatus;
  currentMap(): BucketMap;
}

export interface OperatorDeps {
  readonly listen: { readonly host: string; readonly port: number };
  readonly table: string; // the nft table whose `owned` map carries the counters
  readonly nft: NftRunner | null; // null: no kernel (unit tests); per-bucket counters absent
  readonly tap: EventTap;
  readonly clock: Clock;
  readonly intervalMs: number; // heartbeat interval, for link loss
  readonly log: Logger;
  /** The XDP backend's per-bucket counters (src/vmac/xdp-datapath.ts), read instead of the nft map's. */
  readonly counters?: () => BucketCounters;
}

export interface OperatorSurface {
  readonly port: number;
  /** Take a counter reading now: the buckets about to be removed lose their kernel counters. */
  beforeMove(remove: readonly number[]): void;
  close(): Promise<void>;
}

/** 4 dashboard updates a second: a failover (~240 ms) shows as it happens; a status snapshot is cheap. */
const POLL_MS = 250;
/** Kernel counters once a second (one ~1 ms libnftables list), and at every scrape and move-out. */
const COUNTER_READ_MS = 1000;
/** A bucket stays outlined as "moving" this long after it changed owner: visible to a human. */
const MOVING_HIGHLIGHT_MS = 3000;
/** Link loss is judged over 10 s: long enough for a stable ratio, short enough to show a flap. */
const LINK_WINDOW_MS = 10_000;
const TIMELINE_CAPACITY = 200;

export async function startOperatorSurface(view: OperatorView, d: OperatorDeps): Promise<OperatorSurface> {
  const timeline = new TimelineRing(TIMELINE_CAPACITY);
  let totals: BucketTotals = emptyTotals();
  let ppsEstimate: { atMs: number; packets: number; pps: number | null } = { atMs: d.clock.nowMs(), packets: 0, pps: null };
  let linkSamples: LinkSample[] = [];
  let prevCluster: ClusterStatus | null = null;
  let prevMap: BucketMap = view.currentMap();
  const changedAt = new Map<number, number>();

  const readCounters = (): BucketTotals | null => {
    if (d.counters) {
      totals = observeCounters(totals, d.counters());
      return totals;
    }
    if (d.nft === null) return null;
    const r = readOwnedCounters(d.nft, d.table);
    if (r.outcome !== 'read') return null;
    totals = observeCounters(totals, r.counters);
    return totals;
  };

  const metrics = createMetrics({
    status: () => view.status(),
    currentMap: () => view.currentMap(),
    totals: readCounters,
    linkLoss: () => linkLoss(linkSamples, d.intervalMs),
  });

  const state = (): unknown => {
    const s = view.status();
    const map = view.currentMap();
    const now = d.clock.nowMs();
    const counts = new Map<number, number>();
    for (const o of map) counts.set(o, (counts.get(o) ?? 0) + 1);
    return {
      service: s.service, vip: s.vip, vmac: s.vmac, mode: s.mode ?? 'unicast',
      self: { id: s.cluster.self.id, name: s.cluster.self.name, state: s.cluster.self.state },
      quorum: s.cluster.quorum.has, epoch: s.cluster.view.epoch,
      nodes: s.cluster.nodes.map((n) => ({ id: n.id, name: n.name, status: n.id === s.cluster.self.id ? 'alive' : n.status, state: n.state, lastHeardMsAgo: n.lastHeardMsAgo, buckets: counts.get(n.id) ?? 0 })),
      map,
      moving: [...changedAt].filter(([, at]) => now - at < MOVING_HIGHLIGHT_MS).map(([b]) => b),
      acceptedPps: ppsEstimate.pps,
    };
  };

  let http: Awaited<ReturnType<typeof serveOperatorHttp>> | null = null;
  const emit = (e: TimelineEvent): void => {
    timeline.push(e);
    http?.broadcast('timeline', e);
    d.log.debug({ event: 'timeline', entry: e.event }, 'timeline entry');
  };

  const unsubscribe = d.tap.subscribe((obj, atMs) => {
    const e = fromLog(obj, atMs, view.status().cluster.self.name);
    if (e === null) return;
    if (e.event === 'takeover') {
      // From the dead peers' last heartbeat heard here to this moment (the move is applied).
      const absent = Array.isArray(obj.absent) ? obj.absent.filter((x): x is number => typeof x === 'number') : [];
      const ages = view.status().cluster.nodes.filter((n) => absent.includes(n.id) && n.lastHeardMsAgo !== null).map((n) => n.lastHeardMsAgo ?? 0);
      const durationMs = ages.length > 0 ? Math.min(...ages) : null;
      metrics.takeover(durationMs);
      emit(durationMs === null ? e : { ...e, durationMs });
    } else {
      emit(e);
    }
    if (obj.event === 'buckets-moved') {
      const n = (typeof obj.added === 'number' ? obj.added : 0) + (typeof obj.removed === 'number' ? obj.removed : 0);
      metrics.bucketMoves(typeof obj.reason === 'string' ? obj.reason : 'unknown', n);
    }
  });

  let polls = 0;
  const poll = (): void => {
    const now = d.clock.nowMs();
    const s = view.status();
    for (const e of diffStatus(prevCluster, s.cluster, Date.now())) emit(e);
    prevCluster = s.cluster;
    const map = view.currentMap();
    if (map !== prevMap) {
      map.forEach((o, b) => { if (prevMap[b] !== undefined && prevMap[b] !== o) changedAt.set(b, now); });
      prevMap = map;
    }
    for (const [b, at] of changedAt) if (now - at >= MOVING_HIGHLIGHT_MS) changedAt.delete(b);
    linkSamples = pushSample(linkSamples, { atMs: now, perLinkReceived: s.cluster.heartbeats.perLinkReceived, alivePeers: s.cluster.nodes.filter((n) => n.id !== s.cluster.self.id && n.status === 'alive').length }, LINK_WINDOW_MS);
    if (++polls % Math.round(COUNTER_READ_MS / POLL_MS) === 0 && readCounters() !== null) {
      const packets = sumTotals(totals).packets;
      ppsEstimate = { atMs: now, packets, pps: ((packets - ppsEstimate.packets) * 1000) / Math.max(1, now - ppsEstimate.atMs) };
    }
    if (http && http.streams() > 0) http.broadcast('state', state());
  };

  http = await serveOperatorHttp(d.listen.host, d.listen.port, {
    metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
    state,
    timeline: () => timeline.recent(),
  });
  const timer: TimerHandle = d.clock.setRepeating(POLL_MS, poll);
  d.log.info({ event: 'operator-listening', host: d.listen.host, port: http.port }, `metrics at http://${d.listen.host.includes(':') ? `[${d.listen.host}]` : d.listen.host}:${http.port}/metrics, dashboard at /`);
  return {
    port: http.port,
    beforeMove(remove) {
      if (remove.length > 0) readCounters();
    },
    async close() {
      d.clock.clear(timer);
      unsubscribe();
      await http?.close();
    },
  };
}
