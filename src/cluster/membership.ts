/**
 * Membership and quorum, pure. Tracks every peer from its heartbeats and answers three questions
 * for the daemon: who is alive, which failures does a quorum agree on, and may this node renew
 * its kernel lease right now.
 *
 * Safety (no bucket answered by two nodes): a node renews its lease only while it holds fresh
 * proof that a quorum hears it. Proof from peer P = the send time of our latest heartbeat that
 * P acknowledges (P echoes the highest seq of ours it received). P cannot call us dead before
 * that send time + deadMs. A failure is acted on only once a quorum (counting the actor) reports
 * the node dead; any such quorum shares a member with the quorum that last proved it heard us,
 * so our lease (renewed at t only if t + leaseMs <= proof + deadMs - marginMs) ran out first.
 */
import type { Heartbeat, PeerReport, PeerStatus } from './heartbeat-types.js';

export interface MembershipConfig {
  readonly selfId: number;
  readonly nodeIds: readonly number[]; // every configured node, self included
  readonly intervalMs: number; // heartbeat period
  readonly suspectMs: number; // silent this long: suspect (informative)
  readonly deadMs: number; // silent this long: dead in this node's view
  readonly leaseMs: number;
  readonly marginMs: number; // slack for clock-rate drift and scheduling between proof and lease
}

export interface PeerState {
  readonly id: number;
  readonly lastHeardMs: number | null;
  readonly incarnation: bigint | null;
  readonly lastSeq: number; // highest seq of `incarnation` received
  readonly latest: Heartbeat | null; // the most recent heartbeat (its beliefs about others)
  /**
   * The peer announced a daemon restart (hitless): its kernel keeps serving on a lease of at
   * most `restartWindowMs` from the announcement, so it is not called dead before this + deadMs.
   * Kept across its incarnations (the new process inherits the old lease).
   */
  readonly holdUntilMs?: number;
}

export interface SentRecord { readonly seq: number; readonly atMs: number }

export interface MembershipState {
  readonly cfg: MembershipConfig;
  readonly startedMs: number;
  readonly incarnation: bigint;
  readonly nextSeq: number;
  readonly sent: readonly SentRecord[]; // our recent heartbeats, oldest first (for proofs)
  readonly peers: ReadonlyMap<number, PeerState>;
  /** Set by the two-node quorum policy (quorum-policy.ts); absent or 'none': majority rule. */
  readonly override?: QuorumOverride;
}

/**
 * 'keep-own': this node alone is a quorum for renewing its own lease (two-node split, the
 * tie-breaker reachable), but agrees on no failure; 'solo': it may also agree alone that its
 * silent peer is dead (that peer was fenced).
 */
export type QuorumOverride = 'none' | 'keep-own' | 'solo';

export function withQuorumOverride(s: MembershipState, override: QuorumOverride): MembershipState {
  return (s.override ?? 'none') === override ? s : { ...s, override };
}

/** The quorum size for renewing our lease under the current override. */
function leaseQuorum(s: MembershipState): number {
  return s.override === 'keep-own' || s.override === 'solo' ? 1 : quorumSize(s.cfg.nodeIds.length);
}

export function quorumSize(nodeCount: number): number {
  return Math.floor(nodeCount / 2) + 1;
}

export function initMembership(cfg: MembershipConfig, incarnation: bigint, nowMs: number): MembershipState {
  const peers = new Map<number, PeerState>();
  for (const id of cfg.nodeIds) if (id !== cfg.selfId) peers.set(id, { id, lastHeardMs: null, incarnation: null, lastSeq: 0, latest: null });
  return { cfg, startedMs: nowMs, incarnation, nextSeq: 1, sent: [], peers };
}

/** Records that we sent heartbeat `seq` now; keeps only what a proof can still use. */
export function recordSent(s: MembershipState, nowMs: number): { state: MembershipState; seq: number } {
  const keepFrom = nowMs - 2 * s.cfg.deadMs;
  let drop = 0; // records are oldest first: the ones to forget are a prefix
  while (drop < s.sent.length && (s.sent[drop] as SentRecord).atMs < keepFrom) drop++;
  const sent = s.sent.slice(drop);
  sent.push({ seq: s.nextSeq, atMs: nowMs });
  return { state: { ...s, sent, nextSeq: (s.nextSeq + 1) >>> 0 }, seq: s.nextSeq };
}

