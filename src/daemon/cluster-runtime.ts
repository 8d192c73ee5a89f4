/**
 * The interpreter of one node's reducer (node/node-reducer.ts): arms the timers, turns port
 * callbacks into events, carries the effects out on the transport, the data path, the ARP
 * announcer and the fence runner, and feeds their outcomes back as events. Every decision is
 * in the reducer; this file owns only I/O pacing (the conntrack reading) and I/O tallies.
 */
import type { ProtocolMutation } from '../takeover/mutations.js';
import type { Logger } from 'pino';
import type { VmacConfig } from '../config/types.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { DataPathPort } from '../vmac/datapath-port.js';
import type { BucketMap } from '../hash/bucket-map.js';
import { WIRE_CODEC, type HeartbeatCodec } from '../cluster/heartbeat-codec.js';
import { arpStandInFor } from '../cluster/membership.js';
import type { HeartbeatTransport } from '../cluster/transport.js';
import type { HeartbeatKey } from '../cluster/heartbeat-auth.js';
import type { FenceRunner } from '../fencing/fence-runner.js';
import type { TieBreakerState } from '../cluster/quorum-policy.js';
import { targetMap, type Adoption } from '../takeover/ownership-reducer.js';
import { inPhase } from '../takeover/handover.js';
import type { ConntrackPort } from '../takeover/conntrack-port.js';
import { nextReadingAtMs } from '../takeover/drain-poll.js';
import { isFlowMessage } from '../cluster/flow-codec.js';
import { udpPerFlowPlan } from '../takeover/udp-flow-plan.js';
import { startFlowRunner, type FlowRunner } from '../takeover/udp-flow-runner.js';
import { startPacer } from './pacer.js';
import { MIN_LEASE_MS } from '../cluster/membership.js';
import { eachEffect, reducerLoop } from '../util/reducer-loop.js';
import { fingerprintOf, keyIdentity, type LocalFingerprint } from '../config/fingerprint.js';
import { deadMsOf, initNode, step, type NodeEffect, type NodeEvent, type NodeInputs, type NodeState } from '../node/node-reducer.js';
import { flowViewOf, healthyPeersOf } from '../node/node-views.js';
import { clusterView } from '../cluster/cluster-view.js';
import { statusOf, type ClusterStatus } from '../node/node-status.js';

export type { ClusterStatus } from '../node/node-status.js';

/**
 * Default drain timeout: how long an old owner keeps a bucket's established connections before
 * letting go anyway. 30 s covers ordinary request/response and short-lived streams; long-lived
 * ones (websockets, replication) need the operator's `vmac drain --timeout`.
 */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
/** How often conntrack is read while a bucket drains: a drain then ends within this of its last connection. */
export const CONNTRACK_POLL_MS = 100;
/** An unacknowledged flow publication is sent again after this long (two heartbeat intervals of the default profile). */
export const FLOW_RESEND_MS = 200;
/**
 * How long a new owner remembers that a flow was an old owner's: refused only while that owner
 * may keep it (`theirs`/`seen`), so remembering long costs only memory; an hour outlasts any drain.
 */
export const FLOW_LISTED_MS = 3_600_000;

