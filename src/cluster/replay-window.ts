/**
 * Per-sender replay filter (an IPsec-style sliding window, RFC 4303 §3.4.3), pure and immutable
 * so the membership reducer can hold it in its state and tests can compare snapshots.
 *
 * A sender numbers its messages with one seq counter shared by all its heartbeat links and sends
 * each seq once per link, stamped with the link's id (authenticated, inside the MAC). So:
 *  - the first copy of a seq is `accept`;
 *  - the copy of the same seq from another link is `duplicate`: normal, and still proof that
 *    that link works, so it is not an attack and must not be logged as one;
 *  - the same seq from the same link again, or any seq older than the 64-message window, is
 *    `replay`: a captured message sent again (or a network that duplicates packets);
 *  - a smaller incarnation is `stale-incarnation` (a message from before the sender restarted);
 *    a larger one means the sender restarted and resets the window.
 *
 * Sequence numbers do not wrap: a sender must restart with a new incarnation before 2^32
 * messages (13 years at 10 messages a second).
 */

/** How many seqs below the highest one are still judged individually. */
export const REPLAY_WINDOW = 64;
const WINDOW_MASK = (1n << BigInt(REPLAY_WINDOW)) - 1n;

/** What we remember about one sender. Bit i of a bitmap stands for seq `highestSeq - i`. */
export interface SenderReplayState {
  readonly incarnation: bigint;
  readonly highestSeq: number;
  /** Seqs accepted from any link. */
  readonly window: bigint;
  /** Per link id, the seqs that arrived on that link. Links with no bit left in the window are dropped. */
  readonly links: ReadonlyMap<number, bigint>;
}

export type ReplayVerdict =
  | { readonly verdict: 'accept' | 'duplicate'; readonly next: SenderReplayState }
  | { readonly verdict: 'replay' | 'stale-incarnation' };

/**
 * Judges one authenticated message. `state` is undefined for a sender not heard since we started.
 * `accept` and `duplicate` return the state to keep (a duplicate records its link, so a second copy
 * from that link is a `replay`); the other verdicts leave the state unchanged.
 */
export function checkReplay(state: SenderReplayState | undefined, incarnation: bigint, seq: number, linkId: number): ReplayVerdict {
  if (state === undefined || incarnation > state.incarnation) return { verdict: 'accept', next: firstMessage(incarnation, seq, linkId) };
  if (incarnation < state.incarnation) return { verdict: 'stale-incarnation' };
  if (seq > state.highestSeq) return { verdict: 'accept', next: mark(advance(state, seq), linkId, 1n) };
  const age = state.highestSeq - seq;
  if (age >= REPLAY_WINDOW) return { verdict: 'replay' };
  const bit = 1n << BigInt(age);
  if ((state.window & bit) === 0n) return { verdict: 'accept', next: mark(state, linkId, bit) };
  if (((state.links.get(linkId) ?? 0n) & bit) !== 0n) return { verdict: 'replay' };
  return { verdict: 'duplicate', next: mark(state, linkId, bit) };
}

/** Whether `seq` of the current incarnation has been accepted (from any link); for tests and diagnostics. */
export function hasSeen(state: SenderReplayState, seq: number): 'seen' | 'not-seen' | 'outside-window' {
  const age = state.highestSeq - seq;
  if (age < 0) return 'not-seen';
  if (age >= REPLAY_WINDOW) return 'outside-window';
  return (state.window & (1n << BigInt(age))) !== 0n ? 'seen' : 'not-seen';
}

function firstMessage(incarnation: bigint, seq: number, linkId: number): SenderReplayState {
  return { incarnation, highestSeq: seq, window: 1n, links: new Map([[linkId, 1n]]) };
}

/** Slides the window up to `seq` (> highestSeq); bits that fall off the bottom are forgotten. */
function advance(state: SenderReplayState, seq: number): SenderReplayState {
  const shift = seq - state.highestSeq;
  const links = new Map<number, bigint>();
  for (const [link, bits] of state.links) {
    const moved = slide(bits, shift);
    if (moved !== 0n) links.set(link, moved);
  }
  return { incarnation: state.incarnation, highestSeq: seq, window: slide(state.window, shift), links };
}

function slide(bits: bigint, shift: number): bigint {
  return shift >= REPLAY_WINDOW ? 0n : (bits << BigInt(shift)) & WINDOW_MASK;
}

function mark(state: SenderReplayState, linkId: number, bit: bigint): SenderReplayState {
  const links = new Map(state.links);
  links.set(linkId, (links.get(linkId) ?? 0n) | bit);
  return { ...state, window: state.window | bit, links };
}