/** An authenticated, replay-checked heartbeat from a configured peer. */
export function onHeartbeat(s: MembershipState, hb: Heartbeat, nowMs: number): MembershipState {
  const prev = s.peers.get(hb.senderId);
  if (!prev) return s;
  const restarted = prev.incarnation === null || hb.incarnation > prev.incarnation;
  if (!restarted && hb.incarnation < (prev.incarnation ?? 0n)) return s;
  const lastSeq = restarted ? hb.seq : Math.max(prev.lastSeq, hb.seq);
  const newer = restarted || hb.seq >= prev.lastSeq;
  const window = hb.handover?.restartWindowMs ?? 0;
  const holdUntilMs = Math.max(prev.holdUntilMs ?? -Infinity, window > 0 ? nowMs + window : -Infinity);
  const next: PeerState = { id: prev.id, lastHeardMs: nowMs, incarnation: hb.incarnation, lastSeq, latest: newer ? hb : prev.latest, ...(holdUntilMs > -Infinity ? { holdUntilMs } : {}) };
  const peers = new Map(s.peers);
  peers.set(hb.senderId, next);
  return { ...s, peers };
}

export function peerStatus(s: MembershipState, id: number, nowMs: number): PeerStatus {
  if (id === s.cfg.selfId) return 'alive';
  const p = s.peers.get(id);
  if (!p) return 'unknown';
  const since = p.lastHeardMs === null ? nowMs - s.startedMs : nowMs - p.lastHeardMs;
  if (p.lastHeardMs === null) return since >= s.cfg.deadMs ? 'dead' : 'unknown';
  if (since >= s.cfg.deadMs) return isDead(s, p, nowMs) ? 'dead' : 'suspect';
  return since >= s.cfg.suspectMs ? 'suspect' : 'alive';
}

/** peerStatus(...) === 'dead'. */
function isDead(s: MembershipState, p: PeerState, nowMs: number): boolean {
  if (p.holdUntilMs !== undefined && nowMs - p.holdUntilMs < s.cfg.deadMs) return false; // restarting
  return nowMs - (p.lastHeardMs ?? s.startedMs) >= s.cfg.deadMs;
}

/**
 * Peers inside an announced restart window (their last heartbeat announced one, and it has not
 * run out): their kernel keeps serving on the window's lease while no daemon of theirs runs.
 */
export function restartingPeers(s: MembershipState, nowMs: number): number[] {
  const out: number[] = [];
  for (const p of s.peers.values()) {
    if ((p.latest?.handover?.restartWindowMs ?? 0) > 0 && p.holdUntilMs !== undefined && nowMs < p.holdUntilMs) out.push(p.id);
  }
  return out;
}

/**
 * Who answers ARP for the buckets of restarting peers (their daemon, which answers ARP, is gone
 * until the successor runs): the lowest-numbered node among this one and the peers it hears that
 * are not restarting, so one node replies. Views may differ for a moment; two replies or a late
 * one are harmless (every reply carries the same virtual MAC). Empty unless this node is it.
 */
export function arpStandInFor(s: MembershipState, nowMs: number): ReadonlySet<number> {
  const restarting = restartingPeers(s, nowMs);
  if (restarting.length === 0) return new Set();
  const others = heardPeers(s, nowMs).filter((id) => !restarting.includes(id));
  return others.some((id) => id < s.cfg.selfId) ? new Set() : new Set(restarting);
}

/** Peers we hear (alive or suspect): they still count for quorum and their reports are fresh. */
export function heardPeers(s: MembershipState, nowMs: number): number[] {
  const out: number[] = [];
  for (const p of s.peers.values()) if (isHeard(s, p, nowMs)) out.push(p.id);
  return out;
}

/** peerStatus(...) is 'alive' or 'suspect', without naming which. */
function isHeard(s: MembershipState, p: PeerState, nowMs: number): boolean {
  return p.lastHeardMs !== null && nowMs - p.lastHeardMs < s.cfg.deadMs;
}

/** What `reporter`'s latest heartbeat says about node `id`, if anything. */
function reportOn(reporter: PeerState | undefined, id: number): PeerReport | undefined {
  const reports = reporter?.latest?.peers;
  if (reports === undefined) return undefined;
  for (const r of reports) if (r.id === id) return r;
  return undefined;
}

/** Send time of our heartbeat `seq`, if still remembered. */
function sentAt(s: MembershipState, seq: number): number | null {
  for (let i = s.sent.length - 1; i >= 0; i--) {
    const r = s.sent[i];
    if (r && r.seq === seq) return r.atMs;
  }
  return null;
}

