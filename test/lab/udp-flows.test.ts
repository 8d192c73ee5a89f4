/**
 * Long-lived UDP flows (one per client address, a datagram every 50 ms) while node 1 drains, then
 * the flows go idle. With handover.udpFlowTimeoutMs (1000 ms): every flow answered by one node
 * from start to end, none lost, none answered twice; the drain ends about a flow timeout after
 * the flows stopped. Off (0, the default): node 1's flows are answered by two nodes during the
 * drain and move to the new owner mid-flow — so the test can fail.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomInt } from 'node:crypto';
import { labDown, labUp } from '../../lab/lab.js';
import { udpFlowsThroughDrain } from '../../lab/udp-flows.js';
import { expectNoNamespacesLeft, uniqueLabName } from './support.js';

const spec = { nodes: 3, clients: 2, addrs: 100, buckets: 256, profile: 'default' as const, affinity: 'address' as const };
// The flows run 8 s; the drain is asked for after 1 s (the `vmac drain` command itself may take
// a few seconds to start on a loaded machine), so they run on for several seconds of the drain.
const opts = { perClient: 100, intervalMs: 50, durationMs: 8000, drainAtMs: 1000, waitDrainMs: 15_000, settleMs: 1000 };
let current: string | null = null;

describe('long-lived UDP flows through a drain', () => {
  afterEach(async () => {
    if (current) { await labDown(current); await expectNoNamespacesLeft(current); current = null; }
  }, 60_000);

  it('with a UDP flow timeout: one node per flow from start to end, nothing lost or doubled', async () => {
    current = uniqueLabName('uf');
    const lab = await labUp({ name: current, seed: randomInt(1, 2 ** 31), ...spec, udpFlowTimeoutMs: 1000 });
    const r = await udpFlowsThroughDrain(lab, opts);
    process.stdout.write(`[udp-flows timeout 1000 ms] ${JSON.stringify(r)}\n`);
    expect(r.flows).toBe(200);
    expect(r.drainedNodeFlows).toBeGreaterThan(20);
    expect(r.switched).toBe(0);
    expect(r.lost).toBe(0);
    expect(r.duplicates).toBe(0);
    // Held until the flows were idle for the flow timeout, not longer than the drain timeout.
    expect(r.drainMs).not.toBeNull();
    expect(r.flowsStoppedAfterMs ?? 0).toBeGreaterThan(1000);
    expect(r.drainMs ?? 0).toBeGreaterThanOrEqual(r.flowsStoppedAfterMs ?? Infinity);
  }, 120_000);

  it('per-flow hand-over (udpPerFlow, idle timeout 1000 ms): one node per flow, nothing lost or doubled; the drain ends after the last old flow', async () => {
    current = uniqueLabName('up');
    const lab = await labUp({ name: current, seed: randomInt(1, 2 ** 31), ...spec, udpPerFlow: true, udpIdleMs: 1000 });
    const r = await udpFlowsThroughDrain(lab, opts);
    process.stdout.write(`[udp-flows per-flow idle 1000 ms] ${JSON.stringify(r)}\n`);
    expect(r.flows).toBe(200);
    expect(r.drainedNodeFlows).toBeGreaterThan(20);
    expect(r.switched).toBe(0);
    expect(r.lost).toBe(0);
    expect(r.duplicates).toBe(0);
    expect(r.drainMs).not.toBeNull();
    expect(r.flowsStoppedAfterMs ?? 0).toBeGreaterThan(1000);
    // Held while the old flows ran, let go about an idle timeout after they stopped (not on the 15 s timeout).
    expect(r.drainMs ?? 0).toBeGreaterThanOrEqual(r.flowsStoppedAfterMs ?? Infinity);
    expect(r.drainMs ?? Infinity).toBeLessThan(opts.waitDrainMs);
  }, 120_000);

  it('without (udpFlowTimeoutMs 0, udpPerFlow off): the drained node\'s flows move mid-flow', async () => {
    current = uniqueLabName('ux');
    const lab = await labUp({ name: current, seed: randomInt(1, 2 ** 31), ...spec, udpFlowTimeoutMs: 0, udpPerFlow: false });
    const r = await udpFlowsThroughDrain(lab, opts);
    process.stdout.write(`[udp-flows timeout off] ${JSON.stringify(r)}\n`);
    expect(r.switched).toBeGreaterThan(0);
  }, 120_000);
});
