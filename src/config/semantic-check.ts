/**
 * Cross-field rules the JSON Schema cannot express: unique node ids, names and heartbeat
 * addresses, heartbeat addresses and key required once there are peers, the same number of
 * heartbeat links on every node, the lease/renew/heartbeat timing relations, usable VIP and VMAC
 * values. Each section is checked only when it passed the structural check, so one mistake is
 * reported once, not again as a follow-on error.
 */
import { formatMac, parseIp, parseMac } from '../util/ip.js';
import { DEFAULT_DATAPATH, profileDefaults } from './defaults.js';
import { type ConfigProblem, isWithin } from './problems.js';
import type { RawConfig, RawNode } from './raw.js';
import type { TimingProfile, VmacConfig } from './types.js';
import { haProblems } from './ha-check.js';
import { groupVmacProblems, modeProblems } from './mode-check.js';
import { usesGroupMac } from '../model/mode-addresses.js';
import { handoverProblems } from './handover-config.js';
import { dataPathProblems } from './reachability-config.js';

/** Problems in `raw`, a mapping whose sections are well-formed wherever `structural` is silent. */
export function semanticProblems(raw: RawConfig, structural: readonly ConfigProblem[]): ConfigProblem[] {
  const clean = (prefix: string): boolean => !structural.some((p) => isWithin(p.path, prefix));
  return [
    ...(clean('vip') && raw.vip !== undefined ? vipProblems(raw.vip) : []),
    ...(raw.vip === undefined && raw.vip6 === undefined ? [{ path: 'vip', message: 'required — the shared IPv4 address, e.g. 10.200.0.1; or vip6 alone for an IPv6-only service (both for dual stack)' }] : []),
    ...(raw.vip === undefined && raw.vip6 !== undefined ? ipv6OnlyProblems(raw) : []),
    ...(clean('vip6') && raw.vip6 !== undefined ? vip6Problems(raw.vip6) : []),
    ...(clean('vmac') && clean('mode') && clean('vip') && raw.vmac !== undefined ? (usesGroupMac(raw.mode ?? 'unicast') && raw.vip !== undefined ? groupVmacProblems(raw.vmac, raw.mode ?? 'unicast', raw.vip) : vmacProblems(raw.vmac)) : []),
    ...(clean('mode') && clean('hash') ? modeProblems(raw) : []),
    // The XDP program matches the unicast VMAC (native-shims/xdp): the other modes run on nft.
    ...(raw.datapath === 'xdp' && (raw.mode ?? 'unicast') !== 'unicast' ? [{ path: 'datapath', message: `xdp serves mode unicast only for now (the program matches the shared unicast VMAC); mode ${raw.mode ?? ''} runs with datapath nft` }] : []),
    ...nodeProblems(raw, clean),
    ...heartbeatProblems(raw, clean),
    ...(clean('timing') ? timingProblems(raw.timing ?? {}, raw.datapath === 'xdp' ? 'xdp' : raw.datapath === 'nft' ? 'nft' : DEFAULT_DATAPATH) : []),
    ...(clean('arp') ? arpProblems(raw.arp ?? {}) : []),
    ...(clean('metrics') ? metricsProblems(raw.metrics?.listen) : []),
    ...(clean('handover') ? handoverProblems(raw.handover) : []),
    ...haProblems(raw, clean),
    ...(clean('dataPathCheck') ? dataPathProblems(raw) : []),
  ];
}

/** The schema checked the shape of `metrics.listen`; the port must also be a usable one. */
function metricsProblems(listen: string | undefined): ConfigProblem[] {
  if (listen === undefined || listen === 'off') return [];
  const port = Number(listen.slice(listen.lastIndexOf(':') + 1));
  return port >= 1 && port <= 65535 ? [] : [{ path: 'metrics.listen', message: `port ${port} is outside 1..65535` }];
}

/**
 * Advice that does not stop the daemon (the CLI prints it, the daemon logs it at start):
 * today only a universally administered VMAC, which could collide with a real NIC's address.
 */
export function configWarnings(config: VmacConfig): ConfigProblem[] {
  // igmp's VMAC is the IEEE IPv4 group range 01:00:5e by definition (src/model/mode-addresses.ts).
  if (config.mode === 'igmp') return [];
  const first = parseMac(config.vmac)[0] ?? 0;
  if ((first & 0x02) !== 0) return [];
  return [{
    path: 'vmac',
    message: `${config.vmac} is a universally administered (vendor) address; prefer a locally administered one (first octet with bit 0x02 set, e.g. 02:…) so it cannot collide with a real NIC`,
  }];
}

