/**
 * The kernel side of the per-flow UDP hand-over (src/takeover/udp-flow-handover.ts says why and
 * how the two nodes agree), rendered as nft text in the hand-over table `inet vmac_<service>_ct`.
 * A flow is `ip saddr . udp sport . udp dport` (the VIP and protocol are fixed); IPv6 clients'
 * flows (`ip6 saddr . udp sport . udp dport`) live in twin sets named with a `6` (keep6, ...), and
 * every rule that names a set has its IPv6 twin (in the inet table a rule on `ip saddr` matches
 * IPv4 packets only, one on `ip6 saddr` IPv6 only). The daemon sees one logical set per name:
 * the data path splits fills by family and merges listings (nft-datapath.ts).
 *
 *   set keep      dynamic   the old owner's flows of its draining buckets, each refreshed on its
 *                           packets with its idle timeout: the flow is served here until it expires
 *   set keepfill            the same, filled by the daemon from conntrack (flows that had no packet
 *                           since the bucket started draining), timeout = idle time still allowed
 *   set listed              new owner: every flow the old owner published (lives the drain timeout)
 *   set theirs              new owner: the old owner's expiry of each published flow plus a margin
 *   set seen      dynamic   new owner: UDP flows seen since it took the bucket, idle timeout + margin
 *
 *   chain draining_adopt    old owner, from the switch until conntrack's flows are filled in: its
 *                           kept flows, and any flow conntrack already knew (`ct status confirmed`)
 *                           is adopted into `keep`; new UDP dropped
 *   chain draining          old owner afterwards: kept flows only
 *   chain draining_release  old owner draining for health (dead service, lost data path): no UDP
 *                           of the bucket at all; the new owner takes every flow at once
 *   chain incoming_hold     new owner until the old owner's list arrived: no UDP accepted, every
 *                           UDP flow recorded in `seen`
 *   chain incoming          new owner afterwards: a listed flow is refused while the old owner
 *                           may still serve it (`theirs`, or `seen` refreshed by its own packets:
 *                           whichever lasts longer); every other UDP flow is new to the cluster
 *
 * Expiry by the kernel, on 4 ms ticks and never late (KERNEL-NOTES "Leases"), from the same packets
 * on both nodes (frames for the VMAC are flooded to every node): the new owner's refusal outlasts
 * the old owner's keeping by `marginMs`, never the other way round.
 */
import { CT_FAMILY, ctTableName, type DataPathPlan } from './ruleset.js';
import { parseIp } from '../util/ip.js';

/** Per-flow UDP hand-over settings in the data-path plan. */
export interface UdpPerFlowPlan {
  /** Idle timeout of a UDP flow (ms) unless its VIP port has its own. */
  readonly idleMs: number;
  /** Idle timeouts by VIP port (e.g. 53: DNS), ascending by port. */
  readonly portIdleMs: readonly { readonly port: number; readonly idleMs: number }[];
  /** How much longer the new owner refuses a flow than the old owner keeps it. */
  readonly marginMs: number;
  /** Element capacity of each flow set. */
  readonly maxFlows: number;
}

export const FLOW_SETS = ['keep', 'keepfill', 'listed', 'theirs', 'seen'] as const;
export type FlowSet = (typeof FLOW_SETS)[number];

/** One flow (client address, client port, VIP port). */
export interface UdpFlowKey { readonly saddr: string; readonly sport: number; readonly dport: number }
export interface TimedFlow extends UdpFlowKey { readonly timeoutMs: number }

const FLOW = 'ip saddr . udp sport . udp dport';
const FLOW6 = 'ip6 saddr . udp sport . udp dport';
/** Both families: the flow expression and the suffix of its sets. */
const FAMILIES = [{ flow: FLOW, sfx: '' }, { flow: FLOW6, sfx: '6' }] as const;

/** The kernel set of a logical flow set for a client address (`keep` or `keep6`). */
export function familySet(set: FlowSet, saddr: string): string {
  return saddr.includes(':') ? `${set}6` : set;
}

/** The idle timeout of a flow to `dport`. */
export function idleFor(p: Pick<UdpPerFlowPlan, 'idleMs' | 'portIdleMs'>, dport: number): number {
  return p.portIdleMs.find((x) => x.port === dport)?.idleMs ?? p.idleMs;
}

