/**
 * Defaults and building for the resources, healthChecks, fencing and quorum sections. Every
 * default says why; the schema's `default` annotations repeat them (a unit test keeps them equal).
 */
import type { RawHaSections, RawHealthCheck, RawResource } from './ha-raw.js';
import type { FenceAgentSpec, FencingConfig, HaConfig, HealthCheckConfig, HealthCheckSpec, QuorumPolicyConfig, ResourceConfig, ResourceDriverSpec } from './ha-types.js';
import { buildCrm } from './crm-config.js';

export const HA_DEFAULTS = {
  // Service managers commonly give units 90 s; 20 s bounds a hung start script without cutting
  // off an ordinary daemon's start (and Pacemaker agents advise at least 20 s).
  startTimeoutMs: 20_000,
  stopTimeoutMs: 20_000,
  // The first failure drains at once; from the second flap within decayMs, a recovered service
  // waits 10 s (doubling, up to 5 min) so a crash-looping service does not drag buckets around.
  holdBaseMs: 10_000,
  holdMaxMs: 300_000,
  // Ten stable minutes: the service is trusted again.
  decayMs: 600_000,
  // One check a second: with fall 3 a dead service drains within ~3 s, at a negligible load.
  intervalMs: 1000,
  // Half the interval: a check never overlaps the next one.
  timeoutMs: 500,
  // Two passes before taking buckets (one lucky answer is not health) ...
  rise: 2,
  // ... three failures before draining (one lost packet or slow answer is not a failure).
  fall: 3,
  // 2xx is the only "up" for a health URL; redirects usually mean a login page.
  expectStatus: [200] as readonly number[],
  systemctl: '/usr/bin/systemctl',
  // Debian's resource-agents layout.
  ocfRoot: '/usr/lib/ocf',
  // Off, not reboot: a node that comes back by itself could rejoin before anyone looked at it.
  fenceAction: 'off' as const,
  // No delay unless configured: in a pair, give one node a delay so the other wins a race.
  fenceDelayMs: 0,
  // fence-agents' own defaults (power_timeout 20 s + login) fit within 30 s.
  fenceTimeoutMs: 30_000,
  // Retry a failed fence after 2 s, doubling to 1 min: keep trying, never give up, never guess.
  fenceRetryBaseMs: 2000,
  fenceRetryMaxMs: 60_000,
  // softdog and most hardware watchdogs default to a 60 s timeout; a kick a second is plenty.
  watchdogDevice: '/dev/watchdog',
  watchdogKickMs: 1000,
  // Five pings a second: a lost tie-breaker is noticed (fall 3) in ~0.6 s, well within dead time
  // of the default profile's order of magnitude, at a trivial rate.
  pingIntervalMs: 200,
  pingTimeoutMs: 150,
  pingFall: 3,
  pingRise: 2,
} as const;

export function driverOf(r: RawResource): ResourceDriverSpec {
  if (r.command) return { kind: 'command', ...r.command };
  if (r.systemd) return { kind: 'systemd', unit: r.systemd.unit, systemctl: r.systemd.systemctl ?? HA_DEFAULTS.systemctl };
  const o = r.ocf as NonNullable<RawResource['ocf']>; // the semantic check guarantees exactly one
  return { kind: 'ocf', root: o.root ?? HA_DEFAULTS.ocfRoot, provider: o.provider, agent: o.agent, params: { ...(o.params ?? {}) } };
}

function checkSpec(c: RawHealthCheck): HealthCheckSpec {
  if (c.http) return { kind: 'http', url: c.http.url, expectStatus: c.http.expectStatus ?? HA_DEFAULTS.expectStatus, bodyMatch: c.http.bodyMatch ?? null };
  if (c.tcp) return { kind: 'tcp', host: c.tcp.host, port: c.tcp.port };
  if (c.command !== undefined) return { kind: 'command', command: c.command };
  return { kind: 'resource' };
}

function checkConfig(c: RawHealthCheck): HealthCheckConfig {
  return { spec: checkSpec(c), intervalMs: c.intervalMs ?? HA_DEFAULTS.intervalMs, timeoutMs: c.timeoutMs ?? HA_DEFAULTS.timeoutMs, rise: c.rise ?? HA_DEFAULTS.rise, fall: c.fall ?? HA_DEFAULTS.fall };
}

function resourceConfig(r: RawResource, checks: readonly RawHealthCheck[]): ResourceConfig {
  const mine = checks.filter((c) => c.resource === r.name).map(checkConfig);
  return {
    name: r.name,
    driver: driverOf(r),
    startTimeoutMs: r.startTimeoutMs ?? HA_DEFAULTS.startTimeoutMs,
    stopTimeoutMs: r.stopTimeoutMs ?? HA_DEFAULTS.stopTimeoutMs,
    damping: { holdBaseMs: r.damping?.holdBaseMs ?? HA_DEFAULTS.holdBaseMs, holdMaxMs: r.damping?.holdMaxMs ?? HA_DEFAULTS.holdMaxMs, decayMs: r.damping?.decayMs ?? HA_DEFAULTS.decayMs },
    // Without a configured check the driver's own monitor is the health check.
    checks: mine.length > 0 ? mine : [checkConfig({ resource: r.name, monitor: true })],
  };
}

function fencingConfig(f: NonNullable<RawHaSections['fencing']>): FencingConfig {
  // ha-check.ts refused a fencing section without `exec` before the build.
  const exec = f.agent.exec ?? { path: '' };
  const agent: FenceAgentSpec = { kind: 'exec', path: exec.path, params: { ...(exec.params ?? {}) }, targets: { ...(exec.targets ?? {}) } };
  return {
    action: f.action ?? HA_DEFAULTS.fenceAction,
    delayMs: f.delayMs ?? HA_DEFAULTS.fenceDelayMs,
    timeoutMs: f.timeoutMs ?? HA_DEFAULTS.fenceTimeoutMs,
    retryBaseMs: f.retryBaseMs ?? HA_DEFAULTS.fenceRetryBaseMs,
    retryMaxMs: f.retryMaxMs ?? HA_DEFAULTS.fenceRetryMaxMs,
    agent,
    watchdog: { enabled: f.watchdog?.enabled ?? false, device: f.watchdog?.device ?? HA_DEFAULTS.watchdogDevice, kickMs: f.watchdog?.kickMs ?? HA_DEFAULTS.watchdogKickMs },
  };
}

function quorumConfig(q: RawHaSections['quorum']): QuorumPolicyConfig {
  if (q?.policy !== 'two-node' || q.tieBreaker === undefined) return { policy: 'majority' };
  const t = q.tieBreaker;
  return { policy: 'two-node', tieBreaker: { target: t.ping, intervalMs: t.intervalMs ?? HA_DEFAULTS.pingIntervalMs, timeoutMs: t.timeoutMs ?? HA_DEFAULTS.pingTimeoutMs, fall: t.fall ?? HA_DEFAULTS.pingFall, rise: t.rise ?? HA_DEFAULTS.pingRise } };
}

export function buildHa(raw: RawHaSections & { interface?: string }): HaConfig {
  const checks = raw.healthChecks ?? [];
  return {
    // The local resource set runs the clones; singletons and groups are placed cluster-wide (crm).
    resources: (raw.resources ?? []).filter((r) => (r.kind ?? 'clone') === 'clone').map((r) => resourceConfig(r, checks)),
    crm: buildCrm(raw.resources ?? [], raw.interface ?? '', driverOf),
    fencing: raw.fencing ? fencingConfig(raw.fencing) : null,
    quorum: quorumConfig(raw.quorum),
  };
}
