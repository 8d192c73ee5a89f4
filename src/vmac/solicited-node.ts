/**
 * Membership of the VIP6's solicited-node multicast group on the cluster interface.
 *
 * Clients resolve the VIP6 with an NS sent to ff02::1:ffXX:XXXX (its low 24 bits). The kernel
 * joins that group only for addresses on the interface itself, and the VIP6 lives on `lo`
 * (host-setup.ts), so the daemon joins it: the membership programs the NIC's multicast filter
 * for 33:33:ff:XX:XX:XX and makes the kernel report it by MLD, so a switch that snoops MLD
 * forwards the group's NS to every node. One UDP socket holds the membership while the daemon
 * runs; closing it leaves the group (the kernel sends the MLD done).
 */
import { createSocket, type Socket } from 'node:dgram';
import { solicitedNodeGroup } from '../arp/nd-frame.js';
import { VmacError } from '../util/errors.js';

export interface GroupMembership {
  readonly group: string;
  leave(): void;
}

/** Joins `group` on `ifname`; the port the daemon receives as `joinGroup6` (tests pass a fake). */
export type JoinGroup6 = (ifname: string, group: string) => Promise<GroupMembership>;

export const udpJoinGroup6: JoinGroup6 = (ifname, group) => new Promise((resolve, reject) => {
  const sock: Socket = createSocket({ type: 'udp6', reuseAddr: true });
  const failed = (err: unknown): void => {
    try { sock.close(); } catch { /* already closed */ }
    reject(new VmacError('VMAC_MLD_FAILED', `cannot join ${group} on ${ifname}: ${(err as Error).message}`, { ifname, group }, { cause: err }));
  };
  sock.once('error', failed);
  sock.bind(0, '::', () => {
    try {
      sock.addMembership(group, `::%${ifname}`);
    } catch (err) {
      failed(err);
      return;
    }
    sock.removeListener('error', failed);
    sock.on('error', () => undefined); // nothing is ever received or sent on it
    resolve({ group, leave: () => { try { sock.close(); } catch { /* already closed */ } } });
  });
});

/** Joins the VIP6's solicited-node group. */
export function joinSolicitedNode(join: JoinGroup6, ifname: string, vip6: string): Promise<GroupMembership> {
  return join(ifname, solicitedNodeGroup(vip6));
}
