/**
 * Connection-preserving bucket hand-over between two live nodes, per bucket, pure.
 *
 * Each node writes one phase per bucket into its kernel (src/vmac/ruleset.ts) and reports all of
 * them in its heartbeats (v2 section), with a grant for every bucket it is draining: the one node
 * allowed to take that bucket's new flows.
 *
 *   old owner O                         new owner N (O's grant names it)
 *   owned ──(target moved)──► draining ─┐   none ──(every holder drains and grants N)──► incoming
 *        established only, grants N     │        established + new TCP SYNs + UDP
 *   draining ──(N reports incoming,     │   incoming ──(no other node holds it)──► owned
 *     and O's conntrack has no entry    │
 *     for the bucket, or the drain      │
 *     timeout passed)──► none ◄─────────┘
 *
 * Safety (no two nodes accept NEW flows of a bucket at the same instant): only `owned` and
 * `incoming` accept new flows; N enters `incoming` only on O's grant, after O stopped accepting
 * new flows (O reports `draining`). A grant is withdrawn only through an acknowledged revocation:
 * O stops sending it and waits until N acknowledges a heartbeat sent after that, still not
 * holding the bucket — heartbeats are applied newest-first, so N can no longer act on the old
 * grant. Once N took the bucket the grant is spent and no longer sent, so a bucket handed on again
 * before its first drain ended (O and N both draining) has one live grant. Dead nodes (a quorum agrees) hold nothing: their lease ran out. A bucket nobody holds is
 * taken straight away (start, takeover): the monotone failover map keeps that to one node.
 *
 * Liveness: new flows of a moving bucket are refused by both nodes only between O's switch to
 * `draining` and N hearing of it: one message delay (we send a heartbeat at once on a change).
 * When the target moves on while a grant is in flight (an operation during a hand-over), an
 * active N still takes the bucket and hands it on to its own target; a grantee not in service
 * (draining, leaving, joining) is revoked from instead, each acknowledgement sent at once (a
 * change in the grants addressed to a node makes it send a heartbeat).
 *
 * UDP (with a flow timeout, `udpFlowTimeoutMs` > 0): UDP has no handshake, so no node can tell a
 * new UDP flow from an old one by its own conntrack, and the two nodes switch phase one message
 * delay apart: any scheme where each decides per flow from its own records drops a flow in
 * between, or answers it twice. Instead one node per bucket, the *keeper*, takes all of the
 * bucket's UDP, old flows and new: the node that owned it. It keeps them while it drains (the
 * kernel records each packet in a set whose elements live for the flow timeout) and lets the
 * bucket go only once it also had no UDP for the flow timeout (or the drain timeout passed). The
 * new owner takes no UDP in `incoming`; it becomes the keeper when it owns the bucket outright.
 * So a UDP flow is never split between nodes unless the drain timeout cuts it. A bucket handed
 * back to its keeper while it drains stays kept (`incoming_udp`); a node that drains a bucket it
 * never owned (handed on again) keeps none of its UDP.
 */
import type { ProtocolMutation } from './mutations.js';
import type { BucketPhase, PhaseChange } from '../model/phases.js';
import type { ClusterView } from '../cluster/cluster-view.js';

type WirePhase = BucketPhase;

/** A draining bucket's grant. `revoked`: no longer sent; waiting for `to` to acknowledge `seq`. */
export interface GrantState { readonly to: number; readonly seq: number; readonly revoked: boolean; readonly consumed?: boolean }

