/**
 * Loads one native module by name without opening anything, for the start-up check of
 * `vmac run` (src/daemon/preflight.ts decides) and for `make deb`, which checks that the staged
 * package loads every one of them.
 */
import { isVmacError } from '../src/util/errors.js';
import type { NativeModule, ProbeResult } from '../src/daemon/preflight.js';
import { loadNftablesShim } from './nftables.js';
import { loadNetlinkPackage } from './netlink.js';
import { loadCap } from './pcap.js';
import { loadRawSocketPackage } from './raw-socket.js';
import { openRealtime } from './realtime.js';
import { loadSdnotifyShim } from './sdnotify.js';
import { loadConntrackShim } from './conntrack.js';
import { loadXdpShim } from './xdp.js';

const LOADERS: Record<NativeModule, () => unknown> = {
  nftables: loadNftablesShim,
  netlink: loadNetlinkPackage,
  cap: loadCap,
  'raw-socket': loadRawSocketPackage,
  realtime: openRealtime,
  sdnotify: loadSdnotifyShim,
  conntrack: loadConntrackShim,
  xdp: loadXdpShim,
};

export function probeNativeModule(m: NativeModule): ProbeResult {
  try {
    LOADERS[m]();
    return { ok: true };
  } catch (err) {
    return { ok: false, code: isVmacError(err) ? err.code : 'VMAC_NATIVE_UNAVAILABLE', message: err instanceof Error ? err.message : String(err) };
  }
}
