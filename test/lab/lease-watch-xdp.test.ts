import { describe, expect, it } from 'vitest';
import { leaseEndedAtNs } from '../../lab/lease-watch-xdp.js';

describe('XDP lease watch (lab)', () => {
  it('a running lease has not ended; a passed deadline ended at the deadline itself, not when it was seen', () => {
    expect(leaseEndedAtNs(2_000_000n, 1_999_999n)).toBeNull();
    expect(leaseEndedAtNs(2_000_000n, 2_000_000n)).toBe(2_000_000n);
    expect(leaseEndedAtNs(2_000_000n, 9_000_000n)).toBe(2_000_000n);
  });
  it('a cleared lease (0) ended by the time it was seen', () => {
    expect(leaseEndedAtNs(0n, 5_000_000n)).toBe(5_000_000n);
  });
});
