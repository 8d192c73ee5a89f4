/**
 * Fence agents and the fence runner: the exec agent with stub programs in a temp dir (the
 * fence-agents stdin convention, exit codes, timeouts), the lab agent against a scripted process
 * runner (no namespace is touched), the watchdog against a fake device (the host's real watchdog
 * is never opened), and the runner on a fake clock.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { execAgent, redacted, stdinFor } from '../../../src/fencing/exec-agent.js';
import { labAgent, parseAgentStdin } from '../../../lab/fence-lab-agent.js';
import { fakeAgent } from '../../../src/fencing/fake-agent.js';
import { createFenceRunner } from '../../../src/fencing/fence-runner.js';
import { startWatchdog, type WatchdogPort } from '../../../src/fencing/watchdog.js';
import type { ProcessResult, ProcessRunner } from '../../../src/adapters/run-process.js';
import { fakeClock } from '../../../src/util/clock.js';

const dir = mkdtempSync(join(tmpdir(), 'vmac-fence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function stub(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

const silent = pino({ level: 'silent' });
const flush = async (): Promise<void> => { for (let i = 0; i < 10; i++) await Promise.resolve(); };

describe('exec agent (fence-agents calling convention)', () => {
  const node2 = { id: 2, name: 'n2' };

  it('writes key=value lines on stdin: action, device options, the target\'s options', async () => {
    const out = join(dir, 'stdin.txt');
    const path = stub('fence_ok', `cat > ${out}; exit 0`);
    const a = execAgent({ path, params: { ip: '10.0.0.9', username: 'admin', password: 's3cret' }, targets: { n2: { plug: 'vm-n2' } } });
    const r = await a.run('off', node2, 5000);
    expect(r.outcome).toBe('success');
    expect(readFileSync(out, 'utf8')).toBe('action=off\nip=10.0.0.9\nusername=admin\npassword=s3cret\nplug=vm-n2\n');
    expect(r.detail).toContain('password=***');
    expect(r.detail).not.toContain('s3cret');
  });

  it('without target options it selects the node by plug=<name>', () => {
    expect(stdinFor({ path: 'x', params: {}, targets: {} }, 'reboot', node2)).toBe('action=reboot\nplug=n2\n');
    expect(redacted('passwd_script=/x\npassword=y')).toBe('passwd_script=*** password=***');
  });

  it('a non-zero exit is a failure, with the agent\'s own message', async () => {
    const path = stub('fence_fail', 'cat >/dev/null; echo "Unable to connect/login to fencing device" >&2; exit 1');
    const r = await execAgent({ path, params: {}, targets: {} }).run('off', node2, 5000);
    expect(r.outcome).toBe('failed');
    expect(r.detail).toContain('exited 1: Unable to connect/login to fencing device');
  });

  it('status: exit 2 means "off", still an answer', async () => {
    const path = stub('fence_status', 'cat >/dev/null; exit 2');
    expect((await execAgent({ path, params: {}, targets: {} }).run('status', node2, 5000)).outcome).toBe('success');
    expect((await execAgent({ path, params: {}, targets: {} }).run('off', node2, 5000)).outcome).toBe('failed');
  });

  it('no answer in time is a timeout, and the agent is killed', async () => {
    const path = stub('fence_hang', 'sleep 30');
    const r = await execAgent({ path, params: {}, targets: {} }).run('off', node2, 200);
    expect(r.outcome).toBe('timeout');
  });

  it('a missing program is a failure, not a crash', async () => {
    expect((await execAgent({ path: join(dir, 'nope'), params: {}, targets: {} }).run('off', node2, 1000)).outcome).toBe('failed');
  });
});

describe('lab agent (scripted runner: no namespace touched)', () => {
  const ok = (stdout = ''): ProcessResult => ({ outcome: 'exited', code: 0, signal: null, stdout, stderr: '', detail: 'ok' });

  it('takes the link down, kills the namespace\'s processes, checks the link', async () => {
    const calls: string[] = [];
    const killed: number[] = [];
    const run: ProcessRunner = (file, args) => {
      calls.push(`${file} ${args.join(' ')}`);
      if (args[0] === 'netns') return Promise.resolve(ok('101\n102\n'));
      if (args.includes('show')) return Promise.resolve(ok('2: eth0: <BROADCAST,MULTICAST> mtu 1500 state DOWN'));
      return Promise.resolve(ok());
    };
    const a = labAgent({ namespaces: { n2: 'lab-n2' }, ifname: 'eth0' }, run, (pid) => killed.push(pid));
    const r = await a.run('off', { id: 2, name: 'n2' }, 1000);
    expect(r).toMatchObject({ outcome: 'success' });
    expect(calls).toEqual(['ip -n lab-n2 link set eth0 down', 'ip netns pids lab-n2', 'ip -n lab-n2 -o link show eth0']);
    expect(killed).toEqual([101, 102]);
  });

  it('fails when the node has no namespace or its link stays up', async () => {
    const up: ProcessRunner = (_f, args) => Promise.resolve(ok(args.includes('show') ? '2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> state UP' : ''));
    const a = labAgent({ namespaces: { n2: 'lab-n2' }, ifname: 'eth0' }, up, () => undefined);
    expect((await a.run('off', { id: 3, name: 'n3' }, 1000)).outcome).toBe('failed');
    expect((await a.run('off', { id: 2, name: 'n2' }, 1000)).outcome).toBe('failed');
  });

  it('as a fence-agents program: reads what the exec agent writes on its stdin', () => {
    const stdin = stdinFor({ path: '/lab/fence', params: { ifname: 'eth1' }, targets: { n2: { plug: 'n2', ns: 'lab-n2' } } }, 'off', { id: 2, name: 'n2' });
    expect(parseAgentStdin(stdin)).toEqual({ action: 'off', target: 'n2', spec: { namespaces: { n2: 'lab-n2' }, ifname: 'eth1' } });
    expect(parseAgentStdin('action=off\nplug=n2\n')).toEqual({ error: 'needs plug= (the node) and ns= (its namespace)' });
    expect(parseAgentStdin('action=explode\nplug=n2\nns=x\n')).toHaveProperty('error');
  });
});

describe('fence runner', () => {
  it('delays, runs the agent, opens the gate on success; a failure keeps it shut and retries on the clock', async () => {
    const clock = fakeClock();
    const agent = fakeAgent();
    agent.next = { outcome: 'failed', detail: 'exit 1' };
    const r = createFenceRunner({ cfg: { action: 'off', delayMs: 100, timeoutMs: 1000, retryBaseMs: 500, retryMaxMs: 4000 }, agent, nodes: [{ id: 2, name: 'n2' }], clock, log: silent });
    let changes = 0;
    r.onChange(() => changes++);
    r.require(2, 'two-node split');
    clock.advance(99);
    await flush();
    expect(agent.calls).toEqual([]);
    clock.advance(1);
    await flush();
    expect(agent.calls).toEqual(['off:n2']);
    expect(r.allowed(2)).toBe(false);
    expect(r.status().targets[0]).toMatchObject({ phase: 'retry-wait', attempts: 1, last: { outcome: 'failed', detail: 'exit 1' } });
    agent.next = { outcome: 'success', detail: 'ok' };
    clock.advance(500);
    await flush();
    expect(agent.calls).toEqual(['off:n2', 'off:n2']);
    expect(r.allowed(2)).toBe(true);
    expect(r.status().counters).toMatchObject({ requested: 1, failed: 1, succeeded: 1 });
    expect(changes).toBeGreaterThan(0);
    r.close();
  });
});

describe('watchdog (fake device: never the host\'s)', () => {
  it('disabled: nothing opened', () => {
    const calls: string[] = [];
    const port: WatchdogPort = { open: (p) => calls.push(`open ${p}`), kick: () => calls.push('kick'), disarm: () => calls.push('disarm') };
    const w = startWatchdog({ enabled: false, device: '/dev/watchdog', kickMs: 1000 }, port, fakeClock(), silent);
    expect(w.armed).toBe(false);
    expect(calls).toEqual([]);
  });

  it('enabled: opened, kicked on the clock, disarmed with the magic close', () => {
    const calls: string[] = [];
    const port: WatchdogPort = { open: (p) => calls.push(`open ${p}`), kick: () => calls.push('kick'), disarm: () => calls.push('disarm') };
    const clock = fakeClock();
    const w = startWatchdog({ enabled: true, device: '/dev/fake-watchdog', kickMs: 1000 }, port, clock, silent);
    clock.advance(3000);
    expect(w.kicks()).toBe(3);
    w.close();
    expect(calls).toEqual(['open /dev/fake-watchdog', 'kick', 'kick', 'kick', 'kick', 'disarm']);
    clock.advance(5000);
    expect(calls.at(-1)).toBe('disarm');
  });
});
