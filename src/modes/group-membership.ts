/**
 * How a node receives the shared group MAC of the `multicast` and `igmp` modes (issue 17).
 *
 *   igmp       the node joins the IPv4 group 239.255.<vip byte 3>.<vip byte 4> on the cluster
 *              interface with one UDP socket (IP_ADD_MEMBERSHIP). The kernel then programs the NIC's
 *              filter for the group MAC, sends IGMP membership reports, answers the switch's
 *              queries for as long as the socket is open, and sends a leave when it closes — also
 *              when the daemon dies, since the kernel closes its sockets. A snooping switch thus
 *              sees exactly the live nodes as members.
 *   multicast  03:bf:… maps to no IP group, so there is nothing to report: the node adds the MAC to
 *              the interface's link-layer multicast list (`ip maddr add`, SIOCADDMULTI) so a real
 *              NIC's filter passes it, and removes it on stop. (veth and bridges have no filter.)
 */
import { createSocket, type Socket } from 'node:dgram';
import { execFile } from 'node:child_process';
import type { Mode } from '../config/types.js';
import { VmacError } from '../util/errors.js';
import { igmpGroup } from './mode-addresses.js';

export interface ModeMembership {
  /** What was joined, for logs: `igmp 239.255.0.1` or `maddr 03:bf:…`. */
  readonly what: string;
  leave(): Promise<void>;
}

/** The ports a mode's membership uses (tests pass fakes). */
export interface MembershipPorts {
  /** Joins an IPv4 group on the interface that holds `ifaceAddr` (the VIP). */
  readonly joinGroup4: (group: string, ifaceAddr: string) => Promise<{ leave(): void }>;
  /** Adds (`add`) or removes (`del`) a link-layer multicast address of `ifname`. */
  readonly linkMulticast: (op: 'add' | 'del', ifname: string, mac: string) => Promise<void>;
}

/** Joins what `mode` needs; null when the mode needs nothing (unicast, arp-steer). */
export async function joinModeGroup(ports: MembershipPorts, mode: Mode, o: { ifname: string; vip: string; vmac: string }): Promise<ModeMembership | null> {
  if (mode === 'igmp') {
    const group = igmpGroup(o.vip);
    const m = await ports.joinGroup4(group, o.vip);
    return { what: `igmp ${group}`, leave: () => { m.leave(); return Promise.resolve(); } };
  }
  if (mode === 'multicast') {
    await ports.linkMulticast('add', o.ifname, o.vmac);
    return { what: `maddr ${o.vmac}`, leave: () => ports.linkMulticast('del', o.ifname, o.vmac) };
  }
  return null;
}

export const udpJoinGroup4: MembershipPorts['joinGroup4'] = (group, ifaceAddr) => new Promise((resolve, reject) => {
  const sock: Socket = createSocket({ type: 'udp4', reuseAddr: true });
  const failed = (err: unknown): void => {
    try { sock.close(); } catch { /* already closed */ }
    reject(new VmacError('VMAC_IGMP_FAILED', `cannot join ${group} on the interface of ${ifaceAddr}: ${(err as Error).message}`, { group, ifaceAddr }, { cause: err }));
  };
  sock.once('error', failed);
  sock.bind(0, '0.0.0.0', () => {
    try {
      sock.addMembership(group, ifaceAddr);
    } catch (err) {
      failed(err);
      return;
    }
    sock.removeListener('error', failed);
    sock.on('error', () => undefined); // nothing is ever received or sent on it
    resolve({ leave: () => { try { sock.close(); } catch { /* already closed */ } } });
  });
});

/** `ip maddr add|del <mac> dev <ifname>`; a `del` of an address that is gone is not an error. */
export const ipLinkMulticast: MembershipPorts['linkMulticast'] = (op, ifname, mac) => new Promise((resolve, reject) => {
  execFile('ip', ['maddr', op, mac, 'dev', ifname], { timeout: 5000 }, (err, _out, stderr) => {
    if (!err || op === 'del') { resolve(); return; }
    reject(new VmacError('VMAC_IGMP_FAILED', `cannot add the multicast MAC ${mac} to ${ifname}: ${stderr.trim() || err.message}`, { ifname, mac }, { cause: err }));
  });
});

export const systemMembership: MembershipPorts = { joinGroup4: udpJoinGroup4, linkMulticast: ipLinkMulticast };
