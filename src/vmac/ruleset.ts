/**
 * Renders the node's kernel data path as nft script text. Pure: no I/O, so every byte the kernel
 * receives is unit-tested. The shape (see KERNEL-NOTES.md):
 *
 *   table netdev vmac_<service>
 *     set alive   { ifname, timeout }   the node's lease: one element renewed by the daemon
 *     map owned   { bucket : verdict }  buckets this node answers (changes only on ownership moves);
 *                                       `counter`: per-element packets/bytes accepted, read by metrics
 *     chain ingress (hook ingress on the cluster interface, policy accept)
 *       VMAC + VIP + lease alive           -> pkttype host, jhash -> vmap @owned (accept)
 *       anything else for the VMAC         -> drop (not owned, lease gone, not IPv4 to the VIP)
 *       ARP asking for / claiming the VIP  -> drop (the daemon answers, never the kernel)
 *       everything else                    -> accept (the node's own traffic is untouched)
 *
 * The service's traffic is decided by the first rule alone; the node's own traffic pays four
 * early mismatches. A missing `alive` element (lease expired: daemon dead or hung) makes the first
 * rule miss, so the node stops answering by itself. One verdict-map lookup replaces set + jump.
 */
export interface DataPathPlan {
  readonly table: string; // nft table name, e.g. vmac_web
  readonly ifname: string;
  readonly vip: string; // IPv4 text
  readonly vmac: string; // aa:bb:cc:dd:ee:ff
  readonly buckets: number;
  readonly hashExpr: string; // e.g. `jhash ip saddr mod 256 seed 0x5eed` (seed always explicit)
}

/** The netdev ingress priority: before anything else an operator may hook at ingress. */
export const INGRESS_PRIORITY = -500;

/**
 * Per-element counters on `owned`: the kernel counts packets and bytes accepted per bucket, so
 * metrics are read, not estimated (src/metrics/nft-counters.ts). An element's counter starts at
 * zero whenever the bucket is added again; the metrics side accumulates across moves.
 */
export const OWNED_MAP_FLAGS = 'counter;';

export function tableName(service: string): string {
  return `vmac_${service.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

function elements(buckets: readonly number[]): string {
  return buckets.map((b) => `${b} : accept`).join(', ');
}

/** The whole table, replacing any previous one atomically (add+delete+create in one batch). */
export function renderInstall(plan: DataPathPlan, owned: readonly number[], leaseMs: number | null): string {
  const t = `netdev ${plan.table}`;
  const lines = [
    `add table ${t}`,
    `delete table ${t}`,
    `add table ${t}`,
    `add set ${t} alive { type ifname; flags timeout; }`,
    `add map ${t} owned { typeof numgen inc mod ${plan.buckets} : verdict; ${OWNED_MAP_FLAGS} }`,
    `add chain ${t} ingress { type filter hook ingress device ${JSON.stringify(plan.ifname)} priority ${INGRESS_PRIORITY}; policy accept; }`,
    `add rule ${t} ingress ether daddr ${plan.vmac} ip daddr ${plan.vip} iifname @alive meta pkttype set host ${plan.hashExpr} vmap @owned`,
    `add rule ${t} ingress ether daddr ${plan.vmac} drop`,
    `add rule ${t} ingress arp daddr ip ${plan.vip} drop`,
    `add rule ${t} ingress arp saddr ip ${plan.vip} drop`,
  ];
  if (owned.length > 0) lines.push(`add element ${t} owned { ${elements(owned)} }`);
  if (leaseMs !== null) lines.push(renderRenew(plan, leaseMs));
  return lines.join('\n');
}

/**
 * Renews the lease. `expires` must be written: re-adding an element with the same timeout alone
 * does not renew it in the kernel (KERNEL-NOTES.md), and the old expiry would drop packets.
 */
export function renderRenew(plan: DataPathPlan, leaseMs: number): string {
  return `add element netdev ${plan.table} alive { ${JSON.stringify(plan.ifname)} timeout ${leaseMs}ms expires ${leaseMs}ms }`;
}

/** Drops the lease now: the node stops answering every bucket at once. */
export function renderRelease(plan: DataPathPlan): string {
  return `flush set netdev ${plan.table} alive`;
}

/** One atomic batch moving buckets in and out of `owned`. Empty string when nothing changes. */
export function renderOwnedDelta(plan: DataPathPlan, add: readonly number[], remove: readonly number[]): string {
  const t = `netdev ${plan.table}`;
  const lines: string[] = [];
  if (remove.length > 0) lines.push(`delete element ${t} owned { ${remove.join(', ')} }`);
  if (add.length > 0) lines.push(`add element ${t} owned { ${elements(add)} }`);
  return lines.join('\n');
}

/** Removes the table if present (idempotent: `add` first so `delete` cannot fail on absence). */
export function renderTeardown(plan: Pick<DataPathPlan, 'table'>): string {
  return [`add table netdev ${plan.table}`, `delete table netdev ${plan.table}`].join('\n');
}
