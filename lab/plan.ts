/**
 * The lab's address plan and per-node configs, computed before anything is built (pure), so a
 * bad request is refused before any namespace exists.
 *
 * One L2 segment 10.200.0.0/16 inside the lab's own namespaces: VIP 10.200.0.1, nodes
 * 10.200.0.(10+i), client source addresses drawn at random from 10.200.16.0-10.200.255.254.
 * `--hb-link separate|both`: a second bridge 10.201.0.0/16 (node i at 10.201.0.(10+i)) carries
 * the heartbeats. `--router`: client j draws from 10.(224+j).16.0/… behind a router at 10.200.0.254.
 */
import type { Mode } from '../src/config/types.js';
import type { SwitchMode } from './switch.js';
import { parseConfig } from '../src/config/load.js';
import { VmacError } from '../src/util/errors.js';
import { mulberry32 } from '../src/util/prng.js';
import { profileDefaults } from '../src/config/defaults.js';

/** The lab's seeded PRNG (addresses, hash seed, fault timing). */
export const prng = mulberry32;

export interface LabSpec {
  readonly name: string; // namespace prefix
  readonly nodes: number; // 1..32
  readonly clients: number; // client namespaces
  readonly addrs: number; // source addresses per client namespace
  readonly seed: number; // PRNG seed for addresses and the hash seed
  readonly buckets: number;
  readonly profile: 'default' | 'fast';
  readonly affinity: 'address' | 'address+port' | 'network';
  /** Clients behind a router namespace: every frame reaches the cluster with the router's MAC. */
  readonly router?: boolean;
  /** Heartbeats on the data bridge (default), on their own bridge, or on both (two links). */
  readonly hbLink?: HbLink;
  /** Start the echo services with --freeze-ms N (SIGUSR1 freezes UDP for N ms): the self-test. */
  readonly echoFreezeMs?: number;
  /**
   * Scale runs: the profile's heartbeat interval, lease and renewal period, each multiplied by
   * this factor, written into every node's config (deadAfter, suspectAfter and the margin stay,
   * so the lease-safety rule still holds). 32 Node.js daemons on 2 cores cannot all keep the
   * default profile's 25 heartbeats/s to 31 peers plus 50 kernel lease renewals/s each.
   */
  readonly timingScale?: number;
  /** false: build the topology and echo services without vmac daemons (peers under comparison). */
  readonly daemons?: boolean;
  /** false: the daemons' configs have no dataPathCheck (default: ping the gateway, see GATEWAY_ADDRESS). */
  readonly dataPathCheck?: boolean;
  /** Timing values written over the profile's (`--timing intervalMs=3,deadAfter=8`). */
  readonly timing?: TimingOverrides;
  /** Node ids configured everywhere but whose daemon is not started by `labUp` (a node joining later). */
  readonly lateNodes?: readonly number[];
  /** handover.udpFlowTimeoutMs in every node's config (absent: the default). */
  readonly udpFlowTimeoutMs?: number;
  /** handover.udpPerFlow (absent: the default, on). */
  readonly udpPerFlow?: boolean;
  /** handover.udpIdleMs (absent: the default, 30 s): labs use a short one so drains end within a test. */
  readonly udpIdleMs?: number;
  /**
   * Dual stack: the cluster also serves the VIP6 fd00:200::1 (IPv6 on in every namespace, no DAD,
   * no autoconf), every node has fd00:200::<10+i>, and every client gets `addrs` IPv6 source
   * addresses as well as its IPv4 ones. With `router`, client j's IPv6 addresses come from its
   * own routed net (`routedClientLink6`), like its IPv4 ones, and the router forwards IPv6 too.
   */
  readonly ipv6?: boolean;
  /**
   * With `ipv6`: an IPv6-only service. The nodes' configs have `vip6` and no `vip`, and no
   * echo listens on the IPv4 VIP (the clients keep their IPv4 addresses, which nobody serves).
   */
  readonly ipv6Only?: boolean;
  /**
   * Routed topology: the MTU of every client's link to the router (both ends), with the
   * clients' default route advertising an MSS of 1460 as if their own link were 1500: the router
   * is then a hop with a smaller next link, and answers full-size DF packets from the VIP with
   * "fragmentation needed" (its ICMP rate limit off, so every error is sent).
   */
  readonly clientMtu?: number;
  /** hash.prefixLength6 in every node's config (network affinity over IPv6 clients; absent: the default /64). */
  readonly prefixLength6?: number;
  /** `datapath` in every node's config (absent: the product default, nft). */
  readonly datapath?: 'nft' | 'xdp';
  /** The cluster's mode (issue 17; absent: unicast). */
  readonly mode?: Mode;
  /** How the lab switch is configured (lab/switch.ts; absent: a plain flooding bridge). */
  readonly switchMode?: SwitchMode;
  /** A bystander namespace on the bridge that counts the VIP's frames reaching it (lab/switch.ts). */
  readonly bystander?: boolean;
}

