/**
 * The ICMP prober adapter and the runner on a fake clock with the in-memory echo port: rounds
 * every interval (never overlapping), answers and losses per target, foreign replies ignored,
 * a stalled timeout not counted, and the role callback after fall / rise rounds.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { fakeClock } from '../../../../src/util/clock.js';
import { fakeIcmpEcho } from '../../../../src/health/reachability/fake-icmp-echo.js';
import { icmpProber, type RoundReport } from '../../../../src/health/reachability/reachability-prober.js';
import { startDataPathCheck } from '../../../../src/health/reachability/reachability-runner.js';
import type { DataPathCheckConfig } from '../../../../src/config/reachability-config.js';

const flush = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve(); };
const now = (fn: () => void): void => fn();

describe('ICMP prober', () => {
  it('one echo per target per round; answered targets carry their RTT, silent ones null; foreign replies ignored', async () => {
    const clock = fakeClock();
    const echo = fakeIcmpEcho(clock, ['10.0.0.254'], 2);
    const prober = icmpProber(echo, clock, 77, undefined, now);
    let report: RoundReport | null = null;
    void prober.round(['10.0.0.254', '10.0.0.253'], 50).then((r) => { report = r; });
    expect(echo.sent.map((s) => [s.target, s.id])).toEqual([['10.0.0.254', 77], ['10.0.0.253', 77]]);
    clock.advance(10);
    await flush();
    expect(report).toBeNull(); // one target still silent: wait for the timeout
    clock.advance(40);
    await flush();
    expect(report).toEqual({ rttMs: new Map([['10.0.0.254', 2], ['10.0.0.253', null]]), lateMs: 0 });
    // Every target answers: the round ends at once, before the timeout.
    echo.reachable.add('10.0.0.253');
    let second: RoundReport | null = null;
    void prober.round(['10.0.0.254', '10.0.0.253'], 50).then((r) => { second = r; });
    clock.advance(2);
    await flush();
    expect(second).toEqual({ rttMs: new Map([['10.0.0.254', 2], ['10.0.0.253', 2]]), lateMs: 0 });
    prober.close();
    expect(echo.closed).toBe(true);
  });

  it('a send that throws counts as lost and is reported', async () => {
    const clock = fakeClock();
    const echo = fakeIcmpEcho(clock);
    echo.send = () => { throw new Error('ENETUNREACH'); };
    const errors: string[] = [];
    const prober = icmpProber(echo, clock, 1, (err, t) => errors.push(`${t}: ${err.message}`), now);
    let report: RoundReport | null = null;
    void prober.round(['10.0.0.254'], 30).then((r) => { report = r; });
    clock.advance(30);
    await flush();
    expect(report).toEqual({ rttMs: new Map([['10.0.0.254', null]]), lateMs: 0 });
    expect(errors).toEqual(['10.0.0.254: ENETUNREACH']);
  });
});

describe('data-path runner', () => {
  const cfg: DataPathCheckConfig & { settleMs: number } = { targets: ['10.0.0.254'], require: 'any', intervalMs: 100, timeoutMs: 100, fall: 3, rise: 2, drainTimeoutMs: 0, settleMs: 150 };

  it('drains after fall lost rounds while a peer is healthy, serves again after rise; status and counters follow', async () => {
    const clock = fakeClock();
    const echo = fakeIcmpEcho(clock, ['10.0.0.254'], 1);
    const roles: string[] = [];
    let peers = 2;
    const runner = startDataPathCheck({ cfg, prober: icmpProber(echo, clock, 5, undefined, now), clock, log: pino({ level: 'silent' }), healthyPeers: () => peers, peerPollMs: 40, onRole: (to, from) => roles.push(`${from}->${to}`) });
    const run = async (ms: number): Promise<void> => { for (let t = 0; t < ms; t += 5) { clock.advance(5); await flush(); } };
    await run(500);
    expect(runner.status()).toMatchObject({ health: 'reachable', role: 'serving', failedRounds: 0, healthyPeers: 2 });
    const sentBefore = echo.sent.length;
    expect(sentBefore).toBeGreaterThanOrEqual(5);
    echo.reachable.clear();
    await run(250);
    expect(runner.role()).toBe('serving');
    await run(200);
    expect(runner.role()).toBe('settling');
    await run(200); // settleMs 150: then it drains (peers healthy)
    expect(runner.role()).toBe('draining');
    expect(roles).toEqual(['serving->settling', 'settling->draining']);
    // Rounds never overlap: one echo per interval.
    expect(echo.sent.length - sentBefore).toBeLessThanOrEqual(7);
    const st = runner.status();
    expect(st.lastRound).toMatchObject({ outcome: 'fail', lost: ['10.0.0.254'] });
    expect(st.targets[0]).toMatchObject({ address: '10.0.0.254', lastRttMs: null });
    // The peers lose their health too (they hold, announcing standby): this node holds.
    peers = 0;
    await run(50);
    expect(runner.role()).toBe('holding');
    // A healthy peer is heard again before the path is back: drain to it; then the path recovers.
    peers = 1;
    await run(50);
    echo.reachable.add('10.0.0.254');
    await run(300);
    expect(runner.role()).toBe('serving');
    expect(roles).toEqual(['serving->settling', 'settling->draining', 'draining->holding', 'holding->draining', 'draining->serving']);
    runner.close();
    expect(clock.pending()).toBe(0);
  });

  it('reads the peers once per round while serving, and every heartbeat interval once the path fails', async () => {
    const clock = fakeClock();
    const echo = fakeIcmpEcho(clock, ['10.0.0.254'], 1);
    let reads = 0;
    const runner = startDataPathCheck({ cfg, prober: icmpProber(echo, clock, 5, undefined, now), clock, log: pino({ level: 'silent' }), healthyPeers: () => { reads++; return 1; }, peerPollMs: 40, onRole: () => undefined });
    const run = async (ms: number): Promise<void> => { for (let t = 0; t < ms; t += 5) { clock.advance(5); await flush(); } };
    await run(500);
    expect(runner.role()).toBe('serving');
    reads = 0;
    await run(1000);
    expect(reads).toBeGreaterThanOrEqual(9); // one per round (10 rounds a second)
    expect(reads).toBeLessThanOrEqual(11); // and no poll of its own (it was 25 more a second)
    echo.reachable.clear();
    await run(450);
    expect(runner.role()).toBe('settling');
    reads = 0;
    await run(200);
    expect(reads).toBeGreaterThanOrEqual(5); // 200 ms / 40 ms, plus the rounds'
    runner.close();
    expect(clock.pending()).toBe(0);
  });
});
