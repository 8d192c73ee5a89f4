/**
 * The data-path port: the few things the daemon asks of the kernel filter. The nft adapter
 * (nft-datapath.ts) and the in-memory fake (fake-datapath.ts) both pass test/contract/datapath.
 */
export interface DataPathState {
  readonly installed: boolean;
  readonly owned: readonly number[]; // sorted
  readonly leaseRemainingMs: number | null; // null: no live lease (node answers nothing)
}

export interface DataPathPort {
  /** Creates (or atomically replaces) the whole filter with these buckets and a fresh lease. */
  install(owned: readonly number[], leaseMs: number | null): void;
  /** Moves buckets in and out of the owned map in one atomic transaction. */
  move(add: readonly number[], remove: readonly number[]): void;
  /** Extends the lease to `leaseMs` from now. */
  renew(leaseMs: number): void;
  /** Drops the lease now: the node stops answering at once, buckets stay recorded. */
  release(): void;
  /** Removes everything of ours; idempotent. */
  teardown(): void;
  inspect(): DataPathState;
}
