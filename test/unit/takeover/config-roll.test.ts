/**
 * Config changes during rolls (test/sim/config-roll.ts), a few seeds in CI: real runtimes, nodes
 * restarted with another seed or bucket count, or with a node list a roll allows (a weight-0 node
 * added or removed, a node's configured weight set to 0), in random order. Never two configs answering at
 * once, never a bucket taking new flows on two nodes, every bucket answered once the roll ended.
 * The broken variant (a node that serves while its config differs, by announcing the others'
 * fingerprint) must be caught. The long run is a documented command (docs/rolling-changes.md).
 */
import { describe, expect, it } from 'vitest';
import { runRoll } from '../../sim/config-roll.js';

describe('config changes during rolls (simulated)', () => {
  it('seeds 1..12: no violation', () => {
    for (let s = 1; s <= 12; s++) expect(runRoll(s).violations, `seed ${s}`).toEqual([]);
  }, 60_000);

  it('broken variant: a node serving with another config behind the cluster\'s fingerprint is caught (seeds 1..4)', () => {
    const caught = [1, 2, 3, 4].filter((s) => runRoll(s, true).violations.length > 0);
    expect(caught.length).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('broken roll variant: removing a node without the hold for serving nodes outside the list is caught (seeds 1..8)', () => {
    const caught = [1, 2, 3, 4, 5, 6, 7, 8].filter((s) => runRoll(s, 'roll').violations.length > 0);
    expect(caught.length).toBeGreaterThanOrEqual(2);
  }, 90_000);
});