/** Chains and sets added to the hand-over table when the per-flow UDP hand-over is on. */
export function renderFlowTable(plan: DataPathPlan, p: UdpPerFlowPlan): string[] {
  const t = `${CT_FAMILY} ${ctTableName(plan.table)}`;
  const set = (name: FlowSet, flow: string, sfx: string, dynamic: boolean): string => `add set ${t} ${name}${sfx} { typeof ${flow}; flags ${dynamic ? 'dynamic,' : ''}timeout; size ${p.maxFlows}; }`;
  // One refresh rule per port with its own idle timeout, then the default; each in both families
  // (a rule matches its own family's packets only).
  const refresh = (chain: string, target: 'keep' | 'seen', extraMs: number, verdict: 'accept' | 'drop'): string[] => [
    `add chain ${t} ${chain}`,
    ...p.portIdleMs.flatMap((x) => FAMILIES.map((f) => `add rule ${t} ${chain} udp dport ${x.port} update @${target}${f.sfx} { ${f.flow} timeout ${x.idleMs + extraMs}ms } ${verdict}`)),
    ...FAMILIES.map((f) => `add rule ${t} ${chain} update @${target}${f.sfx} { ${f.flow} timeout ${p.idleMs + extraMs}ms } ${verdict}`),
  ];
  const tcp = (chain: string): string[] => [
    `add rule ${t} ${chain} ct state established,related accept`,
    `add rule ${t} ${chain} ct state new tcp flags & (fin|syn|rst|ack) == syn accept`,
  ];
  return [
    ...FAMILIES.flatMap((f) => FLOW_SETS.map((s) => set(s, f.flow, f.sfx, s === 'keep' || s === 'seen'))),
    ...refresh('keep_refresh', 'keep', 0, 'accept'),
    ...refresh('seen_refuse', 'seen', p.marginMs, 'drop'),
    `add chain ${t} kept`,
    ...FAMILIES.flatMap((f) => [`add rule ${t} kept ${f.flow} @keep${f.sfx} goto keep_refresh`, `add rule ${t} kept ${f.flow} @keepfill${f.sfx} goto keep_refresh`]),
    `add chain ${t} refuse`,
    ...FAMILIES.flatMap((f) => [`add rule ${t} refuse ${f.flow} @theirs${f.sfx} goto seen_refuse`, `add rule ${t} refuse ${f.flow} @seen${f.sfx} goto seen_refuse`]),
    `add chain ${t} draining_adopt`,
    `add rule ${t} draining_adopt meta l4proto udp jump kept`,
    // Handed on before an earlier old owner let go: its flows stay refused here too (a stale
    // conntrack entry of ours for one of them must not adopt it).
    ...listedRefused(t, 'draining_adopt'),
    `add rule ${t} draining_adopt meta l4proto udp ct status confirmed goto keep_refresh`,
    `add rule ${t} draining_adopt meta l4proto udp drop`,
    `add rule ${t} draining_adopt ct state established,related accept`,
    `add rule ${t} draining_adopt drop`,
    `add chain ${t} draining_release`,
    ...listedRefused(t, 'draining_release'),
    `add rule ${t} draining_release meta l4proto udp drop`,
    `add rule ${t} draining_release ct state established,related accept`,
    `add rule ${t} draining_release drop`,
    `add chain ${t} incoming_hold`,
    `add rule ${t} incoming_hold meta l4proto udp jump kept`,
    `add rule ${t} incoming_hold meta l4proto udp goto seen_refuse`,
    ...tcp('incoming_hold'),
    `add rule ${t} incoming_hold drop`,
  ];
}

/** A listed flow (either family) goes through `refuse`. */
function listedRefused(t: string, chain: string): string[] {
  return FAMILIES.map((f) => `add rule ${t} ${chain} ${f.flow} @listed${f.sfx} jump refuse`);
}

/** The per-flow `draining` and `incoming` chains (in place of the plain ones). */
export function renderFlowPhaseChains(plan: DataPathPlan): string[] {
  const t = `${CT_FAMILY} ${ctTableName(plan.table)}`;
  return [
    `add chain ${t} draining`,
    `add rule ${t} draining meta l4proto udp jump kept`,
    ...listedRefused(t, 'draining'),
    `add rule ${t} draining meta l4proto udp drop`,
    `add rule ${t} draining ct state established,related accept`,
    `add rule ${t} draining drop`,
    `add chain ${t} incoming`,
    `add rule ${t} incoming meta l4proto udp jump kept`,
    ...listedRefused(t, 'incoming'),
    `add rule ${t} incoming ct state established,related accept`,
    `add rule ${t} incoming ct state new tcp flags & (fin|syn|rst|ack) == syn accept`,
    `add rule ${t} incoming meta l4proto udp accept`,
    `add rule ${t} incoming drop`,
  ];
}

