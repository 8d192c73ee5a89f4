/**
 * The cluster resource simulator (test/crm/crm-sim.ts): a few seeds with faults and no
 * violation, and each broken variant caught (negative controls). The long run is
 * `npm run sim -- --resources --seeds N` (docs/crm.md).
 */
import { describe, expect, it } from 'vitest';
import { runCrmSeed } from '../../crm/crm-sim.js';

describe('cluster resource simulator', () => {
  it('seeds 1..4: no singleton on two nodes, no order violated, everything settles', () => {
    for (let seed = 1; seed <= 4; seed += 1) expect({ seed, violation: runCrmSeed(seed).violation }).toEqual({ seed, violation: null });
  }, 60_000);

  it('catches a start without proof that the old copy stopped', () => {
    expect(runCrmSeed(6, { mutation: 'start-without-stop-proof' }).violation).toMatch(/^single-active: /);
    expect(runCrmSeed(6).violation).toBeNull();
  }, 30_000);

  it('catches a start that ignores the order', () => {
    expect(runCrmSeed(1, { mutation: 'ignore-order' }).violation).toMatch(/^ordering: /);
  }, 30_000);
});
