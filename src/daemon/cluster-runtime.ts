/**
 * The membership and takeover loop of one node: sends heartbeats, judges received ones, feeds
 * the pure reducers (membership.ts, ownership-reducer.ts) and carries out their effects on the
 * data path and the ARP announcer. All decisions are in the reducers; this file only wires.
 */
import type { Logger } from 'pino';
import type { VmacConfig } from '../config/types.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { DataPathPort } from '../vmac/datapath-port.js';
import { afterFailure, balancedMap, type BucketMap } from '../hash/bucket-map.js';
import { encodeHeartbeat } from '../ha/heartbeat-codec.js';
import { receiveHeartbeat, createDropCounters, countOutcome, type DropCounters, type ReplayStates } from '../ha/heartbeat-receiver.js';
import type { Heartbeat, PeerReport, PeerStatus } from '../ha/heartbeat-types.js';
import { hasQuorum, initMembership, onHeartbeat, peerStatus, proofs, recordSent, leaseVerdict, type MembershipState } from '../ha/membership.js';
import type { HeartbeatTransport } from '../ha/transport.js';
import type { HeartbeatKey } from '../ha/heartbeat-auth.js';
import { disagreeing, observeDigest, type AgreementState } from '../ha/map-agreement.js';
import { initTakeover, step, wireState, type TakeoverEffect, type TakeoverEvent, type TakeoverState } from '../takeover/ownership-reducer.js';
import type { FenceRunner, FenceStatus } from '../ha/fencing/fence-runner.js';
import type { TieBreakerState, TwoNodeVerdict } from '../ha/quorum-policy.js';
import { quorumGate } from '../ha/quorum-policy-gate.js';

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
}

export interface ClusterStatus {
  readonly self: { id: number; name: string; state: string; incarnation: string; servingSinceMs: number | null };
  readonly quorum: { has: boolean; lease: string; size: number };
  readonly view: { epoch: number; digest: string; absent: number[]; disagreeing: number[] };
  readonly owned: readonly number[];
  readonly nodes: { id: number; name: string; status: PeerStatus; state: string | null; lastHeardMsAgo: number | null; digest: string | null; links: (number | null)[] }[];
  readonly heartbeats: { sent: number; received: DropCounters; perLinkReceived: number[] };
  readonly moves: number;
  readonly fencing?: FenceStatus;
  readonly quorumPolicy?: { policy: string; tieBreaker: TieBreakerState | null; verdict: TwoNodeVerdict | null; holdBack: number[] };
}

export interface ClusterRuntime {
  status(): ClusterStatus;
  /** The bucket map in this node's current view, and whether its lease is being renewed. */
  currentMap(): BucketMap;
  serving(): boolean;
  /** The local service allows leasing (healthy) or not (drain: hand the buckets to the peers). */
  setLeasing(allowed: boolean): void;
  /** Peers heard whose state is active: healthy owners that could take our buckets. */
  healthyPeers(): number;
  /** Planned stop: announce leaving, wait until the peers took our buckets, then let go. */
  leave(): Promise<void>;
  close(): void;
}

const UNKNOWN_AGE = 0xffffffff;

