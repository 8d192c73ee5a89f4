/**
 * The only file that loads our realtime shim (native-shims/realtime/, built by `make setup`):
 * SCHED_FIFO for every thread of the daemon, so a busy machine cannot starve the heartbeat path.
 * (Why there is no memory locking: see the comment at the top of realtime/realtime_shim.c.)
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VmacError } from '../src/util/errors.js';

export interface RealtimeShim {
  /** SCHED_FIFO | SCHED_RESET_ON_FORK at `priority` for every thread of the process. */
  setFifo(priority: number): { readonly rc: number; readonly errno: number; readonly threads: number };
}

let loaded: RealtimeShim | undefined;

function addonPath(): string {
  const candidates = ['./realtime/build/Release/vmac_realtime.node', '../../native-shims/realtime/build/Release/vmac_realtime.node'];
  for (const rel of candidates) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new VmacError('VMAC_RT_UNAVAILABLE', 'the realtime shim is not built (native-shims/realtime): run `make setup`', { candidates });
}

export function openRealtime(): RealtimeShim {
  loaded ??= createRequire(import.meta.url)(addonPath()) as RealtimeShim;
  return loaded;
}
