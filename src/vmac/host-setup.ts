/**
 * What the node needs outside nftables: the VIP bound on the cluster interface (so the IP stack
 * delivers frames the filter accepted) and `arp_announce=2` (the kernel must never use the VIP as
 * the sender of its own ARP requests, or clients' VIP -> VMAC entries get overwritten with the
 * node's real MAC). Everything changed is recorded so that stop restores exactly what was there.
 */
import type { Rtnetlink, LinkInfo } from '../../native-shims/netlink.js';
import { parseIp } from '../util/ip.js';
import type { SysctlPort } from './sysctl.js';
import { acquireShare, releaseShare, type ShareStore } from './sysctl-share.js';

/**
 * Several vmac services on one host share the interface sysctls (sysctl-share.ts): present, the
 * value found is restored only when the last service lets go. Absent: this service's own
 * before/after (one service per host, and the unit tests).
 */
export interface SysctlShare {
  readonly store: ShareStore;
  readonly service: string;
  readonly pid: number;
  readonly isAlive: (pid: number) => boolean;
}

const shareKey = (key: string): string => key.replace(/[^a-zA-Z0-9_.-]/g, '_');

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

export async function prepareHost(ports: { rtnl: AddressPort; sysctl: SysctlPort; share?: SysctlShare }, ifname: string, vip: string): Promise<HostChanges> {
  const link = await ports.rtnl.getLink(ifname);
  const sysctlsBefore = new Map<string, string>();
  const sh = ports.share;
  for (const [key, value] of nodeSysctls(ifname)) {
    const current = ports.sysctl.read(key);
    sysctlsBefore.set(key, sh ? sh.store.update(shareKey(key), (s) => { const st = acquireShare(s, sh.service, sh.pid, current, sh.isAlive); return { state: st, result: st.before ?? current }; }) : current);
    ports.sysctl.write(key, value);
  }
  const outcome = await ports.rtnl.addAddress(link.index, parseIp(vip).bytes, 32);
  return { link, vipAdded: outcome === 'added', sysctlsBefore };
}

export async function restoreHost(ports: { rtnl: AddressPort; sysctl: SysctlPort; share?: SysctlShare }, changes: HostChanges, vip: string): Promise<void> {
  if (changes.vipAdded) await ports.rtnl.deleteAddress(changes.link.index, parseIp(vip).bytes, 32);
  const sh = ports.share;
  for (const [key, value] of changes.sysctlsBefore) {
    if (!sh) { ports.sysctl.write(key, value); continue; }
    // Another vmac service still uses this interface: leave the setting in force for it.
    const restore = sh.store.update(shareKey(key), (s) => { const r = releaseShare(s, sh.service, sh.isAlive); return { state: r.state, result: r.restore }; });
    if (restore !== null) ports.sysctl.write(key, restore);
  }
}
