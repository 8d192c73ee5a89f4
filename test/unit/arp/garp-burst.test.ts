import { describe, expect, it } from 'vitest';
import { createFakePacketPort } from '../../../src/arp/fake-packet-port.js';
import { createGarpAnnouncer } from '../../../src/arp/garp-announcer.js';
import { startGarpBurst, type GarpBurstOptions } from '../../../src/arp/garp-burst.js';
import { isVmacError } from '../../../src/util/errors.js';
import { createFakeScheduler } from './fake-scheduler.js';
import { CLIENT_MAC, IDENTITY, PADDING_18, REAL_MAC, VMAC, ethSource, hex, toHex } from './frames.js';
import { captureLogger, WARN } from './log-capture.js';

const GARP = toHex(hex(`ffffffffffff 525400aabb01 0806 0001 0800 0604 0001 02766d616301 c000020a 000000000000 c000020a ${PADDING_18}`));

function setup(over: Partial<GarpBurstOptions> = {}) {
  const port = createFakePacketPort();
  const clock = createFakeScheduler();
  const { log, records } = captureLogger();
  const options: GarpBurstOptions = { port, ...IDENTITY, count: 5, intervalMs: 1100, schedule: clock.schedule, log, ...over };
  return { port, clock, records, options };
}

describe('gratuitous ARP burst', () => {
  it('sends the first frame at once and the rest exactly intervalMs apart', async () => {
    const { port, clock, options } = setup();
    const burst = startGarpBurst(options);
    const times: number[] = [];
    const record = (): void => { while (times.length < port.sent.length) times.push(clock.now()); };
    record();
    for (let t = 0; t < 6000; t += 100) { clock.advance(100); record(); }
    expect(times).toEqual([0, 1100, 2200, 3300, 4400]);
    expect(port.sent.every((f) => toHex(f) === GARP)).toBe(true);
    expect(burst.state).toBe('completed');
    await expect(burst.done).resolves.toEqual({ outcome: 'completed', sent: 5, failed: 0 });
    expect(clock.pending()).toBe(0);
  });

  it('one frame before the interval elapses, two right at it', () => {
    const { port, clock, options } = setup();
    startGarpBurst(options);
    clock.advance(1099);
    expect(port.sent).toHaveLength(1);
    clock.advance(1);
    expect(port.sent).toHaveLength(2);
  });

  it('cancel stops it: no frame afterwards, no timer left, outcome canceled', async () => {
    const { port, clock, options } = setup();
    const burst = startGarpBurst(options);
    clock.advance(1100);
    burst.cancel();
    burst.cancel();
    clock.advance(10_000);
    expect(port.sent).toHaveLength(2);
    expect(clock.pending()).toBe(0);
    await expect(burst.done).resolves.toEqual({ outcome: 'canceled', sent: 2, failed: 0 });
  });

  it('carries on through send failures, counts them and warns once', async () => {
    const { port, clock, options, records } = setup();
    port.failSend({ times: 2 });
    const burst = startGarpBurst(options);
    clock.advance(10_000);
    await expect(burst.done).resolves.toEqual({ outcome: 'completed', sent: 3, failed: 2 });
    expect(records.filter((r) => r.level === WARN)).toHaveLength(1);
  });

  it('count 1 completes synchronously and schedules nothing', () => {
    const { port, clock, options } = setup({ count: 1 });
    const burst = startGarpBurst(options);
    expect(burst.state).toBe('completed');
    expect(port.sent).toHaveLength(1);
    expect(clock.pending()).toBe(0);
  });

  it('unicast destination for one client keeps the real MAC as source', () => {
    const { port, options } = setup({ count: 1, ethDst: CLIENT_MAC });
    startGarpBurst(options);
    expect(toHex(port.sent[0]?.subarray(0, 6) ?? new Uint8Array())).toBe('525400123456');
    expect(ethSource(port.sent[0] ?? new Uint8Array())).toBe(REAL_MAC);
  });

  it.each([
    ['count 0', { count: 0 }], ['count 1.5', { count: 1.5 }], ['a negative interval', { intervalMs: -1 }],
    ['the VMAC as real MAC', { realMac: VMAC }],
  ])('refuses %s with VMAC_CONFIG_INVALID', (_name, over) => {
    const { options } = setup(over);
    let caught: unknown;
    try { startGarpBurst(options); } catch (err) { caught = err; }
    expect(isVmacError(caught, 'VMAC_CONFIG_INVALID')).toBe(true);
  });
});

describe('gratuitous ARP announcer', () => {
  it('refreshes every refreshMs with a full burst', () => {
    const { port, clock, options } = setup({ count: 3, intervalMs: 1000 });
    const announcer = createGarpAnnouncer({ ...options, refreshMs: 60_000 });
    clock.advance(59_999);
    expect(port.sent).toHaveLength(0);
    clock.advance(1 + 2000);
    expect(port.sent).toHaveLength(3);
    clock.advance(60_000);
    expect(port.sent).toHaveLength(6);
    announcer.close();
    expect(clock.pending()).toBe(0);
  });

  it('an announcement replaces a running burst and restarts its count', async () => {
    const { port, clock, options } = setup({ count: 3, intervalMs: 1000 });
    const announcer = createGarpAnnouncer({ ...options, refreshMs: 0 });
    const first = announcer.announce('start');
    clock.advance(1000);
    const second = announcer.announce('takeover');
    clock.advance(10_000);
    await expect(first.done).resolves.toMatchObject({ outcome: 'canceled', sent: 2 });
    await expect(second.done).resolves.toMatchObject({ outcome: 'completed', sent: 3 });
    expect(port.sent).toHaveLength(5);
  });

  it('a refresh that finds a burst running is skipped', () => {
    const { port, clock, options } = setup({ count: 5, intervalMs: 1000 });
    createGarpAnnouncer({ ...options, refreshMs: 3000 }).announce('start');
    clock.advance(3000); // refresh due while the start burst (0..4000) runs
    clock.advance(1000);
    expect(port.sent).toHaveLength(5);
    clock.advance(2000); // next refresh at 6000 finds nothing running
    expect(port.sent).toHaveLength(6);
  });

  it('close cancels everything; announce afterwards returns a canceled burst and sends nothing', async () => {
    const { port, clock, options } = setup();
    const announcer = createGarpAnnouncer({ ...options, refreshMs: 1000 });
    announcer.announce('membership-change');
    announcer.close();
    const late = announcer.announce('takeover');
    clock.advance(100_000);
    expect(port.sent).toHaveLength(1);
    expect(late.state).toBe('canceled');
    await expect(late.done).resolves.toEqual({ outcome: 'canceled', sent: 0, failed: 0 });
    expect(clock.pending()).toBe(0);
  });

  it('refuses a negative refresh period', () => {
    const { options } = setup();
    expect(() => createGarpAnnouncer({ ...options, refreshMs: -5 })).toThrow(/refresh/);
  });

  it('never puts the VMAC in the Ethernet source', () => {
    const { port, clock, options } = setup();
    const announcer = createGarpAnnouncer({ ...options, refreshMs: 5000 });
    announcer.announce('start');
    clock.advance(30_000);
    expect(port.sent.length).toBeGreaterThan(5);
    for (const frame of port.sent) expect(ethSource(frame)).toBe(REAL_MAC);
    announcer.close();
  });
});