/** The VIP is answered for by every node: it must be an address a client can actually send to. */
function vipProblems(vip: string): ConfigProblem[] {
  const first = parseIp(vip).bytes[0] ?? 0;
  const what = first === 0 ? '"this network" (0.0.0.0/8)' : first === 127 ? 'loopback (127.0.0.0/8)' : first >= 224 ? 'multicast, reserved or broadcast (224.0.0.0 and above)' : undefined;
  return what === undefined ? [] : [{ path: 'vip', message: `must be a unicast IPv4 address a client can reach, got ${vip}, which is ${what}` }];
}

/**
 * The VIP6 is answered for (Neighbour Discovery) by every node: it must be a unicast address a
 * client reaches through the cluster interface. Link-local addresses are per link and every node
 * already has its own; multicast, unspecified, loopback and IPv4-mapped addresses are never a
 * host's unicast destination on the wire.
 */
export function vip6Problems(vip6: string): ConfigProblem[] {
  let ip;
  try { ip = parseIp(vip6); } catch { ip = undefined; }
  if (ip?.family !== 6 || vip6.includes('%')) {
    return [{ path: 'vip6', message: `must be an IPv6 address like 2001:db8:200::1 (the IPv4 VIP goes in vip), got ${JSON.stringify(vip6)}` }];
  }
  const b = ip.bytes;
  const zeroUpTo = (n: number): boolean => b.subarray(0, n).every((x) => x === 0);
  const what =
    (b[0] ?? 0) === 0xff ? 'multicast (ff00::/8)'
      : (b[0] ?? 0) === 0xfe && ((b[1] ?? 0) & 0xc0) === 0x80 ? 'link-local (fe80::/10)'
        : zeroUpTo(16) ? 'unspecified (::)'
          : zeroUpTo(15) && b[15] === 1 ? 'loopback (::1)'
            : zeroUpTo(10) && b[10] === 0xff && b[11] === 0xff ? 'IPv4-mapped (::ffff:0:0/96): put the IPv4 VIP in vip'
              : undefined;
  return what === undefined ? [] : [{ path: 'vip6', message: `must be a global or unique-local unicast IPv6 address a client can reach, got ${ip.text}, which is ${what}` }];
}

/**
 * An IPv6-only service (vip6 without vip): the UDP hand-over variants that track IPv4 flows
 * (the per-flow sets and the per-bucket keeper hash `ip saddr`) have nothing to track.
 */
function ipv6OnlyProblems(raw: RawConfig): ConfigProblem[] {
  const h = raw.handover;
  const out: ConfigProblem[] = [];
  if (h?.udpPerFlow === true) out.push({ path: 'handover.udpPerFlow', message: 'the per-flow UDP hand-over tracks IPv4 flows only; an IPv6-only service (vip6 without vip) must leave it off' });
  if ((h?.udpFlowTimeoutMs ?? 0) > 0) out.push({ path: 'handover.udpFlowTimeoutMs', message: 'the per-bucket UDP keeper tracks IPv4 flows only; an IPv6-only service (vip6 without vip) must leave it 0' });
  return out;
}

/** In unicast mode clients must be able to send to the VMAC as to any host. */
function vmacProblems(vmac: string): ConfigProblem[] {
  if (vmac === 'auto') return [];
  const bytes = parseMac(vmac);
  const text = formatMac(bytes);
  if (((bytes[0] ?? 0) & 0x01) !== 0) {
    return [{
      path: 'vmac',
      message: `${text} is a multicast MAC (lowest bit of the first octet set); unicast mode needs a unicast VMAC — use "auto" or a locally administered address like 02:bf:0a:c8:00:01`,
    }];
  }
  if (bytes.every((b) => b === 0)) return [{ path: 'vmac', message: '00:00:00:00:00:00 is not a usable address; use "auto" or a locally administered address like 02:bf:0a:c8:00:01' }];
  return [];
}

type Entry = readonly [path: string, node: Partial<RawNode>];

/** Every key a node mapping may hold; the compiler keeps it in step with RawNode. */
const NODE_KEYS: Readonly<Record<keyof RawNode, true>> = { id: true, name: true, weight: true, address: true, extraAddresses: true };

