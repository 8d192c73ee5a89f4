/**
 * The node, as one pure reducer: `step(state, event, nowMs) -> { state, effects }`.
 *
 * It owns everything one node decides: membership (membership.ts), the quorum policy and fence
 * gate (quorum-policy-gate.ts), config agreement (config-agreement.ts), map agreement
 * (map-agreement.ts), takeover and hand-over (ownership-reducer.ts), the restart window and the
 * inputs of the status projection (node-status.ts). The interpreter (daemon/cluster-runtime.ts)
 * only carries out the effects on timers and ports and feeds their outcomes back as events; it
 * never writes a field of this state.
 *
 * The order of what happens inside one event is the order the node always had: the gate runs
 * before every takeover decision, a received heartbeat is judged, counted, compared for config,
 * merged into membership, then decided on, then compared for the bucket map.
 *
 * Its parameters, state, events and effects are declared in node-types.ts.
 */
import type { PeerReport } from '../cluster/heartbeat-types.js';
import { receiveHeartbeat, createDropCounters } from '../cluster/heartbeat-receiver.js';
import { heardPeers, withQuorumOverride, heardByQuorumUntil, initMembership, onHeartbeat, peerStatus, proofs, recordSent } from '../cluster/membership.js';
import { disagreeing, observeDigest } from '../cluster/map-agreement.js';
import { quorumGate } from '../cluster/quorum-policy-gate.js';
import { clusterView, type ClusterView } from '../cluster/cluster-view.js';
import { agreesWith, startHoldUntil, unlistedHoldUntil, describeFields, expireConfig, heardDiffering, holdsOut, observeConfig, standing, type ConfigEvent } from '../cluster/config-agreement.js';
import { describeRoll, rollContextOf } from '../cluster/roll-compat.js';
import { initTakeover, step as stepTakeover, wireState, type Adoption, type TakeoverEffect, type TakeoverEvent } from '../takeover/ownership-reducer.js';
import { wireGrants, wireOf } from '../takeover/handover.js';
import { flowViewOf } from './node-views.js';
import type { LogLevel, NodeEffect, NodeEvent, NodeInputs, NodeParams, NodeState, NodeStep } from './node-types.js';

export type { LogLevel, NodeEffect, NodeEvent, NodeInputs, NodeParams, NodeState, NodeStep, RestartWindow } from './node-types.js';

const UNKNOWN_AGE = 0xffffffff;

export const deadMsOf = (p: NodeParams): number => p.intervalMs * p.deadAfter;

export function initNode(p: NodeParams, nowMs: number, o: { startDrained?: boolean; adopt?: Adoption | null; configChanged?: boolean } = {}): NodeState {
  const m = initMembership({
    selfId: p.selfId,
    nodeIds: p.nodes.map((n) => n.id),
    intervalMs: p.intervalMs,
    suspectMs: p.intervalMs * p.suspectAfter,
    deadMs: deadMsOf(p),
    leaseMs: p.leaseMs,
    marginMs: p.marginMs,
  }, p.incarnation, nowMs);
  let t = initTakeover(p.takeover, p.selfId, nowMs, o.adopt ?? null);
  // Resources configured: start drained, lease only once they are healthy.
  if (o.startDrained === true) t = stepTakeover({ ...t, healthHold: true }, { kind: 'drain-requested', view: clusterView(m, nowMs) }, nowMs).state;
  return {
    p, m, t, replay: new Map(), agreement: new Map(), configPeers: new Map(), configStanding: 'agree', verdict: null,
    counters: createDropCounters(),
    perLinkReceived: Array.from({ length: p.linkCount }, () => 0),
    linkHeard: new Map(p.peerIds.map((id) => [id, Array.from({ length: p.linkCount }, () => null)])),
    wasServing: false, shortLease: false, servingSinceMs: null, degraded: false,
    restart: { windowMs: 0, sentAtMs: null },
    // A fresh process after a config change on this node first listens two heartbeat intervals for
    // a serving node outside its list (a hitless successor adopts: no hold).
    unlistedUntilMs: o.adopt || p.unlistedHold === false || o.configChanged !== true ? -Infinity : startHoldUntil(nowMs, p.intervalMs, p.marginMs),
  };
}

