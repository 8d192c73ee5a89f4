/**
 * The only file that loads our realtime shim (native-shims/realtime/, built by `make setup`):
 * SCHED_FIFO for every thread of the daemon, so a busy machine cannot starve the heartbeat path.
 * (Why there is no memory locking: see the comment at the top of realtime/realtime_shim.c.)
 */
import { createRequire } from 'node:module';
import { addonPath } from './addon-path.js';

export interface RealtimeShim {
  /** SCHED_FIFO | SCHED_RESET_ON_FORK at `priority` for every thread of the process. */
  setFifo(priority: number): { readonly rc: number; readonly errno: number; readonly threads: number };
}

let loaded: RealtimeShim | undefined;


export function openRealtime(): RealtimeShim {
  loaded ??= createRequire(import.meta.url)(addonPath('realtime', 'vmac_realtime', 'VMAC_RT_UNAVAILABLE', 'realtime shim')) as RealtimeShim;
  return loaded;
}
