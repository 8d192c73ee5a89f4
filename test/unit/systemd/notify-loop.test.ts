import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { fakeClock } from '../../../src/util/clock.js';
import { startNotifyLoop } from '../../../src/systemd/notify-loop.js';
import type { DaemonStatus } from '../../../src/daemon/node-daemon.js';

describe('notify loop', () => {
  it('checks readiness every 50 ms until READY=1, then STATUS= once a second; the watchdog keeps its own period', () => {
    const clock = fakeClock();
    const sent: string[] = [];
    let serving = false;
    let reads = 0;
    let hb = 0;
    const status = (): DaemonStatus => {
      reads++;
      return { cluster: { self: { servingSinceMs: serving ? 0 : null }, heartbeats: { sent: hb }, quorum: { has: serving }, owned: serving ? [1, 2] : [] } } as unknown as DaemonStatus;
    };
    const loop = startNotifyLoop({ socket: { send: (m: string) => void sent.push(m) }, status, clock, watchdogMs: 500, readyGraceMs: 60_000, log: pino({ level: 'silent' }) });
    clock.advance(500);
    expect(sent.filter((m) => m.startsWith('READY'))).toEqual([]);
    serving = true;
    clock.advance(50);
    expect(sent.some((m) => m.startsWith('READY=1\nSTATUS=serving 2 buckets'))).toBe(true);
    reads = 0;
    for (let i = 0; i < 10; i++) { hb++; clock.advance(1000); }
    // 10 status checks and 20 watchdog checks in 10 s (it was 200 + 20).
    expect(reads).toBe(30);
    expect(sent.filter((m) => m === 'WATCHDOG=1').length).toBeGreaterThanOrEqual(10);
    serving = false;
    clock.advance(1000);
    expect(sent.at(-1)).toContain('STATUS=waiting for a quorum');
    loop.close();
    expect(clock.pending()).toBe(0);
  });
});