export interface HandoverState {
  readonly phases: ReadonlyMap<number, BucketPhase>; // buckets not `none`, as written to the kernel
  readonly grants: ReadonlyMap<number, GrantState>; // exactly the draining buckets
  readonly drainSinceMs: ReadonlyMap<number, number>; // exactly the draining buckets
  /** Buckets that still had a connection in the last conntrack reading, taken at `busyAtMs`. */
  readonly busy: ReadonlySet<number>;
  readonly busyAtMs: number | null;
  /** With a UDP flow timeout: the buckets this node keeps the UDP of (owned, or owned before it moved). */
  readonly udpKept: ReadonlySet<number>;
  /** Buckets whose UDP the kernel saw within the flow timeout, read at `busyAtMs`. */
  readonly udpBusy: ReadonlySet<number>;
  /** Bucket → the holder whose grant we took it by, until that holder stops sending the grant. */
  readonly usedGrants?: ReadonlyMap<number, number>;
}

export const EMPTY_HANDOVER: HandoverState = { phases: new Map(), grants: new Map(), drainSinceMs: new Map(), busy: new Set(), busyAtMs: null, udpKept: new Set(), udpBusy: new Set() };

/** What this node knows of the others, for one step. */
export interface PeerView {
  readonly selfId: number;
  /** Peers a quorum agrees are dead: they hold nothing. */
  readonly dead: ReadonlySet<number>;
  /** Phase of `bucket` on `peer` from its latest heartbeat (`none` if never heard or dead). */
  phaseAt(peer: number, bucket: number): WirePhase;
  /** `peer` renews its lease (it can answer what we hand it). */
  serving(peer: number): boolean;
  /** The live peers holding `bucket` in any phase but none. */
  holders(bucket: number): readonly number[];
  /** The node `peer` currently grants `bucket` to (0: none). */
  grantOf(peer: number, bucket: number): number;
  /** `peer`'s latest heartbeat says it is leaving (a planned stop): it takes no bucket from now on. */
  leaving(peer: number): boolean;
  /** `peer` acknowledged our heartbeat `seq` (or a later one) of this incarnation. */
  acked(peer: number, seq: number): boolean;
  /**
   * Our lease runs, or every live peer answered a heartbeat of ours sent since it stopped: what
   * we know of the others is fresh enough to take a bucket (unheld, or granted).
   */
  readonly mayTakeUnheld: boolean;
  /**
   * mayTakeUnheld, and every live peer computes the same map before failures as we do (no
   * weight change in flight): a bucket no live node holds may be taken outright.
   */
  readonly mayTakeOrphans: boolean;
  /** The sequence number our next heartbeat will carry. */
  readonly nextSeq: number;
  /**
   * Every bucket some peer's latest heartbeat grants to us (a superset of those `grantOf` can
   * name us for). Absent: unknown, every bucket is looked at. Lets a step skip, without asking
   * who holds it, each bucket it neither targets nor was granted: most of them, every step.
   */
  readonly grantedToSelf?: ReadonlySet<number>;
}

export interface HandoverParams {
  readonly drainTimeoutMs: number;
  /** false: break-before-make moves (the old owner drops the bucket at once), for comparison. */
  readonly graceful?: boolean;
  /** false: no conntrack reading (no port): a drain ends as soon as the new owner took the bucket. */
  readonly connectionsKnown?: boolean;
  /** 0 or absent: UDP moves with new flows. Else: the keeper lets a bucket go only after this long without UDP. */
  readonly udpFlowTimeoutMs?: number;
  /**
   * Per-flow UDP hand-over (udp-flow-handover.ts; ignored with a flow timeout): a draining
   * bucket's UDP is done once a reading taken while it drained finds none of its old flows kept
   * (`udpBusy`: kept flows, or conntrack's not filled in yet).
   */
  readonly udpPerFlow?: boolean;
  /**
   * We are active (not draining, leaving or joining): a grant addressed to us is taken even when
   * our view now targets another node, and handed on from there. Refusing it would cost a
   * revocation round (the giver revokes, we acknowledge, it grants anew) during which every node
   * refuses the bucket's new flows (seed 17150: three operations within 61 ms, 110 ms refused).
   */
  readonly inService?: boolean;
  /** The simulator's mutation variants only (mutations.ts). */
  readonly mutation?: ProtocolMutation;
}

