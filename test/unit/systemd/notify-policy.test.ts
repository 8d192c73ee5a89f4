import { describe, expect, it } from 'vitest';
import { initNotify, notifyStep, watchdogPingMs, type NotifySnapshot } from '../../../src/systemd/notify-policy.js';

const snap = (o: Partial<NotifySnapshot>): NotifySnapshot => ({ nowMs: 0, serving: false, heartbeatsSent: 0, quorum: false, owned: 0, ...o });
const GRACE = 480;

describe('notify policy', () => {
  it('no READY while the node does not serve, inside the grace period', () => {
    const r = notifyStep(initNotify(0, 0), { kind: 'check', snap: snap({ nowMs: 100, quorum: true }) }, GRACE);
    expect(r.effects).toEqual([]);
    expect(r.state.ready).toBe(false);
  });

  it('READY=1 with the serving status as soon as the node serves, once', () => {
    const r = notifyStep(initNotify(0, 0), { kind: 'check', snap: snap({ nowMs: 100, serving: true, quorum: true, owned: 85 }) }, GRACE);
    expect(r.effects).toEqual([{ message: 'READY=1\nSTATUS=serving 85 buckets', outcome: 'ready' }]);
    const again = notifyStep(r.state, { kind: 'check', snap: snap({ nowMs: 150, serving: true, quorum: true, owned: 85 }) }, GRACE);
    expect(again.effects).toEqual([]);
  });

  it('READY=1 without quorum after the grace period, saying so', () => {
    const r = notifyStep(initNotify(0, 0), { kind: 'check', snap: snap({ nowMs: GRACE }) }, GRACE);
    expect(r.effects).toEqual([{ message: 'READY=1\nSTATUS=waiting for a quorum: not answering', outcome: 'ready-without-quorum' }]);
  });

  it('STATUS= when the summary changes after READY', () => {
    const ready = notifyStep(initNotify(0, 0), { kind: 'check', snap: snap({ nowMs: 10, serving: true, quorum: true, owned: 85 }) }, GRACE).state;
    const r = notifyStep(ready, { kind: 'check', snap: snap({ nowMs: 20, serving: false, quorum: false }) }, GRACE);
    expect(r.effects).toEqual([{ message: 'STATUS=waiting for a quorum: not answering', outcome: 'status' }]);
  });

  it('WATCHDOG=1 only when heartbeats were sent since the previous ping', () => {
    let st = initNotify(0, 5);
    let r = notifyStep(st, { kind: 'watchdog-due', snap: snap({ nowMs: 500, heartbeatsSent: 17 }) }, 60_000); // long grace: this test is about the watchdog alone
    expect(r.effects.map((e) => e.outcome)).toEqual(['pinged']);
    st = r.state;
    r = notifyStep(st, { kind: 'watchdog-due', snap: snap({ nowMs: 1000, heartbeatsSent: 17 }) }, 60_000); // long grace: this test is about the watchdog alone
    expect(r.effects.map((e) => e.outcome)).toEqual(['withheld-loop-stalled']);
    r = notifyStep(r.state, { kind: 'watchdog-due', snap: snap({ nowMs: 1500, heartbeatsSent: 18 }) }, 60_000); // long grace: this test is about the watchdog alone
    expect(r.effects.map((e) => e.message)).toEqual(['WATCHDOG=1']);
  });

  it('after STOPPING=1 only watchdog pings follow', () => {
    const ready = notifyStep(initNotify(0, 0), { kind: 'check', snap: snap({ nowMs: 10, serving: true, owned: 3 }) }, GRACE).state;
    const stop = notifyStep(ready, { kind: 'stopping' }, GRACE);
    expect(stop.effects[0]?.message).toMatch(/^STOPPING=1/);
    const r = notifyStep(stop.state, { kind: 'watchdog-due', snap: snap({ nowMs: 600, owned: 0, heartbeatsSent: 9 }) }, GRACE);
    expect(r.effects.map((e) => e.message)).toEqual(['WATCHDOG=1']);
  });

  it('pings at half WATCHDOG_USEC, only for the watched pid', () => {
    expect(watchdogPingMs({ WATCHDOG_USEC: '3000000' }, 42)).toBe(1500);
    expect(watchdogPingMs({ WATCHDOG_USEC: '3000000', WATCHDOG_PID: '42' }, 42)).toBe(1500);
    expect(watchdogPingMs({ WATCHDOG_USEC: '3000000', WATCHDOG_PID: '7' }, 42)).toBeNull();
    expect(watchdogPingMs({}, 42)).toBeNull();
  });
});
