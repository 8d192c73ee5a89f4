/** `vmac status` lines for resources, fencing and the quorum policy. */
import { describe, expect, it } from 'vitest';
import { haLines } from '../../../src/cli/cmd-status.js';
import type { DaemonStatus } from '../../../src/daemon/node-daemon.js';

describe('status: resources and fencing', () => {
  it('shows per resource its state, last check and failure count, and the last fence action', () => {
    const s = {
      resources: [{ name: 'echo', kind: 'command', describe: 'echo-start', phase: 'running', health: 'unhealthy', role: 'draining', lastCheck: { atMs: 0, agoMs: 120, outcome: 'fail', detail: 'ECONNREFUSED' }, failures: 4, flaps: 1, holdRemainingMs: null }],
      cluster: {
        fencing: { agent: '/usr/sbin/fence_stub', delayMs: 0, counters: { requested: 1, succeeded: 0, failed: 3, cancelled: 0 }, targets: [{ id: 2, name: 'n2', phase: 'retry-wait', attempts: 3, last: { action: 'off', outcome: 'failed', atMs: 5, detail: 'exited 1: Unable to connect' } }] },
        quorumPolicy: { policy: 'two-node', tieBreaker: 'reachable', verdict: 'keep-own', holdBack: [] },
      },
    } as unknown as DaemonStatus;
    const text = haLines(s).join('\n');
    expect(text).toContain('| echo | command echo-start | running | unhealthy | draining | fail 120 ms ago: ECONNREFUSED | 4 |');
    expect(text).toContain('fencing: agent /usr/sbin/fence_stub, delay 0 ms; requested 1, succeeded 0, failed 3, cancelled 0');
    expect(text).toContain('n2: retry-wait; last fence action off failed: exited 1: Unable to connect');
    expect(text).toContain('quorum policy two-node, tie-breaker reachable, verdict keep-own');
  });
});