/**
 * Ids, names and heartbeat addresses identify a node: two nodes sharing one is a copy-paste slip.
 * Each field is compared wherever it is itself well-formed, even if its node has other problems.
 */
function nodeProblems(raw: RawConfig, clean: (prefix: string) => boolean): ConfigProblem[] {
  const entries: Entry[] = [];
  if (isMapping(raw.node)) entries.push(['node', raw.node]);
  const peers: unknown = raw.peers;
  if (Array.isArray(peers)) peers.forEach((p, i) => isMapping(p) && entries.push([`peers[${i}]`, p]));
  const usable = (field: 'id' | 'name'): Entry[] => entries.filter(([path, n]) => n[field] !== undefined && clean(`${path}.${field}`));
  const hasPeers = Array.isArray(peers) && peers.length > 0;
  const vip = clean('vip') && raw.vip !== undefined ? canonicalIp(raw.vip) : undefined;
  const vip6 = clean('vip6') && typeof raw.vip6 === 'string' ? canonicalIp(raw.vip6) : undefined;
  return [
    ...duplicates(usable('id'), 'id'),
    ...duplicates(usable('name'), 'name'),
    ...missingAddresses(entries, hasPeers),
    ...addressProblems(heartbeatAddresses(entries, clean), new Set([vip, vip6].filter((v): v is string => v !== undefined))),
    ...(hasPeers ? linkCountProblems(entries, clean) : []),
  ];
}

function isMapping(v: unknown): v is Partial<RawNode> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function duplicates(entries: readonly Entry[], field: 'id' | 'name'): ConfigProblem[] {
  const firstBy = new Map<unknown, string>();
  const problems: ConfigProblem[] = [];
  for (const [path, node] of entries) {
    const value = node[field];
    const first = firstBy.get(value);
    if (first === undefined) firstBy.set(value, path);
    else problems.push({ path: `${path}.${field}`, message: `${JSON.stringify(value)} is already used by ${first}; node ${field}s must be unique across node and peers` });
  }
  return problems;
}

/**
 * With peers every node needs a heartbeat address: a node without one cannot be heard, so its
 * peers would call it dead at once. Without peers an address is optional, but extraAddresses
 * (links 1 and up) make no sense without address (link 0). A node with an unknown key is left
 * alone: the key is reported already, and is most likely the address misspelt.
 */
function missingAddresses(entries: readonly Entry[], hasPeers: boolean): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [path, node] of entries) {
    if (node.address !== undefined || Object.keys(node).some((k) => !Object.hasOwn(NODE_KEYS, k))) continue;
    if (hasPeers) {
      problems.push({ path: `${path}.address`, message: 'required when there are peers — a node without a heartbeat address cannot be heard: its IPv4 or IPv6 address on heartbeat link 0, e.g. 10.200.0.11' });
    } else if (node.extraAddresses !== undefined) {
      problems.push({ path: `${path}.address`, message: 'required with extraAddresses — address is the heartbeat address on link 0, extraAddresses those on links 1 and up' });
    }
  }
  return problems;
}

/** One heartbeat address as written: `owner` names it in "already used by …". */
interface HeartbeatAddress {
  readonly field: string;
  readonly owner: string;
  readonly link: number;
  readonly text: string;
}

/** Every well-formed heartbeat address, node first, each node's links in order. */
function heartbeatAddresses(entries: readonly Entry[], clean: (prefix: string) => boolean): HeartbeatAddress[] {
  const out: HeartbeatAddress[] = [];
  for (const [path, node] of entries) {
    const field = `${path}.address`;
    if (typeof node.address === 'string' && clean(field)) out.push({ field, owner: path, link: 0, text: node.address });
    const extra: unknown = node.extraAddresses;
    if (!Array.isArray(extra)) continue;
    extra.forEach((text: unknown, i) => {
      const item = `${path}.extraAddresses[${i}]`;
      if (typeof text === 'string' && clean(item)) out.push({ field: item, owner: item, link: i + 1, text });
    });
  }
  return out;
}

