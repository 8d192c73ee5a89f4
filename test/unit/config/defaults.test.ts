import { describe, expect, it } from 'vitest';
import { defaultProfile, fastProfile, profileDefaults } from '../../../src/config/defaults.js';

describe('profile defaults', () => {
  it('default profile: 200 ms lease renewed every 50 ms, 256 buckets, address affinity', () => {
    expect(defaultProfile()).toEqual({
      vmac: 'auto', mode: 'unicast', buckets: 256, affinity: 'address', prefixLength: 24, prefixLength6: 64, weight: 100,
      timing: { profile: 'default', leaseMs: 200, renewMs: 50 },
      arp: { garpCount: 3, garpIntervalMs: 100, refreshMs: 10_000 },
    });
  });

  it('fast profile changes only the timing: 20 ms lease renewed every 4 ms', () => {
    expect(fastProfile()).toEqual({ ...defaultProfile(), timing: { profile: 'fast', leaseMs: 20, renewMs: 4 } });
  });

  it('both profiles obey the loader rules (renewMs < leaseMs/2, leaseMs >= 20)', () => {
    for (const p of [defaultProfile(), fastProfile()]) {
      expect(p.timing.renewMs * 2).toBeLessThan(p.timing.leaseMs);
      expect(p.timing.leaseMs).toBeGreaterThanOrEqual(20);
    }
  });

  it('picks the profile by name and returns a fresh object each time', () => {
    expect(profileDefaults('fast').timing.leaseMs).toBe(20);
    expect(profileDefaults('default').timing.leaseMs).toBe(200);
    expect(defaultProfile()).not.toBe(defaultProfile());
  });
});
