/**
 * Turns a checked `RawConfig` into the `VmacConfig` the daemon uses: defaults from the timing
 * profile, the VMAC resolved from "auto", canonical address text, `nodes` sorted by id, and the
 * whole thing deeply frozen so no component can change what every other one relies on.
 */
import { formatMac, parseIp, parseMac } from '../util/ip.js';
import { DEFAULT_DATAPATH, profileDefaults } from './defaults.js';
import type { RawConfig, RawNode } from './raw.js';
import type { Mode, NodeSpec, VmacConfig } from './types.js';
import { autoVmacFor } from '../model/mode-addresses.js';
import { buildHa } from './ha-build.js';
import { buildHandover } from './handover-config.js';
import { buildDataPathCheck } from './reachability-config.js';

/** Build the config; `raw` must have passed both the schema and the semantic checks. */
export function buildConfig(raw: RawConfig, file: string): VmacConfig {
  const d = profileDefaults(raw.timing?.profile ?? 'default', raw.datapath ?? DEFAULT_DATAPATH);
  const vip = raw.vip === undefined ? null : parseIp(raw.vip).text;
  const vip6 = raw.vip6 === undefined ? null : parseIp(raw.vip6).text;
  const toNode = (n: RawNode): NodeSpec => nodeSpec(n, d.weight);
  const node = toNode(raw.node);
  const peers = (raw.peers ?? []).map(toNode);
  return deepFreeze({
    file,
    service: raw.service,
    interface: raw.interface,
    vip,
    vip6,
    vmac: resolveVmac(raw.vmac ?? d.vmac, vip, vip6, raw.mode ?? d.mode),
    mode: raw.mode ?? d.mode,
    buckets: raw.buckets ?? d.buckets,
    hash: {
      affinity: raw.hash.affinity ?? d.affinity,
      prefixLength: raw.hash.prefixLength ?? d.prefixLength,
      prefixLength6: raw.hash.prefixLength6 ?? d.prefixLength6,
      seed: parseSeed(raw.hash.seed),
    },
    node,
    peers,
    nodes: [node, ...peers].sort((a, b) => a.id - b.id),
    timing: { ...d.timing, ...raw.timing },
    arp: { ...d.arp, ...raw.arp },
    heartbeat: { port: raw.heartbeat?.port ?? d.heartbeat.port, keyFile: raw.heartbeat?.keyFile ?? null },
    // One socket per service under /run/vmac, so `vmac status -c <file>` finds it.
    control: { socket: raw.control?.socket ?? `/run/vmac/${raw.service}.sock` },
    metrics: { listen: parseListen(raw.metrics?.listen ?? d.metricsListen) },
    // An IPv6-only service runs without the per-flow UDP hand-over unless it is proven for IPv6 clients
    // alone (its IPv6 flow sets are unit-tested only; semantic-check refuses turning it on there).
    handover: vip === null && raw.handover?.udpPerFlow === undefined ? { ...buildHandover(raw.handover), udpPerFlow: false } : buildHandover(raw.handover),
    // resources, fencing, quorum policy (ha-build.ts)
    ...buildHa(raw),
    dataPathCheck: buildDataPathCheck(raw.dataPathCheck),
    datapath: raw.datapath ?? DEFAULT_DATAPATH,
  });
}

/**
 * "auto" → 02:bf:<the four VIP bytes>, as Windows NLB derives its cluster MAC: locally
 * administered, unicast, the same on every node without coordination, and distinct per VIP.
 */
export function autoVmac(vip: string): string {
  return formatMac(Uint8Array.from([0x02, 0xbf, ...parseIp(vip).bytes]));
}

function resolveVmac(vmac: string, vip: string | null, vip6: string | null, mode: Mode): string {
  if (vmac !== 'auto') return formatMac(parseMac(vmac));
  // An IPv6-only service is unicast (semantic-check refuses the other modes without a vip).
  return vip !== null ? autoVmacFor(mode, vip) : autoVmac6(vip6 ?? '');
}

/**
 * "auto" for an IPv6-only service → 02:b6:<the last four VIP6 bytes>: locally administered,
 * unicast, the same on every node, and a prefix other than the IPv4 one (02:bf) so that an
 * IPv6-only service never derives the VMAC of an IPv4 service whose VIP has the same four bytes.
 */
export function autoVmac6(vip6: string): string {
  return formatMac(Uint8Array.from([0x02, 0xb6, ...parseIp(vip6).bytes.subarray(12, 16)]));
}

/** "host:port" / "[v6]:port" / "off" (the schema checked the shape; semantic-check the port). */
export function parseListen(text: string): { host: string; port: number } | null {
  if (text === 'off') return null;
  const cut = text.lastIndexOf(':');
  return { host: text.slice(0, cut).replace(/^\[|\]$/g, ''), port: Number(text.slice(cut + 1)) };
}

/** The schema allows a number or a "0x…" string (YAML already turns bare 0x… into a number). */
export function parseSeed(seed: number | string): number {
  return typeof seed === 'number' ? seed : parseInt(seed.slice(2), 16);
}

function nodeSpec(n: RawNode, defaultWeight: number): NodeSpec {
  const addresses = n.address === undefined ? [] : [n.address, ...(n.extraAddresses ?? [])].map((a) => parseIp(a).text);
  const spec = { id: n.id, name: n.name, weight: n.weight ?? defaultWeight, addresses };
  return addresses[0] === undefined ? spec : { ...spec, address: addresses[0] };
}

/** Freeze `value` and everything reachable from it; returns it for chaining. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