/** Each heartbeat address must parse, be no other node's (on any link) and not be the VIP. */
function addressProblems(addresses: readonly HeartbeatAddress[], vips: ReadonlySet<string>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const firstBy = new Map<string, string>();
  for (const { field, owner, link, text: written } of addresses) {
    const text = canonicalIp(written);
    const first = text === undefined ? undefined : firstBy.get(text);
    if (text === undefined) {
      const which = link === 0 ? "the node's heartbeat address" : `the node's heartbeat address on link ${link}`;
      problems.push({ path: field, message: `must be an IPv4 or IPv6 address (${which}), got ${JSON.stringify(written)}` });
    } else if (vips.has(text)) {
      problems.push({ path: field, message: `${text} is the ${text.includes(':') ? 'VIP6' : 'VIP'}; a heartbeat address must be the node's own address` });
    } else if (first !== undefined) {
      problems.push({ path: field, message: `${text} is already used by ${first}; each node needs its own heartbeat address on every link` });
    } else {
      firstBy.set(text, owner);
    }
  }
  return problems;
}

function canonicalIp(text: string): string | undefined {
  try {
    return parseIp(text).text;
  } catch {
    return undefined;
  }
}

/**
 * Heartbeat link i of every node is the same network, so every node must list the same number
 * of links (address, then extraAddresses). Reported once, at the first node that differs from
 * the first one with an address: with one odd node out, the rest need not be listed.
 */
function linkCountProblems(entries: readonly Entry[], clean: (prefix: string) => boolean): ConfigProblem[] {
  const counted = entries
    .filter(([path, n]) => n.address !== undefined && clean(`${path}.extraAddresses`))
    .map(([path, n]) => ({ path, label: typeof n.name === 'string' ? `${path} (${n.name})` : path, links: 1 + (n.extraAddresses?.length ?? 0) }));
  const [reference, ...rest] = counted;
  const differing = rest.filter((e) => e.links !== reference?.links);
  const first = differing[0];
  if (reference === undefined || first === undefined) return [];
  const links = (n: number): string => (n === 1 ? '1 heartbeat link' : `${n} heartbeat links`);
  const more = differing.length - 1;
  const also = more === 0 ? '' : `; ${more} more ${more === 1 ? 'node differs' : 'nodes differ'} from ${reference.path} too`;
  return [{
    path: `${first.path}.extraAddresses`,
    message: `${first.label} lists ${links(first.links)} but ${reference.label} lists ${links(reference.links)}; every node must list the same links (address for link 0, then extraAddresses), link i of each node on the same network${also}`,
  }];
}

/**
 * Heartbeats are authenticated: with peers the daemon needs the shared key. Only the field is
 * checked here — the daemon reads the file (and checks its mode) when it starts, so a config can
 * be checked on a machine that does not hold the key.
 */
function heartbeatProblems(raw: RawConfig, clean: (prefix: string) => boolean): ConfigProblem[] {
  const peers: unknown = raw.peers;
  if (!Array.isArray(peers) || peers.length === 0 || !clean('heartbeat') || raw.heartbeat?.keyFile !== undefined) return [];
  const service = clean('service') && typeof raw.service === 'string' ? raw.service : '<service>';
  return [{
    path: 'heartbeat.keyFile',
    message: `required when there are peers — heartbeats are authenticated with HMAC-SHA256; generate a key with \`vmac keygen > /etc/vmac/${service}.key\` and chmod 600 (the same key on every node)`,
  }];
}

/** Kernel set timeouts tick every 4 ms and may fire up to this much before they are due. */
export const KERNEL_EARLY_MS = 8;

/**
 * The XDP backend's lease is a CLOCK_MONOTONIC nanosecond deadline that the program compares with
 * bpf_ktime_get_ns() on every frame: it never ends before leaseMs. What is left is the daemon's own
 * granularity: its timers are armed in whole milliseconds (pacer.ts), so a renewal due at t runs
 * up to 1 ms after t even on an idle machine.
 */
export const XDP_LEASE_SLACK_MS = 1;

/** The slack the renewal rule needs per backend: how early its kernel may end a lease (or the daemon's rounding). */
export function leaseSlackMs(backend: 'nft' | 'xdp'): number {
  return backend === 'xdp' ? XDP_LEASE_SLACK_MS : KERNEL_EARLY_MS;
}

/** The timing relations, with everything left out taken from the profile. */
function timingProblems(timing: NonNullable<RawConfig['timing']>, backend: 'nft' | 'xdp'): ConfigProblem[] {
  const profile = timing.profile ?? 'default';
  const t = { ...profileDefaults(profile, backend).timing, ...timing };
  return [...renewProblems(timing, t, profile, backend), ...leaseSafetyProblems(t)];
}

