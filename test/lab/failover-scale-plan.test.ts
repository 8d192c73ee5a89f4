/** Pure: --timing-scale configs, the balance check and the TCP sums of `vmac lab failover`, before any namespace exists. */
import { describe, expect, it } from 'vitest';
import { nodeConfigYaml, planLab, scaledTiming, type LabSpec } from '../../lab/plan.js';
import { parseConfig } from '../../src/config/load.js';
import { nodeBalanced } from '../../lab/balance.js';
import { EMPTY_STREAMS, sumStreams, summarizeTcp } from '../../lab/failover-tcp.js';
import type { DaemonStatus } from '../../src/daemon/node-daemon.js';

const base: LabSpec = { name: 'tscale', nodes: 32, clients: 1, addrs: 4, seed: 3, buckets: 256, profile: 'default', affinity: 'address' };

describe('--timing-scale', () => {
  it('multiplies interval, lease and renewal; the config still passes the lease-safety rule', () => {
    expect(scaledTiming(base)).toEqual([]);
    expect(scaledTiming({ ...base, timingScale: 1 })).toEqual([]);
    expect(scaledTiming({ ...base, timingScale: 5 })).toEqual(['  intervalMs: 200', '  leaseMs: 500', '  renewMs: 100']);
    for (const profile of ['default', 'fast'] as const) {
      for (const k of [1, 2, 5, 10, 50]) {
        const plan = planLab({ ...base, profile, timingScale: k });
        const cfg = parseConfig(nodeConfigYaml(plan, plan.nodes[0]!, '/run/vmac-lab/tscale/cluster.key'), 'n1.yaml');
        expect(cfg.nodes).toHaveLength(32);
        if (k === 5 && profile === 'default') expect(cfg.timing).toMatchObject({ intervalMs: 200, leaseMs: 500, renewMs: 100, deadAfter: 6 });
      }
    }
  });

  it('refuses a scale outside 1..50', () => {
    expect(() => planLab({ ...base, timingScale: 0 })).toThrow(/--timing-scale/);
    expect(() => planLab({ ...base, timingScale: 1.5 })).toThrow(/--timing-scale/);
  });
});

describe('balance check', () => {
  const status = (owned: number[], incoming: number[] = [], draining: number[] = []): DaemonStatus => ({ cluster: { owned, handover: { incoming, draining } } }) as unknown as DaemonStatus;
  it('holds only when the node has exactly its buckets and nothing moves', () => {
    expect(nodeBalanced(status([1, 5, 9]), [1, 5, 9])).toBe(true);
    expect(nodeBalanced(status([1, 5]), [1, 5, 9])).toBe(false);
    expect(nodeBalanced(status([1, 5, 9, 10]), [1, 5, 9])).toBe(false);
    expect(nodeBalanced(status([1, 5, 9], [9]), [1, 5, 9])).toBe(false);
    expect(nodeBalanced(status([1, 5, 9], [], [5]), [1, 5, 9])).toBe(false);
    expect(nodeBalanced(null, [1])).toBe(false);
  });
});

describe('TCP sums', () => {
  it('adds counters and keeps the longest silence; counts runs that disturbed survivors', () => {
    const a = { ...EMPTY_STREAMS, opened: 10, resets: 1, max_silent_ms: 300, new_ok: 40 };
    const b = { ...EMPTY_STREAMS, opened: 5, stalls: 2, max_silent_ms: 1200, new_failed: 1 };
    expect(sumStreams([a, b])).toEqual({ ...EMPTY_STREAMS, opened: 15, resets: 1, stalls: 2, max_silent_ms: 1200, new_ok: 40, new_failed: 1 });
    expect(summarizeTcp([{}, {}])).toBeUndefined();
    const t = summarizeTcp([{ tcp: { survivors: EMPTY_STREAMS, victim: a } }, { tcp: { survivors: b, victim: a } }]);
    expect(t?.runsSurvivorsDisturbed).toBe(1);
    expect(t?.victim.resets).toBe(2);
  });
});