function elems(flows: readonly TimedFlow[]): string {
  // `expires` written too: re-adding with the same timeout alone would not renew (KERNEL-NOTES).
  return flows.map((f) => `${f.saddr} . ${f.sport} . ${f.dport} timeout ${Math.max(1, Math.round(f.timeoutMs))}ms expires ${Math.max(1, Math.round(f.timeoutMs))}ms`).join(', ');
}

/** Adds flows to one of the sets (each flow to its family's), in chunks (one transaction). */
export function renderFlowFill(plan: DataPathPlan, set: FlowSet, flows: readonly TimedFlow[]): string[] {
  const t = `${CT_FAMILY} ${ctTableName(plan.table)}`;
  const out: string[] = [];
  for (const sfx of ['', '6']) {
    const mine = flows.filter((f) => f.saddr.includes(':') === (sfx === '6'));
    for (let i = 0; i < mine.length; i += 512) out.push(`add element ${t} ${set}${sfx} { ${elems(mine.slice(i, i + 512))} }`);
  }
  return out;
}

/**
 * Ends flows at once (1 ms left) in any of the sets: the flows of buckets that left the hand-over.
 * Re-adding an element with another timeout renews it (KERNEL-NOTES), so this also shortens live
 * elements, and never fails on one that expired meanwhile (a `delete` would).
 */
export function renderFlowExpire(plan: DataPathPlan, sets: readonly { readonly set: FlowSet; readonly flows: readonly UdpFlowKey[] }[]): string[] {
  return sets.flatMap(({ set, flows }) => renderFlowFill(plan, set, flows.map((f) => ({ saddr: f.saddr, sport: f.sport, dport: f.dport, timeoutMs: 1 }))));
}

/** Moves a bucket to another chain of its phase (adopt → draining, hold → incoming). */
export function renderStage(plan: DataPathPlan, bucket: number, chain: 'draining' | 'incoming' | 'draining_adopt' | 'incoming_hold' | 'draining_release'): string[] {
  const t = `${CT_FAMILY} ${ctTableName(plan.table)}`;
  return [`delete element ${t} phase { ${bucket} }`, `add element ${t} phase { ${bucket} : jump ${chain} }`];
}

/**
 * Lists one flow set of one family (text: JSON rounds timeouts to seconds). One command per run:
 * libnftables fails a second `list set` in the same buffer (ENOENT on the first set).
 */
export function renderListFlows(plan: Pick<DataPathPlan, 'table'>, set: FlowSet, family: 4 | 6 = 4): string {
  return `list set ${CT_FAMILY} ${ctTableName(plan.table)} ${set}${family === 6 ? '6' : ''}`;
}

/** `1m2s345ms` → ms. */
function durationMs(text: string): number {
  let ms = 0;
  for (const m of text.matchAll(/(\d+)(ms|d|h|m|s)/g)) {
    const v = Number(m[1]);
    ms += m[2] === 'ms' ? v : m[2] === 's' ? v * 1000 : m[2] === 'm' ? v * 60_000 : m[2] === 'h' ? v * 3_600_000 : v * 86_400_000;
  }
  return ms;
}

/** The elements of a listed flow set with the time each has left (`expires`), from nft's text. */
export function parseFlowSet(text: string): TimedFlow[] {
  const out: TimedFlow[] = [];
  for (const m of text.matchAll(/(\d+\.\d+\.\d+\.\d+|[0-9a-fA-F]*:[0-9a-fA-F:.]+) \. (\d+) \. (\d+)(?: timeout ([0-9dhms]+))?(?: expires ([0-9dhms]+))?/g)) {
    const addr = m[1] as string;
    out.push({ saddr: addr.includes(':') ? parseIp(addr).text : addr, sport: Number(m[2]), dport: Number(m[3]), timeoutMs: m[5] !== undefined ? durationMs(m[5]) : m[4] !== undefined ? durationMs(m[4]) : 0 });
  }
  return out;
}

/**
 * How much longer the new owner refuses a flow than the old owner keeps it: kernel timeouts fire
 * up to 8 ms early, on 4 ms ticks, and a packet reaches the two nodes microseconds apart; 100 ms
 * covers that with room. A packet of a flow that was idle for its whole timeout and comes back
 * within this margin is dropped by both (never answered twice); its retry reaches the new owner.
 */
export const REFUSE_MARGIN_MS = 100;

/** Flow-set capacity: 262,144 flows per set (the size of the kernel's default conntrack table). */
export const MAX_HANDOVER_FLOWS = 262_144;
