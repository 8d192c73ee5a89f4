/**
 * UDP probes through the planned operations of the streams lab (issue 20): node 1 drains and
 * resumes, a fourth node joins and takes its share, node 2's weight changes, while 3 clients × 20
 * addresses each send a UDP probe every 5 ms (one socket per address: each address is one flow for
 * the whole run) beside a few TCP streams. With the per-flow hand-over (the default; idle 1000 ms):
 * 0 duplicate answers, 0 lost, no flow answered by two nodes, and the TCP streams unbroken. The
 * control (udpPerFlow off) answers probes twice or moves flows, so the test can fail.
 *
 * Two 4-node runs of ~30 s each: outside `make test` (CI budget), run with
 *   VMAC_LONG_LABS=1 npx vitest run test/lab/udp-operations.test.ts
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomInt } from 'node:crypto';
import { labDown, labUp } from '../../lab/lab.js';
import { streamsDuringOperations } from '../../lab/handover.js';
import { expectNoNamespacesLeft, uniqueLabName } from './support.js';

const spec = { nodes: 4, lateNodes: [4], clients: 3, addrs: 40, buckets: 256, profile: 'default' as const, affinity: 'address' as const, udpIdleMs: 1000 };
const opts = { streamsPerClient: 10, newPerSec: 5, durationMs: 26_000, lifeMs: '2000:5000', join: true, udp: { perClient: 20, intervalUs: 5000 } };
let current: string | null = null;

describe.skipIf(process.env.VMAC_LONG_LABS !== '1')('UDP probes through drain, resume, a node joining and a weight change', () => {
  afterEach(async () => {
    if (current) { await labDown(current); await expectNoNamespacesLeft(current); current = null; }
  }, 60_000);

  it('per-flow hand-over: no probe answered twice or lost, no flow on two nodes, no TCP reset', async () => {
    current = uniqueLabName('uo');
    const lab = await labUp({ name: current, seed: randomInt(1, 2 ** 31), ...spec });
    const r = await streamsDuringOperations(lab, opts);
    process.stdout.write(`[udp-operations per-flow] ${JSON.stringify({ udp: r.udp, tcp: r.total, drainMs: r.drainMs, join: r.join, leaseLapses: r.leaseLapses })}\n`);
    expect(r.udp?.flows).toBe(60);
    expect(r.udp?.duplicates).toBe(0);
    expect(r.udp?.lost).toBe(0);
    expect(r.udp?.switched).toBe(0);
    expect(r.total.resets).toBe(0);
    expect(r.join?.shareTakenMs).not.toBeNull();
  }, 240_000);

  it('udpPerFlow off: the same operations answer probes twice or move flows (the control)', async () => {
    current = uniqueLabName('uox');
    const lab = await labUp({ name: current, seed: randomInt(1, 2 ** 31), ...spec, udpPerFlow: false });
    const r = await streamsDuringOperations(lab, opts);
    process.stdout.write(`[udp-operations off] ${JSON.stringify({ udp: r.udp, tcp: r.total })}\n`);
    expect((r.udp?.duplicates ?? 0) + (r.udp?.switched ?? 0)).toBeGreaterThan(0);
  }, 240_000);
});