/**
 * Two renewals must fall inside the shortest possible life of a lease, so one late renewal never
 * drops traffic: 2 × renewMs + slack ≤ leaseMs, the slack being how early the backend's kernel may
 * end a lease — nft: 8 ms (set timeouts tick every 4 ms and may fire up to 8 ms early); xdp: 1 ms
 * (a nanosecond deadline; the daemon's whole-millisecond timers). This contains the older rule
 * renewMs < leaseMs/2, so a file breaking both gets one message, with the bound that applies.
 */
function renewProblems(written: NonNullable<RawConfig['timing']>, t: { leaseMs: number; renewMs: number }, profile: TimingProfile, backend: 'nft' | 'xdp'): ConfigProblem[] {
  const { leaseMs, renewMs } = t;
  const slack = leaseSlackMs(backend);
  if (2 * renewMs + slack <= leaseMs) return [];
  const rule = `2 × renewMs + ${slack} ≤ leaseMs${backend === 'xdp' ? ' with datapath xdp' : ''}`;
  const why = backend === 'xdp'
    ? `the daemon needs at least two chances to renew before the lease deadline passes, and its timers may run up to ${slack} ms late`
    : `the daemon needs at least two chances to renew before the kernel lease expires, and kernel set timeouts may fire up to ${slack} ms early`;
  if (written.renewMs === undefined) {
    return [{ path: 'timing.leaseMs', message: `must be at least ${2 * renewMs + slack} with renewMs ${renewMs}, the "${profile}" profile's default (${rule}), got ${leaseMs}: ${why}; raise leaseMs or set timing.renewMs` }];
  }
  const leaseFrom = written.leaseMs === undefined ? `, the "${profile}" profile's default` : '';
  const most = Math.floor((leaseMs - slack) / 2);
  return [{ path: 'timing.renewMs', message: `must be at most ${most} with leaseMs ${leaseMs}${leaseFrom} (${rule}), got ${renewMs}: ${why}` }];
}

/** Re-announcing faster than once a second only adds ARP traffic: every change already sends a burst. */
function arpProblems(arp: NonNullable<RawConfig['arp']>): ConfigProblem[] {
  const refreshMs = arp.refreshMs;
  if (refreshMs === undefined || refreshMs === 0 || refreshMs >= 1000) return [];
  return [{ path: 'arp.refreshMs', message: `must be 0 (off) or at least 1000, got ${refreshMs}: every membership change already sends a burst; the refresh only heals stale caches` }];
}

/**
 * The safety rule in numbers: a node renews its lease only while a quorum's proof of hearing it
 * is fresher than deadMs - leaseMs - marginMs. A proof is the acknowledgement, in a peer's
 * heartbeat, of one of ours: up to two intervals old when it arrives (ours waits up to an
 * interval for the peer's next one), plus scheduling jitter. Below three intervals of room a
 * healthy node would drop its own lease now and then.
 */
export function leaseSafetyProblems(t: { intervalMs: number; deadAfter: number; leaseMs: number; marginMs: number; suspectAfter: number }): ConfigProblem[] {
  const deadMs = t.intervalMs * t.deadAfter;
  const room = deadMs - t.leaseMs - t.marginMs;
  const problems: ConfigProblem[] = [];
  if (room < 3 * t.intervalMs) {
    problems.push({ path: 'timing.deadAfter', message: `dead time ${deadMs} ms (intervalMs ${t.intervalMs} × deadAfter ${t.deadAfter}) must exceed leaseMs ${t.leaseMs} + marginMs ${t.marginMs} by at least three heartbeat intervals (${3 * t.intervalMs} ms): a node's lease must run out before any peer may call it dead; raise deadAfter (to at least ${minDeadAfter(t)} with these values) or intervalMs, or lower leaseMs or marginMs` });
  }
  if (t.suspectAfter >= t.deadAfter) problems.push({ path: 'timing.suspectAfter', message: `must be less than deadAfter (${t.deadAfter}), got ${t.suspectAfter}: a peer is suspect before it is dead` });
  return problems;
}

/** The smallest deadAfter that satisfies the safety rule with the other values unchanged. */
function minDeadAfter(t: { intervalMs: number; leaseMs: number; marginMs: number }): number {
  return Math.ceil((t.leaseMs + t.marginMs) / t.intervalMs) + 3;
}
