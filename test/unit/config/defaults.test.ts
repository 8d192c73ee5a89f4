import { describe, expect, it } from 'vitest';
import { defaultProfile, fastProfile, profileDefaults } from '../../../src/config/defaults.js';
import { KERNEL_EARLY_MS, leaseSafetyProblems } from '../../../src/config/semantic-check.js';

describe('profile defaults', () => {
  it('default profile: 40 ms heartbeats, dead after 6, 100 ms lease renewed every 20 ms, 256 buckets, address affinity', () => {
    expect(defaultProfile()).toEqual({
      vmac: 'auto', mode: 'unicast', buckets: 256, affinity: 'address', prefixLength: 24, prefixLength6: 64, weight: 100,
      timing: { profile: 'default', leaseMs: 100, renewMs: 20, intervalMs: 40, suspectAfter: 3, deadAfter: 6, marginMs: 10 },
      arp: { garpCount: 3, garpIntervalMs: 100, refreshMs: 10_000 },
      heartbeat: { port: 5789 },
      metricsListen: '127.0.0.1:9789',
    });
  });

  it('fast profile changes only the timing: 4 ms heartbeats, dead after 8, 16 ms lease renewed every 4 ms', () => {
    expect(fastProfile()).toEqual({
      ...defaultProfile(),
      timing: { profile: 'fast', leaseMs: 16, renewMs: 4, intervalMs: 4, suspectAfter: 3, deadAfter: 8, marginMs: 2 },
    });
  });

  it('both profiles obey the loader rules (renewMs < leaseMs/2, 2*renewMs + 8 <= leaseMs, leaseMs >= 12, lease safety)', () => {
    for (const p of [defaultProfile(), fastProfile()]) {
      expect(p.timing.renewMs * 2).toBeLessThan(p.timing.leaseMs);
      expect(p.timing.renewMs * 2 + KERNEL_EARLY_MS).toBeLessThanOrEqual(p.timing.leaseMs);
      expect(p.timing.leaseMs).toBeGreaterThanOrEqual(12);
      expect(leaseSafetyProblems(p.timing)).toEqual([]);
    }
  });

  it('picks the profile by name and returns a fresh object each time', () => {
    expect(profileDefaults('fast').timing.leaseMs).toBe(16);
    expect(profileDefaults('default').timing.leaseMs).toBe(100);
    expect(defaultProfile()).not.toBe(defaultProfile());
  });
});