export function startCluster(d: ClusterDeps): ClusterRuntime {
  const { cfg, clock, log } = d;
  const deadMs = cfg.timing.intervalMs * cfg.timing.deadAfter;
  let m: MembershipState = initMembership({
    selfId: cfg.node.id,
    nodeIds: cfg.nodes.map((n) => n.id),
    intervalMs: cfg.timing.intervalMs,
    suspectMs: cfg.timing.intervalMs * cfg.timing.suspectAfter,
    deadMs,
    leaseMs: cfg.timing.leaseMs,
    marginMs: cfg.timing.marginMs,
  }, d.incarnation, clock.nowMs());
  const weights = new Map(cfg.nodes.map((n) => [n.id, n.weight]));
  let t: TakeoverState = initTakeover(balancedMap(cfg.nodes, cfg.buckets), weights, clock.nowMs());
  if (d.startDrained) t = step(t, { kind: 'drain-requested', m }, clock.nowMs()).state;
  let replay: ReplayStates = new Map();
  let agreement: AgreementState = new Map();
  const counters = createDropCounters();
  const knownIds = new Set(cfg.nodes.map((n) => n.id));
  const linkCount = Math.max(1, cfg.node.addresses.length);
  const perLinkReceived = Array.from({ length: linkCount }, () => 0);
  const linkHeard = new Map<number, (number | null)[]>(cfg.peers.map((p) => [p.id, Array.from({ length: linkCount }, () => null)]));
  let sent = 0;
  let moves = 0;
  let wasServing = false;
  let shortLease = false;
  let servingSinceMs: number | null = null;
  let leaveDone: (() => void) | null = null;
  const timers: TimerHandle[] = [];
  let mapCache: { epoch: number; absent: ReadonlySet<number> | null; map: BucketMap } = { epoch: -1, absent: null, map: [] };

  const reports = (now: number): PeerReport[] => cfg.peers.map((p) => {
    const ps = m.peers.get(p.id);
    const heard = ps?.lastHeardMs ?? null;
    const leavingTaken = t.absent.has(p.id) && (ps?.latest?.state === 'leaving' || ps?.latest?.type === 'leave' || ps?.latest?.state === 'draining');
    return {
      id: p.id,
      status: leavingTaken ? 'dead' : peerStatus(m, p.id, now),
      incarnationHeard: ps?.incarnation ?? 0n,
      lastSeqHeard: ps?.lastSeq ?? 0,
      ageMs: heard === null ? UNKNOWN_AGE : Math.min(UNKNOWN_AGE - 1, Math.max(0, Math.round(now - heard))),
    };
  });

  function sendHeartbeat(): void {
    const now = clock.nowMs();
    const r = recordSent(m, now);
    m = r.state;
    const base: Omit<Heartbeat, 'linkId'> = {
      version: 1, type: t.self === 'leaving' ? 'leave' : 'heartbeat', senderId: cfg.node.id, incarnation: d.incarnation, seq: r.seq,
      state: wireState(t.self), hasQuorum: t.leaseActive, weight: cfg.node.weight, mapEpoch: t.epoch >>> 0, mapDigest: t.digest, peers: reports(now),
    };
    for (let link = 0; link < linkCount; link++) {
      const bytes = encodeHeartbeat({ ...base, linkId: link }, d.key);
      for (const p of cfg.peers) {
        const addr = p.addresses[link];
        if (addr !== undefined) d.transport.send(link, addr, bytes);
      }
    }
    sent++;
  }

  function apply(effects: readonly TakeoverEffect[]): void {
    for (const e of effects) {
      try {
        switch (e.kind) {
          case 'move':
            d.dp.move(e.add, e.remove);
            moves++;
            log.info({ event: 'buckets-moved', reason: e.reason, added: e.add.length, removed: e.remove.length, owned: t.owned.length, absent: e.absent, epoch: t.epoch }, `buckets moved (${e.reason})`);
            break;
          case 'renew-lease':
            d.dp.renew(e.leaseMs);
            if (e.leaseMs < cfg.timing.renewMs * 2 && !shortLease) {
              const now = clock.nowMs();
              log.warn({ event: 'lease-short', leaseMs: e.leaseMs, proofAgesMs: [...proofs(m)].map(([id, p]) => [id, p === null ? null : Math.round(now - (p - deadMs))]) }, 'proofs of being heard are getting old: lease shortened');
            }
            shortLease = e.leaseMs < cfg.timing.renewMs * 2;
            if (!wasServing) {
              servingSinceMs = clock.nowMs();
              log.info({ event: 'serving', owned: t.owned.length, epoch: t.epoch }, 'lease active: answering our buckets');
            }
            wasServing = true;
            break;
          case 'lease-lost':
            wasServing = false;
            servingSinceMs = null;
            log.warn({ event: 'lease-stopped', reason: e.verdict }, 'not renewing the lease: this node stops answering when it runs out');
            break;
          case 'announce':
            d.announce(e.reason);
            break;
          case 'send-heartbeat-now':
            sendHeartbeat();
            break;
          case 'release-lease':
            d.dp.release();
            break;
          case 'exit':
            leaveDone?.();
            break;
        }
      } catch (err) {
        log.error({ err, event: 'effect-failed', effect: e.kind }, 'applying a takeover effect failed');
      }
    }
  }

  let verdict: TwoNodeVerdict | null = null;
  /** The quorum policy and the fence gate, applied before every decision (quorum-policy-gate.ts). */
  function gate(now: number): void {
    if (cfg.quorum?.policy !== 'two-node' && !d.fence) return;
    const g = quorumGate({ policy: cfg.quorum ?? { policy: 'majority' }, m, nowMs: now, fencing: d.fence !== undefined, fenced: (id) => d.fence?.allowed(id) ?? false, tieBreaker: d.tieBreaker?.() ?? 'unknown' });
    m = g.m;
    verdict = g.verdict;
    if (t.holdBack !== g.holdBack) t = { ...t, holdBack: g.holdBack };
    for (const id of g.heard) d.fence?.peerHeard(id);
    for (const f of g.fence) d.fence?.require(f.target, f.reason);
  }

  function run(kind: TakeoverEvent['kind']): void {
    gate(clock.nowMs());
    const r = step(t, { kind, m }, clock.nowMs());
    t = r.state;
    apply(r.effects);
  }

  d.transport.onMessage((bytes, linkId) => {
    const r = receiveHeartbeat(bytes, { key: d.key, selfId: cfg.node.id, knownIds, replay });
    replay = r.replay;
    countOutcome(counters, r.outcome);
    if (r.outcome !== 'accepted' && r.outcome !== 'duplicate') return;
    const links = linkHeard.get(r.hb.senderId);
    if (links && linkId < links.length) links[linkId] = clock.nowMs();
    if (linkId < perLinkReceived.length) perLinkReceived[linkId] = (perLinkReceived[linkId] ?? 0) + 1;
    if (r.outcome === 'duplicate') return;
    m = onHeartbeat(m, r.hb, clock.nowMs());
    // Decide before anything else runs: a peer that came back must find our release done
    // before our next heartbeat acknowledges it.
    run('tick');
    const a = observeDigest(agreement, r.hb.senderId, r.hb.mapDigest, t.digest, clock.nowMs(), deadMs);
    agreement = a.state;
    if (a.event?.kind === 'map-disagreement') {
      log.error({ event: 'map-disagreement', node: a.event.peerId, ours: a.event.ours, theirs: a.event.theirs, durationMs: Math.round(a.event.forMs), epoch: t.epoch }, `node ${a.event.peerId} computes another bucket map than ours for ${Math.round(a.event.forMs)} ms: check that every node has the same nodes, weights, buckets and hash`);
    } else if (a.event?.kind === 'map-agreement') {
      log.info({ event: 'map-agreement', node: a.event.peerId, digest: a.event.digest }, `node ${a.event.peerId} agrees on the bucket map again`);
    }
  });

  // A fence that succeeded opens the gate: decide at once, outside the fence runner's own step.
  let closed = false;
  d.fence?.onChange(() => queueMicrotask(() => { if (!closed) run('tick'); }));
  timers.push(clock.setRepeating(cfg.timing.intervalMs, () => { run('tick'); sendHeartbeat(); }));
  timers.push(clock.setRepeating(cfg.timing.renewMs, () => run('renew-due')));
  sendHeartbeat();
  run('renew-due');

  return {
    status(): ClusterStatus {
      const now = clock.nowMs();
      return {
        self: { id: cfg.node.id, name: cfg.node.name, state: wireState(t.self), incarnation: d.incarnation.toString(), servingSinceMs },
        quorum: { has: hasQuorum(m, now), lease: t.lastVerdict ?? leaseVerdict(m, now), size: Math.floor(cfg.nodes.length / 2) + 1 },
        view: { epoch: t.epoch, digest: t.digest, absent: [...t.absent].sort((a, b) => a - b), disagreeing: disagreeing(agreement) },
        owned: t.owned,
        nodes: cfg.nodes.map((n) => {
          const ps = m.peers.get(n.id);
          return {
            id: n.id, name: n.name, status: peerStatus(m, n.id, now),
            state: n.id === cfg.node.id ? wireState(t.self) : (ps?.latest?.state ?? null),
            lastHeardMsAgo: n.id === cfg.node.id ? 0 : ps?.lastHeardMs == null ? null : Math.round(now - ps.lastHeardMs),
            digest: n.id === cfg.node.id ? t.digest : (ps?.latest?.mapDigest ?? null),
            links: (linkHeard.get(n.id) ?? []).map((x) => (x === null ? null : Math.round(now - x))),
          };
        }),
        heartbeats: { sent, received: { ...counters }, perLinkReceived: [...perLinkReceived] },
        moves,
        ...(d.fence ? { fencing: d.fence.status() } : {}),
        ...(cfg.quorum?.policy === 'two-node' || d.fence ? { quorumPolicy: { policy: cfg.quorum?.policy ?? 'majority', tieBreaker: d.tieBreaker?.() ?? null, verdict, holdBack: [...(t.holdBack ?? [])] } } : {}),
      };
    },
    currentMap() {
      if (mapCache.epoch !== t.epoch || mapCache.absent !== t.absent) {
        mapCache = { epoch: t.epoch, absent: t.absent, map: afterFailure(t.base, new Set([...t.absent].filter((id) => id !== cfg.node.id)), weights) };
      }
      return mapCache.map;
    },
    serving: () => t.leaseActive,
    setLeasing(allowed) {
      run(allowed ? 'undrain-requested' : 'drain-requested');
    },
    healthyPeers() {
      const now = clock.nowMs();
      let n = 0;
      for (const p of m.peers.values()) if (p.lastHeardMs !== null && now - p.lastHeardMs < deadMs && p.latest?.state === 'active') n++;
      return n;
    },
    leave() {
      return new Promise<void>((resolve) => {
        leaveDone = resolve;
        run('stop-requested');
        // Bounded: with no peer left to take over, the leave completes after one dead time.
        timers.push(clock.setTimer(deadMs * 2, resolve));
      });
    },
    close() {
      closed = true;
      for (const h of timers) clock.clear(h);
      d.transport.close();
    },
  };
}
