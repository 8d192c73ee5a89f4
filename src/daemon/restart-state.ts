/**
 * The hand-off file of a hitless restart: what the old process leaves for its successor (its
 * buckets' phases and grants, when its kernel lease ends, and which host changes are ours to undo
 * on a later stop). Written atomically (rename); read once and deleted, so a crash loop can never
 * adopt twice: a successor that dies before renewing leaves nothing a third process could reuse,
 * and the kernel lease (the announced window) runs out by itself.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { BucketPhase } from '../vmac/ruleset.js';
import { BUCKET_PHASES } from '../vmac/ruleset.js';

export interface RestartState {
  readonly version: 1;
  readonly service: string;
  readonly incarnation: string; // of the old process (for logs)
  readonly leaseUntilEpochMs: number; // wall clock: processes do not share a monotonic clock origin
  readonly phases: readonly (readonly [number, BucketPhase])[];
  readonly grants: readonly (readonly [number, number])[];
  readonly vipAdded: boolean;
  /** Dual stack: whether the VIP6 on lo is ours to remove (absent: no VIP6, or an older file). */
  readonly vip6Added?: boolean;
  readonly sysctlsBefore: readonly (readonly [string, string])[];
  /** Buckets whose UDP the old process kept (UDP flow timeout; absent in older files). */
  readonly udpKept?: readonly number[];
  /**
   * The old process's config fingerprint digest (src/config/fingerprint.ts; absent in older
   * files). A successor whose config differs in a shared field does not adopt: it rebuilds an
   * empty table (no lease) and stays out of the cluster until the configs agree.
   */
  readonly fingerprint?: string;
  /** Its layout and slots (absent in older files): a successor on a config a roll allows adopts (src/cluster/roll-compat.ts). */
  readonly fingerprintSlots?: { readonly layout: number; readonly slots: readonly number[] };
}

export function restartStatePath(controlSocket: string, service: string): string {
  // Beside the control socket, named after it: unique per node even when nodes share a directory.
  return join(dirname(controlSocket), `${basename(controlSocket)}.${service}.restart.json`);
}

export function writeRestartState(path: string, st: RestartState): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(st)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Reads and deletes the file; null if absent, unreadable, for another service, or malformed. */
export function takeRestartState(path: string, service: string): RestartState | null {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch { return null; }
  rmSync(path, { force: true });
  try {
    const st = JSON.parse(text) as RestartState;
    const ok = st.version === 1 && st.service === service && Number.isFinite(st.leaseUntilEpochMs) &&
      Array.isArray(st.phases) && st.phases.every(([b, p]: readonly [unknown, unknown]) => Number.isInteger(b) && BUCKET_PHASES.includes(p as BucketPhase)) &&
      Array.isArray(st.grants) && Array.isArray(st.sysctlsBefore) &&
      (st.udpKept === undefined || (Array.isArray(st.udpKept) && st.udpKept.every((b) => Number.isInteger(b)))) &&
      (st.fingerprint === undefined || typeof st.fingerprint === 'string');
    return ok ? st : null;
  } catch {
    return null;
  }
}
