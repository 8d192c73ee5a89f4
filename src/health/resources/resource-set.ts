/**
 * All configured resources of a node, built from the config: one runner per resource, their roles
 * combined into the one question the cluster asks — may this node lease buckets? It may when every
 * resource is active, or holding (unhealthy but nobody healthy could take over). On stop the
 * buckets are released once (whichever resource asks first) and every service is stopped after.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { HealthCheckConfig, ResourceConfig, ResourceDriverSpec } from '../../config/ha-types.js';
import type { ResourceDriver } from './driver.js';
import { commandTriple } from './command-triple.js';
import { systemdUnit } from './systemd-unit.js';
import { ocfAgent } from './ocf-agent.js';
import { healthCheck, type CheckResult, type HealthCheck } from './health-check.js';
import { createResourceRunner, type ResourceRunner, type ResourceStatus } from './resource-runner.js';
import { leasingAllowed, type Role } from './resource-policy.js';

export function driverFor(spec: ResourceDriverSpec, name: string): ResourceDriver {
  switch (spec.kind) {
    case 'command': return commandTriple(spec);
    case 'systemd': return systemdUnit(spec);
    case 'ocf': return ocfAgent({ root: spec.root, provider: spec.provider, agent: spec.agent, instance: name, params: spec.params });
  }
}

/** Several checks on one resource pass only together; the first failure is the answer. */
function allOf(checks: readonly HealthCheck[]): HealthCheck {
  if (checks.length === 1 && checks[0]) return checks[0];
  return {
    describe: checks.map((c) => c.describe).join(' + '),
    async run(timeoutMs): Promise<CheckResult> {
      const results = await Promise.all(checks.map((c) => c.run(timeoutMs)));
      return results.find((r) => r.outcome !== 'pass') ?? { outcome: 'pass', detail: results.map((r) => r.detail).join('; ') };
    },
  };
}

/** The strictest of the resources' health-check timings rules them all (one cadence per resource). */
function cadence(checks: readonly HealthCheckConfig[]): HealthCheckConfig {
  const first = checks[0] as HealthCheckConfig;
  return checks.reduce((a, c) => ({ ...a, intervalMs: Math.min(a.intervalMs, c.intervalMs), timeoutMs: Math.min(a.timeoutMs, c.timeoutMs), rise: Math.max(a.rise, c.rise), fall: Math.min(a.fall, c.fall) }), first);
}

/** Combined role: draining beats standby beats holding beats active. */
export function combinedRole(roles: readonly Role[]): Role {
  for (const r of ['draining', 'standby', 'holding'] as const) if (roles.includes(r)) return r;
  return 'active';
}

export interface ResourceSetDeps {
  readonly resources: readonly ResourceConfig[];
  readonly clock: Clock;
  readonly log: Logger;
  readonly setLeasing: (allowed: boolean) => void;
  readonly releaseBuckets: () => Promise<void>;
  readonly healthyPeers: () => number;
  readonly peerPollMs: number;
  /** Tests pass fakes; production builds drivers from the config. */
  readonly driver?: (r: ResourceConfig) => ResourceDriver;
  readonly check?: (r: ResourceConfig, driver: ResourceDriver) => HealthCheck;
}

export interface ResourceSet {
  start(): void;
  stop(): Promise<void>;
  role(): Role;
  status(): ResourceStatus[];
  close(): void;
}

export function createResourceSet(d: ResourceSetDeps): ResourceSet {
  let releasing: Promise<void> | null = null;
  let leasing = false;
  let timer: TimerHandle | null = null;
  const runners: ResourceRunner[] = [];
  const update = (): void => {
    const allowed = leasingAllowed(combinedRole(runners.map((r) => r.role())));
    if (allowed !== leasing) {
      leasing = allowed;
      d.setLeasing(allowed);
    }
  };
  for (const r of d.resources) {
    const driver = d.driver?.(r) ?? driverFor(r.driver, r.name);
    const check = d.check?.(r, driver) ?? allOf(r.checks.map((c) => healthCheck(c.spec, driver)));
    const c = cadence(r.checks);
    runners.push(createResourceRunner({
      name: r.name, driver, check, clock: d.clock, log: d.log.child({ resource: r.name }),
      policy: { health: { intervalMs: c.intervalMs, timeoutMs: c.timeoutMs, rise: c.rise, fall: c.fall }, damping: r.damping, startRetry: { baseMs: c.intervalMs, maxMs: r.damping.holdMaxMs } },
      startTimeoutMs: r.startTimeoutMs, stopTimeoutMs: r.stopTimeoutMs,
      onRole: () => update(),
      releaseBuckets: () => (releasing ??= d.releaseBuckets()),
    }));
  }
  return {
    start() {
      for (const r of runners) r.start();
      timer = d.clock.setRepeating(d.peerPollMs, () => { const n = d.healthyPeers(); for (const r of runners) r.setHealthyPeers(n); });
    },
    async stop() {
      if (timer !== null) d.clock.clear(timer);
      timer = null;
      await Promise.all(runners.map((r) => r.stop()));
      // A resource that was never running asks nobody to release: make sure the buckets went.
      await (releasing ??= d.releaseBuckets());
    },
    role: () => combinedRole(runners.map((r) => r.role())),
    status: () => runners.map((r) => r.status()),
    close() {
      if (timer !== null) d.clock.clear(timer);
      for (const r of runners) r.close();
    },
  };
}