type Draft = { -readonly [K in keyof NodeState]: NodeState[K] };

/**
 * One event's work: a copy of the state that the step's parts update in turn (the state passed
 * in is never changed), and the effects in the order they are to be carried out.
 */
class Acc {
  readonly effects: NodeEffect[] = [];
  readonly s: Draft;
  constructor(s: NodeState, readonly inputs: NodeInputs, readonly nowMs: number) { this.s = { ...s }; }
  log(level: LogLevel, fields: Record<string, unknown>, msg: string): void { this.effects.push({ kind: 'log', level, fields, msg }); }
}

export function step(s: NodeState, e: NodeEvent & { readonly inputs: NodeInputs }, nowMs: number): NodeStep {
  const a = new Acc(s, e.inputs, nowMs);
  switch (e.kind) {
    case 'start': sendHeartbeat(a); decide(a, { kind: 'renew-due' }); break;
    case 'interval': decide(a, { kind: 'tick' }); sendHeartbeat(a); break;
    case 'renew-due': decide(a, { kind: 'renew-due' }); break;
    case 'tick': decide(a, { kind: 'tick' }); break;
    case 'datagram': onDatagram(a, e.bytes, e.linkId); break;
    case 'conntrack': decide(a, { kind: 'conntrack', busy: e.busy, atMs: e.atMs, udpActive: e.udpActive }); break;
    case 'health':
      Object.assign(a.s, { t: { ...a.s.t, healthHold: !e.leasing } });
      decide(a, e.leasing ? { kind: 'resume-requested' } : { kind: 'drain-requested', drainTimeoutMs: e.drainTimeoutMs });
      break;
    case 'drain': decide(a, { kind: 'drain-requested', drainTimeoutMs: e.drainTimeoutMs }); break;
    case 'resume': decide(a, { kind: 'resume-requested' }); break;
    case 'weight': decide(a, { kind: 'weight-set', weight: e.weight }); break;
    case 'stop': decide(a, { kind: 'stop-requested' }); break;
    case 'degraded':
      if (e.degraded === a.s.degraded) break;
      Object.assign(a.s, { degraded: e.degraded });
      sendHeartbeat(a);
      break;
    case 'restart-requested':
      Object.assign(a.s, { restart: { windowMs: e.windowMs, sentAtMs: null } });
      sendHeartbeat(a);
      Object.assign(a.s, { restart: { windowMs: e.windowMs, sentAtMs: nowMs } });
      break;
    case 'restart-timeout':
      if (a.s.restart.sentAtMs === null) break;
      Object.assign(a.s, { restart: { windowMs: 0, sentAtMs: null } });
      a.effects.push({ kind: 'restart-refused' });
      break;
    case 'lease-renewed': onLeaseRenewed(a, e.leaseMs); break;
  }
  return { state: a.s, effects: a.effects };
}

type Decision = TakeoverEvent extends infer E ? (E extends { readonly view: ClusterView } ? Omit<E, 'view'> : never) : never;

/** The gate, then one takeover step on the membership the gate left, then its effects. */
function decide(a: Acc, e: Decision): void {
  gate(a);
  const s = a.s;
  // The gate may have replaced the membership (quorum override): decide on the current one,
  // through one view of it for the whole takeover step.
  const view = clusterView(s.m, a.nowMs);
  const r = stepTakeover(s.t, { ...e, view }, a.nowMs);
  a.s.t = r.state;
  for (const eff of r.effects) takeoverEffect(a, eff);
  // (Heartbeats sent meanwhile change no part of the view the flow runner reads.)
  if (a.s.p.perFlow) a.effects.push({ kind: 'flows-sync', view: flowViewOf(view, a.s.t) });
}

