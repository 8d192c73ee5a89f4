import { describe, expect, it } from 'vitest';
import { nextReadingAtMs, UNPACED_DRAIN_POLL } from '../../../src/takeover/drain-poll.js';

describe('drain conntrack poll pacing', () => {
  it('first reading at once; cheap readings every 100 ms', () => {
    expect(nextReadingAtMs(null, 0)).toBe(-Infinity);
    expect(nextReadingAtMs(1000, 2)).toBe(1100);
  });
  it('a costly reading is followed by a gap of four times its duration (reading at most a fifth of the time)', () => {
    expect(nextReadingAtMs(1000, 300)).toBe(1000 + 300 + 1200);
    const start = 0; const took = 500;
    const next = nextReadingAtMs(start, took);
    expect(took / (next - start)).toBeCloseTo(0.2);
  });
  it('the unpaced poll (bench only) reads again as soon as the last reading ended, whatever it cost', () => {
    expect(nextReadingAtMs(1000, 300, UNPACED_DRAIN_POLL)).toBe(1300);
    expect(nextReadingAtMs(1000, 2, UNPACED_DRAIN_POLL)).toBe(1002);
  });
});