export const TIMING_KEYS = ['leaseMs', 'renewMs', 'intervalMs', 'suspectAfter', 'deadAfter', 'marginMs'] as const;
export type TimingOverrides = Readonly<Partial<Record<(typeof TIMING_KEYS)[number], number>>>;

/** Parses `intervalMs=3,deadAfter=8` (the lab's --timing) into overrides, naming any bad part. */
export function parseTimingOverrides(text: string): TimingOverrides {
  const out: Record<string, number> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^([A-Za-z]+)=(\d+)$/.exec(part);
    const key = m?.[1];
    if (!m || key === undefined || !(TIMING_KEYS as readonly string[]).includes(key)) {
      throw new VmacError('VMAC_LAB_BAD_OPTION', `--timing: ${JSON.stringify(part)} must be KEY=INTEGER with KEY one of ${TIMING_KEYS.join(', ')}`, { part });
    }
    out[key] = Number(m[2]);
  }
  return out;
}

export type HbLink = 'data' | 'separate' | 'both';
export const HB_LINKS: readonly HbLink[] = ['data', 'separate', 'both'];

export interface LabNodePlan { readonly id: number; readonly name: string; readonly ns: string; readonly address: string; readonly hbAddress: string; readonly address6: string }
export interface LabClientPlan { readonly ns: string; readonly addresses: readonly string[]; readonly addresses6: readonly string[] }
export interface LabRouterPlan { readonly ns: string; readonly address: string; readonly clientNet: string }

export interface LabPlan {
  readonly spec: LabSpec;
  readonly switchNs: string;
  readonly vip: string;
  /** Dual stack: the VIP6 (null: IPv4 only). */
  readonly vip6: string | null;
  readonly prefixLength: number;
  readonly hashSeed: number;
  readonly nodes: readonly LabNodePlan[];
  readonly clients: readonly LabClientPlan[];
  readonly echoPort: number;
  readonly hbLink: HbLink;
  readonly router: LabRouterPlan | null;
  /** The clients' gateway the daemons' data-path check pings: the router, or an address on the switch's bridge. */
  readonly gateway: string;
}

export const LAB_VIP = '10.200.0.1';
/** Dual-stack labs: the VIP6, and the segment's /64 (nodes fd00:200::<10+i>, clients fd00:200::1:x:y). */
export const LAB_VIP6 = 'fd00:200::1';
export const LAB_PREFIX6 = 64;
export const ECHO_PORT = 9000;
/**
 * The routed topology: the router at 10.200.0.254; client j sits on its own link 10.209.(j+1).0/24
 * and draws its source addresses from 10.(224+j).0.0/16, routed to it. Routed (not on-link)
 * client addresses keep the router's neighbour table small: a namespace cannot raise the
 * kernel's global neighbour limit (gc_thresh3, 1024 here), and thousands of on-link clients
 * would overflow it.
 */
