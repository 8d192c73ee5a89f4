/**
 * Cross-field rules the JSON Schema cannot express: unique node ids, names and addresses,
 * the lease/renew relation, usable VIP and VMAC values. Each section is checked only when it
 * passed the structural check, so one mistake is reported once, not again as a follow-on error.
 */
import { formatMac, parseIp, parseMac } from '../util/ip.js';
import { profileDefaults } from './defaults.js';
import { type ConfigProblem, isWithin } from './problems.js';
import type { RawConfig, RawNode } from './raw.js';
import type { VmacConfig } from './types.js';

/** Problems in `raw`, a mapping whose sections are well-formed wherever `structural` is silent. */
export function semanticProblems(raw: RawConfig, structural: readonly ConfigProblem[]): ConfigProblem[] {
  const clean = (prefix: string): boolean => !structural.some((p) => isWithin(p.path, prefix));
  return [
    ...(clean('vip') ? vipProblems(raw.vip) : []),
    ...(clean('vmac') && raw.vmac !== undefined ? vmacProblems(raw.vmac) : []),
    ...nodeProblems(raw, clean),
    ...(clean('timing') ? timingProblems(raw.timing ?? {}) : []),
    ...(clean('arp') ? arpProblems(raw.arp ?? {}) : []),
  ];
}

/**
 * Advice that does not stop the daemon (the CLI prints it, the daemon logs it at start):
 * today only a universally administered VMAC, which could collide with a real NIC's address.
 */
export function configWarnings(config: VmacConfig): ConfigProblem[] {
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

/**
 * Ids, names and heartbeat addresses identify a node: two nodes sharing one is a copy-paste slip.
 * Each field is compared wherever it is itself well-formed, even if its node has other problems.
 */
function nodeProblems(raw: RawConfig, clean: (prefix: string) => boolean): ConfigProblem[] {
  const entries: Entry[] = [];
  if (isMapping(raw.node)) entries.push(['node', raw.node]);
  const peers: unknown = raw.peers;
  if (Array.isArray(peers)) peers.forEach((p, i) => isMapping(p) && entries.push([`peers[${i}]`, p]));
  const usable = (field: keyof RawNode): Entry[] => entries.filter(([path, n]) => n[field] !== undefined && clean(`${path}.${field}`));
  return [
    ...duplicates(usable('id'), 'id'),
    ...duplicates(usable('name'), 'name'),
    ...addressProblems(usable('address'), clean('vip') ? raw.vip : undefined),
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

function addressProblems(entries: readonly Entry[], vip: string | undefined): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const firstBy = new Map<string, string>();
  for (const [path, { address = '' }] of entries) {
    const field = `${path}.address`;
    const text = canonicalIp(address);
    if (text === undefined) {
      problems.push({ path: field, message: `must be an IPv4 or IPv6 address (the node's heartbeat address), got ${JSON.stringify(address)}` });
    } else if (text === vip) {
      problems.push({ path: field, message: `${text} is the VIP; a heartbeat address must be the node's own address` });
    } else if (firstBy.has(text)) {
      problems.push({ path: field, message: `${text} is already used by ${firstBy.get(text)}; each node needs its own heartbeat address` });
    } else {
      firstBy.set(text, path);
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

/** At least two renewals must fall inside one lease, so one late renewal never drops traffic. */
function timingProblems(timing: NonNullable<RawConfig['timing']>): ConfigProblem[] {
  const profile = timing.profile ?? 'default';
  const defaults = profileDefaults(profile).timing;
  const leaseMs = timing.leaseMs ?? defaults.leaseMs;
  const renewMs = timing.renewMs ?? defaults.renewMs;
  if (renewMs * 2 < leaseMs) return [];
  const why = 'the daemon needs at least two chances to renew before the kernel lease expires';
  if (timing.renewMs === undefined) {
    return [{ path: 'timing.leaseMs', message: `must be more than twice renewMs (${renewMs}, the "${profile}" profile's default), got ${leaseMs}: ${why}; raise leaseMs or set timing.renewMs` }];
  }
  const leaseFrom = timing.leaseMs === undefined ? `, the "${profile}" profile's default` : '';
  return [{ path: 'timing.renewMs', message: `must be less than leaseMs/2 (leaseMs ${leaseMs}${leaseFrom}), got ${renewMs}: ${why}` }];
}

/** Re-announcing faster than once a second only adds ARP traffic: every change already sends a burst. */
function arpProblems(arp: NonNullable<RawConfig['arp']>): ConfigProblem[] {
  const refreshMs = arp.refreshMs;
  if (refreshMs === undefined || refreshMs === 0 || refreshMs >= 1000) return [];
  return [{ path: 'arp.refreshMs', message: `must be 0 (off) or at least 1000, got ${refreshMs}: every membership change already sends a burst; the refresh only heals stale caches` }];
}
