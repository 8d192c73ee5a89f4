/**
 * Config agreement, pure. Every heartbeat (v3) carries the sender's config fingerprint
 * (src/config/fingerprint.ts). A peer whose fingerprint differs from ours computes other buckets
 * for the same client (another seed, bucket count, VIP, node list…), so it must never share a
 * client with us:
 *
 *  - its heartbeats are not fed to membership: it is never a member, never counted for quorum,
 *    its acknowledgements never prove that we are heard, its reports never make anyone dead, it
 *    is never granted a bucket and never makes us give one up (in our view it is a silent node:
 *    dead a dead time after its last agreeing heartbeat, its buckets then taken the usual way);
 *  - `standing` below decides whether this node may serve at all while it hears such a peer.
 *
 * The rule (`standing`), and why it keeps "no client answered by two nodes" whoever starts first:
 *
 *   no differing peer heard                      -> agree     (nothing changes)
 *   self + agreeing peers heard ≥ quorum of N    -> majority  (serve; the differing peers are out)
 *   N ≥ 3, fewer                                 -> minority  (hold: the lease is never set)
 *   N = 2, the peer differs:
 *     we serve and it does not                   -> win       (serve alone: membership override solo)
 *     it serves and we do not                    -> yield     (hold)
 *     neither or both serve                      -> the lower node id wins, the other yields
 *     the peer's config lists ≠ 2 nodes          -> yield (it may hold a majority of its own list)
 *
 *   N ≥ 3: membership already needs proofs from a quorum of *agreeing* nodes to renew a lease;
 *   two groups with different fingerprints are disjoint, and two majorities of the same node
 *   list (or of two lists that differ by one node) intersect, so at most one group can renew.
 *   The minority hold makes the same outcome explicit and names it in status.
 *   N = 2: a majority of two is both nodes, so without a rule a mismatch would stop both (or,
 *   under the two-node policy, look like a split and let both keep their own buckets). The
 *   winner is computed by both sides from the same facts (both ids are on the wire, both
 *   "serving" flags are announced), so they name the same winner; the loser never renews (hold,
 *   and membership gives it no proof: the winner ignores its heartbeats), so the winner may
 *   serve alone. The winner takes the loser's buckets only once the loser is dead in its view,
 *   i.e. a dead time after the loser's last agreeing heartbeat, when any lease the loser's
 *   previous process held has run out (lease < dead time). If the loser stops hearing the
 *   winner, it is back to the ordinary split rules (fencing first), as for any silent peer.
 *
 * Version 1 and 2 heartbeats carry no fingerprint: such a peer cannot be checked and counts as
 * differing (field `fingerprint`), so a cluster never mixes checked and unchecked nodes.
 */
import type { Heartbeat } from './heartbeat-types.js';
import { differingFields, type FieldDifference, type LocalFingerprint } from '../config/fingerprint.js';
import { quorumSize } from './membership.js';
import { rollCompatible, type RollContext } from './roll-compat.js';

/** Whether `peerId` counts as agreeing: no recorded difference, or one a roll allows. */
export function agreesWith(s: ConfigAgreementState, peerId: number): boolean {
  const p = s.get(peerId);
  return p === undefined || p.tolerated !== undefined;
}

/** What we know of one peer whose fingerprint differs. */
export interface DifferingPeer {
  readonly sinceMs: number; // first differing heartbeat of this episode
  readonly lastHeardMs: number;
  readonly digest: string; // theirs ('none' for a v1/v2 peer)
  readonly fields: readonly FieldDifference[];
  readonly serving: boolean; // as it announces: lease active, or any bucket in any phase
  readonly nodeCount: number; // nodes in its config (the nodes its heartbeat reports on, plus itself)
  /** Set while the difference is one a roll allows (src/cluster/roll-compat.ts): the peer counts as agreeing. */
  readonly tolerated?: { readonly why: 'extra-idle' | 'weight-zero'; readonly nodeId: number };
}

export type ConfigAgreementState = ReadonlyMap<number, DifferingPeer>;

export type ConfigEvent =
  | { readonly kind: 'config-mismatch'; readonly peerId: number; readonly theirs: string; readonly fields: readonly FieldDifference[] }
  | { readonly kind: 'config-agreement'; readonly peerId: number; readonly forMs: number; readonly reason: 'fingerprints-equal' | 'peer-silent' }
  | { readonly kind: 'config-roll'; readonly peerId: number; readonly nodeId: number; readonly why: 'extra-idle' | 'weight-zero'; readonly fields: readonly FieldDifference[] };

/** Whether a peer's heartbeat agrees with our config, and if not, in which fields. */
export function compareConfig(ours: LocalFingerprint, hb: Heartbeat): readonly FieldDifference[] {
  if (hb.fingerprint === undefined) {
    return [{ field: 'fingerprint', ours: `layout ${ours.layout}, digest ${ours.digest}`, theirs: `none (heartbeat version ${hb.version}: an older vmac that cannot be checked)` }];
  }
  return differingFields(ours, hb.fingerprint);
}

function servingOf(hb: Heartbeat): boolean {
  return hb.hasQuorum || (hb.handover?.phases.some((p) => p !== 'none') ?? false);
}

function sameFields(a: readonly FieldDifference[], b: readonly FieldDifference[]): boolean {
  return a.length === b.length && a.every((f, i) => f.field === b[i]?.field && f.theirs === b[i]?.theirs);
}

function sameTolerance(a: DifferingPeer['tolerated'], b: DifferingPeer['tolerated']): boolean {
  return a?.why === b?.why && a?.nodeId === b?.nodeId;
}