export interface ClusterDeps {
  readonly cfg: VmacConfig;
  readonly key: HeartbeatKey;
  readonly transport: HeartbeatTransport;
  readonly dp: DataPathPort;
  readonly announce: (reason: 'start' | 'takeover') => void;
  readonly clock: Clock;
  readonly log: Logger;
  readonly incarnation: bigint;
  /** Fencing (issue 5): peers are fenced before their buckets are taken when this is set. */
  readonly fence?: FenceRunner;
  /** The two-node tie-breaker's current state (quorum.policy two-node). */
  readonly tieBreaker?: () => TieBreakerState;
  /** Resources configured: start drained, lease only once they are healthy (setLeasing(true)). */
  readonly startDrained?: boolean;
  /** Reads which buckets still have connections (absent: drains end on the timeout alone). */
  readonly conntrack?: ConntrackPort;
  readonly drainTimeoutMs?: number;
  /** The UDP flow timeout (handover.udpFlowTimeoutMs; absent: the config's). */
  readonly udpFlowTimeoutMs?: number;
  /** The simulator's protocol mutation variants only (src/takeover/mutations.ts). */
  readonly mutation?: ProtocolMutation;
  /** false: the config-roll simulator's broken variant only (no hold for serving nodes outside our list). */
  readonly unlistedHold?: boolean;
  /** This node's previous process ran another shared config (last-config.ts): listen before the first lease. */
  readonly configChanged?: boolean;
  /** Hitless restart: the previous process's buckets and lease, adopted instead of rebuilt. */
  readonly adopt?: Adoption | null;
  /** false: break-before-make planned moves (comparison only). */
  readonly graceful?: boolean;
  /** Heartbeat codec (default: the wire format; only the simulator passes another). */
  readonly codec?: HeartbeatCodec;
  /** Our config fingerprint (default: computed from `cfg` and `key`; the simulator passes its own). */
  readonly fingerprint?: LocalFingerprint;
  /** Heartbeat instants on wall-clock multiples of intervalMs (pacer.ts; the daemon, not the simulator). */
  readonly alignHeartbeats?: boolean;
  /** How early the data path may end a lease (pacer.ts; default MIN_LEASE_MS, nft's set-timeout ticks). */
  readonly leaseEarlyMs?: number;
}

export interface ClusterRuntime {
  status(): ClusterStatus;
  /** The bucket map in this node's current view, and whether its lease is being renewed. */
  currentMap(): BucketMap;
  serving(): boolean;
  /** Restarting peers whose clients' ARP requests this node answers meanwhile (membership.arpStandInFor). */
  arpStandInFor(): ReadonlySet<number>;
  /**
   * The local service (or the data path) allows leasing (healthy) or not (drain: hand the buckets
   * to the peers, then stop renewing). `drainTimeoutMs`: for this drain (default: the daemon's).
   */
  setLeasing(allowed: boolean, o?: { drainTimeoutMs?: number }): void;
  /** Serving although unhealthy (no healthy peer to hand over to): announce `standby`, not `active`. */
  setDegraded(degraded: boolean): void;
  /** Peers heard whose state is active: healthy owners that could take our buckets. */
  healthyPeers(): number;
  /** Planned stop: announce leaving, wait until the peers took our buckets, then let go. */
  leave(): Promise<void>;
  /**
   * Hitless restart, step 1 (the old process): announce a restart window in heartbeats; once a
   * quorum acknowledged it, stop deciding, set the kernel lease to the window and return what
   * the successor adopts. Rejects (and carries on) if no quorum acknowledges within a dead time.
   */
  prepareRestart(windowMs: number): Promise<Adoption>;
  /** `vmac drain`: hand every bucket away gracefully (the node keeps running). */
  drain(timeoutMs?: number): void;
  /** `vmac resume`: take our share back (gracefully). */
  resume(): void;
  /** `vmac weight N`: our weight from now on (announced in heartbeats; the map follows). */
  setWeight(weight: number): void;
  close(): void;
}

const NONE: ReadonlySet<number> = new Set();
const NO_INPUTS: NodeInputs = { tieBreaker: 'unknown', fenced: NONE };

