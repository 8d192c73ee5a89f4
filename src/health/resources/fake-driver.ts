/**
 * In-memory resource driver and health check for unit tests: every call is recorded and answers
 * what the test scripted; calls resolve when the test says so (no timers).
 */
import type { ActionResult, MonitorResult, ResourceDriver } from './driver.js';
import type { CheckResult, HealthCheck } from './health-check.js';

export interface FakeDriver extends ResourceDriver {
  readonly calls: string[];
  running: boolean;
  startResult: ActionResult;
  stopResult: ActionResult;
}

export function fakeDriver(): FakeDriver {
  const d: FakeDriver = {
    kind: 'fake',
    describe: 'fake',
    calls: [],
    running: false,
    startResult: { outcome: 'ok', detail: 'started' },
    stopResult: { outcome: 'ok', detail: 'stopped' },
    start() { d.calls.push('start'); if (d.startResult.outcome === 'ok') d.running = true; return Promise.resolve(d.startResult); },
    stop() { d.calls.push('stop'); if (d.stopResult.outcome === 'ok') d.running = false; return Promise.resolve(d.stopResult); },
    monitor(): Promise<MonitorResult> { d.calls.push('monitor'); return Promise.resolve({ state: d.running ? 'running' : 'stopped', detail: d.running ? 'running' : 'stopped' }); },
  };
  return d;
}

export interface FakeCheck extends HealthCheck { next: CheckResult; runs: number }

export function fakeCheck(): FakeCheck {
  const c: FakeCheck = {
    describe: 'fake check',
    next: { outcome: 'pass', detail: 'ok' },
    runs: 0,
    run() { c.runs++; return Promise.resolve(c.next); },
  };
  return c;
}
