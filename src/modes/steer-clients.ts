/**
 * The clients an arp-steer node knows of (issue 17): every ARP requester for the VIP it has seen
 * (requests are broadcast, so every node sees every client's), every IPv6 solicitor of the VIP6
 * (NS go to the VIP6's solicited-node group, which every node joins), plus the neighbours of the
 * cluster interface (clients that resolved the VIP before the daemon started and that the node
 * has talked to since). On takeover or a planned move, the new owner sends each known client of
 * the buckets it gained a directed ARP reply "VIP is-at <my MAC>" (steer-announcer.ts).
 * Pure: a bounded map, oldest first out.
 */
import { isUnicastMac } from '../arp/arp-frame.js';

/** At most this many clients are remembered: a flood of forged requests cannot grow memory. */
export const MAX_STEER_CLIENTS = 65_536;

export interface SteerClient { readonly ip: string; readonly mac: string }

export class SteerClients {
  private readonly byIp = new Map<string, string>();

  constructor(private readonly max = MAX_STEER_CLIENTS) {}

  /** Records (or refreshes) a client; group, zero or malformed MACs are ignored. */
  see(ip: string, mac: string): boolean {
    if (!isUnicastMac(mac)) return false;
    const changed = this.byIp.get(ip) !== mac;
    this.byIp.delete(ip); // re-insert: the map's order is age
    this.byIp.set(ip, mac);
    while (this.byIp.size > this.max) {
      const oldest = this.byIp.keys().next();
      if (oldest.done === true) break;
      this.byIp.delete(oldest.value);
    }
    return changed;
  }

  get size(): number { return this.byIp.size; }

  /** Every known client, oldest first (what the daemon keeps across restarts). */
  all(): SteerClient[] {
    return [...this.byIp].map(([ip, mac]) => ({ ip, mac }));
  }

  /** The known clients whose bucket is in `buckets`. */
  inBuckets(buckets: ReadonlySet<number>, bucketOfIp: (ip: string) => number): SteerClient[] {
    const out: SteerClient[] = [];
    for (const [ip, mac] of this.byIp) if (buckets.has(bucketOfIp(ip))) out.push({ ip, mac });
    return out;
  }
}

/**
 * Link-local IPv6 (fe80::/10) neighbours are not clients: a host reaches the VIP6 from its global
 * address, and steering it by its link-local one (another bucket) would send it to a node that
 * drops its traffic.
 */
export function isLinkLocal6(ip: string): boolean {
  return /^fe[89ab][0-9a-f]?:/i.test(ip);
}

/**
 * Parses `ip -j neigh show dev X` output (IPv4 and IPv6): entries with a link-layer address,
 * excluding the VIP / VIP6 themselves, link-local IPv6 neighbours and FAILED/INCOMPLETE ones.
 * Never throws: bad text gives [].
 */
export function parseNeighJson(text: string, vip: string, vip6?: string): SteerClient[] {
  let rows: unknown;
  try { rows = JSON.parse(text); } catch { return []; }
  if (!Array.isArray(rows)) return [];
  const out: SteerClient[] = [];
  for (const r of rows as { dst?: unknown; lladdr?: unknown; state?: unknown }[]) {
    if (typeof r.dst !== 'string' || typeof r.lladdr !== 'string' || r.dst === vip || r.dst === vip6 || isLinkLocal6(r.dst)) continue;
    const states = Array.isArray(r.state) ? r.state : [];
    if (states.includes('FAILED') || states.includes('INCOMPLETE')) continue;
    out.push({ ip: r.dst, mac: r.lladdr.toLowerCase() });
  }
  return out;
}
