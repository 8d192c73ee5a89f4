/**
 * The cluster resource model: what the `resources:` section of a service file says about where
 * each resource runs. Built once by src/config/crm-config.ts; identical on every node (it is a
 * slot of the config fingerprint), so every node computes the same placement from it.
 */

/** How a resource is started, stopped and monitored (the drivers the local resource manager has). */
export type ResourceDriverSpec =
  | { readonly kind: 'command'; readonly start: string; readonly stop: string; readonly monitor: string }
  | { readonly kind: 'systemd'; readonly unit: string; readonly systemctl: string }
  | { readonly kind: 'ocf'; readonly root: string; readonly provider: string; readonly agent: string; readonly params: Readonly<Record<string, string>> };

/** clone: on every node in service (the local service of issue 5); singleton: on exactly one node; group: ordered singletons placed together. */
export type ResourceKind = 'clone' | 'singleton' | 'group';

/** The built-in floating VIP driver: add/remove one address and announce it (gratuitous ARP/NA). */
export interface FloatingVipSpec {
  readonly kind: 'vip';
  readonly address: string; // canonical text
  readonly prefixLength: number;
  readonly interface: string; // defaults to the service's cluster interface
}

export type CrmDriverSpec = ResourceDriverSpec | FloatingVipSpec;

/** A colocation: this resource's placement depends on `with` (a resource name, or SERVING for the shared VIP's serving nodes). */
export interface Colocation {
  readonly with: string;
  readonly score: number; // +INFINITY together, -INFINITY apart, anything between a preference
}

/** `with` value naming the nodes that serve the shared VIP (hold buckets) instead of a resource. */
export const SERVING = '@serving';

export interface CrmResource {
  readonly name: string;
  readonly kind: ResourceKind;
  readonly driver: CrmDriverSpec | null; // null for a group
  readonly members: readonly string[]; // group: member names in start order; others: []
  readonly location: Readonly<Record<string, number>>; // node name → score (prefer positive, avoid negative)
  readonly stickiness: number; // bonus for the node it runs on now
  readonly colocations: readonly Colocation[];
  readonly after: readonly string[]; // start after these are started; stop before they stop
  readonly migrationThreshold: number; // failures on a node before it is banned there; 0 = never
  readonly failureTimeoutMs: number; // a node's failures are forgotten this long after the last one; 0 = never
}

export interface CrmModel {
  readonly resources: readonly CrmResource[]; // in file order
}

export const EMPTY_MODEL: CrmModel = { resources: [] };

/** The placeable units: singletons outside groups, and groups. */
export function isPlaced(r: CrmResource): boolean {
  return r.kind === 'singleton' || r.kind === 'group';
}
