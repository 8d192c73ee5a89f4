/**
 * The resource runner on a fake clock with a fake driver and check: the order of start, checks,
 * role changes, bucket release and stop. Promises are flushed, never slept on.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { fakeClock } from '../../../../src/util/clock.js';
import { fakeCheck, fakeDriver } from '../../../../src/health/resources/fake-driver.js';
import { createResourceRunner } from '../../../../src/health/resources/resource-runner.js';
import type { Role } from '../../../../src/health/resources/resource-policy.js';

const flush = async (): Promise<void> => { for (let i = 0; i < 10; i++) await Promise.resolve(); };

function setup() {
  const clock = fakeClock();
  const driver = fakeDriver();
  const check = fakeCheck();
  const roles: Role[] = [];
  const order: string[] = [];
  const runner = createResourceRunner({
    name: 'web', driver, check, clock, log: pino({ level: 'silent' }),
    policy: { health: { intervalMs: 100, timeoutMs: 50, rise: 2, fall: 3 }, damping: { holdBaseMs: 1000, holdMaxMs: 8000, decayMs: 60_000 }, startRetry: { baseMs: 500, maxMs: 4000 } },
    startTimeoutMs: 1000, stopTimeoutMs: 1000,
    onRole: (r) => { roles.push(r); order.push(`role:${r}`); },
    releaseBuckets: () => { order.push('release'); return Promise.resolve(); },
  });
  const tick = async (ms: number): Promise<void> => { for (let t = 0; t < ms; t += 10) { clock.advance(10); await flush(); } };
  return { clock, driver, check, roles, order, runner, tick };
}

describe('resource runner', () => {
  it('starts the service, becomes active after `rise` checks, drains after `fall` failures, returns on recovery', async () => {
    const t = setup();
    t.runner.setHealthyPeers(1);
    t.runner.start();
    await flush();
    expect(t.driver.calls).toEqual(['start']);
    await t.tick(200);
    expect(t.runner.role()).toBe('active');
    t.check.next = { outcome: 'fail', detail: 'connection refused' };
    await t.tick(300);
    expect(t.runner.role()).toBe('draining');
    expect(t.runner.status()).toMatchObject({ health: 'unhealthy', failures: 3, lastCheck: { outcome: 'fail', detail: 'connection refused' } });
    t.check.next = { outcome: 'pass', detail: 'ok' };
    await t.tick(200);
    expect(t.runner.role()).toBe('active');
    expect(t.roles).toEqual(['active', 'draining', 'active']);
  });

  it('stop: buckets released first, the service stopped last', async () => {
    const t = setup();
    t.runner.start();
    await t.tick(200);
    t.order.length = 0;
    await t.runner.stop();
    expect(t.order).toEqual(['release', 'role:draining', 'role:standby']);
    expect(t.driver.calls.at(-1)).toBe('stop');
  });

  it('a failed start is retried on the clock', async () => {
    const t = setup();
    t.driver.startResult = { outcome: 'failed', detail: 'exit 1' };
    t.runner.start();
    await flush();
    t.driver.startResult = { outcome: 'ok', detail: '' };
    await t.tick(490);
    expect(t.driver.calls.filter((c) => c === 'start')).toHaveLength(1);
    await t.tick(20);
    expect(t.driver.calls.filter((c) => c === 'start')).toHaveLength(2);
    t.runner.close();
  });
});
