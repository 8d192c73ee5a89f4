/**
 * The validated resource, health-check, fencing and quorum-policy sections of a service file
 * (issue 5). Built by ha-build.ts; the daemon sees only these shapes.
 */
import type { HealthCheckSpec } from '../ha/resources/health-check.js';
import type { DampingPolicy } from '../ha/resources/resource-policy.js';
import type { QuorumPolicyConfig } from '../ha/quorum-policy.js';
import type { FenceAction } from '../ha/fencing/fence-machine.js';
import type { CrmModel } from '../crm/model.js';

export type ResourceDriverSpec =
  | { readonly kind: 'command'; readonly start: string; readonly stop: string; readonly monitor: string }
  | { readonly kind: 'systemd'; readonly unit: string; readonly systemctl: string }
  | { readonly kind: 'ocf'; readonly root: string; readonly provider: string; readonly agent: string; readonly params: Readonly<Record<string, string>> };

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
  | { readonly kind: 'exec'; readonly path: string; readonly params: Readonly<Record<string, string>>; readonly targets: Readonly<Record<string, Readonly<Record<string, string>>>> }
  | { readonly kind: 'lab'; readonly namespaces: Readonly<Record<string, string>>; readonly ifname: string };

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
