/**
 * The shipped unit, OCF agent and package metadata agree with the daemon: hitless restart's exit
 * code restarts the unit, the watchdog device is reachable, both stop timeouts exceed a planned
 * stop's longest wait (drain timeout + dead time), the capabilities are exactly those the daemon
 * uses, Depends names what it runs, and nothing at run time imports a dev-only package.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DRAIN_TIMEOUT_MS } from '../../../src/daemon/cluster-runtime.js';
import { defaultProfile } from '../../../src/config/defaults.js';
import { HA_DEFAULTS } from '../../../src/config/ha-build.js';
import { EXIT_BAD_INPUT, EXIT_RESTART } from '../../../src/cli/output.js';

const root = new URL('../../../', import.meta.url).pathname;
const read = (p: string): string => readFileSync(join(root, p), 'utf8');
const unit = read('packaging/systemd/vmac@.service');
const ocf = read('packaging/ocf/vmac');

/** Every value of `key=` in the unit (directives may repeat). */
function directive(key: string): string[] {
  return unit.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1).trim());
}

const t = defaultProfile().timing;
/** A planned stop's longest wait: the drain timeout plus a dead time for the peers' answer. */
const longestStopMs = DEFAULT_DRAIN_TIMEOUT_MS + t.intervalMs * t.deadAfter;

describe('systemd unit', () => {
  it('hitless restart: reload sends SIGUSR2, and its exit code is a clean exit that always restarts', () => {
    expect(directive('ExecReload')).toEqual(['/bin/kill -USR2 $MAINPID']);
    expect(directive('SuccessExitStatus')).toEqual([String(EXIT_RESTART)]);
    expect(directive('RestartForceExitStatus')).toEqual([String(EXIT_RESTART)]);
    expect(directive('RestartPreventExitStatus')).toEqual([String(EXIT_BAD_INPUT)]);
    expect(directive('Restart')).toEqual(['on-failure']);
  });

  it('the watchdog device is not hidden (no PrivateDevices=yes; closed device policy that allows it)', () => {
    expect(directive('PrivateDevices')).not.toContain('yes');
    expect(directive('DevicePolicy')).toEqual(['closed']);
    expect(directive('DeviceAllow')).toContain(`${HA_DEFAULTS.watchdogDevice} rw`);
    expect(directive('WatchdogSec').length).toBe(1);
  });

  it('TimeoutStopSec exceeds the drain timeout plus a dead time', () => {
    const [stop] = directive('TimeoutStopSec');
    expect(Number(/^(\d+)s$/.exec(stop ?? '')?.[1]) * 1000).toBeGreaterThan(longestStopMs);
  });

  it('capabilities are exactly the three the daemon uses; no memory locking', () => {
    const caps = ['CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_SYS_NICE'];
    expect(directive('CapabilityBoundingSet').join(' ').split(/\s+/).sort()).toEqual(caps);
    expect(directive('AmbientCapabilities').join(' ').split(/\s+/).sort()).toEqual(caps);
    expect(unit).not.toMatch(/^[A-Za-z]+=.*IPC_LOCK/m);
    expect(directive('LimitMEMLOCK')).toEqual([]);
    expect(directive('Type')).toEqual(['notify']);
  });
});

describe('OCF agent', () => {
  it('its stop action and its SIGKILL deadline exceed the drain timeout plus a dead time', () => {
    const advertised = Number(/<action name="stop" timeout="(\d+)s"/.exec(ocf)?.[1]) * 1000;
    expect(advertised).toBeGreaterThan(longestStopMs);
    const m = /OCF_RESKEY_CRM_meta_timeout:-(\d+)\} \/ 1000 - (\d+)/.exec(ocf);
    expect(m).not.toBeNull();
    const killAfterMs = (Number(m?.[1]) / 1000 - Number(m?.[2])) * 1000;
    expect(killAfterMs).toBeGreaterThan(longestStopMs);
    expect(killAfterMs).toBeLessThan(advertised);
  });
});

describe('package metadata', () => {
  const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string>; engines: { node: string } };
  const control = read('packaging/debian/control');

  it('Depends names the tools the daemon runs and a Node version the engines field accepts', () => {
    const depends = /^Depends: (.*)$/m.exec(control)?.[1] ?? '';
    for (const p of ['conntrack', 'nftables', 'libnftables1', 'libpcap0.8', 'libbpf1']) expect(depends.split(/,\s*/).map((d) => d.split(' ')[0])).toContain(p);
    expect(depends).toContain(`nodejs (${pkg.engines.node.replace('>=', '>= ')})`);
  });

  it('tsx is a dev dependency, and the shipped code imports only production packages', () => {
    expect(pkg.dependencies).not.toHaveProperty('tsx');
    expect(pkg.devDependencies).toHaveProperty('tsx');
    const files = (dir: string): string[] => readdirSync(join(root, dir)).flatMap((f) => {
      const p = join(dir, f);
      return statSync(join(root, p)).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
    });
    const bad: string[] = [];
    for (const f of [...files('src'), ...files('native-shims').filter((p) => !p.includes('/build/')), 'lab/lab.ts', 'lab/failover.ts', 'lab/faults.ts']) {
      for (const m of read(f).matchAll(/(?:from |require\()'([^.'][^']*)'/g)) {
        const spec = m[1] ?? '';
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0] ?? '';
        if (spec.startsWith('node:') || builtinModules.includes(name)) continue;
        if (!(name in pkg.dependencies)) bad.push(`${f}: ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
