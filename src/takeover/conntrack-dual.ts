/**
 * Dual stack: the drain's TCP reading covers the VIP6 too. The netlink adapter reads IPv4
 * entries only; the VIP6's connections come from a second port (the `conntrack` tool listing
 * `-f ipv6`). Busy buckets are the union; UDP flows (the per-flow hand-over) are the IPv4 port's:
 * the per-flow hand-over keys flows on IPv4 addresses, and IPv6 UDP moves with its bucket.
 */
import type { ConntrackPort } from './conntrack-port.js';

export function withVip6Connections(v4: ConntrackPort, v6: ConntrackPort): ConntrackPort {
  return {
    async busyBuckets() {
      const [a, b] = await Promise.all([v4.busyBuckets(), v6.busyBuckets()]);
      return new Set([...a, ...b]);
    },
    ...(v4.udpFlows ? { udpFlows: () => (v4.udpFlows as NonNullable<ConntrackPort['udpFlows']>)() } : {}),
    close() {
      v4.close?.();
      v6.close?.();
    },
  };
}
