/**
 * Health checks behind one port: HTTP (status, optional body match), TCP connect, a command,
 * or the resource driver's own monitor. Each run ends in a named outcome within its timeout;
 * nothing here retries or counts — rise and fall are the policy's (resource-policy.ts).
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import type { CheckOutcome } from './resource-policy.js';
import type { HealthCheckSpec } from '../../config/ha-types.js';
import type { ResourceDriver } from './driver.js';
import { runProcess, runShell, type ProcessRunner } from '../../adapters/run-process.js';

export interface CheckResult { readonly outcome: CheckOutcome; readonly detail: string }

export interface HealthCheck {
  readonly describe: string;
  run(timeoutMs: number): Promise<CheckResult>;
}

export type { HealthCheckSpec };

/** Bytes of a body kept for matching: a health page, not a download. */
const MAX_BODY_BYTES = 64 * 1024;

export function httpCheck(url: string, expectStatus: readonly number[], bodyMatch: string | null): HealthCheck {
  const pattern = bodyMatch === null ? null : new RegExp(bodyMatch);
  return {
    describe: `http ${url}`,
    run: (timeoutMs) => new Promise((resolve) => {
      let done = false;
      const finish = (r: CheckResult): void => { if (!done) { done = true; clearTimeout(timer); req.destroy(); resolve(r); } };
      const req = request(url, { method: 'GET', headers: { 'user-agent': 'vmac-health', connection: 'close' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { if (body.length < MAX_BODY_BYTES) body += d; });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (!expectStatus.includes(status)) finish({ outcome: 'fail', detail: `HTTP ${status}, expected ${expectStatus.join('/')}` });
          else if (pattern !== null && !pattern.test(body)) finish({ outcome: 'fail', detail: `HTTP ${status}, body does not match /${bodyMatch ?? ''}/` });
          else finish({ outcome: 'pass', detail: `HTTP ${status}` });
        });
        res.on('error', (err) => finish({ outcome: 'fail', detail: `HTTP response: ${err.message}` }));
      });
      const timer = setTimeout(() => finish({ outcome: 'timeout', detail: `no HTTP answer within ${timeoutMs} ms` }), timeoutMs);
      req.on('error', (err) => finish({ outcome: 'fail', detail: `HTTP: ${(err as NodeJS.ErrnoException).code ?? err.message}` }));
      req.end();
    }),
  };
}

export function tcpCheck(host: string, port: number): HealthCheck {
  return {
    describe: `tcp ${host}:${port}`,
    run: (timeoutMs) => new Promise((resolve) => {
      let done = false;
      const sock = connect({ host, port });
      const finish = (r: CheckResult): void => { if (!done) { done = true; clearTimeout(timer); sock.destroy(); resolve(r); } };
      const timer = setTimeout(() => finish({ outcome: 'timeout', detail: `no TCP connection within ${timeoutMs} ms` }), timeoutMs);
      sock.on('connect', () => finish({ outcome: 'pass', detail: `connected to ${host}:${port}` }));
      sock.on('error', (err) => finish({ outcome: 'fail', detail: `TCP ${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? err.message}` }));
    }),
  };
}

export function commandCheck(command: string, run: ProcessRunner = runProcess): HealthCheck {
  return {
    describe: `command ${command}`,
    async run(timeoutMs) {
      const r = await runShell(run, command, { timeoutMs });
      if (r.outcome === 'timeout') return { outcome: 'timeout', detail: r.detail };
      return { outcome: r.outcome === 'exited' && r.code === 0 ? 'pass' : 'fail', detail: r.detail };
    },
  };
}

export function monitorCheck(driver: ResourceDriver): HealthCheck {
  return {
    describe: `monitor ${driver.describe}`,
    async run(timeoutMs) {
      const r = await driver.monitor(timeoutMs);
      return { outcome: r.state === 'running' ? 'pass' : 'fail', detail: r.detail };
    },
  };
}

export function healthCheck(spec: HealthCheckSpec, driver: ResourceDriver): HealthCheck {
  switch (spec.kind) {
    case 'http': return httpCheck(spec.url, spec.expectStatus, spec.bodyMatch);
    case 'tcp': return tcpCheck(spec.host, spec.port);
    case 'command': return commandCheck(spec.command);
    case 'resource': return monitorCheck(driver);
  }
}