/**
 * Whether `peerId` has told us, in a heartbeat acknowledging one of ours sent at or after
 * `sinceMs`, that it hears us (alive or suspect). A peer that says so has released any bucket of
 * ours it held: it recomputes its map on our heartbeat before it acknowledges it.
 */
export function confirmsPresence(s: MembershipState, peerId: number, sinceMs: number): boolean {
  const report = reportOn(s.peers.get(peerId), s.cfg.selfId);
  if (!report || report.incarnationHeard !== s.incarnation) return false;
  if (report.status !== 'alive' && report.status !== 'suspect') return false;
  const at = sentAt(s, report.lastSeqHeard);
  return at !== null && at >= sinceMs;
}

/** The latest instant until which each peer provably cannot call us dead (null: no proof). */
export function proofs(s: MembershipState): Map<number, number | null> {
  const out = new Map<number, number | null>();
  for (const p of s.peers.values()) out.set(p.id, proofOf(s, p));
  return out;
}

function proofOf(s: MembershipState, p: PeerState): number | null {
  const report = reportOn(p, s.cfg.selfId);
  const at = report && report.incarnationHeard === s.incarnation ? sentAt(s, report.lastSeqHeard) : null;
  return at === null ? null : at + s.cfg.deadMs;
}

/**
 * Until when a quorum provably hears us: the quorum-th latest proof (we count as forever).
 * The lease may be renewed at `now` for `leaseMs` only if now + leaseMs <= this - marginMs.
 */
export function heardByQuorumUntil(s: MembershipState): number {
  const q = leaseQuorum(s);
  const values: number[] = [Infinity];
  for (const p of s.peers.values()) values.push(proofOf(s, p) ?? -Infinity);
  values.sort((a, b) => b - a);
  return values[q - 1] ?? -Infinity;
}

export type LeaseVerdict = 'renew' | 'no-quorum-heard' | 'not-heard-by-quorum';

/**
 * The shortest lease worth writing: the kernel expires set elements on 4 ms ticks, up to 8 ms
 * early, so a shorter one may be gone before the next renewal could extend it.
 */
export const MIN_LEASE_MS = 8;

/**
 * How long this node may extend its lease right now: up to `leaseMs`, but never past the moment
 * a quorum could call it dead (heardByQuorumUntil - marginMs). With slightly stale proofs the
 * lease gets shorter instead of lapsing; only when less than MIN_LEASE_MS is left, or no quorum
 * is heard at all, is it not renewed. Named verdict so logs say why a node went silent.
 */
export function leaseGrant(s: MembershipState, nowMs: number): { verdict: LeaseVerdict; leaseMs: number } {
  if (!hasQuorum(s, nowMs)) return { verdict: 'no-quorum-heard', leaseMs: 0 };
  const room = Math.floor(heardByQuorumUntil(s) - s.cfg.marginMs - nowMs);
  if (room < MIN_LEASE_MS) return { verdict: 'not-heard-by-quorum', leaseMs: 0 };
  return { verdict: 'renew', leaseMs: Math.min(s.cfg.leaseMs, room) };
}

/** May this node extend its lease now (for any length)? */
export function leaseVerdict(s: MembershipState, nowMs: number): LeaseVerdict {
  return leaseGrant(s, nowMs).verdict;
}

export function hasQuorum(s: MembershipState, nowMs: number): boolean {
  let heard = 1;
  for (const p of s.peers.values()) if (isHeard(s, p, nowMs)) heard++;
  return heard >= leaseQuorum(s);
}

/**
 * Nodes a quorum agrees are dead: dead in our view, and reported dead by enough of the peers we
 * still hear that, with us, they make a quorum. Only a node with quorum acts on this.
 */
export function agreedDead(s: MembershipState, nowMs: number): Set<number> {
  const q = s.override === 'solo' ? 1 : quorumSize(s.cfg.nodeIds.length);
  const out = new Set<number>();
  let heard: PeerState[] | null = null; // computed only once some peer is dead in our view
  for (const p of s.peers.values()) {
    if (!isDead(s, p, nowMs)) continue;
    heard ??= [...s.peers.values()].filter((h) => isHeard(s, h, nowMs));
    let votes = 1;
    // A peer whose config does not list the node (a rolling add or removal, src/cluster/roll-compat.ts)
    // drops its heartbeats and never gives it a proof: for this vote it is as good as dead.
    for (const h of heard) if (reportOn(h, p.id)?.status === 'dead' || (h.latest !== null && !h.latest.peers.some((r) => r.id === p.id))) votes++;
    if (votes >= q) out.add(p.id);
  }
  return out;
}
