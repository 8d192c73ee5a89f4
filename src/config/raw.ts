/**
 * The shape of a service file as written (what the JSON Schema accepts), before defaults are
 * applied. Only code in src/config sees this; the daemon sees `VmacConfig`.
 */
export interface RawNode {
  id: number;
  name: string;
  weight?: number;
  address?: string;
  extraAddresses?: string[];
}

import type { RawHaSections } from './ha-raw.js';
import type { RawHandover } from './handover-config.js';
import type { RawDataPathCheck } from './reachability-config.js';

export interface RawConfig extends RawHaSections {
  dataPathCheck?: RawDataPathCheck;
  service: string;
  interface: string;
  vip?: string; // absent: an IPv6-only service (vip6 required then; semantic-check.ts)
  vip6?: string;
  vmac?: string;
  mode?: 'unicast' | 'multicast' | 'igmp' | 'arp-steer';
  buckets?: number;
  hash: {
    affinity?: 'address' | 'address+port' | 'network';
    prefixLength?: number;
    prefixLength6?: number;
    seed: number | string; // u32 or "0x…"
  };
  node: RawNode;
  peers?: RawNode[];
  timing?: { profile?: 'default' | 'fast'; leaseMs?: number; renewMs?: number; intervalMs?: number; suspectAfter?: number; deadAfter?: number; marginMs?: number };
  heartbeat?: { port?: number; keyFile?: string };
  control?: { socket?: string };
  metrics?: { listen?: string };
  arp?: { garpCount?: number; garpIntervalMs?: number; refreshMs?: number };
  handover?: RawHandover;
  datapath?: 'nft' | 'xdp';
}