export const ROUTER_ADDRESS = '10.200.0.254';
/**
 * The data-path check's target: with --router the router itself; in the flat topology the same
 * address on the switch namespace's bridge, standing for the segment's default gateway (the
 * clients' side of every node's link, which a node with a cut data path cannot reach).
 */
export const GATEWAY_ADDRESS = ROUTER_ADDRESS;
export const ROUTED_CLIENT_NET = '10.224.0.0/12';
/** The router's IPv6 address on the cluster segment (dual-stack routed labs). */
export const ROUTER_ADDRESS6 = 'fd00:200::fe';
/**
 * Dual-stack routed labs: client j's link to the router is fd00:209:<j+1>::/64 (router ::1,
 * client ::2); its IPv6 source addresses come from fd00:<224+j>::/32 (`prefix` + three groups),
 * on its lo, routed to it as its IPv4 net is. Addresses are written in canonical text (`::`):
 * the probers report canonical text, and the failover analysis looks addresses up by text.
 */
export const routedClientLink6 = (j: number): { router: string; client: string; net: string; prefix: string } =>
  ({ router: `fd00:209:${j + 1}::1`, client: `fd00:209:${j + 1}::2`, net: `fd00:${224 + j}::/32`, prefix: `fd00:${224 + j}::1` });
export const routedClientLink = (j: number): { router: string; client: string; net: string } =>
  ({ router: `10.209.${j + 1}.1`, client: `10.209.${j + 1}.2`, net: `10.${224 + j}.0.0/16` });


export function validateSpec(spec: LabSpec): void {
  const problems: string[] = [];
  if (!/^[a-z][a-z0-9]{0,11}$/.test(spec.name)) problems.push(`--name: ${JSON.stringify(spec.name)} must be 1-12 lowercase letters/digits starting with a letter (it prefixes every namespace)`);
  if (!Number.isInteger(spec.nodes) || spec.nodes < 1 || spec.nodes > 32) problems.push(`--nodes: ${spec.nodes} must be 1..32`);
  if (!Number.isInteger(spec.clients) || spec.clients < 1 || spec.clients > 16) problems.push(`--clients: ${spec.clients} must be 1..16`);
  if (!Number.isInteger(spec.addrs) || spec.addrs < 1 || spec.addrs > 1000) problems.push(`--addrs: ${spec.addrs} must be 1..1000`);
  if (spec.hbLink !== undefined && !HB_LINKS.includes(spec.hbLink)) problems.push(`--hb-link: ${JSON.stringify(spec.hbLink)} must be one of ${HB_LINKS.join(', ')}`);
  if (spec.echoFreezeMs !== undefined && (!Number.isInteger(spec.echoFreezeMs) || spec.echoFreezeMs < 1 || spec.echoFreezeMs > 600_000)) problems.push(`echoFreezeMs: ${spec.echoFreezeMs} must be 1..600000`);
  if (spec.clientMtu !== undefined && (spec.router !== true || !Number.isInteger(spec.clientMtu) || spec.clientMtu < 576 || spec.clientMtu > 1500)) problems.push(`--client-mtu: ${spec.clientMtu} must be 576..1500 and needs --router`);
  if (spec.ipv6Only === true && spec.ipv6 !== true) problems.push('--ipv6-only needs --ipv6');
  if (spec.timingScale !== undefined && (!Number.isInteger(spec.timingScale) || spec.timingScale < 1 || spec.timingScale > 50)) problems.push(`--timing-scale: ${spec.timingScale} must be an integer 1..50`);
  if (problems.length > 0) throw new VmacError('VMAC_LAB_FAILED', problems.join('\n'), { problems });
}

