/**
 * The node reducer's vocabulary (node-reducer.ts): its parameters, its state, the events it is
 * fed and the effects it asks the interpreter (daemon/cluster-runtime.ts) to carry out.
 */
import type { DropCounters, ReplayStates } from '../cluster/heartbeat-receiver.js';
import type { Heartbeat } from '../cluster/heartbeat-types.js';
import type { MembershipState } from '../cluster/membership.js';
import type { AgreementState } from '../cluster/map-agreement.js';
import type { QuorumPolicyConfig, TieBreakerState, TwoNodeVerdict } from '../cluster/quorum-policy.js';
import type { ConfigAgreementState, Standing } from '../cluster/config-agreement.js';
import type { HeartbeatKey } from '../cluster/heartbeat-auth.js';
import type { DecodeResult } from '../cluster/heartbeat-codec.js';
import type { LocalFingerprint } from '../config/fingerprint.js';
import type { Adoption, MoveReason, TakeoverParams, TakeoverState } from '../takeover/ownership-reducer.js';
import type { PhaseChange } from '../model/phases.js';
import type { FlowView } from '../takeover/udp-flow-handover.js';

export interface NodeParams {
  readonly selfId: number;
  readonly incarnation: bigint;
  /** Every configured node, self included, in config order (weights as configured). */
  readonly nodes: readonly { readonly id: number; readonly weight: number }[];
  /** Every configured node's id (a heartbeat from any other id is dropped). */
  readonly knownIds: ReadonlySet<number>;
  /** The peers, in config order (as our heartbeats report them). */
  readonly peerIds: readonly number[];
  readonly linkCount: number;
  readonly buckets: number;
  readonly intervalMs: number;
  readonly suspectAfter: number;
  readonly deadAfter: number;
  readonly leaseMs: number;
  readonly renewMs: number;
  readonly marginMs: number;
  /** quorum.policy as configured (absent: majority). */
  readonly quorum?: QuorumPolicyConfig;
  /** A fence runner is configured: peers are fenced before their buckets are taken. */
  readonly fencing: boolean;
  readonly fingerprint: LocalFingerprint;
  /** Verifies and decodes a datagram (the wire codec's decode, or the simulator's). */
  readonly key: HeartbeatKey;
  readonly decode: (bytes: Uint8Array, key: HeartbeatKey) => DecodeResult;
  /** The per-flow UDP hand-over runs beside this node: it is told our view after every decision. */
  readonly perFlow: boolean;
  readonly takeover: TakeoverParams;
  /** false: the config-roll simulator's broken variant only (no hold for serving nodes outside our list). */
  readonly unlistedHold?: boolean;
}

/** Read from the other runners (tie-breaker, fence runner) when an event arrives. */
export interface NodeInputs {
  readonly tieBreaker: TieBreakerState;
  /** Peers the fence gate lets us take over (fence-runner.ts `allowed`). */
  readonly fenced: ReadonlySet<number>;
}

export interface RestartWindow {
  readonly windowMs: number;
  /** When the announcing heartbeat went out; null once acknowledged or given up. */
  readonly sentAtMs: number | null;
}

export interface NodeState {
  readonly p: NodeParams;
  readonly m: MembershipState;
  readonly t: TakeoverState;
  readonly replay: ReplayStates;
  readonly agreement: AgreementState;
  readonly configPeers: ConfigAgreementState;
  readonly configStanding: Standing;
  readonly verdict: TwoNodeVerdict | null;
  readonly counters: DropCounters;
  readonly perLinkReceived: readonly number[];
  readonly linkHeard: ReadonlyMap<number, readonly (number | null)[]>;
  /** Serving (a renewal applied) since the last lease loss; the interpreter reports each renewal. */
  readonly wasServing: boolean;
  readonly shortLease: boolean;
  readonly servingSinceMs: number | null;
  /** Serving although unhealthy: announce `standby`, not `active`. */
  readonly degraded: boolean;
  readonly restart: RestartWindow;
  /** A node not in our list announced serving (a roll): hold no bucket before this instant (config-agreement.ts). */
  readonly unlistedUntilMs: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type NodeEvent =
  | { readonly kind: 'start' }
  | { readonly kind: 'interval' } // the heartbeat period: decide, then send
  | { readonly kind: 'renew-due' }
  | { readonly kind: 'tick' } // something outside changed (a fence succeeded)
  | { readonly kind: 'datagram'; readonly bytes: Uint8Array; readonly linkId: number }
  | { readonly kind: 'conntrack'; readonly busy: ReadonlySet<number>; readonly atMs: number; readonly udpActive: ReadonlySet<number> }
  | { readonly kind: 'health'; readonly leasing: boolean; readonly drainTimeoutMs: number }
  | { readonly kind: 'drain'; readonly drainTimeoutMs: number }
  | { readonly kind: 'resume' }
  | { readonly kind: 'weight'; readonly weight: number }
  | { readonly kind: 'stop' }
  | { readonly kind: 'degraded'; readonly degraded: boolean }
  | { readonly kind: 'restart-requested'; readonly windowMs: number }
  | { readonly kind: 'restart-timeout' }
  /** The interpreter wrote a renewal into the kernel (the effect succeeded). */
  | { readonly kind: 'lease-renewed'; readonly leaseMs: number };

export type NodeEffect =
  | { readonly kind: 'log'; readonly level: LogLevel; readonly fields: Record<string, unknown>; readonly msg: string }
  | { readonly kind: 'send'; readonly hb: Omit<Heartbeat, 'linkId'> }
  | { readonly kind: 'phases'; readonly changes: readonly PhaseChange[]; readonly reason: MoveReason; readonly absent: readonly number[]; readonly holding: number; readonly epoch: number; readonly silentMs?: readonly (number | null)[] }
  | { readonly kind: 'renew-lease'; readonly leaseMs: number }
  | { readonly kind: 'release-lease' }
  | { readonly kind: 'announce'; readonly reason: 'start' | 'takeover' }
  | { readonly kind: 'exit' }
  | { readonly kind: 'fence-peer-heard'; readonly target: number }
  | { readonly kind: 'fence-require'; readonly target: number; readonly reason: string }
  /** Tell the per-flow UDP runner our view as it is at this point of the step. */
  | { readonly kind: 'flows-sync'; readonly view: FlowView }
  /** A quorum acknowledged the restart window: stop the timers, write this lease, hand over. */
  | { readonly kind: 'restart-ready'; readonly leaseMs: number; readonly owned: number; readonly adoption: Adoption }
  | { readonly kind: 'restart-refused' };

export interface NodeStep { readonly state: NodeState; readonly effects: readonly NodeEffect[] }
