/**
 * The XDP backend's lease, read from outside the daemon (the lab's partition and link checks):
 * the deadline in the vmac_state map of the program attached to a node's interface. The program
 * drops every frame once bpf_ktime_get_ns() ≥ deadline (0: no lease), and bpf_ktime_get_ns is
 * CLOCK_MONOTONIC, the clock of this process's hrtime: so the instant the lease ended is the
 * deadline itself, whatever the polling delay — read once it has passed.
 */
import { openXdp } from '../native-shims/xdp.js';
import { STATE_DEADLINE } from '../src/vmac/xdp-maps.js';

export interface XdpLeaseReader {
  /** The lease deadline in CLOCK_MONOTONIC ns (0n: none), or null if the map cannot be read. */
  deadlineNs(): bigint | null;
  close(): void;
}

/** A reader for the XDP program on `ifname` in the namespace at `netnsPath`; null: no XDP program there (nft backend). */
export function xdpLeaseReader(netnsPath: string, ifname = 'eth0'): XdpLeaseReader | null {
  let xdp: ReturnType<typeof openXdp>;
  try {
    xdp = openXdp();
    const info = xdp.ifInfo(netnsPath, ifname);
    if (!(info.progId > 0)) return null;
    const found = xdp.progMaps(info.progId);
    const fd = found?.maps.vmac_state;
    if (found === null || fd === undefined) return null;
    return {
      deadlineNs: () => xdp.mapLookup(fd, STATE_DEADLINE, 8)?.readBigUInt64LE(0) ?? null,
      close: () => { for (const f of Object.values(found.maps)) xdp.closeFd(f); },
    };
  } catch {
    return null;
  }
}

/** Pure: when a lease with this deadline ended, seen at `nowNs` (null: still running). A cleared lease (0) ended by the time it was seen. */
export function leaseEndedAtNs(deadlineNs: bigint, nowNs: bigint): bigint | null {
  if (deadlineNs === 0n) return nowNs;
  return nowNs >= deadlineNs ? deadlineNs : null;
}
