/**
 * The membership and takeover loop of one node: sends heartbeats, judges received ones, feeds
 * the pure reducers (membership.ts, ownership-reducer.ts) and carries out their effects on the
 * data path and the ARP announcer. All decisions are in the reducers; this file only wires.
 */
import type { ProtocolMutation } from '../takeover/mutations.js';
import type { Logger } from 'pino';
import type { VmacConfig } from '../config/types.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { DataPathPort } from '../vmac/datapath-port.js';
import type { BucketMap } from '../hash/bucket-map.js';
import { WIRE_CODEC, type HeartbeatCodec } from '../ha/heartbeat-codec.js';
import { receiveHeartbeat, createDropCounters, countOutcome, type DropCounters, type ReplayStates } from '../ha/heartbeat-receiver.js';
import type { Heartbeat, PeerReport, PeerStatus } from '../ha/heartbeat-types.js';
import { agreedDead, arpStandInFor, hasQuorum, heardPeers, withQuorumOverride, heardByQuorumUntil, initMembership, onHeartbeat, peerStatus, proofs, recordSent, leaseVerdict, type MembershipState } from '../ha/membership.js';
import type { HeartbeatTransport } from '../ha/transport.js';
import type { HeartbeatKey } from '../ha/heartbeat-auth.js';
import { disagreeing, observeDigest, type AgreementState } from '../ha/map-agreement.js';
import type { FenceRunner, FenceStatus } from '../ha/fencing/fence-runner.js';
import type { TieBreakerState, TwoNodeVerdict } from '../ha/quorum-policy.js';
import { quorumGate } from '../ha/quorum-policy-gate.js';
import { initTakeover, step, targetMap, wireState, type Adoption, type TakeoverEffect, type TakeoverEvent, type TakeoverState } from '../takeover/ownership-reducer.js';
import { inPhase, wireGrants, wireOf } from '../takeover/handover.js';
import type { ConntrackPort } from '../takeover/conntrack-port.js';
import { nextReadingAtMs } from '../takeover/drain-poll.js';
import { isFlowMessage } from '../ha/flow-codec.js';
import { udpPerFlowPlan } from '../takeover/udp-flow-plan.js';
import { startFlowRunner, type FlowRunner } from '../takeover/udp-flow-runner.js';
import type { FlowView } from '../takeover/udp-flow-handover.js';
import type { WirePhase } from '../ha/heartbeat-types.js';
import { startCadence } from './cadence.js';
import { describeRoll, rollContextOf } from '../ha/roll-compat.js';
import { agreesWith, startHoldUntil, unlistedHoldUntil, describeFields, expireConfig, heardDiffering, holdsOut, observeConfig, standing, type ConfigAgreementState, type ConfigEvent, type Standing } from '../ha/config-agreement.js';
import { fingerprintOf, keyIdentity, type LocalFingerprint } from '../config/fingerprint.js';

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
  readonly handover: { incoming: number[]; draining: number[]; grants: { bucket: number; to: number }[]; weight: number };
  /** Config agreement (config-agreement.ts): our fingerprint, our standing, the peers that differ. */
  readonly config?: { fingerprint: string; standing: Standing; differing: { id: number; digest: string; sinceMsAgo: number; serving: boolean; fields: { field: string; ours: string; theirs: string }[] }[] };
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

const UNKNOWN_AGE = 0xffffffff;
const NONE: ReadonlySet<number> = new Set();