/** The peer view from the cluster view (reports of dead peers ignored). */
export function peerView(v: ClusterView, mayTakeUnheld: boolean, mayTakeOrphans = mayTakeUnheld): PeerView {
  const { dead } = v;
  const live = [...v.announced.values()].filter((p) => !dead.has(p.id));
  const phaseAt = (peer: number, bucket: number): WirePhase => {
    if (dead.has(peer)) return 'none';
    return v.announced.get(peer)?.phases?.[bucket] ?? 'none';
  };
  return {
    selfId: v.selfId, dead, phaseAt, mayTakeUnheld, mayTakeOrphans: mayTakeUnheld && mayTakeOrphans, nextSeq: v.nextSeq, grantedToSelf: v.grantedToSelf,
    serving: (peer) => !dead.has(peer) && v.announced.get(peer)?.serving === true,
    holders(bucket) {
      const out: number[] = [];
      for (const p of live) if ((p.phases?.[bucket] ?? 'none') !== 'none') out.push(p.id);
      return out;
    },
    grantOf(peer, bucket) {
      const g = v.announced.get(peer)?.grants.find((x) => x.bucket === bucket);
      return g?.to ?? 0;
    },
    leaving: (peer) => v.announced.get(peer)?.leaving === true,
    acked: (peer, seq) => v.acked(peer, seq),
  };
}

export interface HandoverStep { readonly state: HandoverState; readonly changes: readonly PhaseChange[] }

/**
 * One step for every bucket: `target[b]` is the owner of b in this node's current view (the map
 * after failures, drains and leaves).
 */