function takeoverEffect(a: Acc, e: TakeoverEffect): void {
  switch (e.kind) {
    case 'phases': {
      const { t, m } = a.s;
      // Where a takeover's time went: how long each absent peer had been silent when we decided.
      const silentMs = e.reason === 'takeover' ? e.absent.map((id) => { const h = m.peers.get(id)?.lastHeardMs; return h == null ? null : round1(a.nowMs - h); }) : undefined;
      a.effects.push({ ...e, holding: t.owned.length, epoch: t.epoch, ...(silentMs ? { silentMs } : {}) });
      break;
    }
    case 'lease-lost':
      Object.assign(a.s, { wasServing: false, servingSinceMs: null });
      a.log('warn', { event: 'lease-stopped', reason: e.verdict }, 'not renewing the lease: this node stops answering when it runs out');
      break;
    case 'send-heartbeat-now':
      sendHeartbeat(a);
      break;
    default:
      a.effects.push(e);
  }
}

function onLeaseRenewed(a: Acc, leaseMs: number): void {
  const s = a.s;
  const short = leaseMs < s.p.renewMs * 2;
  if (short && !s.shortLease) {
    const deadMs = deadMsOf(s.p);
    a.log('warn', { event: 'lease-short', leaseMs, proofAgesMs: [...proofs(s.m)].map(([id, p]) => [id, p === null ? null : Math.round(a.nowMs - (p - deadMs))]) }, 'proofs of being heard are getting old: lease shortened');
  }
  if (!s.wasServing) a.log('info', { event: 'serving', owned: s.t.owned.length, epoch: s.t.epoch }, 'lease active: answering our buckets');
  Object.assign(a.s, { shortLease: short, servingSinceMs: s.wasServing ? s.servingSinceMs : a.nowMs, wasServing: true });
}

/** What we announce: a degraded active node says `standby`, so peers do not count it as healthy. */
function announced(s: NodeState): ReturnType<typeof wireState> {
  return s.degraded && s.t.self === 'active' ? 'standby' : wireState(s.t.self);
}

function reports(s: NodeState, now: number): PeerReport[] {
  const { m, t } = s;
  return s.p.peerIds.map((id) => {
    const ps = m.peers.get(id);
    const heard = ps?.lastHeardMs ?? null;
    // A leaving peer that holds nothing any more: reported dead at once, so it is agreed gone.
    const leavingTaken = t.absent.has(id) && (ps?.latest?.state === 'leaving' || ps?.latest?.type === 'leave') && (ps.latest.handover?.phases.every((x) => x === 'none') ?? true);
    return {
      id,
      status: leavingTaken ? 'dead' : peerStatus(m, id, now),
      incarnationHeard: ps?.incarnation ?? 0n,
      lastSeqHeard: ps?.lastSeq ?? 0,
      ageMs: heard === null ? UNKNOWN_AGE : Math.min(UNKNOWN_AGE - 1, Math.max(0, Math.round(now - heard))),
    };
  });
}

function sendHeartbeat(a: Acc): void {
  const s = a.s;
  const r = recordSent(s.m, a.nowMs);
  const { t, p } = s;
  a.s.m = r.state;
  a.effects.push({
    kind: 'send',
    hb: {
      version: 3, type: t.self === 'leaving' ? 'leave' : 'heartbeat', senderId: p.selfId, incarnation: p.incarnation, seq: r.seq,
      state: announced(s), hasQuorum: t.leaseActive, weight: t.weight, mapEpoch: t.epoch >>> 0, mapDigest: t.digest, peers: reports(a.s, a.nowMs),
      handover: { phases: wireOf(t.handover, p.buckets), grants: wireGrants(t.handover), restartWindowMs: s.restart.windowMs },
      fingerprint: { layout: p.fingerprint.layout, digest: p.fingerprint.digest, slots: p.fingerprint.slots },
    },
  });
}

