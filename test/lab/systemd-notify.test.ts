/**
 * Issue 7, systemd: a daemon started as systemd starts a Type=notify unit with WatchdogSec
 * (NOTIFY_SOCKET, WATCHDOG_USEC), inside a lab node namespace, against a test double of the
 * notify socket (systemd is not PID 1 on this machine). READY=1 comes only after the node
 * serves; WATCHDOG=1 comes at half the watchdog period while the heartbeat loop runs, stops
 * while the process is frozen (SIGSTOP) and resumes after; STOPPING=1 on SIGTERM.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labDown, labUp, type LabInfo } from '../../lab/lab.js';
import { startNotifyDouble, spawnNotified, type NotifyDouble } from '../../lab/metrics-notify.js';
import { daemonEntry } from '../../lab/paths.js';
import { expectNoNamespacesLeft, uniqueLabName } from './support.js';

const name = uniqueLabName('sd');
let lab: LabInfo;
let double: NotifyDouble | null = null;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The command systemd's ExecStart would run. VMAC_BIN=/usr/bin/vmac runs the installed package
 * (`make deb; dpkg -i ...`) instead of this tree's build.
 */
function vmacArgv(config: string): string[] {
  const bin = process.env.VMAC_BIN;
  return bin ? [bin, 'run', config] : [process.execPath, daemonEntry(), 'run', config];
}

describe('systemd notify protocol (test double of the notify socket)', () => {
  beforeAll(async () => {
    lab = await labUp({ name, nodes: 3, clients: 1, addrs: 4, seed: randomInt(1, 2 ** 31), buckets: 256, profile: 'default', affinity: 'address' });
  }, 120_000);

  afterAll(async () => {
    double?.close();
    await labDown(name);
    await expectNoNamespacesLeft(name);
  }, 60_000);

  it('READY=1 once serving, WATCHDOG=1 while the loop runs, none while frozen, STOPPING=1 on SIGTERM', async () => {
    const node = lab.nodes[2]!;
    // Replace the lab's own daemon of node 3 by one started the systemd way.
    process.kill(node.daemonPid, 'SIGTERM');
    await sleep(1500);
    double = await startNotifyDouble(lab.dir);
    const log = join(lab.dir, 'n3-notified.log');
    const startedAt = Date.now();
    const child = spawnNotified(node.ns, vmacArgv(node.config), double.socketPath, 1_000_000, log);
    try {
      for (let i = 0; i < 100 && !double.messages().some((m) => m.message.startsWith('READY=1')); i++) await sleep(100);
      const ready = double.messages().find((m) => m.message.startsWith('READY=1'));
      expect(ready, readFileSync(log, 'utf8').slice(-2000)).toBeDefined();
      const text = readFileSync(log, 'utf8');
      const servingLine = text.split('\n').find((l) => l.includes('"event":"serving"'));
      expect(servingLine).toBeDefined();
      const servingAt = Date.parse((JSON.parse(servingLine ?? '{}') as { time: string }).time);
      expect(ready!.atMs).toBeGreaterThanOrEqual(servingAt); // never before the node serves
      expect(ready!.message).toContain('STATUS=serving');
      await sleep(2600);
      const pings = double.messages().filter((m) => m.message === 'WATCHDOG=1');
      expect(pings.length).toBeGreaterThanOrEqual(4); // every ~500 ms (WATCHDOG_USEC / 2)
      process.kill(child.pid!, 'SIGSTOP'); // the `ip netns exec` process execs into node
      const frozenAt = Date.now();
      await sleep(1500);
      const whileFrozen = double.messages().filter((m) => m.message === 'WATCHDOG=1' && m.atMs > frozenAt + 50).length;
      process.kill(child.pid!, 'SIGCONT');
      await sleep(1200);
      const afterThaw = double.messages().filter((m) => m.message === 'WATCHDOG=1' && m.atMs > frozenAt + 1500).length;
      process.kill(child.pid!, 'SIGTERM');
      await new Promise<void>((r) => child.once('exit', () => r()));
      const all = double.messages();
      console.log(`systemd notify (${vmacArgv(node.config).join(' ')}): READY=1 ${Math.round(ready!.atMs - startedAt)} ms after start (${Math.round(ready!.atMs - servingAt)} ms after serving); ${pings.length} WATCHDOG=1 in the first ~2.6 s, ${whileFrozen} while SIGSTOPped 1.5 s, ${afterThaw} in 1.2 s after SIGCONT; last message: ${JSON.stringify(all[all.length - 1]?.message)}`);
      expect(whileFrozen).toBe(0);
      expect(afterThaw).toBeGreaterThanOrEqual(1);
      expect(all.some((m) => m.message.startsWith('STOPPING=1'))).toBe(true);
    } finally {
      if (child.exitCode === null) { try { process.kill(child.pid!, 'SIGCONT'); process.kill(child.pid!, 'SIGTERM'); } catch { /* gone */ } }
    }
  }, 60_000);
});
