/**
 * The resource policy reducer on a fake clock (plain numbers: no timers, no sleeps).
 */
import { describe, expect, it } from 'vitest';
import { backoffMs, holdDownMs, initResource, leasingAllowed, step, type ResourceEffect, type ResourceEvent, type ResourcePolicyConfig, type ResourceState } from '../../../../src/health/resources/resource-policy.js';

const CFG: ResourcePolicyConfig = {
  health: { intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 3 },
  damping: { holdBaseMs: 5000, holdMaxMs: 40_000, decayMs: 60_000 },
  startRetry: { baseMs: 1000, maxMs: 8000 },
};

class Driver {
  s: ResourceState = initResource();
  now = 0;
  effects: ResourceEffect[] = [];
  send(e: ResourceEvent, atMs = this.now): ResourceEffect[] {
    this.now = atMs;
    const r = step(this.s, e, this.now, CFG);
    this.s = r.state;
    this.effects.push(...r.effects);
    return [...r.effects];
  }
  checks(outcome: 'pass' | 'fail' | 'timeout', n: number): void {
    for (let i = 0; i < n; i++) this.send({ kind: 'check-done', outcome, detail: outcome }, this.now + CFG.health.intervalMs);
  }
  running(healthyPeers = 2): this {
    this.send({ kind: 'peers', healthyPeers });
    this.send({ kind: 'start-requested' });
    this.send({ kind: 'start-done', outcome: 'ok', detail: '' });
    this.checks('pass', CFG.health.rise);
    return this;
  }
}

const kinds = (effects: readonly ResourceEffect[]): string[] => effects.map((e) => (e.kind === 'log' ? `log:${e.event}` : e.kind === 'role-changed' ? `role:${e.to}` : e.kind));

