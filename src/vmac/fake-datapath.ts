import type { DataPathPort, DataPathState } from './datapath-port.js';
import { VmacError } from '../util/errors.js';

export interface FakeDataPath extends DataPathPort {
  failNext(message: string): void;
  /**
   * The buckets answered right now (installed, owned, live lease) — the live set, not a copy, so
   * the simulator can check every simulated millisecond cheaply; null when answering nothing.
   */
  answeringNow(): ReadonlySet<number> | null;
}

/** In-memory data path with a lease that expires on an injected clock; for unit tests and the simulator. */
export function fakeDataPath(nowMs: () => number): FakeDataPath {
  let installed = false;
  let owned = new Set<number>();
  let leaseUntilMs: number | null = null;
  let fault: string | null = null;
  const guard = (what: string): void => {
    if (fault !== null) {
      const message = fault;
      fault = null;
      throw new VmacError('VMAC_NFT_FAILED', `nft ${what} failed: ${message}`, { what });
    }
  };
  const needInstalled = (what: string): void => {
    guard(what);
    if (!installed) throw new VmacError('VMAC_NFT_FAILED', `nft ${what} failed: No such file or directory`, { what });
  };
  return {
    install(buckets, leaseMs) {
      guard('install');
      installed = true;
      owned = new Set(buckets);
      leaseUntilMs = leaseMs === null ? null : nowMs() + leaseMs;
    },
    move(add, remove) {
      needInstalled('move');
      for (const b of remove) if (!owned.has(b)) throw new VmacError('VMAC_NFT_FAILED', `nft move failed: bucket ${b} not owned`, { bucket: b });
      for (const b of remove) owned.delete(b);
      for (const b of add) owned.add(b);
    },
    renew(leaseMs) {
      needInstalled('renew');
      leaseUntilMs = nowMs() + leaseMs;
    },
    release() {
      needInstalled('release');
      leaseUntilMs = null;
    },
    teardown() {
      guard('teardown');
      installed = false;
      owned = new Set();
      leaseUntilMs = null;
    },
    inspect(): DataPathState {
      if (!installed) return { installed: false, owned: [], leaseRemainingMs: null };
      const remaining = leaseUntilMs === null ? null : leaseUntilMs - nowMs();
      return { installed, owned: [...owned].sort((a, b) => a - b), leaseRemainingMs: remaining !== null && remaining > 0 ? remaining : null };
    },
    answeringNow() {
      return installed && leaseUntilMs !== null && leaseUntilMs - nowMs() > 0 ? owned : null;
    },
    failNext(message) {
      fault = message;
    },
  };
}
