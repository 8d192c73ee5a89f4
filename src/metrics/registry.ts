/**
 * The Prometheus metrics of one daemon, through prom-client (no hand-written exposition).
 * Names follow the conventions: `vmac_` prefix, `_total` counters, base units (`_seconds`,
 * `_bytes`), one-hot gauges for states. Values are pulled from a `MetricsSource` at scrape
 * time (status snapshot, kernel counters); event-driven ones (takeovers) are pushed.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DaemonStatus } from '../daemon/node-daemon.js';
import type { BucketMap } from '../hash/bucket-map.js';
import type { BucketTotals } from './bucket-totals.js';
import { sumTotals } from './bucket-totals.js';
import { registerDataPathMetrics } from './reachability-metrics.js';
import { registerCrmMetrics } from './crm-metrics.js';

export interface MetricsSource {
  status(): DaemonStatus;
  currentMap(): BucketMap;
  /** Fresh per-bucket totals (reads the kernel); null when the table is not there. */
  totals(): BucketTotals | null;
  /** Heartbeat loss ratio per link over the recent window (see link-loss.ts). */
  linkLoss(): readonly { link: number; ratio: number }[];
}

export interface VmacMetrics {
  readonly registry: Registry;
  /** A takeover applied on this node; `durationMs`: from the dead peer's last heartbeat. */
  takeover(durationMs: number | null): void;
  bucketMoves(reason: string, count: number): void;
}

/**
 * How often prom-client's event-loop delay monitor samples (its `nodejs_eventloop_lag_*`). Its
 * default, 10 ms, is a timer of its own waking the daemon 100 times a second: more wake-ups than
 * heartbeats and renewals together at the default profile (docs/performance.md). Sampled once a
 * second it still sees every stall of a second or more, and shorter ones in proportion to their
 * length; `nodejs_eventloop_lag_seconds` (measured at scrape time) is unchanged.
 */
export const EVENT_LOOP_SAMPLE_MS = 1000;

const PEER_STATUSES = ['unknown', 'alive', 'suspect', 'dead'] as const;
const NODE_STATES = ['active', 'draining', 'standby', 'leaving'] as const;
const CONFIG_STANDINGS = ['agree', 'majority', 'minority', 'win', 'yield'] as const;
/** Takeover durations are ~dead time (240 ms default, 32 ms fast profile): resolve both. */
const TAKEOVER_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5];

