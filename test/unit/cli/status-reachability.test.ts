/** `vmac status` lines for the data-path check; nothing when it is not configured. */
import { describe, expect, it } from 'vitest';
import { dataPathLines } from '../../../src/cli/status-reachability.js';
import type { DaemonStatus } from '../../../src/daemon/node-daemon.js';

describe('status: data-path check', () => {
  it('shows health, role, streaks and per target the last answer', () => {
    const s = {
      dataPath: {
        health: 'unreachable', role: 'holding', roleForMs: 1200, require: 'any', intervalMs: 100, fall: 3, rise: 5, okStreak: 0, failStreak: 14,
        rounds: 220, failedRounds: 14, inconclusiveRounds: 1, healthyPeers: 0,
        lastRound: { agoMs: 40, outcome: 'fail', answered: [], lost: ['10.200.0.254'] },
        targets: [{ address: '10.200.0.254', sent: 220, answered: 206, lastRttMs: null, lastAnsweredMsAgo: 1440 }],
      },
    } as unknown as DaemonStatus;
    const text = dataPathLines(s).join('\n');
    expect(text).toContain('data path: unreachable, HOLDING (failing, but no healthy peer: keeps serving) for 1200 ms; require any, every 100 ms, fall 3, rise 5; last round fail 40 ms ago (lost: 10.200.0.254); rounds 220, failed 14, not counted (daemon late) 1; healthy peers 0');
    expect(text).toContain('| 10.200.0.254 | 220 | 206 | lost | 1440 ms ago |');
    expect(dataPathLines({} as DaemonStatus)).toEqual([]);
  });
});
