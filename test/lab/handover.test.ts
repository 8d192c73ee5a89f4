/**
 * Zero-disruption operations with real daemons in a 3-node lab, clients probing every 1 ms from
 * 30 addresses: hitless restart (SIGUSR2 + a new daemon adopting the kernel state), planned stop
 * and start again, drain and resume. Prints the figures; asserts what the issue requires (a
 * hitless restart and a planned stop + start lose no probe).
 */
import { describe, expect, it } from 'vitest';
import type { LabInfo } from '../../lab/lab.js';
import { runOperation } from '../../lab/handover.js';
import { uniqueLabName, useLab } from './support.js';

const name = uniqueLabName('ho');
let lab: LabInfo;

describe('zero-disruption operations (3 nodes, 1 ms UDP probes)', () => {
  // A short UDP idle timeout: a planned stop serves its old flows until they are quiet (per-flow
  // hand-over), and the probes' flows end with the probe window.
  useLab(name, (l) => (lab = l), { udpIdleMs: 1000 });

  it("hitless restart (SIGUSR2, then a new daemon): zero lost probes for the restarted node's clients", async () => {
    const victim = lab.nodes[1];
    if (!victim) throw new Error('no node 2');
    const r = await runOperation(lab, 'restart-hitless', victim, { perClient: 10, durationMs: 6000 });
    process.stdout.write(`[handover] ${JSON.stringify(r)}\n`);
    expect(r.probes).toBeGreaterThan(10_000);
    expect(r.victimClients).toBeGreaterThan(0);
    // Every client, not only the restarted node's: since the daemons run SCHED_FIFO (entered
    // after start-up), the successor's start no longer starves the other daemons (docs/timing-profiles.md).
    expect(r.victimLost).toBe(0);
    expect(r.lost).toBe(0);
  }, 120_000);

  it('planned stop (SIGTERM) and start again: zero lost probes (beyond full socket buffers of starved probers)', async () => {
    const victim = lab.nodes[2];
    if (!victim) throw new Error('no node 3');
    const r = await runOperation(lab, 'stop-start', victim, { perClient: 10, durationMs: 8000 });
    process.stdout.write(`[handover] ${JSON.stringify(r)}\n`);
    expect(r.probes).toBeGreaterThan(10_000);
    // The cluster loses none. Another lab's real-time daemons on the same cores can starve the
    // probers and echo servers (normal priority): their datagrams are then dropped on full
    // socket buffers, counted by the kernel (socketDrops), and that is all such a run lost
    // (docs/handover.md). On an otherwise idle machine both are 0.
    expect(r.lost).toBeLessThanOrEqual(r.socketDrops);
  }, 120_000);

  it('drain and resume: lost probes, duplicates and the drain duration measured', async () => {
    const victim = lab.nodes[0];
    if (!victim) throw new Error('no node 1');
    const r = await runOperation(lab, 'drain-resume', victim, { perClient: 10, durationMs: 6000 });
    process.stdout.write(`[handover] ${JSON.stringify(r)}\n`);
    expect(r.probes).toBeGreaterThan(10_000);
    expect(r.drainMs).not.toBeNull();
    // Per-flow UDP hand-over: no probe answered twice. (A resume soon after the drain's timeout
    // once found stale `keep` entries on the returning node: thousands of duplicates.)
    expect(r.duplicates).toBe(0);
  }, 120_000);
});