/**
 * One authenticated heartbeat from `peerId`. Returns `differs` (its heartbeat must not reach
 * membership) and at most one event: a mismatch that starts (or changes fields), or one that ends.
 */
export function observeConfig(
  s: ConfigAgreementState, peerId: number, hb: Heartbeat, ours: LocalFingerprint, nowMs: number, roll?: RollContext,
): { state: ConfigAgreementState; differs: boolean; event: ConfigEvent | null } {
  const fields = compareConfig(ours, hb);
  const prev = s.get(peerId);
  if (fields.length === 0) {
    if (prev === undefined) return { state: s, differs: false, event: null };
    const state = new Map(s);
    state.delete(peerId);
    return { state, differs: false, event: { kind: 'config-agreement', peerId, forMs: nowMs - prev.sinceMs, reason: 'fingerprints-equal' } };
  }
  const verdict = roll === undefined ? null : rollCompatible(fields, ours, hb.fingerprint, peerId, hb.peers, roll, hb.weight);
  const tolerated = verdict?.compatible === true ? { why: verdict.why, nodeId: verdict.nodeId } : undefined;
  const changed = prev === undefined || !sameFields(prev.fields, fields) || !sameTolerance(prev.tolerated, tolerated);
  const next: DifferingPeer = { sinceMs: prev && !changed ? prev.sinceMs : nowMs, lastHeardMs: nowMs, digest: hb.fingerprint?.digest ?? 'none', fields, serving: servingOf(hb), nodeCount: hb.peers.length + 1, ...(tolerated ? { tolerated } : {}) };
  const state = new Map(s);
  state.set(peerId, next);
  if (tolerated) return { state, differs: false, event: changed ? { kind: 'config-roll', peerId, nodeId: tolerated.nodeId, why: tolerated.why, fields } : null };
  return { state, differs: true, event: changed ? { kind: 'config-mismatch', peerId, theirs: next.digest, fields } : null };
}

/** A differing peer silent for a dead time is forgotten: its mismatch ends (it may come back agreeing). */
export function expireConfig(s: ConfigAgreementState, nowMs: number, deadMs: number): { state: ConfigAgreementState; events: ConfigEvent[] } {
  let state: Map<number, DifferingPeer> | null = null;
  const events: ConfigEvent[] = [];
  for (const [id, p] of s) {
    if (nowMs - p.lastHeardMs < deadMs) continue;
    state ??= new Map(s);
    state.delete(id);
    events.push({ kind: 'config-agreement', peerId: id, forMs: nowMs - p.sinceMs, reason: 'peer-silent' });
  }
  return { state: state ?? s, events };
}

export type Standing = 'agree' | 'majority' | 'minority' | 'win' | 'yield';

export interface StandingInput {
  readonly selfId: number;
  readonly nodeCount: number; // configured nodes, self included (our own config)
  readonly selfServing: boolean; // our lease is active
  readonly agreeingHeard: number; // peers heard within a dead time whose fingerprint equals ours
  readonly differing: readonly { readonly id: number; readonly serving: boolean; readonly nodeCount?: number }[]; // heard within a dead time
}

/** The rule in the header. Pure; table-tested (test/unit/cluster/config-agreement.test.ts). */
export function standing(i: StandingInput): Standing {
  if (i.differing.length === 0) return 'agree';
  if (1 + i.agreeingHeard >= quorumSize(i.nodeCount)) return 'majority';
  if (i.nodeCount !== 2) return 'minority';
  const peer = i.differing[0];
  if (peer === undefined) return 'agree';
  // A peer on a list of another size (a node added or removed) may hold a majority of its own
  // list: the two-node rule below would then let both sides serve. Hold instead.
  if (peer.nodeCount !== undefined && peer.nodeCount !== 2) return 'yield';
  if (i.selfServing !== peer.serving) return i.selfServing ? 'win' : 'yield';
  return i.selfId < peer.id ? 'win' : 'yield';
}

/** A standing under which this node must not renew its lease. */
export function holdsOut(s: Standing): boolean {
  return s === 'minority' || s === 'yield';
}

/** Differing peers heard within `deadMs`, for `standing` and status. */
export function heardDiffering(s: ConfigAgreementState, nowMs: number, deadMs: number): { id: number; serving: boolean }[] {
  return [...s].filter(([, p]) => p.tolerated === undefined && nowMs - p.lastHeardMs < deadMs).map(([id, p]) => ({ id, serving: p.serving, nodeCount: p.nodeCount })).sort((a, b) => a.id - b.id);
}

/** One line naming every differing field with both values (ours, theirs), for logs and status. */
export function describeFields(fields: readonly FieldDifference[]): string {
  return fields.map((f) => `${f.field} (ours ${f.ours}, theirs ${f.theirs})`).join('; ');
}

/**
 * A node that is not in our list but holds our key (a node being added, or one being removed,
 * during a roll) and announces that it serves may hold a kernel lease we never granted: our list
 * gives no start gate for it. Until a lease (plus margin) after the last such heartbeat, this node
 * holds no bucket. Returns the time until which to hold (`prevUntilMs` when nothing changes).
 */
export function unlistedHoldUntil(prevUntilMs: number, serving: boolean, nowMs: number, leaseMs: number, marginMs: number): number {
  return serving ? Math.max(prevUntilMs, nowMs + leaseMs + marginMs) : prevUntilMs;
}

/**
 * A fresh process has heard nobody yet: a serving node outside its list would go unnoticed until
 * its first heartbeat. It holds for two heartbeat intervals plus the margin after its start.
 */
export function startHoldUntil(startMs: number, intervalMs: number, marginMs: number): number {
  return startMs + 2 * intervalMs + marginMs;
}