export function planLab(spec: LabSpec): LabPlan {
  validateSpec(spec);
  if (spec.timing !== undefined && Object.keys(spec.timing).length > 0) checkTiming(spec);
  const rnd = prng(spec.seed);
  const hashSeed = Math.floor(rnd() * 0x1_0000_0000) >>> 0;
  const nodes = Array.from({ length: spec.nodes }, (_, i) => ({ id: i + 1, name: `n${i + 1}`, ns: `${spec.name}-n${i + 1}`, address: `10.200.0.${10 + i + 1}`, hbAddress: `10.201.0.${10 + i + 1}`, address6: `fd00:200::${10 + i + 1}` }));
  const used = new Set<string>();
  const clients = Array.from({ length: spec.clients }, (_, j) => {
    const addresses: string[] = [];
    const netOctet = spec.router === true ? 224 + j : 200;
    while (addresses.length < spec.addrs) {
      const a = `10.${netOctet}.${16 + Math.floor(rnd() * 240)}.${1 + Math.floor(rnd() * 254)}`;
      if (!used.has(a)) { used.add(a); addresses.push(a); }
    }
    // Drawn after the IPv4 ones, so an IPv4 lab's addresses do not change with dual stack.
    return { ns: `${spec.name}-c${j + 1}`, addresses, addresses6: [] as string[] };
  });
  if (spec.ipv6 === true) {
    const hex16 = (): string => Math.floor(rnd() * 0x10000).toString(16);
    for (const c of clients) {
      const j = clients.indexOf(c);
      while (c.addresses6.length < spec.addrs) {
        const a = spec.router === true ? `${routedClientLink6(j).prefix}:${hex16()}:${hex16()}:${hex16()}` : `fd00:200::1:${hex16()}:${hex16()}:${hex16()}`;
        if (!used.has(a)) { used.add(a); c.addresses6.push(a); }
      }
    }
  }
  const router = spec.router === true ? { ns: `${spec.name}-r`, address: ROUTER_ADDRESS, clientNet: ROUTED_CLIENT_NET } : null;
  return { spec, switchNs: `${spec.name}-sw`, vip: LAB_VIP, vip6: spec.ipv6 === true ? LAB_VIP6 : null, prefixLength: 16, hashSeed, nodes, clients, echoPort: ECHO_PORT, hbLink: spec.hbLink ?? 'data', router, gateway: GATEWAY_ADDRESS };
}

/**
 * Runs the timing the lab would write through the daemon's own config checks (lease safety,
 * renewal rule) before anything is built, so an unsafe `--timing` is refused up front.
 */
function checkTiming(spec: LabSpec): void {
  const lines = ['service: lab', 'interface: eth0', 'vip: 10.200.0.1', 'hash: { seed: 1 }', 'node: { id: 1, name: n1, address: 10.200.0.11 }', 'peers: [{ id: 2, name: n2, address: 10.200.0.12 }]', 'heartbeat: { keyFile: /etc/vmac/lab.key }', ...(spec.datapath === undefined ? [] : [`datapath: ${spec.datapath}`]), 'timing:', `  profile: ${spec.profile}`, ...timingLines(spec), ''];
  try {
    parseConfig(lines.join('\n'), '--timing');
  } catch (err) {
    throw new VmacError('VMAC_LAB_BAD_OPTION', err instanceof Error ? err.message : String(err), { timing: spec.timing });
  }
}

/** The heartbeat addresses of a node, link 0 first, for the lab's --hb-link choice. */
export function heartbeatAddresses(plan: LabPlan, node: LabNodePlan): { address: string; extra: string[] } {
  if (plan.hbLink === 'separate') return { address: node.hbAddress, extra: [] };
  if (plan.hbLink === 'both') return { address: node.address, extra: [node.hbAddress] };
  return { address: node.address, extra: [] };
}

function nodeLine(plan: LabPlan, n: LabNodePlan): string {
  const hb = heartbeatAddresses(plan, n);
  const extra = hb.extra.length > 0 ? `, extraAddresses: [${hb.extra.join(', ')}]` : '';
  return `{ id: ${n.id}, name: ${n.name}, weight: 100, address: ${hb.address}${extra} }`;
}

