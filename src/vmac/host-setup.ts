/**
 * What the node needs outside nftables: the VIP bound on the cluster interface (so the IP stack
 * delivers frames the filter accepted) and `arp_announce=2` (the kernel must never use the VIP as
 * the sender of its own ARP requests, or clients' VIP -> VMAC entries get overwritten with the
 * node's real MAC). Everything changed is recorded so that stop restores exactly what was there.
 */
import type { Rtnetlink, LinkInfo } from '../../native-shims/netlink.js';
import { parseIp } from '../util/ip.js';
import type { SysctlPort } from './sysctl.js';

/** rtnetlink as the host setup uses it; the shim's `Rtnetlink` satisfies it, and so does a fake. */
export type AddressPort = Pick<Rtnetlink, 'getLink' | 'addAddress' | 'deleteAddress'>;

export interface HostChanges {
  readonly link: LinkInfo;
  readonly vipAdded: boolean; // false: the VIP was already there and is not ours to remove
  readonly sysctlsBefore: ReadonlyMap<string, string>;
}

/** `arp_announce` is max(all, <if>), so setting the interface alone is enough and touches less. */
export function nodeSysctls(ifname: string): ReadonlyMap<string, string> {
  return new Map([[`net.ipv4.conf.${ifname}.arp_announce`, '2']]);
}

/** All or nothing: when a step fails, the sysctls written before it are written back, then it throws. */
export async function prepareHost(ports: { rtnl: AddressPort; sysctl: SysctlPort }, ifname: string, vip: string): Promise<HostChanges> {
  const link = await ports.rtnl.getLink(ifname);
  const sysctlsBefore = new Map<string, string>();
  try {
    for (const [key, value] of nodeSysctls(ifname)) {
      const before = ports.sysctl.read(key);
      ports.sysctl.write(key, value);
      sysctlsBefore.set(key, before);
    }
    const outcome = await ports.rtnl.addAddress(link.index, parseIp(vip).bytes, 32);
    return { link, vipAdded: outcome === 'added', sysctlsBefore };
  } catch (err) {
    for (const [key, value] of sysctlsBefore) {
      try { ports.sysctl.write(key, value); } catch { /* the original error is the one to report */ }
    }
    throw err;
  }
}

export async function restoreHost(ports: { rtnl: AddressPort; sysctl: SysctlPort }, changes: HostChanges, vip: string): Promise<void> {
  if (changes.vipAdded) await ports.rtnl.deleteAddress(changes.link.index, parseIp(vip).bytes, 32);
  for (const [key, value] of changes.sysctlsBefore) ports.sysctl.write(key, value);
}