function logConfig(a: Acc, e: ConfigEvent): void {
  if (e.kind === 'config-mismatch') {
    const text = describeFields(e.fields);
    a.log('error', { event: 'config-mismatch', node: e.peerId, ours: a.s.p.fingerprint.digest, theirs: e.theirs, fields: e.fields.map((f) => f.field), differences: e.fields }, `node ${e.peerId} has another config than ours: ${text}; it is not a member while this lasts`);
  } else if (e.kind === 'config-roll') {
    a.log('warn', { event: 'config-roll', node: e.peerId, rollNode: e.nodeId, why: e.why, fields: e.fields.map((f) => f.field) }, describeRoll(e.peerId, e.nodeId, e.why));
  } else {
    a.log('info', { event: 'config-agreement', node: e.peerId, reason: e.reason, durationMs: Math.round(e.forMs) }, `config mismatch with node ${e.peerId} ended (${e.reason}) after ${Math.round(e.forMs)} ms`);
  }
}

/** Config agreement (config-agreement.ts): who may serve while a peer's config differs. */
function configGate(a: Acc): void {
  const now = a.nowMs;
  const deadMs = deadMsOf(a.s.p);
  const x = expireConfig(a.s.configPeers, now, deadMs);
  Object.assign(a.s, { configPeers: x.state });
  for (const ev of x.events) logConfig(a, ev);
  const { p, m, t, configPeers, configStanding } = a.s;
  const differing = heardDiffering(configPeers, now, deadMs);
  // A peer whose latest heartbeat differs is not agreeing, even while membership still hears
  // its last agreeing one (its previous process).
  const agreeing = heardPeers(m, now).filter((id) => agreesWith(configPeers, id)).length;
  const next = standing({ selfId: p.selfId, nodeCount: p.nodes.length, selfServing: t.leaseActive, agreeingHeard: agreeing, differing });
  if (next !== configStanding) a.log(next === 'agree' || next === 'majority' ? 'info' : 'error', { event: 'config-standing', standing: next, was: configStanding, differing: differing.map((d) => d.id) }, `config agreement: ${next}${holdsOut(next) ? ' (this node holds no bucket while it lasts)' : ''}`);
  let nt = t;
  const hold = holdsOut(next) || now < a.s.unlistedUntilMs;
  if ((t.configHold === true) !== hold) nt = { ...t, configHold: hold };
  // Two nodes, the peer differs and we are the side that serves: alone (it never serves).
  let nm = m;
  if (next === 'win') nm = withQuorumOverride(m, 'solo');
  else if (p.quorum?.policy !== 'two-node' && m.override === 'solo') nm = withQuorumOverride(m, 'none');
  Object.assign(a.s, { configStanding: next, t: nt, m: nm });
}

/** The quorum policy and the fence gate, applied before every decision (quorum-policy-gate.ts). */
function gate(a: Acc): void {
  const { p } = a.s;
  if (p.quorum?.policy === 'two-node' || p.fencing) {
    const now = a.nowMs;
    const notServing = new Set(heardDiffering(a.s.configPeers, now, deadMsOf(p)).filter((d) => !d.serving).map((d) => d.id));
    const fenced = a.inputs.fenced;
    const g = quorumGate({ policy: p.quorum ?? { policy: 'majority' }, m: a.s.m, nowMs: now, fencing: p.fencing, fenced: (id) => fenced.has(id), tieBreaker: a.inputs.tieBreaker, notServing });
    const t = a.s.t.holdBack !== g.holdBack ? { ...a.s.t, holdBack: g.holdBack } : a.s.t;
    Object.assign(a.s, { m: g.m, verdict: g.verdict, t });
    if (p.fencing) {
      for (const id of g.heard) a.effects.push({ kind: 'fence-peer-heard', target: id });
      for (const f of g.fence) a.effects.push({ kind: 'fence-require', target: f.target, reason: f.reason });
    }
  }
  configGate(a);
}