describe('resource policy: start, health, leasing', () => {
  it('leases only after the service started and `rise` checks passed', () => {
    const d = new Driver();
    expect(kinds(d.send({ kind: 'start-requested' }))).toEqual(['start-service']);
    expect(d.s.role).toBe('standby');
    d.send({ kind: 'start-done', outcome: 'ok', detail: '' });
    expect(d.s.phase).toBe('running');
    expect(leasingAllowed(d.s.role)).toBe(false);
    d.checks('pass', 1);
    expect(leasingAllowed(d.s.role)).toBe(false);
    d.send({ kind: 'peers', healthyPeers: 1 });
    const e = d.send({ kind: 'check-done', outcome: 'pass', detail: 'HTTP 200' }, d.now + 1000);
    expect(kinds(e)).toEqual(['log:health-recovered', 'role:active']);
    expect(leasingAllowed(d.s.role)).toBe(true);
  });

  it('a failed start is retried with doubling backoff, capped', () => {
    const d = new Driver();
    d.send({ kind: 'start-requested' });
    d.send({ kind: 'start-done', outcome: 'failed', detail: 'exit 1' }, 0);
    expect(d.s.retryAtMs).toBe(1000);
    expect(kinds(d.send({ kind: 'tick' }, 999))).toEqual([]);
    expect(kinds(d.send({ kind: 'tick' }, 1000))).toEqual(['start-service']);
    d.send({ kind: 'start-done', outcome: 'timeout', detail: '' }, 1100);
    expect(d.s.retryAtMs).toBe(1100 + 2000);
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffMs(CFG.startRetry, a))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('`fall` failures in a row drain the node; fewer do not', () => {
    const d = new Driver().running();
    d.checks('fail', 2);
    d.checks('pass', 1);
    d.checks('timeout', 2);
    expect(d.s.role).toBe('active');
    expect(d.s.failures).toBe(4);
    const before = d.effects.length;
    d.checks('fail', 1);
    expect(kinds(d.effects.slice(before))).toEqual(['log:health-failed', 'role:draining']);
    expect(leasingAllowed(d.s.role)).toBe(false);
    expect(d.s.lastCheck).toEqual({ atMs: d.now, outcome: 'fail', detail: 'fail' });
  });

  it('recovery takes the buckets back after `rise` passes (first flap: no hold-down)', () => {
    const d = new Driver().running();
    d.checks('fail', 3);
    expect(d.s.role).toBe('draining');
    d.checks('pass', 1);
    expect(d.s.role).toBe('draining');
    d.checks('pass', 1);
    expect(d.s.role).toBe('active');
  });

  it('a flapping service is damped: the hold-down doubles per flap and decays after a stable spell', () => {
    const d = new Driver().running();
    const flap = (): void => { d.checks('fail', 3); d.checks('pass', 2); };
    flap();
    expect(d.s.role).toBe('active');
    flap();
    expect(d.s.flaps).toBe(2);
    expect(d.s.role).toBe('draining');
    expect(d.s.holdUntilMs).toBe(d.now + 5000);
    d.send({ kind: 'tick' }, d.now + 4999);
    expect(d.s.role).toBe('draining');
    d.send({ kind: 'tick' }, d.now + 1);
    expect(d.s.role).toBe('active');
    flap();
    expect(d.s.holdUntilMs).toBe(d.now + 10_000);
    expect([1, 2, 3, 4, 5, 6, 7].map((f) => holdDownMs(CFG.damping, f))).toEqual([0, 5000, 10_000, 20_000, 40_000, 40_000, 40_000]);
    // A minute without a flap: the next failure counts as the first again.
    d.send({ kind: 'tick' }, d.now + 10_000);
    d.checks('pass', 60);
    flap();
    expect(d.s.flaps).toBe(1);
    expect(d.s.role).toBe('active');
  });

  it('damping never leaves buckets without a healthy owner: with no healthy peer a damped node serves', () => {
    const d = new Driver().running();
    d.checks('fail', 3); d.checks('pass', 2);
    d.checks('fail', 3); d.checks('pass', 2);
    expect(d.s.role).toBe('draining');
    d.send({ kind: 'peers', healthyPeers: 0 });
    expect(d.s.role).toBe('active');
  });
});

describe('resource policy: never release into nothing', () => {
  it('unhealthy with no healthy peer: keeps serving (holding) and says so loudly', () => {
    const d = new Driver().running(0);
    expect(d.s.role).toBe('active');
    const before = d.effects.length;
    d.checks('fail', 3);
    const e = d.effects.slice(before);
    expect(kinds(e)).toEqual(['log:health-failed', 'role:holding', 'log:all-unhealthy-serving']);
    expect(e.find((x) => x.kind === 'log' && x.event === 'all-unhealthy-serving')).toMatchObject({ level: 'error' });
    expect(leasingAllowed(d.s.role)).toBe(true);
  });

  it('holding hands over as soon as a peer is healthy again, and takes over again if it goes', () => {
    const d = new Driver().running(0);
    d.checks('fail', 3);
    expect(d.s.role).toBe('holding');
    d.send({ kind: 'peers', healthyPeers: 1 });
    expect(d.s.role).toBe('draining');
    d.send({ kind: 'peers', healthyPeers: 0 });
    expect(d.s.role).toBe('holding');
  });

  it('a draining node whose peers all went unhealthy too starts serving again', () => {
    const d = new Driver().running(1);
    d.checks('fail', 3);
    expect(d.s.role).toBe('draining');
    d.send({ kind: 'peers', healthyPeers: 0 });
    expect(d.s.role).toBe('holding');
  });
});

describe('resource policy: stop ordering', () => {
  it('releases the buckets first and stops the service last', () => {
    const d = new Driver().running();
    expect(kinds(d.send({ kind: 'stop-requested' }))).toEqual(['release-buckets', 'role:draining']);
    expect(leasingAllowed(d.s.role)).toBe(false);
    expect(kinds(d.send({ kind: 'buckets-released' }))).toEqual(['stop-service']);
    expect(kinds(d.send({ kind: 'stop-done', outcome: 'ok', detail: '' }))).toEqual(['role:standby']);
    expect(d.s.phase).toBe('stopped');
    // Checks after the stop change nothing.
    d.checks('pass', 5);
    expect(d.s.role).toBe('standby');
  });

  it('a stop during start stops the service once the start returns; no retry after a stop', () => {
    const d = new Driver();
    d.send({ kind: 'start-requested' });
    expect(kinds(d.send({ kind: 'stop-requested' }))).toEqual([]);
    expect(kinds(d.send({ kind: 'start-done', outcome: 'ok', detail: '' }))).toEqual(['stop-service', 'role:draining']);
    d.send({ kind: 'stop-done', outcome: 'ok', detail: '' });
    expect(d.s.phase).toBe('stopped');
    const f = new Driver();
    f.send({ kind: 'start-requested' });
    f.send({ kind: 'start-done', outcome: 'failed', detail: '' });
    f.send({ kind: 'stop-requested' });
    expect(kinds(f.send({ kind: 'tick' }, 100_000))).toEqual([]);
  });

  it('a failed stop is logged as an error', () => {
    const d = new Driver().running();
    d.send({ kind: 'stop-requested' });
    d.send({ kind: 'buckets-released' });
    expect(kinds(d.send({ kind: 'stop-done', outcome: 'timeout', detail: 'systemctl hung' }))).toContain('log:resource-stop-failed');
  });
});
