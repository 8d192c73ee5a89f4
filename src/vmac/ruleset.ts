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
 *   first, with ICMP error steering (plan.icmpErrors): an ICMP error about a packet the VIP (VIP6)
 *   sent, hashed on the embedded destination (and port) -> vmap @owned, before the clients' rule
 *   would hash the router that sent it; then the same match -> drop (a bucket this node does not
 *   own must not fall through to the clients' rule); fragments under address+port alike
 *   an IPv6-only service (vip null) has no IPv4 clients' rule and no ARP drops, only the VIP6's:
 *   with a VIP6 (dual stack or IPv6 only), before the "anything else" drop:
 *       NS / NA whose target is the VIP6   -> drop (the daemon's ND responder answers, never the
 *                                             kernel; unicast NS to the VMAC would otherwise be
 *                                             hashed into one node's stack)
 *       VMAC + VIP6 + lease alive          -> pkttype host, jhash over `ip6 saddr` -> vmap @owned
 *                                             (the same `owned` map: one bucket map for both families)
 *       everything else                    -> accept (the node's own traffic is untouched)
 *
 *   table inet vmac_<service>_ct           conntrack-aware hand-over (KERNEL-NOTES "Conntrack hand-over"),
 *                                          family inet so one `phase` map covers IPv4 and IPv6
 *     map phase { bucket : jump draining | jump incoming }   only buckets being handed over
 *     chain pre (hook prerouting priority -150, after conntrack; policy accept)
 *       VIP from the cluster interface     -> same jhash -> vmap @phase
 *       VIP6 from the cluster interface    -> the IPv6 jhash -> vmap @phase (dual stack only)
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
 *   with the per-flow UDP hand-over (udpPerFlow, the default; udp-flow-rules.ts): flow sets and
 *     the stages draining_adopt → draining and incoming_hold → incoming instead
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
import { renderFlowPhaseChains, renderFlowTable, type UdpPerFlowPlan } from './udp-flow-rules.js';
import { parseIp } from '../util/ip.js';
import { BUCKET_PHASES, type BucketPhase, type PhaseChange } from '../model/phases.js';
import { icmpErrorMatch } from '../hash/icmp-error-hash.js';
import { frameMatch, otherFramesDrop, type DataPathMode } from '../modes/frame-match.js';

export interface DataPathPlan {
  readonly table: string; // nft table name, e.g. vmac_web
  readonly ifname: string;
  /** IPv4 text; null: an IPv6-only service (only `v6` rules, no IPv4 or ARP rules). */
  readonly vip: string | null;
  readonly vmac: string; // aa:bb:cc:dd:ee:ff
  readonly buckets: number;
  readonly hashExpr: string; // e.g. `jhash ip saddr mod 256 seed 0x5eed` (seed always explicit)
  /** Dual stack: the IPv6 VIP and its hash expression (`jhash ip6 saddr … mod B seed S`, the same B and S). */
  readonly v6?: DataPathPlan6;
  /**
   * ICMP errors about the VIP's packets hashed on the embedded destination (src/hash/icmp-error-hash.ts),
   * so they reach the connection's owner; absent: they follow the clients' rule (hashed on the router).
   */
  readonly icmpErrors?: IcmpErrorPlan;
  /**
   * `address+port` only: fragmented datagrams (any fragment, the first included) hashed by the
   * client address alone (`jhash ip saddr …` / `jhash ip6 saddr …`), so that every fragment of a
   * datagram reaches the same node: non-first fragments carry no ports, the clients' rule cannot
   * hash them and every node would drop them.
   */
  readonly fragments?: { readonly hashExpr4: string; readonly hashExpr6?: string };
  /** 0 or absent: UDP moves with the bucket's new flows. Else: one node keeps a moving bucket's UDP until it is quiet this long. */
  readonly udpFlowTimeoutMs?: number;
  /** The per-flow UDP hand-over (udp-flow-rules.ts); ignored while udpFlowTimeoutMs > 0. */
  readonly udpPerFlow?: UdpPerFlowPlan;
  /**
   * How the VIP's frames are addressed (src/modes/frame-match.ts); absent: `unicast`. In `arp-steer`
   * they arrive to the node's own MAC, so the rules match `meta pkttype host` instead of the VMAC.
   */
  readonly mode?: DataPathMode;
}

/** The per-flow UDP hand-over is rendered (on, and the per-bucket keeper is not). */
export function perFlowOn(plan: DataPathPlan): plan is DataPathPlan & { udpPerFlow: UdpPerFlowPlan } {
  return plan.udpPerFlow !== undefined && (plan.udpFlowTimeoutMs ?? 0) === 0;
}

export interface IcmpErrorPlan {
  readonly hashExpr4: string;
  readonly hashExpr6?: string; // with a VIP6
}

export interface DataPathPlan6 {
  readonly vip6: string; // canonical IPv6 text
  readonly hashExpr6: string;
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

/** The conntrack hand-over table beside the netdev table. */
export function ctTableName(table: string): string {
  return `${table}_ct`;
}

/**
 * The hand-over table's family: `inet`, so that one table and one `phase` map decide IPv4 and
 * IPv6 connections alike (both families' rules jump to the same chains).
 */
export const CT_FAMILY = 'inet';

/** The VIP6 as the 128-bit hex literal nft compares raw payload with (`@th,64,128 0x…`). */
export function ipv6Hex(vip6: string): string {
  return `0x${Array.from(parseIp(vip6).bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * ICMP error steering: before the clients' rules (which would hash the router's address), an
 * ICMP error whose embedded packet came from the VIP (VIP6) is hashed on the embedded destination.
 */
export function renderIcmpSteering(plan: DataPathPlan): string[] {
  const e = plan.icmpErrors;
  if (!e) return [];
  const t = `netdev ${plan.table}`;
  const rule = (family: string, vip: string, hashExpr: string): string[] =>
    terminal(t, plan, `${family} daddr ${vip} ${icmpErrorMatch(vip)}`, hashExpr);
  return [
    ...(plan.vip !== null ? rule('ip', plan.vip, e.hashExpr4) : []),
    ...(plan.v6 && e.hashExpr6 !== undefined ? rule('ip6', plan.v6.vip6, e.hashExpr6) : []),
  ];
}

/** Fragments under `address+port` (plan.fragments): before the clients' rules, which need ports. */
export function renderFragments(plan: DataPathPlan): string[] {
  const f = plan.fragments;
  if (!f) return [];
  const t = `netdev ${plan.table}`;
  return [
    // MF set or a non-zero offset: any fragment of a fragmented datagram.
    ...(plan.vip !== null ? terminal(t, plan, `ip daddr ${plan.vip} ip frag-off & 0x3fff != 0`, f.hashExpr4) : []),
    ...(plan.v6 && f.hashExpr6 !== undefined ? terminal(t, plan, `ip6 daddr ${plan.v6.vip6} exthdr frag exists`, f.hashExpr6) : []),
  ];
}

/**
 * A rule that hashes other fields than the clients' rule (ICMP errors, fragments) must decide
 * alone: a `vmap` whose bucket this node does not own (or with the lease gone) falls through to
 * the next rule, and the clients' rule would then hash the same packet on its outer source (the
 * router) or its port and hand it to a second node. So each such rule is followed by a drop of
 * what it matched: found in a three-node lab, where every ICMP error also reached the owner of
 * the router's bucket and a first fragment under address+port the owner of its port.
 */
function terminal(t: string, plan: DataPathPlan, match: string, hashExpr: string): string[] {
  const f = frameMatch(plan);
  return [
    `add rule ${t} ingress ${f.match} ${match} iifname @alive ${f.accept}${hashExpr} vmap @owned`,
    `add rule ${t} ingress ${f.match} ${match} drop`,
  ];
}

/**
 * Dual stack: the netdev rules of the VIP6. ND's target address sits 8 bytes into the ICMPv6
 * header (NS and NA alike), read as raw transport payload (nft 1.0.6 has no `icmpv6 taddr`).
 */
export function renderIngress6(plan: DataPathPlan): string[] {
  if (!plan.v6) return [];
  const t = `netdev ${plan.table}`;
  return [
    `add rule ${t} ingress icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } @th,64,128 ${ipv6Hex(plan.v6.vip6)} drop`,
    `add rule ${t} ingress ${frameMatch(plan).match} ip6 daddr ${plan.v6.vip6} iifname @alive ${frameMatch(plan).accept}${plan.v6.hashExpr6} vmap @owned`,
  ];
}

// The phase vocabulary lives in model/phases.ts (shared with the wire and the reducers).
export type { BucketPhase, PhaseChange };
export { BUCKET_PHASES };

function elements(buckets: readonly number[]): string {
  return buckets.map((b) => `${b} : accept`).join(', ');
}

/** The IPv4 clients' rule (none for an IPv6-only service). */
function renderIngress4(plan: DataPathPlan, t: string): string[] {
  const f = frameMatch(plan);
  return plan.vip === null ? [] : [`add rule ${t} ingress ${f.match} ip daddr ${plan.vip} iifname @${ALIVE_SET} ${f.accept}${plan.hashExpr} vmap @owned`];
}

/** ARP for the VIP never reaches the kernel (none for an IPv6-only service: no ARP at all). */
function renderArpDrops(plan: DataPathPlan, t: string): string[] {
  return plan.vip === null ? [] : [`add rule ${t} ingress arp daddr ip ${plan.vip} drop`, `add rule ${t} ingress arp saddr ip ${plan.vip} drop`];
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
    ...renderIcmpSteering(plan),
    ...renderFragments(plan),
    ...renderIngress4(plan, t),
    ...renderIngress6(plan),
    ...otherFramesDrop(plan).map((m) => `add rule ${t} ingress ${m} drop`),
    ...renderArpDrops(plan, t),
  ];
  if (owned.length > 0) lines.push(`add element ${t} owned { ${elements(owned)} }`);
  lines.push(...renderCtTable(plan));
  if (leaseMs !== null) lines.push(renderRenew(plan, leaseMs));
  return lines.join('\n');
}

/** The hand-over table, empty `phase` map (replaced atomically like the netdev table). */
export function renderCtTable(plan: DataPathPlan): string[] {
  const t = `${CT_FAMILY} ${ctTableName(plan.table)}`;
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
  const tail = [
    `add map ${t} phase { typeof numgen inc mod ${plan.buckets} : verdict; }`,
    `add chain ${t} pre { type filter hook prerouting priority ${CT_PRIORITY}; policy accept; }`,
    ...(plan.vip !== null ? [`add rule ${t} pre iifname ${JSON.stringify(plan.ifname)} ip daddr ${plan.vip} ${plan.hashExpr} vmap @phase`] : []),
    ...(plan.v6 ? [`add rule ${t} pre iifname ${JSON.stringify(plan.ifname)} ip6 daddr ${plan.v6.vip6} ${plan.v6.hashExpr6} vmap @phase`] : []),
  ];
  if (perFlowOn(plan)) return [`add table ${t}`, `delete table ${t}`, `add table ${t}`, ...renderFlowTable(plan, plan.udpPerFlow), ...renderFlowPhaseChains(plan), ...tail];
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
    ...tail,
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
  const ct = `${CT_FAMILY} ${ctTableName(plan.table)}`;
  const ownedDel: number[] = [];
  const ownedAdd: number[] = [];
  const phaseDel: number[] = [];
  const phaseAdd: string[] = [];
  for (const c of changes) {
    if (c.from === c.to) continue;
    if (inPhaseMap(c.from)) phaseDel.push(c.bucket);
    // Per-flow UDP: a bucket starts draining by adopting its conntrack flows, and incoming by
    // holding all UDP until the old owner's list arrived (udp-flow-handover.ts).
    const flowStage = perFlowOn(plan) ? (c.to === 'draining' ? '_adopt' : '_hold') : '';
    if (inPhaseMap(c.to)) phaseAdd.push(`${c.bucket} : jump ${c.to}${c.udp === true && (plan.udpFlowTimeoutMs ?? 0) > 0 ? '_udp' : flowStage}`);
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
  return `list set ${CT_FAMILY} ${ctTableName(plan.table)} ${UDP_ACTIVE_SET}`;
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

/**
 * Removes the tables if present (idempotent: `add` first so `delete` cannot fail on absence).
 * The `ip` hand-over table of versions before dual stack goes too.
 */
export function renderTeardown(plan: Pick<DataPathPlan, 'table'>): string {
  const ct = ctTableName(plan.table);
  return [`add table netdev ${plan.table}`, `delete table netdev ${plan.table}`, `add table ${CT_FAMILY} ${ct}`, `delete table ${CT_FAMILY} ${ct}`, `add table ip ${ct}`, `delete table ip ${ct}`].join('\n');
}