export function startCluster(d: ClusterDeps): ClusterRuntime {
  const { cfg, clock, log } = d;
  const codec = d.codec ?? WIRE_CODEC;
  const deadMs = cfg.timing.intervalMs * cfg.timing.deadAfter;
  const perFlow = (d.udpFlowTimeoutMs ?? 0) > 0 ? null : udpPerFlowPlan(cfg);
  let m: MembershipState = initMembership({
    selfId: cfg.node.id,
    nodeIds: cfg.nodes.map((n) => n.id),
    intervalMs: cfg.timing.intervalMs,
    suspectMs: cfg.timing.intervalMs * cfg.timing.suspectAfter,
    deadMs,
    leaseMs: cfg.timing.leaseMs,
    marginMs: cfg.timing.marginMs,
  }, d.incarnation, clock.nowMs());
  let t: TakeoverState = initTakeover({ nodes: cfg.nodes, buckets: cfg.buckets, drainTimeoutMs: d.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS, graceful: d.graceful !== false, connectionsKnown: d.conntrack !== undefined, udpFlowTimeoutMs: d.udpFlowTimeoutMs ?? cfg.handover?.udpFlowTimeoutMs ?? 0, udpPerFlow: perFlow !== null, ...(d.mutation ? { mutation: d.mutation } : {}) }, cfg.node.id, clock.nowMs(), d.adopt ?? null);
  let restartWindowMs = 0;
  let restartWaiter: (() => void) | null = null;
  if (d.startDrained) t = step({ ...t, healthHold: true }, { kind: 'drain-requested', m }, clock.nowMs()).state;
  let replay: ReplayStates = new Map();
  let agreement: AgreementState = new Map();
  const fingerprint = d.fingerprint ?? fingerprintOf(cfg, keyIdentity(cfg.heartbeat.keyFile !== null && d.key instanceof Uint8Array ? d.key : null));
  let configPeers: ConfigAgreementState = new Map();
  // A node not in our list announced serving: hold until its lease ran out (config-agreement.ts).
  // A fresh process after a config change on this node first listens two heartbeat intervals for such a node.
  let unlistedUntilMs = d.adopt || d.unlistedHold === false || d.configChanged !== true ? -Infinity : startHoldUntil(clock.nowMs(), cfg.timing.intervalMs, cfg.timing.marginMs);
  let configStanding: Standing = 'agree';
  const counters = createDropCounters();
  const knownIds = new Set(cfg.nodes.map((n) => n.id));
  const linkCount = Math.max(1, cfg.node.addresses.length);
  const perLinkReceived = Array.from({ length: linkCount }, () => 0);
  const linkHeard = new Map<number, (number | null)[]>(cfg.peers.map((p) => [p.id, Array.from({ length: linkCount }, () => null)]));
  const flows: FlowRunner | null = perFlow === null ? null : startFlowRunner({
    selfId: cfg.node.id, incarnation: d.incarnation, key: d.key, hash: cfg.hash, buckets: cfg.buckets,
    params: { idleMs: perFlow.idleMs, portIdleMs: perFlow.portIdleMs, marginMs: perFlow.marginMs, resendMs: FLOW_RESEND_MS, listedMs: FLOW_LISTED_MS },
    dp: d.dp, ...(d.conntrack ? { conntrack: d.conntrack } : {}), knownIds, nowMs: () => clock.nowMs(), log: log.child({ module: 'udp-flows' }),
    send(peerId, bytes) {
      const peer = cfg.peers.find((p) => p.id === peerId);
      for (let link = 0; link < linkCount; link++) { const a = peer?.addresses[link]; if (a !== undefined) d.transport.send(link, a, bytes); }
    },
  });
  /** Our moving buckets and the live peers holding each, for the flow runner. */
  const flowView = (): FlowView => {
    const dead = agreedDead(m, clock.nowMs());
    return {
      selfId: cfg.node.id, draining: new Set(inPhase(t.handover, 'draining')), incoming: new Set(inPhase(t.handover, 'incoming')),
      holders(b) {
        const out: { id: number; phase: WirePhase }[] = [];
        for (const p of m.peers.values()) {
          const ph = dead.has(p.id) ? 'none' : (p.latest?.handover?.phases[b] ?? 'none');
          if (ph !== 'none') out.push({ id: p.id, phase: ph });
        }
        return out;
      },
    };
  };
  let sent = 0;
  let moves = 0;
  let wasServing = false;
  let shortLease = false;
  let servingSinceMs: number | null = null;
  let leaveDone: (() => void) | null = null;
  const timers: TimerHandle[] = [];
  let conntrackReading = false;
  let lastReading: { startMs: number; durationMs: number } | null = null;
  let degraded = false;
  /** What we announce: a degraded active node says `standby`, so peers do not count it as healthy. */
  const announced = (): ReturnType<typeof wireState> => (degraded && t.self === 'active' ? 'standby' : wireState(t.self));

  const reports = (now: number): PeerReport[] => cfg.peers.map((p) => {
    const ps = m.peers.get(p.id);
    const heard = ps?.lastHeardMs ?? null;
    // A leaving peer that holds nothing any more: reported dead at once, so it is agreed gone.
    const leavingTaken = t.absent.has(p.id) && (ps?.latest?.state === 'leaving' || ps?.latest?.type === 'leave') && (ps.latest.handover?.phases.every((x) => x === 'none') ?? true);
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
      version: 3, type: t.self === 'leaving' ? 'leave' : 'heartbeat', senderId: cfg.node.id, incarnation: d.incarnation, seq: r.seq,
      state: announced(), hasQuorum: t.leaseActive, weight: t.weight, mapEpoch: t.epoch >>> 0, mapDigest: t.digest, peers: reports(now),
      handover: { phases: wireOf(t.handover, cfg.buckets), grants: wireGrants(t.handover), restartWindowMs },
      fingerprint: { layout: fingerprint.layout, digest: fingerprint.digest, slots: fingerprint.slots },
    };
    for (let link = 0; link < linkCount; link++) {
      const bytes = codec.encode({ ...base, linkId: link }, d.key);
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
          case 'phases': {
            const beforeMs = clock.nowMs();
            d.dp.setPhases(e.changes);
            const appliedMs = clock.nowMs();
            moves++;
            const count = (to: string): number => e.changes.filter((c) => c.to === to).length;
            // Where a takeover's time went: how long each absent peer had been silent when we
            // decided (dead time + agreement), and how long the ruleset transaction took.
            const silentMs = e.reason === 'takeover' ? e.absent.map((id) => { const h = m.peers.get(id)?.lastHeardMs; return h == null ? null : round1(beforeMs - h); }) : undefined;
            log.info({ event: 'buckets-moved', reason: e.reason, owned: count('owned'), incoming: count('incoming'), draining: count('draining'), released: count('none'), holding: t.owned.length, absent: e.absent, ...(silentMs ? { silentMs } : {}), applyMs: round1(appliedMs - beforeMs), epoch: t.epoch }, `bucket phases changed (${e.reason})`);
            break;
          }
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

  function logConfig(e: ConfigEvent): void {
    if (e.kind === 'config-mismatch') {
      const text = describeFields(e.fields);
      log.error({ event: 'config-mismatch', node: e.peerId, ours: fingerprint.digest, theirs: e.theirs, fields: e.fields.map((f) => f.field), differences: e.fields }, `node ${e.peerId} has another config than ours: ${text}; it is not a member while this lasts`);
    } else if (e.kind === 'config-roll') {
      log.warn({ event: 'config-roll', node: e.peerId, rollNode: e.nodeId, why: e.why, fields: e.fields.map((f) => f.field) }, describeRoll(e.peerId, e.nodeId, e.why));
    } else {
      log.info({ event: 'config-agreement', node: e.peerId, reason: e.reason, durationMs: Math.round(e.forMs) }, `config mismatch with node ${e.peerId} ended (${e.reason}) after ${Math.round(e.forMs)} ms`);
    }
  }

  /** Config agreement (config-agreement.ts): who may serve while a peer's config differs. */
  function configGate(now: number): void {
    const x = expireConfig(configPeers, now, deadMs);
    configPeers = x.state;
    x.events.forEach(logConfig);
    const differing = heardDiffering(configPeers, now, deadMs);
    // A peer whose latest heartbeat differs is not agreeing, even while membership still hears
    // its last agreeing one (its previous process).
    const agreeing = heardPeers(m, now).filter((id) => agreesWith(configPeers, id)).length;
    const next = standing({ selfId: cfg.node.id, nodeCount: cfg.nodes.length, selfServing: t.leaseActive, agreeingHeard: agreeing, differing });
    if (next !== configStanding) log[next === 'agree' || next === 'majority' ? 'info' : 'error']({ event: 'config-standing', standing: next, was: configStanding, differing: differing.map((p) => p.id) }, `config agreement: ${next}${holdsOut(next) ? ' (this node holds no bucket while it lasts)' : ''}`);
    configStanding = next;
    const hold = holdsOut(next) || now < unlistedUntilMs;
    if ((t.configHold === true) !== hold) t = { ...t, configHold: hold };
    // Two nodes, the peer differs and we are the side that serves: alone (it never serves).
    if (next === 'win') m = withQuorumOverride(m, 'solo');
    else if (cfg.quorum?.policy !== 'two-node' && m.override === 'solo') m = withQuorumOverride(m, 'none');
  }

  let verdict: TwoNodeVerdict | null = null;
  /** The quorum policy and the fence gate, applied before every decision (quorum-policy-gate.ts). */
  function gate(now: number): void {
    if (cfg.quorum?.policy === 'two-node' || d.fence) {
      const notServing = new Set(heardDiffering(configPeers, now, deadMs).filter((p) => !p.serving).map((p) => p.id));
      const g = quorumGate({ policy: cfg.quorum ?? { policy: 'majority' }, m, nowMs: now, fencing: d.fence !== undefined, fenced: (id) => d.fence?.allowed(id) ?? false, tieBreaker: d.tieBreaker?.() ?? 'unknown', notServing });
      m = g.m;
      verdict = g.verdict;
      if (t.holdBack !== g.holdBack) t = { ...t, holdBack: g.holdBack };
      for (const id of g.heard) d.fence?.peerHeard(id);
      for (const f of g.fence) d.fence?.require(f.target, f.reason);
    }
    configGate(now);
  }

  function run(kind: 'tick' | 'renew-due' | 'stop-requested' | 'resume-requested' | 'drain-requested'): void {
    runEvent({ kind, m });
  }

  function runEvent(e: TakeoverEvent): void {
    gate(clock.nowMs());
    // The gate may have replaced `m` (quorum override): decide on the current one.
    const r = step(t, { ...e, m }, clock.nowMs());
    t = r.state;
    apply(r.effects);
    flows?.sync(flowView());
  }

  /** While a bucket drains, read conntrack: the drain ends once its last connection is gone. */
  function pollConntrack(): void {
    const ct = d.conntrack;
    if (!ct || conntrackReading || inPhase(t.handover, 'draining').length === 0) return;
    const atMs = clock.nowMs();
    // Paced by the last reading's cost (drain-poll.ts): a big table must not keep a core busy.
    if (atMs < nextReadingAtMs(lastReading?.startMs ?? null, lastReading?.durationMs ?? 0)) return;
    let udpActive: ReadonlySet<number>;
    try {
      // The kernel's record of the keeper's UDP (one libnftables call), read at the same instant.
      udpActive = flows ? flows.udpBusy() : (t.params.udpFlowTimeoutMs ?? 0) > 0 ? d.dp.udpActive() : NONE;
    } catch (err) {
      log.warn({ err, event: 'udp-activity-failed' }, 'reading UDP activity failed: draining buckets end on the drain timeout');
      return;
    }
    const reading = ct.busyBuckets();
    if (!(reading instanceof Promise)) { runEvent({ kind: 'conntrack', m, busy: reading, atMs, udpActive }); return; }
    conntrackReading = true;
    reading.then((busy) => {
      conntrackReading = false;
      lastReading = { startMs: atMs, durationMs: clock.nowMs() - atMs };
      log.debug({ event: 'drain-reading', atMs, tcpBusy: busy.size, udpBusy: [...udpActive] }, 'connections of draining buckets');
      runEvent({ kind: 'conntrack', m, busy, atMs, udpActive });
    }, (err: unknown) => {
      conntrackReading = false;
      log.warn({ err, event: 'conntrack-failed' }, 'reading conntrack failed: draining buckets end on the drain timeout');
    });
  }

  d.transport.onMessage((bytes, linkId) => {
    // Flow publications share the heartbeat sockets; their own codec and replay window.
    // Without the per-flow hand-over such a datagram is no protocol of ours: the heartbeat decoder counts it.
    if (flows !== null && isFlowMessage(bytes)) { flows.onDatagram(bytes, linkId, flowView()); return; }
    const r = receiveHeartbeat(bytes, { key: d.key, selfId: cfg.node.id, knownIds, replay, decode: codec.decode });
    replay = r.replay;
    countOutcome(counters, r.outcome);
    if ('serving' in r && d.unlistedHold !== false) unlistedUntilMs = unlistedHoldUntil(unlistedUntilMs, r.serving === true, clock.nowMs(), cfg.timing.leaseMs, cfg.timing.marginMs);
    if (r.outcome !== 'accepted' && r.outcome !== 'duplicate') return;
    const links = linkHeard.get(r.hb.senderId);
    if (links && linkId < links.length) links[linkId] = clock.nowMs();
    if (linkId < perLinkReceived.length) perLinkReceived[linkId] = (perLinkReceived[linkId] ?? 0) + 1;
    if (r.outcome === 'duplicate') return;
    const c = observeConfig(configPeers, r.hb.senderId, r.hb, fingerprint, clock.nowMs(), rollContextOf(m, heardPeers(m, clock.nowMs()), t, cfg.node.id));
    configPeers = c.state;
    if (c.event) logConfig(c.event);
    // Another config: never a member (config-agreement.ts); only the standing may change.
    if (c.differs) { if (c.event) run('tick'); return; }
    m = onHeartbeat(m, r.hb, clock.nowMs());
    restartWaiter?.();
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
    if (a.event !== null) {
      // A lasting disagreement is a misconfigured node, not a weight change in flight: do not
      // wait for it before taking buckets nobody holds (see TakeoverState.mapOutliers).
      t = { ...t, mapOutliers: new Set(disagreeing(agreement)) };
      run('tick');
    }
  });

  // A fence that succeeded opens the gate: decide at once, outside the fence runner's own step.
  let closed = false;
  d.fence?.onChange(() => queueMicrotask(() => { if (!closed) run('tick'); }));
  // Heartbeats and renewals on as few wake-ups as their periods allow (cadence.ts).
  timers.push(...startCadence(clock, [
    { periodMs: cfg.timing.intervalMs, run: () => { run('tick'); sendHeartbeat(); } },
    { periodMs: cfg.timing.renewMs, run: () => run('renew-due') },
  ]));
  if (d.conntrack) timers.push(clock.setRepeating(CONNTRACK_POLL_MS, pollConntrack));
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
        handover: { incoming: inPhase(t.handover, 'incoming'), draining: inPhase(t.handover, 'draining'), grants: wireGrants(t.handover), weight: t.weight },
        config: { fingerprint: fingerprint.digest, standing: configStanding, differing: [...configPeers].map(([id, p]) => ({ id, digest: p.digest, sinceMsAgo: Math.round(now - p.sinceMs), serving: p.serving, fields: p.fields.map((f) => ({ ...f })) })) },
      };
    },
    currentMap: () => targetMap(t),
    arpStandInFor: () => arpStandInFor(m, clock.nowMs()),
    prepareRestart(windowMs) {
      return new Promise<Adoption>((resolve, reject) => {
        restartWindowMs = windowMs;
        sendHeartbeat();
        const sentAtMs = clock.nowMs();
        const giveUp = clock.setTimer(deadMs, () => {
          restartWaiter = null;
          restartWindowMs = 0;
          reject(new Error('no quorum acknowledged the restart window within a dead time'));
        });
        restartWaiter = () => {
          // A quorum acknowledged a heartbeat sent at or after the announcement.
          if (heardByQuorumUntil(m) - deadMs < sentAtMs) return;
          restartWaiter = null;
          clock.clear(giveUp);
          for (const h of timers) clock.clear(h);
          timers.length = 0;
          const now = clock.nowMs();
          // Peers hold us until they heard the announcement (≥ sentAtMs) + window + dead time.
          const leaseMs = Math.max(0, Math.floor(windowMs + Math.min(0, sentAtMs + deadMs - cfg.timing.marginMs - now)));
          d.dp.renew(leaseMs);
          log.info({ event: 'restart-ready', leaseMs, owned: t.owned.length }, 'restart window acknowledged by a quorum: the kernel serves on while the successor starts');
          resolve({ phases: t.handover.phases, grants: new Map([...t.handover.grants].map(([b, g]) => [b, g.to])), untilMs: now + leaseMs, udpKept: t.handover.udpKept });
        };
      });
    },
    drain(timeoutMs) {
      // Without --timeout the default, not whatever an earlier (e.g. data-path) drain used.
      runEvent({ kind: 'drain-requested', m, drainTimeoutMs: timeoutMs ?? d.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS });
    },
    resume: () => run('resume-requested'),
    setWeight(weight) {
      runEvent({ kind: 'weight-set', m, weight });
    },
    serving: () => t.leaseActive,
    setLeasing(allowed, o) {
      t = { ...t, healthHold: !allowed };
      if (allowed) run('resume-requested');
      else runEvent({ kind: 'drain-requested', m, drainTimeoutMs: o?.drainTimeoutMs ?? d.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS });
    },
    setDegraded(x) {
      if (x === degraded) return;
      degraded = x;
      sendHeartbeat();
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
        // Bounded: the reducer lets go after the drain timeout plus a dead time at the latest.
        timers.push(clock.setTimer(t.params.drainTimeoutMs + deadMs * 2, resolve));
      });
    },
    close() {
      closed = true;
      d.conntrack?.close?.();
      for (const h of timers) clock.clear(h);
      d.transport.close();
    },
  };
}

const round1 = (ms: number): number => Math.round(ms * 10) / 10;