function onDatagram(a: Acc, bytes: Uint8Array, linkId: number): void {
  const s0 = a.s;
  const { p } = s0;
  const r = receiveHeartbeat(bytes, { key: p.key, selfId: p.selfId, knownIds: p.knownIds, replay: s0.replay, decode: p.decode });
  const counters = { ...s0.counters };
  counters[r.outcome] += 1;
  Object.assign(a.s, { replay: r.replay, counters });
  if ('serving' in r && p.unlistedHold !== false) Object.assign(a.s, { unlistedUntilMs: unlistedHoldUntil(a.s.unlistedUntilMs, r.serving === true, a.nowMs, p.leaseMs, p.marginMs) });
  if (r.outcome !== 'accepted' && r.outcome !== 'duplicate') return;
  const hb = r.hb;
  const links = a.s.linkHeard.get(hb.senderId);
  if (links && linkId < links.length) {
    const next = [...links];
    next[linkId] = a.nowMs;
    Object.assign(a.s, { linkHeard: new Map(a.s.linkHeard).set(hb.senderId, next) });
  }
  if (linkId < a.s.perLinkReceived.length) {
    const per = [...a.s.perLinkReceived];
    per[linkId] = (per[linkId] ?? 0) + 1;
    Object.assign(a.s, { perLinkReceived: per });
  }
  if (r.outcome === 'duplicate') return;
  const c = observeConfig(a.s.configPeers, hb.senderId, hb, p.fingerprint, a.nowMs, rollContextOf(a.s.m, heardPeers(a.s.m, a.nowMs), a.s.t, p.selfId));
  Object.assign(a.s, { configPeers: c.state });
  if (c.event) logConfig(a, c.event);
  // Another config: never a member (config-agreement.ts); only the standing may change.
  if (c.differs) { if (c.event) decide(a, { kind: 'tick' }); return; }
  Object.assign(a.s, { m: onHeartbeat(a.s.m, hb, a.nowMs) });
  restartAcknowledged(a);
  // Decide before anything else runs: a peer that came back must find our release done
  // before our next heartbeat acknowledges it.
  decide(a, { kind: 'tick' });
  const d = observeDigest(a.s.agreement, hb.senderId, hb.mapDigest, a.s.t.digest, a.nowMs, deadMsOf(p));
  Object.assign(a.s, { agreement: d.state });
  const ev = d.event;
  if (ev?.kind === 'map-disagreement') {
    a.log('error', { event: 'map-disagreement', node: ev.peerId, ours: ev.ours, theirs: ev.theirs, durationMs: Math.round(ev.forMs), epoch: a.s.t.epoch }, `node ${ev.peerId} computes another bucket map than ours for ${Math.round(ev.forMs)} ms: check that every node has the same nodes, weights, buckets and hash`);
  } else if (ev?.kind === 'map-agreement') {
    a.log('info', { event: 'map-agreement', node: ev.peerId, digest: ev.digest }, `node ${ev.peerId} agrees on the bucket map again`);
  }
  if (ev != null) {
    // A lasting disagreement is a misconfigured node, not a weight change in flight: do not
    // wait for it before taking buckets nobody holds (see TakeoverState.mapOutliers).
    Object.assign(a.s, { t: { ...a.s.t, mapOutliers: new Set(disagreeing(a.s.agreement)) } });
    decide(a, { kind: 'tick' });
  }
}

/**
 * Hitless restart, the old process: once a quorum acknowledged a heartbeat sent at or after
 * the announcement, the kernel lease covers the window (peers hold us until they heard the
 * announcement + window + dead time) and the successor adopts what we hold.
 */
function restartAcknowledged(a: Acc): void {
  const { restart, m, p, t } = a.s;
  const sentAtMs = restart.sentAtMs;
  const deadMs = deadMsOf(p);
  if (sentAtMs === null || heardByQuorumUntil(m) - deadMs < sentAtMs) return;
  const leaseMs = Math.max(0, Math.floor(restart.windowMs + Math.min(0, sentAtMs + deadMs - p.marginMs - a.nowMs)));
  Object.assign(a.s, { restart: { windowMs: restart.windowMs, sentAtMs: null } });
  a.effects.push({
    kind: 'restart-ready', leaseMs, owned: t.owned.length,
    adoption: { phases: t.handover.phases, grants: new Map([...t.handover.grants].map(([b, g]) => [b, g.to])), untilMs: a.nowMs + leaseMs, udpKept: t.handover.udpKept },
  });
}

const round1 = (ms: number): number => Math.round(ms * 10) / 10;
