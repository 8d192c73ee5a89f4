/**
 * The one function the daemon calls per received heartbeat datagram: decode, authenticate,
 * then the checks that need cluster context (who we are, who is configured, what we have seen).
 * Pure and total: every datagram ends in exactly one named outcome, so `accepted` plus the drop
 * counters always equals the number of datagrams received.
 */
import type { HeartbeatKey } from './heartbeat-auth.js';
import { DROP_REASONS, decodeHeartbeat, type DecodeResult, type DropReason } from './heartbeat-codec.js';
import type { Heartbeat } from './heartbeat-types.js';
import { checkReplay, type SenderReplayState } from './replay-window.js';

/** Replay state of every sender heard, by sender id. Immutable: a changed map is a new map. */
export type ReplayStates = ReadonlyMap<number, SenderReplayState>;

/** Drops decided after authentication: the sender id is genuine, so logs may name it. */
export type SenderDrop = 'from-self' | 'unknown-node' | 'replay' | 'stale-incarnation';

export type ReceiveOutcome = 'accepted' | 'duplicate' | SenderDrop | DropReason;

/** Every outcome, in a stable order (for counters, metrics and log vocabularies). */
export const RECEIVE_OUTCOMES: readonly ReceiveOutcome[] = [
  'accepted', 'duplicate', 'from-self', 'unknown-node', 'replay', 'stale-incarnation', ...DROP_REASONS,
];

export interface ReceiveContext {
  readonly key: HeartbeatKey;
  readonly selfId: number;
  /** Configured node ids (ours included or not: our own id is reported as `from-self` first). */
  readonly knownIds: ReadonlySet<number>;
  readonly replay: ReplayStates;
  /** The decoder (default: the wire format's; the simulator may pass its own, see HeartbeatCodec). */
  readonly decode?: (bytes: Uint8Array, key: HeartbeatKey) => DecodeResult;
}

/**
 * Every result carries `replay`, the map to keep for the next datagram (the same object when
 * nothing changed), so the caller cannot forget to store it.
 * - `accepted`: a new message; feed `hb` to membership.
 * - `duplicate`: the copy of an accepted message from another link. Not news for membership,
 *   but genuine evidence that `hb.linkId` works, for per-link health.
 */
export type ReceiveResult =
  | { readonly outcome: 'accepted' | 'duplicate'; readonly hb: Heartbeat; readonly replay: ReplayStates }
  | { readonly outcome: SenderDrop; readonly senderId: number; readonly replay: ReplayStates; readonly serving?: boolean }
  | { readonly outcome: DropReason; readonly replay: ReplayStates };

/** Judges one datagram. Never throws. */
export function receiveHeartbeat(bytes: Uint8Array, ctx: ReceiveContext): ReceiveResult {
  const decoded = (ctx.decode ?? decodeHeartbeat)(bytes, ctx.key);
  if (!decoded.ok) return { outcome: decoded.reason, replay: ctx.replay };
  const hb = decoded.hb;
  // Our own multicast looped back, or a copy of our message sent back at us: never about a peer.
  if (hb.senderId === ctx.selfId) return senderDrop('from-self', hb, ctx);
  // A key holder with another configuration: its id means nothing to our bucket map.
  if (!ctx.knownIds.has(hb.senderId)) return senderDrop('unknown-node', hb, ctx);
  const verdict = checkReplay(ctx.replay.get(hb.senderId), hb.incarnation, hb.seq, hb.linkId);
  if (!('next' in verdict)) return senderDrop(verdict.verdict, hb, ctx);
  const replay = new Map(ctx.replay).set(hb.senderId, verdict.next);
  return { outcome: verdict.verdict === 'accept' ? 'accepted' : 'duplicate', hb, replay };
}

function senderDrop(outcome: SenderDrop, hb: Heartbeat, ctx: ReceiveContext): ReceiveResult {
  // `serving`: what an unknown node (another node list: a roll) announces; see config-agreement.ts unlistedHold.
  if (outcome === 'unknown-node') return { outcome, senderId: hb.senderId, replay: ctx.replay, serving: hb.hasQuorum || (hb.handover?.phases.some((p) => p !== 'none') ?? false) };
  return { outcome, senderId: hb.senderId, replay: ctx.replay };
}

/** One counter per outcome; their sum is the number of datagrams received. */
export type DropCounters = Record<ReceiveOutcome, number>;

export function createDropCounters(): DropCounters {
  return Object.fromEntries(RECEIVE_OUTCOMES.map((o) => [o, 0])) as DropCounters;
}

/** Adds one to the counter of `outcome` (counters are the daemon's mutable tally, not reducer state). */
export function countOutcome(counters: DropCounters, outcome: ReceiveOutcome): void {
  counters[outcome] += 1;
}

/** Total datagrams counted: accepted plus every drop. */
export function totalReceived(counters: DropCounters): number {
  return RECEIVE_OUTCOMES.reduce((sum, o) => sum + counters[o], 0);
}
