/**
 * The validated, immutable configuration of one vmac service. Produced once by `loadConfig`;
 * everything else in the daemon sees only this object, never the raw YAML.
 */
import type { Affinity, HashConfig } from '../model/hash-config.js';

// Client → bucket vocabulary (model/hash-config.ts), re-exported for the config's readers.
export type { Affinity, HashConfig };
// How the VIP's frames reach the nodes (model/mode.ts), re-exported for the config's readers.
import type { Mode } from '../model/mode.js';
export type { Mode };
export type TimingProfile = 'default' | 'fast';

export interface NodeSpec {
  readonly id: number; // 1..32, unique in the cluster
  readonly name: string;
  readonly weight: number; // relative share of buckets, 1..1000
  readonly address?: string; // heartbeat address on link 0
  readonly addresses: readonly string[]; // heartbeat address per link (link 0 first); empty: none
}


export interface TimingConfig {
  readonly profile: TimingProfile;
  readonly leaseMs: number; // how long the kernel keeps answering without a renewal
  readonly renewMs: number; // how often the daemon renews the lease
  readonly intervalMs: number; // heartbeat period
  readonly suspectAfter: number; // missed intervals before a peer is suspect (informative)
  readonly deadAfter: number; // missed intervals before a peer is dead in this node's view
  readonly marginMs: number; // slack between the last proof of being heard and the lease's end
}

export interface HeartbeatConfig {
  readonly port: number; // UDP port on every link
  readonly keyFile: string | null; // HMAC-SHA256 key; required when the node has peers
}

export interface ArpConfig {
  readonly garpCount: number; // gratuitous ARPs per burst
  readonly garpIntervalMs: number; // spacing inside a burst
  readonly refreshMs: number; // periodic re-announcement; 0 = off
}

import type { HaConfig } from './ha-types.js';
import type { HandoverConfig } from './handover-config.js';
import type { DataPathCheckConfig } from './reachability-config.js';

/** The issue-5 sections (ha-types.ts) are optional in the type so older callers keep compiling; the loader always fills them. */
export interface VmacConfig extends Partial<HaConfig> {
  readonly file: string; // where it was read from (for messages)
  readonly service: string;
  readonly interface: string;
  /** Canonical IPv4 text; null: an IPv6-only service (vip6 only). */
  readonly vip: string | null;
  /** The IPv6 VIP (dual stack), canonical text; null or absent: IPv4 only. */
  readonly vip6?: string | null;
  readonly vmac: string; // resolved aa:bb:cc:dd:ee:ff (never "auto" here)
  readonly mode: Mode;
  readonly buckets: number;
  readonly hash: HashConfig;
  readonly node: NodeSpec; // this node
  readonly peers: readonly NodeSpec[];
  readonly nodes: readonly NodeSpec[]; // this node and its peers, sorted by id
  readonly timing: TimingConfig;
  readonly arp: ArpConfig;
  readonly heartbeat: HeartbeatConfig;
  readonly control: { readonly socket: string }; // local status socket (unix domain)
  readonly metrics: MetricsConfig;
  /** The connection-preserving hand-over (optional in the type for older callers; the loader fills it). */
  readonly handover?: HandoverConfig;
  /** The data-path check (src/health/reachability); null or absent: off. */
  readonly dataPathCheck?: DataPathCheckConfig | null;
  /** The kernel backend of the data path (optional in the type for older callers; the loader fills it). */
  readonly datapath?: DataPathBackend;
}

/** nft: netdev ingress table (src/vmac/nft-datapath.ts); xdp: XDP program (src/vmac/xdp-datapath.ts). */
export type DataPathBackend = 'nft' | 'xdp';

/** The operator HTTP endpoint (metrics + dashboard); `listen: null` = off. */
export interface MetricsConfig {
  readonly listen: { readonly host: string; readonly port: number } | null;
}
