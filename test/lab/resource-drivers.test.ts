/**
 * The three resource drivers for real, each through start → monitor → stop → monitor:
 *   - a command triple around the lab's echo service (lab/c/echo.c), with a TCP health check;
 *   - a systemd unit through a test double of `systemctl` (systemd is not PID 1 on this
 *     machine, so the real one cannot start units): test/lab/helpers/systemctl-double.sh;
 *   - ocf:heartbeat:Dummy from Debian's resource-agents package, parameters validated against
 *     its meta-data first.
 * Everything runs on loopback in the root namespace's lo only with processes this test starts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { commandTriple } from '../../src/health/resources/command-triple.js';
import { systemdUnit } from '../../src/health/resources/systemd-unit.js';
import { ocfAgent } from '../../src/health/resources/ocf-agent.js';
import { tcpCheck, httpCheck, commandCheck } from '../../src/health/resources/health-check.js';
import type { ResourceDriver } from '../../src/health/resources/driver.js';
import { labBinary } from '../../lab/paths.js';
import { isVmacError } from '../../src/util/errors.js';
import { createServer } from 'node:http';

const dir = mkdtempSync(join(tmpdir(), 'vmac-res-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const echo = labBinary('vmac-echo');
const T = 5000;

async function cycle(d: ResourceDriver): Promise<string[]> {
  const seen: string[] = [];
  seen.push(`monitor:${(await d.monitor(T)).state}`);
  seen.push(`start:${(await d.start(T)).outcome}`);
  seen.push(`monitor:${(await d.monitor(T)).state}`);
  seen.push(`stop:${(await d.stop(T)).outcome}`);
  seen.push(`monitor:${(await d.monitor(T)).state}`);
  return seen;
}

describe('resource drivers for real', () => {
  it('command triple: the echo service started, monitored, health-checked over TCP, stopped', async () => {
    const pid = join(dir, 'echo.pid');
    const port = 20000 + (process.pid % 20000);
    const d = commandTriple({
      start: `${echo} --name t --addr 127.0.0.1 --udp ${port} --tcp ${port} >/dev/null 2>&1 & echo $! > ${pid}; sleep 0.1; kill -0 $(cat ${pid})`,
      stop: `kill $(cat ${pid}) 2>/dev/null; rm -f ${pid}`,
      monitor: `[ -f ${pid} ] || exit 7; kill -0 $(cat ${pid}) 2>/dev/null || exit 1`,
    });
    expect(await d.monitor(T)).toMatchObject({ state: 'stopped' });
    expect((await d.start(T)).outcome).toBe('ok');
    expect((await d.monitor(T)).state).toBe('running');
    expect((await tcpCheck('127.0.0.1', port).run(1000)).outcome).toBe('pass');
    expect((await d.stop(T)).outcome).toBe('ok');
    expect((await d.monitor(T)).state).toBe('stopped');
    expect((await tcpCheck('127.0.0.1', port).run(1000)).outcome).toBe('fail');
  });

  it('systemd unit through the systemctl test double (systemd is not PID 1 here)', async () => {
    process.env.VMAC_SYSTEMCTL_DOUBLE_STATE = dir;
    writeFileSync(join(dir, 'echo-test.service.exec'), `${echo} --name u --addr 127.0.0.1 --udp ${21000 + (process.pid % 20000)}`);
    const d = systemdUnit({ unit: 'echo-test.service', systemctl: resolve('test/lab/helpers/systemctl-double.sh') });
    expect(await cycle(d)).toEqual(['monitor:stopped', 'start:ok', 'monitor:running', 'stop:ok', 'monitor:stopped']);
    const missing = systemdUnit({ unit: 'nope.service', systemctl: resolve('test/lab/helpers/systemctl-double.sh') });
    expect(await missing.start(T)).toMatchObject({ outcome: 'failed' });
  });

  it('ocf:heartbeat:Dummy from resource-agents: meta-data validated, start/monitor/stop', async () => {
    expect(existsSync('/usr/lib/ocf/resource.d/heartbeat/Dummy')).toBe(true);
    const state = join(dir, 'dummy.state');
    const d = ocfAgent({ root: '/usr/lib/ocf', provider: 'heartbeat', agent: 'Dummy', instance: 'vmac-test', params: { state } });
    const params = await d.validate(T);
    expect(params.map((p) => p.name)).toContain('state');
    expect(await cycle(d)).toEqual(['monitor:stopped', 'start:ok', 'monitor:running', 'stop:ok', 'monitor:stopped']);
    const bad = ocfAgent({ root: '/usr/lib/ocf', provider: 'heartbeat', agent: 'Dummy', instance: 'x', params: { stat: state } });
    await expect(bad.validate(T)).rejects.toSatisfy((e: unknown) => isVmacError(e, 'VMAC_RESOURCE_INVALID') && e.message.includes('params.stat'));
    expect((await bad.start(T)).outcome).toBe('failed');
  });

  it('HTTP and command health checks', async () => {
    const srv = createServer((req, res) => { res.statusCode = req.url === '/ok' ? 200 : 503; res.end(req.url === '/ok' ? 'status: up' : 'down'); });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    try {
      expect(await httpCheck(`http://127.0.0.1:${port}/ok`, [200], 'up').run(1000)).toMatchObject({ outcome: 'pass' });
      expect(await httpCheck(`http://127.0.0.1:${port}/ok`, [200], 'ready').run(1000)).toMatchObject({ outcome: 'fail' });
      expect(await httpCheck(`http://127.0.0.1:${port}/bad`, [200], null).run(1000)).toMatchObject({ outcome: 'fail', detail: 'HTTP 503, expected 200' });
    } finally {
      srv.close();
    }
    expect((await commandCheck('true').run(1000)).outcome).toBe('pass');
    expect((await commandCheck('exit 3').run(1000)).outcome).toBe('fail');
    expect((await commandCheck('sleep 5').run(100)).outcome).toBe('timeout');
  });
});
