/**
 * The data-path port: the few things the daemon asks of the kernel filter. The nft adapter
 * (nft-datapath.ts) and the in-memory fake (fake-datapath.ts) both pass test/contract/datapath.
 */
import type { BucketPhase, PhaseChange } from './ruleset.js';
import type { FlowSet, TimedFlow, UdpFlowKey } from './udp-flow-rules.js';

export type { BucketPhase, PhaseChange } from './ruleset.js';

export interface DataPathState {
  readonly installed: boolean;
  readonly owned: readonly number[]; // sorted: every bucket let in at ingress (any phase but none)
  readonly incoming: readonly number[]; // sorted: subset of owned, new owner of a hand-over
  readonly draining: readonly number[]; // sorted: subset of owned, old owner of a hand-over
  readonly leaseRemainingMs: number | null; // null: no live lease (node answers nothing)
}

export interface DataPathPort {
  /** Creates (or atomically replaces) the whole filter with these buckets and a fresh lease. */
  install(owned: readonly number[], leaseMs: number | null): void;
  /** Moves buckets in and out of the owned map in one atomic transaction. */
  move(add: readonly number[], remove: readonly number[]): void;
  /** Applies per-bucket phase changes (hand-over) in one atomic transaction. */
  setPhases(changes: readonly PhaseChange[]): void;
  /**
   * Buckets whose UDP this node, as their keeper, saw while draining within the UDP flow timeout
   * (the kernel's `udpactive` set). Empty when the timeout is off or nothing was seen.
   */
  udpActive(): ReadonlySet<number>;
  /**
   * Per-flow UDP hand-over (udp-flow-rules.ts), one transaction: fill a daemon-filled flow set
   * and move the bucket to the phase's next stage (draining_adopt → draining with `keepfill`,
   * incoming_hold → incoming with `listed` and `theirs`; draining_release: a drain for health,
   * no UDP of the bucket accepted here). Absent: the adapter has no per-flow sets.
   */
  udpFlowStage?(bucket: number, stage: 'draining' | 'incoming' | 'draining_release', fills: readonly { readonly set: 'keepfill' | 'listed' | 'theirs'; readonly flows: readonly TimedFlow[] }[]): void;
  /** Per-flow UDP: several buckets' udpFlowStage in one transaction (a drain start moves many at once). */
  udpFlowStages?(stages: readonly { readonly bucket: number; readonly stage: 'draining' | 'incoming' | 'draining_release'; readonly fills: readonly { readonly set: 'keepfill' | 'listed' | 'theirs'; readonly flows: readonly TimedFlow[] }[] }[]): void;
  /** Per-flow UDP: ends these flows in these sets at once (buckets that left the hand-over), one transaction. */
  udpFlowExpire?(sets: readonly { readonly set: FlowSet; readonly flows: readonly UdpFlowKey[] }[]): void;
  /** Per-flow UDP: the elements of one flow set with the time each has left. */
  udpFlowSet?(set: FlowSet): TimedFlow[];
  /** Extends the lease to `leaseMs` from now. */
  renew(leaseMs: number): void;
  /** Drops the lease now: the node stops answering at once, buckets stay recorded. */
  release(): void;
  /** Removes everything of ours; idempotent. */
  teardown(): void;
  inspect(): DataPathState;
}

/** The phase of every bucket as the state lists it (owned minus the hand-over ones are `owned`). */
export function phasesOf(st: DataPathState): Map<number, BucketPhase> {
  const out = new Map<number, BucketPhase>();
  for (const b of st.owned) out.set(b, 'owned');
  for (const b of st.incoming) out.set(b, 'incoming');
  for (const b of st.draining) out.set(b, 'draining');
  return out;
}
