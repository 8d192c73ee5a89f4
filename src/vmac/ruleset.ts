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
 *   table ip vmac_<service>_ct             conntrack-aware hand-over (KERNEL-NOTES "Conntrack hand-over")
 *     map phase { bucket : jump draining | jump incoming }   only buckets being handed over
 *     chain pre (hook prerouting priority -150, after conntrack; policy accept)
 *       VIP from the cluster interface     -> same jhash -> vmap @phase
 *     chain draining (old owner)           established,related accepted; new flows dropped
 *     chain incoming (new owner)           established,related + new TCP SYNs + UDP accepted;
 *                                          other new packets (mid-stream TCP of connections the
 *                                          old owner serves) dropped, never answered with a RST
 *   with a UDP flow timeout (udpFlowTimeoutMs > 0; src/takeover/udp-keeper.ts says why):
 *     set udpactive { bucket, dynamic, timeout = flow timeout }   UDP seen by the keeper while draining
 *     chain draining_udp (old owner, the bucket's UDP keeper)  every UDP packet accepted and recorded
 *                                          in @udpactive; then as `draining`
 *     chain incoming_udp (bucket back at its UDP keeper)       every UDP packet accepted; then as `incoming`
 *     chains draining / incoming (not the keeper)              every UDP packet dropped first
 *
 * A bucket being handed over is in `owned` (so the ingress rule lets it into the IP stack) and
 * in `phase` (so conntrack decides). The hash is computed again at prerouting rather than carried
 * in the packet mark, so the operator's marks are untouched. The ct table exists from the start:
 * conntrack must already track a connection when its bucket starts draining.
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
  /** 0 or absent: UDP moves with the bucket's new flows. Else: one node keeps a moving bucket's UDP until it is quiet this long. */
  readonly udpFlowTimeoutMs?: number;
}

/** The node's lease: one `ifname` element with a timeout (renewed by the daemon). */
export const ALIVE_SET = 'alive';

/** The set of buckets whose UDP the keeper saw within the flow timeout (only with a timeout). */
export const UDP_ACTIVE_SET = 'udpactive';

/** The netdev ingress priority: before anything else an operator may hook at ingress. */
export const INGRESS_PRIORITY = -500;
/** Prerouting priority of the hand-over chain: after conntrack (-200), before mangle (-150 is mangle; -160 keeps us ahead of it). */
export const CT_PRIORITY = -160;

/**
 * Per-element counters on `owned`: the kernel counts packets and bytes accepted per bucket, so
 * metrics are read, not estimated (src/metrics/nft-counters.ts). An element's counter starts at
 * zero whenever the bucket is added again; the metrics side accumulates across moves.
 */
export const OWNED_MAP_FLAGS = 'counter;';