export function stepHandover(h: HandoverState, target: readonly number[], v: PeerView, p: HandoverParams, nowMs: number): HandoverStep {
  const s = v.selfId;
  let phases: Map<number, BucketPhase> | null = null;
  let grants: Map<number, GrantState> | null = null;
  let since: Map<number, number> | null = null;
  let kept: Set<number> | null = null;
  const udpMs = p.udpFlowTimeoutMs ?? 0;
  const changes: PhaseChange[] = [];
  const setPhase = (b: number, from: BucketPhase, to: BucketPhase): void => {
    phases ??= new Map(h.phases);
    if (to === 'none') phases.delete(b);
    else phases.set(b, to);
    if (udpMs > 0) {
      // Owning a bucket outright makes us its UDP keeper; only letting it go ends that.
      if (to === 'owned' && !h.udpKept.has(b)) (kept ??= new Set(h.udpKept)).add(b);
      if (to === 'none' && (kept ?? h.udpKept).has(b)) (kept ??= new Set(h.udpKept)).delete(b);
      changes.push({ bucket: b, from, to, udp: (kept ?? h.udpKept).has(b) });
    } else {
      changes.push({ bucket: b, from, to });
    }
    if (from === 'draining' && to !== 'draining') {
      (grants ??= new Map(h.grants)).delete(b);
      (since ??= new Map(h.drainSinceMs)).delete(b);
    }
  };
  const setGrant = (b: number, g: GrantState): void => void (grants ??= new Map(h.grants)).set(b, g);
  const startDrain = (b: number, from: BucketPhase, to: number): void => {
    setPhase(b, from, 'draining');
    setGrant(b, { to, seq: v.nextSeq, revoked: false });
    (since ??= new Map(h.drainSinceMs)).set(b, nowMs);
  };
  // Grants to us that we took: one still in a holder's heartbeat (it has not seen us take it
  // yet, or we read an old one late) must not count again. Forgotten once that holder no longer
  // sends it.
  let used: Map<number, number> | null = null;
  if (h.usedGrants) for (const [b, x] of h.usedGrants) if (v.grantOf(x, b) !== s) (used ??= new Map(h.usedGrants)).delete(b);
  const grantFrom = (holders: readonly number[], b: number): number => {
    const spent = (used ?? h.usedGrants)?.get(b);
    for (const x of holders) if (x !== spent && v.grantOf(x, b) === s) return x;
    return 0;
  };
  const useGrant = (b: number, x: number): void => void (used ??= new Map(h.usedGrants ?? [])).set(b, x);
  const current = wireOf(h, target.length); // h.phases as an array: read once per bucket per step
  const granted = v.grantedToSelf;
  for (let b = 0; b < target.length; b++) {
    const t = target[b] as number;
    const phase: BucketPhase = current[b] ?? 'none';
    // The steady state, decided without asking who holds the bucket: one we own and target, or
    // one we neither hold, target nor were granted (the case below would find no grant to us).
    if (phase === 'owned' ? t === s : phase === 'none' && t !== s && granted !== undefined && !granted.has(b)) continue;
    switch (phase) {
      case 'none': {
        // Without a lease, what we know of the others may be older than their last decisions
        // (a thawed process reads old heartbeats): act only once they all answered us anew.
        // Off target only by a grant, and only while active: granted to us although our view
        // targets another node (views differ for a moment, or the target changed after the grant
        // was sent), we take new flows at once and the next step hands the bucket on to the
        // target (incoming → draining) once it serves.
        if (!v.mayTakeUnheld || (t !== s && p.inService !== true)) break;
        const holders = v.holders(b);
        if (holders.length === 0) {
          if (t === s && v.mayTakeOrphans) setPhase(b, 'none', 'owned');
        } else {
          // Nobody accepts the bucket's new flows, and a holder hands them to us (a holder whose
          // grantee took the bucket stops sending its grant, so at most one grant is live).
          const drainingAll = holders.every((x) => v.phaseAt(x, b) === 'draining');
          const from = drainingAll ? grantFrom(holders, b) || (p.mutation === 'take-without-grant' && t === s ? (holders[0] as number) : 0) : 0;
          if (from !== 0) {
            setPhase(b, 'none', 'incoming');
            useGrant(b, from);
          }
        }
        break;
      }
      case 'owned':
        // Handed only to a node that renews its lease: until then it could not answer.
        if (t !== s && v.serving(t)) {
          if (p.graceful === false) setPhase(b, 'owned', 'none');
          else startDrain(b, 'owned', t);
        }
        break;
      case 'incoming':
        if (t !== s && v.serving(t)) startDrain(b, 'incoming', t);
        else if (v.mayTakeUnheld && (v.holders(b).length === 0 || p.mutation === 'handover-before-drain-ends')) setPhase(b, 'incoming', 'owned');
        break;
      case 'draining': {
        const g = h.grants.get(b);
        if (!g) { setPhase(b, 'draining', 'none'); break; } // cannot happen: grants track draining
        const toDead = v.dead.has(g.to);
        const gPhase = v.phaseAt(g.to, b);
        // Spent once the grantee was seen taking it (it may be handing it on already: draining).
        const took = !toDead && (g.consumed === true || gPhase === 'incoming' || gPhase === 'owned');
        if (took && g.consumed !== true) setGrant(b, { ...g, consumed: true });
        if (t === s && v.mayTakeUnheld && took) {
          // The bucket comes back to us while we still drain it (moved there and back): once our
          // own grant is spent (seen taken: until then our grantee may be taking new flows under
          // it unseen), every other holder drains and one hands it back to us, we take new flows
          // again (seed 48839: back to us 8 ms after we granted it on, we read an older holder's
          // grant, one we had used before, as the way back while our grantee took new flows).
          const others = v.holders(b);
          const from = others.every((x) => v.phaseAt(x, b) === 'draining') ? grantFrom(others, b) : 0;
          if (from !== 0) {
            setPhase(b, 'draining', 'incoming');
            useGrant(b, from);
            break;
          }
        }
        const next = (): void => {
          if (t !== s) { setGrant(b, { to: t, seq: v.nextSeq, revoked: false }); return; }
          // Back to us. Others may still drain their connections of it: take new flows only
          // (incoming) until they are done; nobody else may be taking new flows.
          const others = v.holders(b);
          if (others.length === 0) { if (v.mayTakeUnheld) setPhase(b, 'draining', 'owned'); }
          else if (v.mayTakeUnheld && others.every((x) => v.phaseAt(x, b) === 'draining')) setPhase(b, 'draining', 'incoming');
        };
        if (took) {
          const startedMs = h.drainSinceMs.get(b) ?? nowMs;
          const read = h.busyAtMs;
          const tcpDone = read !== null && read >= startedMs && !h.busy.has(b);
          // The keeper: also no UDP for a whole flow timeout, all of it seen while draining.
          // Per-flow: the reading's UDP part is the flow runner's state when the reading started; one
          // started in the very millisecond the drain began may predate it (a poll timer and a stop
          // signal in one ms ended 86 drains with live flows): only a later reading counts.
          const udpDone = udpMs === 0
            ? p.udpPerFlow !== true || (read !== null && read > startedMs && !h.udpBusy.has(b))
            : !h.udpKept.has(b) || (read !== null && read >= startedMs + udpMs && !h.udpBusy.has(b));
          const drained = p.connectionsKnown === false || (tcpDone && udpDone);
          if (drained || nowMs - startedMs >= p.drainTimeoutMs) setPhase(b, 'draining', 'none');
        } else if (toDead || (gPhase === 'none' && v.leaving(g.to))) {
          // Dead, or leaving without having taken it: a leaving node takes nothing any more, so
          // the grant is dead without waiting for it to acknowledge a revocation (seed 6623: a
          // resume, then a stop, of the grantee left the bucket refused by every node).
          next();
        } else if (!g.revoked) {
          if (g.to !== t && v.acked(g.to, g.seq)) setGrant(b, { to: g.to, seq: v.nextSeq, revoked: true });
        } else if (v.acked(g.to, g.seq)) {
          // It saw the revocation and did not take the bucket (it may still drain its own
          // connections of it from an earlier hand-over): the grant is dead.
          next();
        }
        break;
      }
    }
  }
  if (phases === null && grants === null && since === null && kept === null && used === null) return { state: h, changes };
  const usedGrants = used ?? h.usedGrants;
  return { state: { ...h, phases: phases ?? h.phases, grants: grants ?? h.grants, drainSinceMs: since ?? h.drainSinceMs, udpKept: kept ?? h.udpKept, ...(usedGrants ? { usedGrants } : {}) }, changes };
}

