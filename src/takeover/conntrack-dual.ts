/**
 * Dual stack: the drain's TCP reading covers the VIP6 too. The netlink adapter reads IPv4
 * entries only; the VIP6's connections come from a second port (the `conntrack` tool listing
 * `-f ipv6`). Busy buckets are the union; so are the UDP flows of the per-flow hand-over (IPv4
 * from the netlink port, IPv6 from the tool's listing).
 */
import type { ConntrackPort } from './conntrack-port.js';

export function withVip6Connections(v4: ConntrackPort, v6: ConntrackPort): ConntrackPort {
  return {
    async busyBuckets() {
      const [a, b] = await Promise.all([v4.busyBuckets(), v6.busyBuckets()]);
      return new Set([...a, ...b]);
    },
    ...(v4.udpFlows ? {
      async udpFlows() {
        const [a, b] = await Promise.all([(v4.udpFlows as NonNullable<ConntrackPort['udpFlows']>)(), v6.udpFlows ? v6.udpFlows() : []]);
        return [...a, ...b];
      },
    } : {}),
    close() {
      v4.close?.();
      v6.close?.();
    },
  };
}
