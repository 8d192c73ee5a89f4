import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { leaseSlackMs, leaseSafetyProblems } from '../../../src/config/semantic-check.js';
import { messageAt, problemsOf, yamlWith } from './helpers.js';

/**
 * The XDP fast timing the lab's xdp-fast system runs (lab/compare.ts): the schema's shortest lease
 * (12 ms), renewed every 4 ms, dead after 7 × 4 ms (nft's fast profile needs 16 and 8 × 4 ms).
 */
const XDP_FAST = { profile: 'fast', leaseMs: 12, renewMs: 4, deadAfter: 7 };

describe('lease renewal rule per data-path backend', () => {
  it('slack: nft set timeouts may fire 8 ms early; the XDP deadline never does (1 ms: whole-millisecond timers)', () => {
    expect(leaseSlackMs('nft')).toBe(8);
    expect(leaseSlackMs('xdp')).toBe(1);
  });
  it('the fast profile on xdp defaults to that timing; on nft it keeps its 16 ms lease and 32 ms dead time', () => {
    expect(parseConfig(yamlWith({ datapath: 'xdp', timing: { profile: 'fast' } }), 'f').timing).toEqual({ profile: 'fast', leaseMs: 12, renewMs: 4, intervalMs: 4, suspectAfter: 3, deadAfter: 7, marginMs: 2 });
    expect(parseConfig(yamlWith({ datapath: 'nft', timing: { profile: 'fast' } }), 'f').timing).toMatchObject({ leaseMs: 16, deadAfter: 8 });
    expect(parseConfig(yamlWith({ datapath: 'xdp' }), 'f').timing).toMatchObject({ profile: 'default', leaseMs: 100, deadAfter: 6 });
  });
  it('xdp accepts a lease of 2 × renewMs + 1 (and more)', () => {
    const t = parseConfig(yamlWith({ datapath: 'xdp', timing: XDP_FAST }), 'f').timing;
    expect(t).toMatchObject({ leaseMs: 12, renewMs: 4, deadAfter: 7 });
    expect(leaseSafetyProblems({ ...t })).toEqual([]);
  });
  it('negative control: the same timing on nft is refused (its lease may end 8 ms early)', () => {
    expect(messageAt(problemsOf(yamlWith({ timing: XDP_FAST })), 'timing.renewMs')).toMatch(/^must be at most 2 with leaseMs 12 \(2 × renewMs \+ 8 ≤ leaseMs\)/);
    expect(messageAt(problemsOf(yamlWith({ datapath: 'nft', timing: XDP_FAST })), 'timing.renewMs')).toMatch(/^must be at most 2 with leaseMs 12 /);
  });
  it('xdp still refuses a lease that two renewals do not fit in, naming the backend', () => {
    expect(messageAt(problemsOf(yamlWith({ datapath: 'xdp', timing: { ...XDP_FAST, renewMs: 6 } })), 'timing.renewMs')).toBe(
      'must be at most 5 with leaseMs 12 (2 × renewMs + 1 ≤ leaseMs with datapath xdp), got 6: the daemon needs at least two chances to renew before the lease deadline passes, and its timers may run up to 1 ms late',
    );
  });
  it('xdp does not loosen the safety rule: the lease still ends three intervals before a peer may call us dead', () => {
    expect(messageAt(problemsOf(yamlWith({ datapath: 'xdp', timing: { ...XDP_FAST, deadAfter: 6 } })), 'timing.deadAfter')).toMatch(/^dead time 24 ms/);
  });
});