export function startCluster(d: ClusterDeps): ClusterRuntime {
  const { cfg, clock, log } = d;
  const codec = d.codec ?? WIRE_CODEC;
  const perFlow = (d.udpFlowTimeoutMs ?? 0) > 0 ? null : udpPerFlowPlan(cfg);
  const fingerprint = d.fingerprint ?? fingerprintOf(cfg, keyIdentity(cfg.heartbeat.keyFile !== null && d.key instanceof Uint8Array ? d.key : null));
  const linkCount = Math.max(1, cfg.node.addresses.length);
  const drainTimeoutMs = d.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  const s0: NodeState = initNode({
    selfId: cfg.node.id, incarnation: d.incarnation, nodes: cfg.nodes, knownIds: new Set(cfg.nodes.map((n) => n.id)), peerIds: cfg.peers.map((p) => p.id), linkCount, buckets: cfg.buckets,
    intervalMs: cfg.timing.intervalMs, suspectAfter: cfg.timing.suspectAfter, deadAfter: cfg.timing.deadAfter, leaseMs: cfg.timing.leaseMs, renewMs: cfg.timing.renewMs, marginMs: cfg.timing.marginMs,
    ...(cfg.quorum ? { quorum: cfg.quorum } : {}), fencing: d.fence !== undefined, fingerprint, key: d.key, decode: codec.decode, perFlow: perFlow !== null, ...(d.unlistedHold === false ? { unlistedHold: false } : {}),
    takeover: { nodes: cfg.nodes, buckets: cfg.buckets, drainTimeoutMs, graceful: d.graceful !== false, connectionsKnown: d.conntrack !== undefined, udpFlowTimeoutMs: d.udpFlowTimeoutMs ?? cfg.handover?.udpFlowTimeoutMs ?? 0, udpPerFlow: perFlow !== null, ...(d.mutation ? { mutation: d.mutation } : {}) },
  }, clock.nowMs(), { startDrained: d.startDrained === true, adopt: d.adopt ?? null, configChanged: d.configChanged === true });
  const deadMs = deadMsOf(s0.p);
  const names = new Map(cfg.nodes.map((n) => [n.id, n.name]));
  const gated = cfg.quorum?.policy === 'two-node' || d.fence !== undefined;
  const flows: FlowRunner | null = perFlow === null ? null : startFlowRunner({
    selfId: cfg.node.id, incarnation: d.incarnation, key: d.key, hash: cfg.hash, buckets: cfg.buckets,
    params: { idleMs: perFlow.idleMs, portIdleMs: perFlow.portIdleMs, marginMs: perFlow.marginMs, resendMs: FLOW_RESEND_MS, listedMs: FLOW_LISTED_MS },
    dp: d.dp, ...(d.conntrack ? { conntrack: d.conntrack } : {}), knownIds: s0.p.knownIds, nowMs: () => clock.nowMs(), log: log.child({ module: 'udp-flows' }), view: () => flowViewOf(clusterView(node().m, clock.nowMs()), node().t),
    send(peerId, bytes) {
      const peer = cfg.peers.find((p) => p.id === peerId);
      for (let link = 0; link < linkCount; link++) { const a = peer?.addresses[link]; if (a !== undefined) d.transport.send(link, a, bytes); }
    },
  });
  // I/O tallies and pacing: what the interpreter did, not what the node decided.
  let sent = 0;
  let flowMessages = 0;
  let moves = 0;
  let conntrackReading = false;
  let lastReading: { startMs: number; durationMs: number } | null = null;
  const timers: TimerHandle[] = [];
  let leaveDone: (() => void) | null = null;
  let restart: { resolve: (a: Adoption) => void; reject: (e: Error) => void; giveUp: TimerHandle } | null = null;
  let closed = false;

  /** What the other runners say right now (read only where the gate uses it). */
  const inputs = (): NodeInputs => !gated ? NO_INPUTS : {
    tieBreaker: d.tieBreaker?.() ?? 'unknown',
    fenced: d.fence ? new Set(cfg.nodes.map((n) => n.id).filter((id) => d.fence?.allowed(id) === true)) : NONE,
  };

  // The runners' inputs ride on every event. The loop is never closed: a restart give-up or a
  // conntrack reading that settles after close() is still stepped, as it always was.
  const loop = reducerLoop<NodeState, NodeEvent, NodeEffect>({
    init: s0, step: (s, e, nowMs) => step(s, { ...e, inputs: inputs() }, nowMs), clock, perform: eachEffect(perform),
  });
  const dispatch = loop.dispatch;
  const node = loop.state;

  function perform(e: NodeEffect): void {
    try {
      switch (e.kind) {
        case 'log': log[e.level](e.fields, e.msg); break;
        case 'send': {
          for (let link = 0; link < linkCount; link++) {
            const bytes = codec.encode({ ...e.hb, linkId: link }, d.key);
            for (const p of cfg.peers) {
              const addr = p.addresses[link];
              if (addr !== undefined) d.transport.send(link, addr, bytes);
            }
          }
          sent++;
          break;
        }
        case 'phases': {
          const beforeMs = clock.nowMs();
          d.dp.setPhases(e.changes);
          const appliedMs = clock.nowMs();
          moves++;
          const count = (to: string): number => e.changes.filter((c) => c.to === to).length;
          log.info({ event: 'buckets-moved', reason: e.reason, owned: count('owned'), incoming: count('incoming'), draining: count('draining'), released: count('none'), holding: e.holding, absent: e.absent, ...(e.silentMs ? { silentMs: e.silentMs } : {}), applyMs: round1(appliedMs - beforeMs), epoch: e.epoch }, `bucket phases changed (${e.reason})`);
          break;
        }
        case 'renew-lease':
          d.dp.renew(e.leaseMs);
          dispatch({ kind: 'lease-renewed', leaseMs: e.leaseMs });
          break;
        case 'release-lease': d.dp.release(); break;
        case 'announce': d.announce(e.reason); break;
        case 'exit': leaveDone?.(); break;
        case 'fence-peer-heard': d.fence?.peerHeard(e.target); break;
        case 'fence-require': d.fence?.require(e.target, e.reason); break;
        case 'flows-sync': flows?.sync(e.view); break;
        case 'restart-ready': {
          const w = restart;
          restart = null;
          if (w) clock.clear(w.giveUp);
          for (const h of timers) clock.clear(h);
          timers.length = 0;
          pacer.stop();
          d.dp.renew(e.leaseMs);
          log.info({ event: 'restart-ready', leaseMs: e.leaseMs, owned: e.owned }, 'restart window acknowledged by a quorum: the kernel serves on while the successor starts');
          w?.resolve(e.adoption);
          break;
        }
        case 'restart-refused': {
          const w = restart;
          restart = null;
          w?.reject(new Error('no quorum acknowledged the restart window within a dead time'));
          break;
        }
      }
    } catch (err) {
      log.error({ err, event: 'effect-failed', effect: e.kind }, 'applying a takeover effect failed');
    }
  }

  /** While a bucket drains, read conntrack: the drain ends once its last connection is gone. */
  function pollConntrack(): void {
    const ct = d.conntrack;
    const s = node();
    if (!ct || conntrackReading || inPhase(s.t.handover, 'draining').length === 0) return;
    const atMs = clock.nowMs();
    // Paced by the last reading's cost (drain-poll.ts): a big table must not keep a core busy.
    if (atMs < nextReadingAtMs(lastReading?.startMs ?? null, lastReading?.durationMs ?? 0, ct.pacing)) return;
    let udpActive: ReadonlySet<number>;
    try {
      // The kernel's record of the keeper's UDP (one libnftables call), read at the same instant.
      udpActive = flows ? flows.udpBusy() : (s.t.params.udpFlowTimeoutMs ?? 0) > 0 ? d.dp.udpActive() : NONE;
    } catch (err) {
      log.warn({ err, event: 'udp-activity-failed' }, 'reading UDP activity failed: draining buckets end on the drain timeout');
      return;
    }
    const reading = ct.busyBuckets();
    if (!(reading instanceof Promise)) { dispatch({ kind: 'conntrack', busy: reading, atMs, udpActive }); return; }
    conntrackReading = true;
    reading.then((busy) => {
      conntrackReading = false;
      lastReading = { startMs: atMs, durationMs: clock.nowMs() - atMs };
      log.debug({ event: 'drain-reading', atMs, tcpBusy: busy.size, udpBusy: [...udpActive] }, 'connections of draining buckets');
      dispatch({ kind: 'conntrack', busy, atMs, udpActive });
    }, (err: unknown) => {
      conntrackReading = false;
      log.warn({ err, event: 'conntrack-failed' }, 'reading conntrack failed: draining buckets end on the drain timeout');
    });
  }

  d.transport.onMessage((bytes, linkId) => {
    // Flow publications share the heartbeat sockets; their own codec and replay window.
    // Without the per-flow hand-over such a datagram is no protocol of ours: the heartbeat decoder counts it.
    if (flows !== null && isFlowMessage(bytes)) { flowMessages++; flows.onDatagram(bytes, linkId, flowViewOf(clusterView(node().m, clock.nowMs()), node().t)); return; }
    dispatch({ kind: 'datagram', bytes, linkId });
  });

  // A fence that succeeded opens the gate: decide at once, outside the fence runner's own step.
  d.fence?.onChange(() => queueMicrotask(() => { if (!closed) dispatch({ kind: 'tick' }); }));
  // Heartbeats and renewals on one timer at the next deadline, renewing in the heartbeat's wake-up (pacer.ts).
  const pacer = startPacer({
    clock, align: d.alignHeartbeats === true, params: { intervalMs: cfg.timing.intervalMs, renewMs: cfg.timing.renewMs, earlyMs: d.leaseEarlyMs ?? MIN_LEASE_MS },
    heartbeat: () => dispatch({ kind: 'interval' }), renew: () => dispatch({ kind: 'renew-due' }), leaseUntilMs: () => { const t = node().t; return t.leaseActive ? t.leaseUntilMs : null; },
  });
  if (d.conntrack) timers.push(clock.setRepeating(CONNTRACK_POLL_MS, pollConntrack));
  dispatch({ kind: 'start' });

  return {
    status: () => statusOf(node(), { names, sent, flowMessages, moves, ...(d.fence ? { fencing: d.fence.status() } : {}), tieBreaker: d.tieBreaker?.() ?? null }, clock.nowMs()),
    currentMap: () => targetMap(node().t),
    arpStandInFor: () => arpStandInFor(node().m, clock.nowMs()),
    prepareRestart(windowMs) {
      return new Promise<Adoption>((resolve, reject) => {
        dispatch({ kind: 'restart-requested', windowMs });
        restart = { resolve, reject, giveUp: clock.setTimer(deadMs, () => dispatch({ kind: 'restart-timeout' })) };
      });
    },
    // Without --timeout the default, not whatever an earlier (e.g. data-path) drain used.
    drain: (timeoutMs) => dispatch({ kind: 'drain', drainTimeoutMs: timeoutMs ?? drainTimeoutMs }),
    resume: () => dispatch({ kind: 'resume' }),
    setWeight: (weight) => dispatch({ kind: 'weight', weight }),
    serving: () => node().t.leaseActive,
    setLeasing: (allowed, o) => dispatch({ kind: 'health', leasing: allowed, drainTimeoutMs: o?.drainTimeoutMs ?? drainTimeoutMs }),
    setDegraded: (degraded) => dispatch({ kind: 'degraded', degraded }),
    healthyPeers: () => healthyPeersOf(node(), deadMs, clock.nowMs()),
    leave() {
      return new Promise<void>((resolve) => {
        leaveDone = resolve;
        dispatch({ kind: 'stop' });
        // Bounded: the reducer lets go after the drain timeout plus a dead time at the latest.
        timers.push(clock.setTimer(node().t.params.drainTimeoutMs + deadMs * 2, resolve));
      });
    },
    close() {
      closed = true;
      d.conntrack?.close?.();
      for (const h of timers) clock.clear(h);
      pacer.stop();
      d.transport.close();
    },
  };
}

const round1 = (ms: number): number => Math.round(ms * 10) / 10;
