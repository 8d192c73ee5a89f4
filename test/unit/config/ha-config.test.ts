/**
 * The resources, healthChecks, fencing and quorum sections: built with their defaults, the
 * schema's default annotations equal to the code's, and every mistake refused naming its field.
 */
import { describe, expect, it } from 'vitest';
import schema from '../../../schema/vmac-config.schema.json' with { type: 'json' };
import { parseConfig } from '../../../src/config/load.js';
import { HA_DEFAULTS } from '../../../src/config/ha-build.js';
import { messageAt, problemsOf, yamlWith } from './helpers.js';

const FULL = {
  resources: [
    { name: 'echo', command: { start: 'echo-start', stop: 'echo-stop', monitor: 'echo-mon' } },
    { name: 'web', systemd: { unit: 'nginx.service' }, startTimeoutMs: 5000 },
    { name: 'dummy', ocf: { provider: 'heartbeat', agent: 'Dummy', params: { state: '/run/d.state' } } },
  ],
  healthChecks: [
    { resource: 'echo', tcp: { host: '127.0.0.1', port: 7 }, intervalMs: 100, timeoutMs: 50, fall: 2 },
    { resource: 'web', http: { url: 'http://127.0.0.1/health', bodyMatch: 'ok' } },
  ],
  fencing: { delayMs: 2000, agent: { exec: { path: '/usr/sbin/fence_ipmilan', params: { ip: '10.0.0.5', username: 'admin' }, targets: { n2: { plug: '2' } } } } },
  quorum: { policy: 'two-node', tieBreaker: { ping: '10.200.0.254' } },
};

