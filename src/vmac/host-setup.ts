/**
 * What the node needs outside nftables: the VIP bound on the cluster interface (so the IP stack
 * delivers frames the filter accepted) and `arp_announce=2` (the kernel must never use the VIP as
 * the sender of its own ARP requests, or clients' VIP -> VMAC entries get overwritten with the
 * node's real MAC). Everything changed is recorded so that stop restores exactly what was there.
 *
 * Dual stack: the VIP6 is bound as a /128 on the loopback device, without DAD (`nodad`), and not
 * on the cluster interface. Two reasons, both from the kernel's ND code:
 *  - a node's kernel solicits a client's MAC from the packet's source address when that address
 *    is on the outgoing interface (ndisc_solicit); an NS from the VIP6 carrying the node's real
 *    MAC makes the client overwrite its VIP6 -> VMAC entry (RFC 4861 §7.2.3). With the VIP6 on
 *    `lo` the kernel solicits from the interface's link-local address instead. (IPv6 has no
 *    `arp_announce`.)
 *  - the kernel answers NS only for addresses of the receiving interface, so it never answers
 *    for the VIP6 (the ingress rule drops such NS as well).
 * Linux accepts a packet for any local address on any interface (weak host model), so traffic
 * to the VIP6 arriving on the cluster interface is delivered.
 */
import type { Rtnetlink, LinkInfo } from '../../native-shims/netlink.js';
import { VmacError } from '../util/errors.js';
import { parseIp } from '../util/ip.js';
import type { SysctlPort } from './sysctl.js';
import { acquireShare, releaseShare, type ShareStore } from './sysctl-share.js';

/** rtnetlink as the host setup uses it; the shim's `Rtnetlink` satisfies it, and so does a fake. */
export type AddressPort = Pick<Rtnetlink, 'getLink' | 'addAddress' | 'deleteAddress'>;

/**
 * Host-wide settings shared by the vmac services of this host (arp_announce of an interface):
 * the value before the first service is recorded once, and restored only when the last one stops.
 */
export interface SysctlShare {
  readonly store: ShareStore;
  readonly service: string;
  readonly pid: number;
  readonly isAlive: (pid: number) => boolean;
}

const shareKey = (key: string): string => key.replace(/[^a-zA-Z0-9_.-]/g, '_');

type HostPorts = { rtnl: AddressPort; sysctl: SysctlPort; share?: SysctlShare };

/** Takes our part of a shared setting: the value to restore some day (the first service's `before`). */
function acquire(ports: HostPorts, key: string, current: string): string {
  const sh = ports.share;
  if (!sh) return current;
  return sh.store.update(shareKey(key), (s) => { const st = acquireShare(s, sh.service, sh.pid, current, sh.isAlive); return { state: st, result: st.before ?? current }; });
}

/**
 * Gives our part back: writes `before` only when no other live vmac service still uses the
 * setting. `write: false`: our write never happened (it failed), so only the share is dropped.
 */
function release(ports: HostPorts, key: string, before: string, o: { write: boolean } = { write: true }): void {
  const sh = ports.share;
  if (!sh) { if (o.write) ports.sysctl.write(key, before); return; }
  const restore = sh.store.update(shareKey(key), (s) => { const r = releaseShare(s, sh.service, sh.isAlive); return { state: r.state, result: r.restore }; });
  if (restore !== null && o.write) ports.sysctl.write(key, restore);
}

/** Where the VIP6 is bound (see the header). */
export const VIP6_DEVICE = 'lo';

export interface HostChanges {
  readonly link: LinkInfo;
  readonly vipAdded: boolean; // false: the VIP was already there and is not ours to remove
  /** Dual stack: whether the VIP6 was added by us (absent: no VIP6). */
  readonly vip6Added?: boolean;
  readonly sysctlsBefore: ReadonlyMap<string, string>;
}

/** `arp_announce` is max(all, <if>), so setting the interface alone is enough and touches less. */
export function nodeSysctls(ifname: string): ReadonlyMap<string, string> {
  return new Map([[`net.ipv4.conf.${ifname}.arp_announce`, '2']]);
}

/** IPv6 must be on for the cluster interface and loopback, or the VIP6 is never delivered. */
function checkIpv6Enabled(sysctl: SysctlPort, ifname: string): void {
  for (const dev of [ifname, VIP6_DEVICE]) {
    const key = `net.ipv6.conf.${dev}.disable_ipv6`;
    let value: string;
    try { value = sysctl.read(key); } catch (err) {
      throw new VmacError('VMAC_IPV6_DISABLED', `vip6 is set but IPv6 is not available on ${dev} (cannot read ${key}): ${(err as Error).message}`, { dev, key }, { cause: err });
    }
    if (value !== '0') throw new VmacError('VMAC_IPV6_DISABLED', `vip6 is set but IPv6 is disabled on ${dev} (${key}=${value}): enable it or remove vip6`, { dev, key, value });
  }
}

/**
 * All or nothing: when a step fails, what was changed before it is undone, then it throws.
 * An IPv6-only service (`vip` null) binds no IPv4 VIP and leaves `arp_announce` alone: there is
 * no IPv4 address of ours the kernel could announce.
 */
export async function prepareHost(ports: HostPorts, ifname: string, vip: string | null, vip6: string | null = null): Promise<HostChanges> {
  const link = await ports.rtnl.getLink(ifname);
  if (vip6 !== null) checkIpv6Enabled(ports.sysctl, ifname);
  const sysctlsBefore = new Map<string, string>();
  let changes: HostChanges;
  try {
    for (const [key, value] of vip === null ? [] : nodeSysctls(ifname)) {
      const before = acquire(ports, key, ports.sysctl.read(key));
      try { ports.sysctl.write(key, value); } catch (err) { release(ports, key, before, { write: false }); throw err; }
      sysctlsBefore.set(key, before);
    }
    const outcome = vip === null ? 'already-present' : await ports.rtnl.addAddress(link.index, parseIp(vip).bytes, 32);
    changes = { link, vipAdded: outcome === 'added', sysctlsBefore };
  } catch (err) {
    for (const [key, value] of sysctlsBefore) {
      try { release(ports, key, value); } catch { /* the original error is the one to report */ }
    }
    throw err;
  }
  if (vip6 === null) return changes;
  try {
    const lo = await ports.rtnl.getLink(VIP6_DEVICE);
    const outcome6 = await ports.rtnl.addAddress(lo.index, parseIp(vip6).bytes, 128);
    return { ...changes, vip6Added: outcome6 === 'added' };
  } catch (err) {
    // Leave nothing behind: the caller has not recorded these changes yet.
    try { await restoreHost(ports, changes, vip, null); } catch { /* the original error is the one to report */ }
    throw err;
  }
}

export async function restoreHost(ports: HostPorts, changes: HostChanges, vip: string | null, vip6: string | null = null): Promise<void> {
  if (vip6 !== null && changes.vip6Added === true) {
    const lo = await ports.rtnl.getLink(VIP6_DEVICE);
    await ports.rtnl.deleteAddress(lo.index, parseIp(vip6).bytes, 128);
  }
  if (changes.vipAdded && vip !== null) await ports.rtnl.deleteAddress(changes.link.index, parseIp(vip).bytes, 32);
  // Another vmac service may still use a shared setting: release() leaves it in force for it.
  for (const [key, value] of changes.sysctlsBefore) release(ports, key, value);
}
