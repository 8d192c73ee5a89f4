/**
 * Real QUIC (ngtcp2 + GnuTLS, TLS 1.3; lab/c/quic.c) through planned moves: a server on every
 * node, long-lived connections from two client namespaces, a request every 50 ms on each, while
 * node 1 drains and resumes and node 2's daemon is killed (kill -9) and rejoins (with
 * connections opened while it was down, so the survivors hold flows in its buckets when it comes
 * back). With the per-flow UDP hand-over (the default): no connection lost, no stateless reset,
 * none answered by two nodes, except those node 2 served when it was killed. Without it
 * (`udpPerFlow: false`) the drain moves node 1's connections mid-life: the new owner does not
 * know them and answers with stateless resets, so the test can fail.
 * The full sequence (join, weight change, hitless restart as well, 120+ connections) is
 * `vmac lab quic --both` (docs/quic.md).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomInt } from 'node:crypto';
import { labDown, labUp } from '../../lab/lab.js';
import { quicThroughOperations } from '../../lab/quic-lab.js';
import { expectNoNamespacesLeft, uniqueLabName } from './support.js';

// udpIdleMs 1000: the lab's planned stops (labDown) wait for UDP flows to go idle.
const spec = { nodes: 3, clients: 2, addrs: 24, buckets: 256, profile: 'default' as const, affinity: 'address' as const, udpIdleMs: 1000 };
let current: string | null = null;

describe('real QUIC connections through planned moves', () => {
  afterEach(async () => {
    if (current) { await labDown(current); await expectNoNamespacesLeft(current); current = null; }
  }, 60_000);

  it('per-flow hand-over (default): drain, resume, kill -9 + rejoin of another node lose no connection', async () => {
    current = uniqueLabName('qf');
    const lab = await labUp({ name: current, seed: randomInt(1, 2 ** 31), ...spec });
    const r = await quicThroughOperations(lab, { perClient: 16, latePerClient: 6, intervalMs: 50, ops: ['drain', 'resume', 'kill-rejoin'], stepMs: 1500, idleMs: 10_000, perFlow: true });
    process.stdout.write(`[quic per-flow] ${JSON.stringify({ ...r, steps: r.steps.map((s) => ({ ...s, deaths: s.deaths.length })) })}\n`);
    expect(r.connections).toBe(44);
    expect(r.handshaken).toBe(44);
    // Node 1 held connections when it drained (else the drain moved nothing worth counting).
    expect(r.steps[0]?.byNode[lab.nodes[0]?.name ?? '']).toBeGreaterThan(3);
    expect(r.lost).toBe(0);
    expect(r.resets).toBe(0);
    expect(r.switched).toBe(0);
    expect(r.requestsAnswered).toBeGreaterThan(0);
  }, 150_000);

  it('without it (udpPerFlow: false): the drain moves node 1\'s connections, which die of stateless resets', async () => {
    current = uniqueLabName('qx');
    const lab = await labUp({ name: current, seed: randomInt(1, 2 ** 31), ...spec, udpPerFlow: false });
    const r = await quicThroughOperations(lab, { perClient: 16, latePerClient: 0, intervalMs: 50, ops: ['drain'], stepMs: 1500, idleMs: 10_000, perFlow: false });
    process.stdout.write(`[quic no per-flow] ${JSON.stringify({ ...r, steps: r.steps.map((s) => ({ ...s, deaths: s.deaths.length })) })}\n`);
    expect(r.lost).toBeGreaterThan(0);
    expect(r.resets).toBeGreaterThan(0);
  }, 150_000);
});