describe('ha config sections', () => {
  it('builds every section with defaults', () => {
    const c = parseConfig(yamlWith(FULL), 'web.yaml');
    expect(c.resources?.map((r) => r.driver.kind)).toEqual(['command', 'systemd', 'ocf']);
    expect(c.resources?.[0]?.checks).toEqual([{ spec: { kind: 'tcp', host: '127.0.0.1', port: 7 }, intervalMs: 100, timeoutMs: 50, rise: 2, fall: 2 }]);
    expect(c.resources?.[1]).toMatchObject({ startTimeoutMs: 5000, stopTimeoutMs: 20_000, driver: { unit: 'nginx.service', systemctl: '/usr/bin/systemctl' } });
    expect(c.resources?.[1]?.checks[0]?.spec).toEqual({ kind: 'http', url: 'http://127.0.0.1/health', expectStatus: [200], bodyMatch: 'ok' });
    // No check configured: the driver's monitor is the check.
    expect(c.resources?.[2]?.checks[0]?.spec).toEqual({ kind: 'resource' });
    expect(c.resources?.[2]?.driver).toEqual({ kind: 'ocf', root: '/usr/lib/ocf', provider: 'heartbeat', agent: 'Dummy', params: { state: '/run/d.state' } });
    expect(c.fencing).toMatchObject({ action: 'off', delayMs: 2000, timeoutMs: 30_000, watchdog: { enabled: false } });
    expect(c.quorum).toEqual({ policy: 'two-node', tieBreaker: { target: '10.200.0.254', intervalMs: 200, timeoutMs: 150, fall: 3, rise: 2 } });
    expect(Object.isFrozen(c.resources)).toBe(true);
  });

  it('without the sections: no resources, no fencing, majority quorum', () => {
    const c = parseConfig(yamlWith({}), 'web.yaml');
    expect(c.resources).toEqual([]);
    expect(c.fencing).toBeNull();
    expect(c.quorum).toEqual({ policy: 'majority' });
  });

  it('the schema\'s defaults are the code\'s', () => {
    const p = schema.properties;
    const res = p.resources.items.properties;
    expect(res.startTimeoutMs.default).toBe(HA_DEFAULTS.startTimeoutMs);
    expect(res.stopTimeoutMs.default).toBe(HA_DEFAULTS.stopTimeoutMs);
    expect(res.damping.properties.holdBaseMs.default).toBe(HA_DEFAULTS.holdBaseMs);
    expect(res.damping.properties.holdMaxMs.default).toBe(HA_DEFAULTS.holdMaxMs);
    expect(res.damping.properties.decayMs.default).toBe(HA_DEFAULTS.decayMs);
    const hc = p.healthChecks.items.properties;
    expect([hc.intervalMs.default, hc.timeoutMs.default, hc.rise.default, hc.fall.default]).toEqual([HA_DEFAULTS.intervalMs, HA_DEFAULTS.timeoutMs, HA_DEFAULTS.rise, HA_DEFAULTS.fall]);
    expect(hc.http.properties.expectStatus.default).toEqual(HA_DEFAULTS.expectStatus);
    const f = p.fencing.properties;
    expect([f.action.default, f.delayMs.default, f.timeoutMs.default, f.retryBaseMs.default, f.retryMaxMs.default]).toEqual([HA_DEFAULTS.fenceAction, HA_DEFAULTS.fenceDelayMs, HA_DEFAULTS.fenceTimeoutMs, HA_DEFAULTS.fenceRetryBaseMs, HA_DEFAULTS.fenceRetryMaxMs]);
    expect(f.watchdog.properties.device.default).toBe(HA_DEFAULTS.watchdogDevice);
    expect(f.watchdog.properties.kickMs.default).toBe(HA_DEFAULTS.watchdogKickMs);
    const t = p.quorum.properties.tieBreaker.properties;
    expect([t.intervalMs.default, t.timeoutMs.default, t.fall.default, t.rise.default]).toEqual([HA_DEFAULTS.pingIntervalMs, HA_DEFAULTS.pingTimeoutMs, HA_DEFAULTS.pingFall, HA_DEFAULTS.pingRise]);
  });

  it.each([
    [{ resources: [{ name: 'a' }] }, 'resources[0]', 'needs one of command, systemd, ocf'],
    [{ resources: [{ name: 'a', systemd: { unit: 'x' }, ocf: { provider: 'p', agent: 'a' } }] }, 'resources[0]', 'has systemd and ocf'],
    [{ resources: [{ name: 'a', systemd: { unit: 'x' } }, { name: 'a', systemd: { unit: 'y' } }] }, 'resources[1].name', 'already used'],
    [{ resources: [{ name: 'a', systemd: { unit: 'x' } }], healthChecks: [{ resource: 'b', monitor: true }] }, 'healthChecks[0].resource', 'not a configured resource'],
    [{ resources: [{ name: 'a', systemd: { unit: 'x' } }], healthChecks: [{ resource: 'a', monitor: true, command: 'true' }] }, 'healthChecks[0]', 'choose one'],
    [{ resources: [{ name: 'a', systemd: { unit: 'x' } }], healthChecks: [{ resource: 'a', monitor: true, intervalMs: 100, timeoutMs: 200 }] }, 'healthChecks[0].timeoutMs', 'at most intervalMs'],
    [{ resources: [{ name: 'a', systemd: { unit: 'x' } }], healthChecks: [{ resource: 'a', http: { url: 'ftp://x' } }] }, 'healthChecks[0].http.url', 'http:// URL'],
    [{ resources: [{ name: 'a', systemd: { unit: 'x' } }], healthChecks: [{ resource: 'a', http: { url: 'http://x', bodyMatch: '(' } }] }, 'healthChecks[0].http.bodyMatch', 'regular expression'],
    [{ resources: [{ name: 'a', systemd: { unit: 'x' }, startTimeoutMs: 0 }] }, 'resources[0].startTimeoutMs', 'between 1 and'],
    [{ fencing: { agent: {} } }, 'fencing.agent', 'needs one of exec'],
    [{ fencing: { agent: { exec: { path: '/x', targets: { n9: { plug: 'x' } } } } } }, 'fencing.agent.exec.targets.n9', 'not a configured node'],
    // The lab's fence agent is no product setting: the lab fences through exec (lab/fence-lab-agent.ts).
    [{ fencing: { agent: { lab: { namespaces: { n2: 'x' } } } } }, 'fencing.agent.lab', 'unknown'],
    [{ fencing: { agent: { exec: { path: '/x', params: { ip: 'a\nb' } } } } }, 'fencing.agent.exec.params.ip', 'no newlines'],
    [{ fencing: { action: 'cycle', agent: { exec: { path: '/x' } } } }, 'fencing.action', 'must be one of'],
    [{ quorum: { policy: 'two-node' } }, 'quorum.tieBreaker', 'required with policy'],
    [{ quorum: { policy: 'two-node', tieBreaker: { ping: 'gateway' } } }, 'quorum.tieBreaker.ping', 'IPv4'],
    [{ quorum: { tieBreaker: { ping: '10.0.0.1' } } }, 'quorum.tieBreaker', 'only used with'],
    [{ quorum: { policy: 'two-node', tieBreaker: { ping: '10.0.0.1' } }, peers: [{ id: 2, name: 'n2', address: '10.200.0.12' }, { id: 3, name: 'n3', address: '10.200.0.13' }] }, 'quorum.policy', 'exactly two nodes'],
    [{ quorum: { policy: 'three' } }, 'quorum.policy', 'must be one of'],
  ])('refuses %j at %s', (patch, path, text) => {
    expect(messageAt(problemsOf(yamlWith(patch)), path)).toContain(text);
  });
});
