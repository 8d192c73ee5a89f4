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

/** rtnetlink as the host setup uses it; the shim's `Rtnetlink` satisfies it, and so does a fake. */
export type AddressPort = Pick<Rtnetlink, 'getLink' | 'addAddress' | 'deleteAddress'>;

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

/** All or nothing: when a step fails, what was changed before it is undone, then it throws. */
export async function prepareHost(ports: { rtnl: AddressPort; sysctl: SysctlPort }, ifname: string, vip: string, vip6: string | null = null): Promise<HostChanges> {
  const link = await ports.rtnl.getLink(ifname);
  if (vip6 !== null) checkIpv6Enabled(ports.sysctl, ifname);
  const sysctlsBefore = new Map<string, string>();
  let changes: HostChanges;
  try {
    for (const [key, value] of nodeSysctls(ifname)) {
      const before = ports.sysctl.read(key);
      ports.sysctl.write(key, value);
      sysctlsBefore.set(key, before);
    }
    const outcome = await ports.rtnl.addAddress(link.index, parseIp(vip).bytes, 32);
    changes = { link, vipAdded: outcome === 'added', sysctlsBefore };
  } catch (err) {
    for (const [key, value] of sysctlsBefore) {
      try { ports.sysctl.write(key, value); } catch { /* the original error is the one to report */ }
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

export async function restoreHost(ports: { rtnl: AddressPort; sysctl: SysctlPort }, changes: HostChanges, vip: string, vip6: string | null = null): Promise<void> {
  if (vip6 !== null && changes.vip6Added === true) {
    const lo = await ports.rtnl.getLink(VIP6_DEVICE);
    await ports.rtnl.deleteAddress(lo.index, parseIp(vip6).bytes, 128);
  }
  if (changes.vipAdded) await ports.rtnl.deleteAddress(changes.link.index, parseIp(vip).bytes, 32);
  for (const [key, value] of changes.sysctlsBefore) ports.sysctl.write(key, value);
}
