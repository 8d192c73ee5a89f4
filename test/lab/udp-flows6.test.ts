/**
 * The per-flow UDP hand-over for IPv6 clients, in the kernel: long-lived UDP flows from the
 * clients' IPv6 addresses to the VIP6 (one flow per address, a datagram every 50 ms) while node 1
 * drains and then resumes with the flows still running, so every drained bucket moves away and
 * back mid-flow. With the hand-over (the IPv6 twin sets keep6/listed6/theirs6/seen6/keepfill6, the
 * VIP6's flows read from conntrack): every flow answered by one node from start to end, none
 * lost, none answered twice. The negative control (udpPerFlow off, drain only) moves node 1's
 * IPv6 flows mid-flow, so the test can fail.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomInt } from 'node:crypto';
import { labDown, labUp } from '../../lab/lab.js';
import { udpFlowsThroughDrain } from '../../lab/udp-flows.js';
import { expectNoNamespacesLeft, uniqueLabName } from './support.js';

const spec = { nodes: 3, clients: 2, addrs: 60, buckets: 256, profile: 'default' as const, affinity: 'address' as const, ipv6: true };
// Flows run 20 s; node 1 drains after 1 s and resumes 3 s after its drain command returned, while
// they still run (each `vmac` command may take several seconds to start on a loaded machine: the
// test checks that both took effect while the flows ran).
const opts = { perClient: 60, intervalMs: 50, durationMs: 20_000, drainAtMs: 1000, waitDrainMs: 15_000, settleMs: 1000, family: 6 as const };
let current: string | null = null;

describe('IPv6 UDP flows through drain and resume (per-flow hand-over)', () => {
  afterEach(async () => {
    if (current) { await labDown(current); await expectNoNamespacesLeft(current); current = null; }
  }, 60_000);

  it('dual stack, per-flow (idle 1000 ms): drain then resume mid-flow: one node per IPv6 flow, nothing lost or doubled', async () => {
    current = uniqueLabName('u6');
    const lab = await labUp({ name: current, seed: randomInt(1, 2 ** 31), ...spec, udpIdleMs: 1000 });
    const r = await udpFlowsThroughDrain(lab, { ...opts, resumeAfterMs: 3000 });
    process.stdout.write(`[udp-flows6 per-flow drain+resume] ${JSON.stringify(r)}\n`);
    expect(r.flows).toBe(120);
    expect(r.drainedNodeFlows).toBeGreaterThan(10);
    expect(r.switched).toBe(0);
    expect(r.lost).toBe(0);
    expect(r.duplicates).toBe(0);
    // The drain began, and the resume came, while the flows ran.
    expect(r.flowsStoppedAfterMs ?? 0).toBeGreaterThan(1000);
    expect(r.resumedAfterMs).not.toBeNull();
    expect(r.flowsStoppedAfterMs ?? 0).toBeGreaterThan((r.resumedAfterMs ?? Infinity) + 1000);
  }, 150_000);

  it('dual stack, udpPerFlow off: node 1\'s IPv6 flows move mid-flow (the control)', async () => {
    current = uniqueLabName('u6x');
    const lab = await labUp({ name: current, seed: randomInt(1, 2 ** 31), ...spec, udpPerFlow: false });
    const r = await udpFlowsThroughDrain(lab, { ...opts, durationMs: 10_000 });
    process.stdout.write(`[udp-flows6 off] ${JSON.stringify(r)}\n`);
    expect(r.switched).toBeGreaterThan(0);
  }, 150_000);
});
