/**
 * The validated resource, health-check, fencing and quorum-policy sections of a service file
 * (issue 5). Built by ha-build.ts; the daemon sees only these shapes.
 */

// The vocabulary of these sections is defined here, not in the policies that read it (src/cluster, src/fencing, src/health),
// so that config imports no policy; the policies import it (and re-export it where they did).

/** How a resource's health is checked. */
export type HealthCheckSpec =
  | { readonly kind: 'http'; readonly url: string; readonly expectStatus: readonly number[]; readonly bodyMatch: string | null }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'command'; readonly command: string }
  | { readonly kind: 'resource' };

/** Flap damping of a resource (resource-policy.ts). */
export interface DampingPolicy {
  readonly holdBaseMs: number; // hold-down after the second flap; doubles per further flap
  readonly holdMaxMs: number;
  readonly decayMs: number; // stable this long: the flap count starts over
}

/** The two-node tie-breaker (quorum-policy.ts). */
export interface TieBreakerConfig {
  readonly target: string; // IPv4 address to ping
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly fall: number; // lost pings in a row before it counts as unreachable
  readonly rise: number; // answered pings in a row before it counts as reachable
}

export type QuorumPolicyConfig =
  | { readonly policy: 'majority' }
  | { readonly policy: 'two-node'; readonly tieBreaker: TieBreakerConfig };

export type FenceAction = 'off' | 'reboot';
import type { CrmModel, ResourceDriverSpec } from '../crm/model.js';

// How a resource is started, stopped and monitored: the resource model's vocabulary (crm/model.ts).
export type { ResourceDriverSpec };

export interface HealthCheckConfig {
  readonly spec: HealthCheckSpec;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rise: number;
  readonly fall: number;
}

export interface ResourceConfig {
  readonly name: string;
  readonly driver: ResourceDriverSpec;
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly damping: DampingPolicy;
  readonly checks: readonly HealthCheckConfig[]; // every healthChecks entry naming this resource
}

export type FenceAgentSpec =
  // The lab fences its nodes with its own fence-agents program through `exec` (lab/fence-lab-agent.ts).
  | { readonly kind: 'exec'; readonly path: string; readonly params: Readonly<Record<string, string>>; readonly targets: Readonly<Record<string, Readonly<Record<string, string>>>> };

export interface FencingConfig {
  readonly action: FenceAction;
  readonly delayMs: number;
  readonly timeoutMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly agent: FenceAgentSpec;
  readonly watchdog: { readonly enabled: boolean; readonly device: string; readonly kickMs: number };
}

export interface HaConfig {
  readonly resources: readonly ResourceConfig[];
  readonly fencing: FencingConfig | null;
  readonly quorum: QuorumPolicyConfig;
  /** Every resource with its cluster placement (clones included); optional in the type for older callers. */
  readonly crm?: CrmModel;
}
