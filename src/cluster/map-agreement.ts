/**
 * Map agreement, pure. Every heartbeat carries the sender's view epoch and the digest of its
 * agreed map (the balanced map under the announced weights without the nodes drained or leaving;
 * ownership-reducer.ts). While a weight change, drain or resume travels, two nodes disagree for a
 * message delay or two; a disagreement that outlasts `persistMs` (the dead time: longer than any
 * such change takes to reach everyone) means the nodes do not compute the same map — different
 * configs or bucket counts, or a bug — and is reported once, with both digests, until the two
 * agree again. Such a peer is then not waited for before taking buckets nobody holds.
 */

export interface PeerAgreement {
  readonly differentSinceMs: number | null; // first heartbeat of the current disagreement
  readonly reported: boolean;
}

export type AgreementState = ReadonlyMap<number, PeerAgreement>;

export type AgreementEvent =
  | { readonly kind: 'map-disagreement'; readonly peerId: number; readonly ours: string; readonly theirs: string; readonly forMs: number }
  | { readonly kind: 'map-agreement'; readonly peerId: number; readonly digest: string };

export function observeDigest(
  s: AgreementState, peerId: number, theirs: string, ours: string, nowMs: number, persistMs: number,
): { state: AgreementState; event: AgreementEvent | null } {
  const prev = s.get(peerId) ?? { differentSinceMs: null, reported: false };
  let next: PeerAgreement;
  let event: AgreementEvent | null = null;
  if (theirs === ours) {
    if (prev.differentSinceMs === null) return { state: s, event: null };
    if (prev.reported) event = { kind: 'map-agreement', peerId, digest: ours };
    next = { differentSinceMs: null, reported: false };
  } else {
    const since = prev.differentSinceMs ?? nowMs;
    const due = !prev.reported && nowMs - since >= persistMs;
    if (due) event = { kind: 'map-disagreement', peerId, ours, theirs, forMs: nowMs - since };
    if (prev.differentSinceMs !== null && !due) return { state: s, event: null };
    next = { differentSinceMs: since, reported: prev.reported || due };
  }
  const state = new Map(s);
  state.set(peerId, next);
  return { state, event };
}

/** Peers whose reported disagreement is still going on (for status). */
export function disagreeing(s: AgreementState): number[] {
  return [...s].filter(([, a]) => a.reported).map(([id]) => id).sort((a, b) => a - b);
}