export function createMetrics(src: MetricsSource, withProcessMetrics = true): VmacMetrics {
  const registry = new Registry();
  if (withProcessMetrics) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  const r = { registers: [registry] };
  const first = src.status();
  const self = first.cluster.self.name;
  let snap: DaemonStatus = first;
  let totalsSnap: BucketTotals | null = null;

  // Refresh the snapshots once per scrape: vmac_info is the first of ours to be collected.
  new Gauge({ ...r, name: 'vmac_info', help: 'Constant 1, labelled with the service identity.', labelNames: ['service', 'node', 'vip', 'vip6', 'vmac', 'mode'],
    collect() { snap = src.status(); totalsSnap = src.totals(); this.reset(); this.set({ service: snap.service, node: self, vip: snap.vip ?? '', vip6: snap.vip6 ?? '', vmac: snap.vmac, mode: snap.mode ?? 'unicast' }, 1); } });
  new Gauge({ ...r, name: 'vmac_quorum', help: '1 while this node sees a majority of the configured nodes.', collect() { this.set(snap.cluster.quorum.has ? 1 : 0); } });
  new Gauge({ ...r, name: 'vmac_quorum_size_nodes', help: 'Nodes needed for a majority.', collect() { this.set(snap.cluster.quorum.size); } });
  new Gauge({ ...r, name: 'vmac_lease_active', help: '1 while this node renews its kernel lease (answers its buckets).', collect() { this.set(snap.cluster.self.servingSinceMs === null ? 0 : 1); } });
  new Gauge({ ...r, name: 'vmac_config_mismatch_peers', help: 'Peers heard whose shared config (fingerprint) differs from ours: never members while it lasts (see the log for the fields).',
    collect() { this.set(snap.cluster.config?.differing.length ?? 0); } });
  new Gauge({ ...r, name: 'vmac_config_standing', help: 'Config agreement standing of this node (one-hot): agree, majority (differing peers kept out), minority/yield (holds no bucket), win (two nodes: serves alone).', labelNames: ['standing'],
    collect() { this.reset(); for (const st of CONFIG_STANDINGS) this.set({ standing: st }, (snap.cluster.config?.standing ?? 'agree') === st ? 1 : 0); } });
  new Gauge({ ...r, name: 'vmac_view_epoch', help: 'Epoch of this node\'s bucket map view.', collect() { this.set(snap.cluster.view.epoch); } });
  new Gauge({ ...r, name: 'vmac_node_status', help: 'Membership status of each node in this node\'s view (one-hot).', labelNames: ['node', 'status'],
    collect() { this.reset(); for (const n of snap.cluster.nodes) for (const s of PEER_STATUSES) this.set({ node: n.name, status: s }, n.id === snap.cluster.self.id ? (s === 'alive' ? 1 : 0) : n.status === s ? 1 : 0); } });
  new Gauge({ ...r, name: 'vmac_node_state', help: 'Announced state of each node (one-hot; no series while never heard).', labelNames: ['node', 'state'],
    collect() { this.reset(); for (const n of snap.cluster.nodes) if (n.state !== null) for (const s of NODE_STATES) this.set({ node: n.name, state: s }, n.state === s ? 1 : 0); } });
  new Gauge({ ...r, name: 'vmac_node_buckets', help: 'Buckets each node owns in this node\'s view of the map.', labelNames: ['node'],
    collect() {
      this.reset();
      const counts = new Map<number, number>();
      for (const owner of src.currentMap()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
      for (const n of snap.cluster.nodes) this.set({ node: n.name }, counts.get(n.id) ?? 0);
    } });
  new Gauge({ ...r, name: 'vmac_buckets_owned', help: 'Buckets in this node\'s kernel owned map.', collect() { this.set(snap.cluster.owned.length); } });

  // Kernel counters (nftables `owned` map, per element): accepted = matched an owned bucket.
  const fromTotals = (c: Counter, each: (t: BucketTotals, c: Counter) => void): void => {
    c.reset();
    if (totalsSnap !== null) each(totalsSnap, c);
  };
  new Counter({ ...r, name: 'vmac_bucket_accepted_packets_total', help: 'Packets accepted per bucket by this node\'s kernel filter (nftables counter).', labelNames: ['bucket'],
    collect() { fromTotals(this, (t, c) => { for (const [b, v] of t.total) c.inc({ bucket: String(b) }, v.packets); }); } });
  new Counter({ ...r, name: 'vmac_bucket_accepted_bytes_total', help: 'Bytes (IP packet length) accepted per bucket by this node\'s kernel filter (nftables counter).', labelNames: ['bucket'],
    collect() { fromTotals(this, (t, c) => { for (const [b, v] of t.total) c.inc({ bucket: String(b) }, v.bytes); }); } });
  new Counter({ ...r, name: 'vmac_accepted_packets_total', help: 'Packets accepted by this node\'s kernel filter, all buckets (nftables counters).', labelNames: ['node'],
    collect() { fromTotals(this, (t, c) => c.inc({ node: self }, sumTotals(t).packets)); } });
  new Counter({ ...r, name: 'vmac_accepted_bytes_total', help: 'Bytes (IP packet length) accepted by this node\'s kernel filter, all buckets (nftables counters).', labelNames: ['node'],
    collect() { fromTotals(this, (t, c) => c.inc({ node: self }, sumTotals(t).bytes)); } });

  const takeovers = new Counter({ ...r, name: 'vmac_takeovers_total', help: 'Takeovers applied on this node (buckets of a dead peer added).' });
  const takeoverSeconds = new Histogram({ ...r, name: 'vmac_takeover_duration_seconds', help: 'From the dead peer\'s last heartbeat heard here to its buckets added to this node\'s kernel map.', buckets: TAKEOVER_BUCKETS_S });
  const moves = new Counter({ ...r, name: 'vmac_bucket_moves_total', help: 'Buckets added to or removed from this node\'s map, by reason.', labelNames: ['reason'] });

  new Counter({ ...r, name: 'vmac_heartbeats_sent_total', help: 'Heartbeat rounds sent (one datagram per peer and link each).', collect() { this.reset(); this.inc(snap.cluster.heartbeats.sent); } });
  new Counter({ ...r, name: 'vmac_heartbeats_received_total', help: 'Authentic heartbeats received per link (accepted plus cross-link duplicates).', labelNames: ['link'],
    collect() { this.reset(); snap.cluster.heartbeats.perLinkReceived.forEach((n, link) => this.inc({ link: String(link) }, n)); } });
  new Counter({ ...r, name: 'vmac_heartbeats_dropped_total', help: 'Heartbeat datagrams dropped, by reason.', labelNames: ['reason'],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(snap.cluster.heartbeats.received)) if (reason !== 'accepted' && reason !== 'duplicate') this.inc({ reason }, n);
    } });
  new Gauge({ ...r, name: 'vmac_heartbeat_link_loss_ratio', help: 'Share of expected heartbeats not received per link over the last window (all peers).', labelNames: ['link'],
    collect() { this.reset(); for (const l of src.linkLoss()) this.set({ link: String(l.link) }, l.ratio); } });
  new Gauge({ ...r, name: 'vmac_heartbeat_last_heard_seconds', help: 'Time since a peer was last heard on each link.', labelNames: ['node', 'link'],
    collect() {
      this.reset();
      for (const n of snap.cluster.nodes) n.links.forEach((ms, link) => { if (ms !== null) this.set({ node: n.name, link: String(link) }, ms / 1000); });
    } });
  new Counter({ ...r, name: 'vmac_nd_solicitations_total', help: 'Neighbour Discovery frames for the VIP6 seen by the ND responder, by outcome (dual stack only; none without a VIP6).', labelNames: ['outcome'],
    collect() { this.reset(); for (const [outcome, n] of Object.entries(snap.nd ?? {})) if (typeof n === 'number') this.inc({ outcome }, n); } });
  new Counter({ ...r, name: 'vmac_arp_requests_total', help: 'ARP requests for the VIP seen by the responder, by outcome.', labelNames: ['outcome'],
    collect() { this.reset(); for (const [outcome, n] of Object.entries(snap.arp)) if (typeof n === 'number') this.inc({ outcome }, n); } });

  registerDataPathMetrics(registry, () => snap);
  registerCrmMetrics(registry, () => snap);

  // Fed by the resource manager (checks counted by its policy while the service runs) and the
  // fencing machine (agent attempts); both series exist at zero without resources or fencing.
  new Counter({ ...r, name: 'vmac_health_checks_total', help: 'Health checks of the local service (resources) by result, counted while it runs.', labelNames: ['result'],
    collect() {
      this.reset();
      const rs = snap.resources ?? [];
      this.inc({ result: 'pass' }, rs.reduce((n, x) => n + x.passes, 0));
      this.inc({ result: 'fail' }, rs.reduce((n, x) => n + x.failures, 0));
    } });
  new Counter({ ...r, name: 'vmac_fence_actions_total', help: 'Fence agent attempts by result (ok: the target was fenced; failed: failed or timed out).', labelNames: ['result'],
    collect() {
      this.reset();
      const c = snap.cluster.fencing?.counters;
      this.inc({ result: 'ok' }, c?.succeeded ?? 0);
      this.inc({ result: 'failed' }, c?.failed ?? 0);
    } });

  return {
    registry,
    takeover(durationMs) {
      takeovers.inc();
      if (durationMs !== null) takeoverSeconds.observe(durationMs / 1000);
    },
    bucketMoves(reason, count) {
      moves.inc({ reason }, count);
    },
  };
}
