import { describe, expect, it } from 'vitest';
import { disagreeing, observeDigest, type AgreementState } from '../../../src/cluster/map-agreement.js';

describe('map agreement', () => {
  it('a short disagreement (a view change) is not reported', () => {
    let s: AgreementState = new Map();
    let r = observeDigest(s, 2, 'b', 'a', 0, 240);
    expect(r.event).toBeNull();
    s = r.state;
    r = observeDigest(s, 2, 'a', 'a', 5, 240);
    expect(r.event).toBeNull();
    expect(disagreeing(r.state)).toEqual([]);
  });

  it('a lasting disagreement is reported once, then its end', () => {
    let s: AgreementState = new Map();
    const events: unknown[] = [];
    for (let t = 0; t <= 600; t += 40) {
      const r = observeDigest(s, 3, 'theirs', 'ours', t, 240);
      s = r.state;
      if (r.event) events.push(r.event);
    }
    expect(events).toEqual([{ kind: 'map-disagreement', peerId: 3, ours: 'ours', theirs: 'theirs', forMs: 240 }]);
    expect(disagreeing(s)).toEqual([3]);
    const r = observeDigest(s, 3, 'ours', 'ours', 640, 240);
    expect(r.event).toEqual({ kind: 'map-agreement', peerId: 3, digest: 'ours' });
    expect(disagreeing(r.state)).toEqual([]);
  });

  it('keeps the same state object while nothing changes (no allocation per heartbeat)', () => {
    const s: AgreementState = new Map();
    expect(observeDigest(s, 2, 'a', 'a', 0, 240).state).toBe(s);
    const d = observeDigest(s, 2, 'b', 'a', 0, 240).state;
    expect(observeDigest(d, 2, 'b', 'a', 10, 240).state).toBe(d);
  });
});