/** The YAML config of one lab node, in the same format an operator writes. */
export function nodeConfigYaml(plan: LabPlan, node: LabNodePlan, keyFile: string): string {
  const peers = plan.nodes.filter((n) => n.id !== node.id);
  return [
    `# generated by vmac lab for ${node.ns}`,
    `service: lab`,
    `interface: eth0`,
    ...(plan.spec.ipv6Only === true ? [] : [`vip: ${plan.vip}`]),
    ...(plan.vip6 === null ? [] : [`vip6: ${plan.vip6}`]),
    `vmac: auto`,
    `mode: ${plan.spec.mode ?? 'unicast'}`,
    `buckets: ${plan.spec.buckets}`,
    `hash:`,
    `  affinity: ${plan.spec.affinity}`,
    ...(plan.spec.prefixLength6 === undefined ? [] : [`  prefixLength6: ${plan.spec.prefixLength6}`]),
    `  seed: 0x${plan.hashSeed.toString(16).padStart(8, '0')}`,
    `node: ${nodeLine(plan, node)}`,
    peers.length === 0 ? `peers: []` : `peers:`,
    ...peers.map((p) => `  - ${nodeLine(plan, p)}`),
    `heartbeat: { keyFile: ${keyFile} }`,
    `control: { socket: ${keyFile.replace(/cluster\.key$/, `${node.name}.sock`)} }`,
    `timing:`,
    `  profile: ${plan.spec.profile}`,
    ...timingLines(plan.spec),
    ...handoverLines(plan.spec),
    // The product defaults (interval 100 ms, fall 3, rise 5): what an operator would start with.
    ...(plan.spec.dataPathCheck === false ? [] : [`dataPathCheck: { targets: [${plan.gateway}] }`]),
    ...(plan.spec.datapath === undefined ? [] : [`datapath: ${plan.spec.datapath}`]),
    '',
  ].join('\n');
}

/** The `handover` section from the spec's fields that are set (none: the product defaults). */
function handoverLines(spec: Pick<LabSpec, 'udpFlowTimeoutMs' | 'udpPerFlow' | 'udpIdleMs'>): string[] {
  const f = [
    spec.udpFlowTimeoutMs === undefined ? null : `udpFlowTimeoutMs: ${spec.udpFlowTimeoutMs}`,
    spec.udpPerFlow === undefined ? null : `udpPerFlow: ${spec.udpPerFlow}`,
    spec.udpIdleMs === undefined ? null : `udpIdleMs: ${spec.udpIdleMs}`,
  ].filter((x) => x !== null);
  return f.length === 0 ? [] : [`handover: { ${f.join(', ')} }`];
}

/** The timing values a --timing-scale K multiplies (none for K = 1 or unset). */
function scaledValues(spec: Pick<LabSpec, 'profile' | 'timingScale'> & { readonly datapath?: 'nft' | 'xdp' }): TimingOverrides {
  const k = spec.timingScale ?? 1;
  if (k === 1) return {};
  const t = profileDefaults(spec.profile, spec.datapath).timing;
  return { intervalMs: t.intervalMs * k, leaseMs: t.leaseMs * k, renewMs: t.renewMs * k };
}

const render = (values: TimingOverrides): string[] => Object.entries(values).map(([k, v]) => `  ${k}: ${v}`);

/** The timing lines of a node config: --timing-scale's values, then --timing's over them. */
export function timingLines(spec: Pick<LabSpec, 'profile' | 'timingScale' | 'timing'>): string[] {
  return render({ ...scaledValues(spec), ...spec.timing });
}

/** The timing lines a --timing-scale K adds under `timing:` (none for K = 1 or unset). */
export function scaledTiming(spec: Pick<LabSpec, 'profile' | 'timingScale'>): string[] {
  return render(scaledValues(spec));
}