export function tableName(service: string): string {
  return `vmac_${service.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/** The conntrack hand-over table (family ip) beside the netdev table. */
export function ctTableName(table: string): string {
  return `${table}_ct`;
}

/**
 * What the kernel does with one bucket's packets on this node:
 *   none     - dropped at ingress;
 *   owned    - all accepted;
 *   incoming - new owner during a hand-over: established,related, new TCP SYNs and UDP;
 *   draining - old owner during a hand-over: established,related only.
 */
export type BucketPhase = 'none' | 'owned' | 'incoming' | 'draining';
export const BUCKET_PHASES: readonly BucketPhase[] = ['none', 'owned', 'incoming', 'draining'];

/**
 * `udp`: with a UDP flow timeout, this node keeps the bucket's UDP in its new phase (it owned the
 * bucket before it started moving): the kernel then uses the `<phase>_udp` chain.
 */
export interface PhaseChange { readonly bucket: number; readonly from: BucketPhase; readonly to: BucketPhase; readonly udp?: boolean }

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
    `add set ${t} ${ALIVE_SET} { type ifname; flags timeout; }`,
    `add map ${t} owned { typeof numgen inc mod ${plan.buckets} : verdict; ${OWNED_MAP_FLAGS} }`,
    `add chain ${t} ingress { type filter hook ingress device ${JSON.stringify(plan.ifname)} priority ${INGRESS_PRIORITY}; policy accept; }`,
    `add rule ${t} ingress ether daddr ${plan.vmac} ip daddr ${plan.vip} iifname @${ALIVE_SET} meta pkttype set host ${plan.hashExpr} vmap @owned`,
    `add rule ${t} ingress ether daddr ${plan.vmac} drop`,
    `add rule ${t} ingress arp daddr ip ${plan.vip} drop`,
    `add rule ${t} ingress arp saddr ip ${plan.vip} drop`,
  ];
  if (owned.length > 0) lines.push(`add element ${t} owned { ${elements(owned)} }`);
  lines.push(...renderCtTable(plan));
  if (leaseMs !== null) lines.push(renderRenew(plan, leaseMs));
  return lines.join('\n');
}

/** The hand-over table, empty `phase` map (replaced atomically like the netdev table). */
export function renderCtTable(plan: DataPathPlan): string[] {
  const t = `ip ${ctTableName(plan.table)}`;
  const timeoutMs = plan.udpFlowTimeoutMs ?? 0;
  const tcpRules = (chain: string): string[] => [
    `add rule ${t} ${chain} ct state established,related accept`,
    `add rule ${t} ${chain} ct state new tcp flags & (fin|syn|rst|ack) == syn accept`,
  ];
  const udp = timeoutMs > 0 ? [
    // The keeper's chains: all of the bucket's UDP, old flows and new; draining records it.
    `add set ${t} ${UDP_ACTIVE_SET} { typeof numgen inc mod ${plan.buckets}; flags dynamic,timeout; timeout ${timeoutMs}ms; }`,
    `add chain ${t} draining_udp`,
    `add rule ${t} draining_udp meta l4proto udp update @${UDP_ACTIVE_SET} { ${plan.hashExpr} } accept`,
    `add rule ${t} draining_udp ct state established,related accept`,
    `add rule ${t} draining_udp drop`,
    `add chain ${t} incoming_udp`,
    `add rule ${t} incoming_udp meta l4proto udp accept`,
    ...tcpRules('incoming_udp'),
    `add rule ${t} incoming_udp drop`,
  ] : [];
  // Not the keeper: none of the bucket's UDP (its conntrack may hold stale UDP entries of it).
  const notKeeper = (chain: string): string[] => (timeoutMs > 0 ? [`add rule ${t} ${chain} meta l4proto udp drop`] : []);
  return [
    `add table ${t}`,
    `delete table ${t}`,
    `add table ${t}`,
    `add chain ${t} draining`,
    ...notKeeper('draining'),
    `add rule ${t} draining ct state established,related accept`,
    `add rule ${t} draining drop`,
    `add chain ${t} incoming`,
    ...notKeeper('incoming'),
    ...tcpRules('incoming'),
    ...(timeoutMs > 0 ? [] : [`add rule ${t} incoming ct state new meta l4proto udp accept`]),
    `add rule ${t} incoming drop`,
    ...udp,
    `add map ${t} phase { typeof numgen inc mod ${plan.buckets} : verdict; }`,
    `add chain ${t} pre { type filter hook prerouting priority ${CT_PRIORITY}; policy accept; }`,
    `add rule ${t} pre iifname ${JSON.stringify(plan.ifname)} ip daddr ${plan.vip} ${plan.hashExpr} vmap @phase`,
  ];
}

const inOwned = (p: BucketPhase): boolean => p !== 'none';
const inPhaseMap = (p: BucketPhase): boolean => p === 'incoming' || p === 'draining';

/**
 * One atomic batch applying phase changes: `owned` holds every bucket not `none`, `phase` holds
 * the buckets being handed over with the chain that decides them. Empty string when nothing changes.
 */
export function renderPhaseChanges(plan: DataPathPlan, changes: readonly PhaseChange[]): string {
  const t = `netdev ${plan.table}`;
  const ct = `ip ${ctTableName(plan.table)}`;
  const ownedDel: number[] = [];
  const ownedAdd: number[] = [];
  const phaseDel: number[] = [];
  const phaseAdd: string[] = [];
  for (const c of changes) {
    if (c.from === c.to) continue;
    if (inPhaseMap(c.from)) phaseDel.push(c.bucket);
    if (inPhaseMap(c.to)) phaseAdd.push(`${c.bucket} : jump ${c.to}${c.udp === true && (plan.udpFlowTimeoutMs ?? 0) > 0 ? '_udp' : ''}`);
    if (inOwned(c.from) && !inOwned(c.to)) ownedDel.push(c.bucket);
    if (!inOwned(c.from) && inOwned(c.to)) ownedAdd.push(c.bucket);
  }
  const lines: string[] = [];
  // Order inside the (atomic) batch only matters for element existence: delete before re-add.
  if (phaseDel.length > 0) lines.push(`delete element ${ct} phase { ${phaseDel.join(', ')} }`);
  if (phaseAdd.length > 0) lines.push(`add element ${ct} phase { ${phaseAdd.join(', ')} }`);
  if (ownedDel.length > 0) lines.push(`delete element ${t} owned { ${ownedDel.join(', ')} }`);
  if (ownedAdd.length > 0) lines.push(`add element ${t} owned { ${elements(ownedAdd)} }`);
  return lines.join('\n');
}

/** Lists the buckets whose UDP the keeper saw within the flow timeout (JSON). */
export function renderListUdpActive(plan: Pick<DataPathPlan, 'table'>): string {
  return `list set ip ${ctTableName(plan.table)} ${UDP_ACTIVE_SET}`;
}

/**
 * Renews the lease. `expires` must be written: re-adding an element with the same timeout alone
 * does not renew it in the kernel (KERNEL-NOTES.md), and the old expiry would drop packets.
 */
export function renderRenew(plan: DataPathPlan, leaseMs: number): string {
  return `add element netdev ${plan.table} ${ALIVE_SET} { ${JSON.stringify(plan.ifname)} timeout ${leaseMs}ms expires ${leaseMs}ms }`;
}

/** Drops the lease now: the node stops answering every bucket at once. */
export function renderRelease(plan: DataPathPlan): string {
  return `flush set netdev ${plan.table} ${ALIVE_SET}`;
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
  const ct = ctTableName(plan.table);
  return [`add table netdev ${plan.table}`, `delete table netdev ${plan.table}`, `add table ip ${ct}`, `delete table ip ${ct}`].join('\n');
}
