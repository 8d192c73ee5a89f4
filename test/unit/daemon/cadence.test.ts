import { describe, expect, it } from 'vitest';
import { fakeClock } from '../../../src/util/clock.js';
import { cadencePlan, startCadence } from '../../../src/daemon/cadence.js';

/** Every firing as `<ms>:<duty>`, over `ms`, with one timer per duty (the shape cadence replaces). */
function separateTimers(periods: number[], ms: number): string[] {
  const clock = fakeClock();
  const out: string[] = [];
  periods.forEach((p, i) => clock.setRepeating(p, () => out.push(`${clock.nowMs()}:${i}`)));
  clock.advance(ms);
  return out;
}

describe('cadence', () => {
  it('one base period when every period is a multiple of the shortest', () => {
    expect(cadencePlan([40, 20])).toEqual({ baseMs: 20, every: [2, 1] });
    expect(cadencePlan([4, 4])).toEqual({ baseMs: 4, every: [1, 1] });
    expect(cadencePlan([200, 100])).toEqual({ baseMs: 100, every: [2, 1] });
    expect(cadencePlan([40, 15])).toBeNull();
    expect(cadencePlan([])).toBeNull();
  });

  for (const periods of [[40, 20], [4, 4], [20, 40], [40, 15]]) {
    it(`periods ${periods.join(' and ')} ms: the same instants and order as one timer each, on ${cadencePlan(periods) ? 'one timer' : 'one timer each'}`, () => {
      const clock = fakeClock();
      const out: string[] = [];
      const handles = startCadence(clock, periods.map((p, i) => ({ periodMs: p, run: () => out.push(`${clock.nowMs()}:${i}`) })));
      expect(clock.pending()).toBe(cadencePlan(periods) ? 1 : periods.length);
      clock.advance(400);
      expect(out).toEqual(separateTimers(periods, 400));
      for (const h of handles) clock.clear(h);
      expect(clock.pending()).toBe(0);
    });
  }
});
