/**
 * The floating-VIP driver (a singleton's `vip: { address, interface }`, Pacemaker's IPaddr2):
 * start adds the address to the interface through rtnetlink and announces it with a burst of
 * gratuitous ARPs (IPv4) or unsolicited Neighbor Advertisements (IPv6) from the node's own MAC,
 * so clients and switches move to this node at once; stop removes it; monitor checks that the
 * address is on the interface. The kernel answers ARP/ND for it like for any local address.
 */
import type { Logger } from 'pino';
import type { AddressPort } from '../../vmac/host-setup.js';
import type { Rtnetlink } from '../../../native-shims/netlink.js';
import type { PacketPort } from '../../arp/packet-port.js';
import type { Schedule } from '../../arp/garp-burst.js';
import { gratuitousArp } from '../../arp/arp-frame.js';
import { unsolicitedNa } from '../../arp/nd-frame.js';
import { formatIp, parseIp } from '../../util/ip.js';
import type { FloatingVipSpec } from '../../crm/model.js';
import type { ActionResult, MonitorResult, ResourceDriver } from './driver.js';

export interface FloatingVipDeps {
  readonly spec: FloatingVipSpec;
  /** listAddresses is optional: without it the monitor trusts what start/stop did. */
  readonly rtnl: AddressPort & Partial<Pick<Rtnetlink, 'listAddresses'>>;
  /** The interface's packet port, opened on the first start (the announcement's only use). */
  readonly openPacketPort: (ifname: string) => PacketPort;
  readonly schedule: Schedule;
  readonly log: Logger;
  /** Announcement burst: frames and spacing (the service's arp.garpCount / arp.garpIntervalMs). */
  readonly garpCount: number;
  readonly garpIntervalMs: number;
}

export function floatingVip(d: FloatingVipDeps): ResourceDriver & { close(): void } {
  const { spec } = d;
  const ip = parseIp(spec.address);
  const v6 = ip.family === 6;
  let port: PacketPort | null = null;
  let cancel: (() => void) | null = null;
  let added = false;
  const describe = `vip ${spec.address}/${spec.prefixLength} on ${spec.interface}`;
  const fail = (what: string, err: unknown): ActionResult => ({ outcome: 'failed', detail: `${what}: ${err instanceof Error ? err.message : String(err)}` });

  return {
    kind: 'command',
    describe,
    async start(): Promise<ActionResult> {
      let mac: string;
      try {
        const link = await d.rtnl.getLink(spec.interface);
        mac = link.mac;
        const outcome = await d.rtnl.addAddress(link.index, ip.bytes, spec.prefixLength);
        added = true;
        d.log.info({ event: 'vip-added', address: spec.address, ifname: spec.interface, outcome }, `floating VIP ${spec.address} ${outcome} on ${spec.interface}`);
      } catch (err) { return fail('adding the address', err); }
      try {
        const p = (port ??= d.openPacketPort(spec.interface));
        // The node's own MAC is both the Ethernet source and the announced address (no VMAC here).
        const frame = v6 ? unsolicitedNa({ ethSrc: mac, vip6: spec.address, vmac: mac }) : gratuitousArp({ ethSrc: mac, senderMac: mac, ip: spec.address });
        cancel?.();
        let left = Math.max(1, d.garpCount);
        const announce = (): void => {
          cancel = null;
          try { p.send(frame); } catch (err) { d.log.warn({ err, event: 'vip-announce-failed', address: spec.address }, `floating VIP ${spec.address}: announcement frame refused`); }
          if (--left > 0) cancel = d.schedule(announce, d.garpIntervalMs);
        };
        announce();
      } catch (err) {
        // The address is up and the kernel answers ARP for it: clients whose cache is stale move on their next request.
        d.log.warn({ err, event: 'vip-announce-failed', address: spec.address }, `floating VIP ${spec.address}: gratuitous announcement failed`);
      }
      return { outcome: 'ok', detail: `${describe} up` };
    },
    async stop(): Promise<ActionResult> {
      cancel?.();
      cancel = null;
      try {
        const link = await d.rtnl.getLink(spec.interface);
        const outcome = await d.rtnl.deleteAddress(link.index, ip.bytes, spec.prefixLength);
        added = false;
        d.log.info({ event: 'vip-removed', address: spec.address, ifname: spec.interface, outcome }, `floating VIP ${spec.address} ${outcome} from ${spec.interface}`);
        return { outcome: 'ok', detail: `${describe} down (${outcome})` };
      } catch (err) { return fail('removing the address', err); }
    },
    async monitor(): Promise<MonitorResult> {
      if (!d.rtnl.listAddresses) return added ? { state: 'running', detail: 'added by this node' } : { state: 'stopped', detail: 'not added' };
      try {
        const link = await d.rtnl.getLink(spec.interface);
        const present = (await d.rtnl.listAddresses(link.index)).some((a) => a.family === ip.family && formatIp(a.bytes) === formatIp(ip.bytes));
        if (present) return { state: 'running', detail: `${spec.address} on ${spec.interface}` };
        return { state: added ? 'failed' : 'stopped', detail: `${spec.address} not on ${spec.interface}` };
      } catch (err) { return { state: 'failed', detail: `listing addresses: ${err instanceof Error ? err.message : String(err)}` }; }
    },
    close() { cancel?.(); port?.close(); port = null; },
  };
}