/** wireOf's last answer per phase map (phase maps are immutable: a change is a new map). */
const wireCache = new WeakMap<ReadonlyMap<number, BucketPhase>, { buckets: number; wire: readonly WirePhase[] }>();

/**
 * The phases as sent in a heartbeat (index = bucket; buckets at or past `buckets` left out); the
 * same array while the phases are the same.
 */
export function wireOf(h: HandoverState, buckets: number): readonly WirePhase[] {
  const hit = wireCache.get(h.phases);
  if (hit !== undefined && hit.buckets === buckets) return hit.wire;
  const out: WirePhase[] = Array.from({ length: buckets }, () => 'none');
  for (const [b, ph] of h.phases) if (b < buckets) out[b] = ph;
  wireCache.set(h.phases, { buckets, wire: out });
  return out;
}

/** The grants as sent in a heartbeat: not revoked, ascending. */
export function wireGrants(h: HandoverState): { bucket: number; to: number }[] {
  const out: { bucket: number; to: number }[] = [];
  for (const [bucket, g] of h.grants) if (!g.revoked && g.consumed !== true) out.push({ bucket, to: g.to });
  return out.sort((a, b) => a.bucket - b.bucket);
}

/** Buckets in a phase, ascending. */
export function inPhase(h: HandoverState, phase: BucketPhase): number[] {
  const out: number[] = [];
  for (const [b, ph] of h.phases) if (ph === phase) out.push(b);
  return out.sort((a, b) => a - b);
}
