/**
 * Two real cluster runtimes on a fake network, fake data paths and one fake clock, with the
 * two-node quorum policy, a scripted tie-breaker and fence agents that "power off" the target
 * (close its runtime and cut it off). Checked every simulated millisecond: no bucket answered by
 * two nodes. Also the drain path in a 3-node cluster: an unhealthy node's buckets move to the
 * others and come back, never answered twice.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import { fakeClock, type FakeClock } from '../../../src/util/clock.js';
import { createFakeNetwork, type FakeNetwork } from '../../../src/cluster/fake-transport.js';
import { fakeDataPath, type FakeDataPath } from '../../../src/vmac/fake-datapath.js';
import { startCluster, type ClusterRuntime } from '../../../src/daemon/cluster-runtime.js';
import { createFenceRunner, type FenceRunner } from '../../../src/fencing/fence-runner.js';
import type { AgentResult, FenceAgent } from '../../../src/fencing/agent.js';
import type { TieBreakerState } from '../../../src/cluster/quorum-policy.js';
import { createSimCluster } from '../../sim/sim-cluster.js';

const KEY = new Uint8Array(32).fill(9);
const log = pino({ level: 'silent' });
const BUCKETS = 32;

function yaml(id: number, delayMs: number): string {
  const other = id === 1 ? 2 : 1;
  return [
    'service: pair', 'interface: eth0', 'vip: 10.9.9.9', `buckets: ${BUCKETS}`, 'hash: { seed: 0x5eed }',
    `node: { id: ${id}, name: n${id}, address: 10.9.0.${id} }`,
    `peers: [{ id: ${other}, name: n${other}, address: 10.9.0.${other} }]`,
    'heartbeat: { keyFile: /k }',
    'timing: { intervalMs: 40, deadAfter: 6, suspectAfter: 3, leaseMs: 100, renewMs: 20, marginMs: 10 }',
    'quorum: { policy: two-node, tieBreaker: { ping: 10.9.0.254 } }',
    `fencing: { delayMs: ${delayMs}, timeoutMs: 1000, retryBaseMs: 200, retryMaxMs: 1000, agent: { exec: { path: /bin/true } } }`,
    '',
  ].join('\n');
}

interface PairNode { id: number; dp: FakeDataPath; runtime: ClusterRuntime | null; fence: FenceRunner; tb: TieBreakerState; alive: boolean }

function pair(agentResult: () => AgentResult): { clock: FakeClock; net: FakeNetwork; nodes: PairNode[]; answering(): Map<number, number[]> } {
  const clock = fakeClock(1000);
  const net = createFakeNetwork(clock);
  const nodes: PairNode[] = [];
  for (const id of [1, 2]) {
    const cfg = parseConfig(yaml(id, id === 1 ? 0 : 2000), `n${id}.yaml`);
    const agent: FenceAgent = {
      kind: 'fake', describe: 'power switch',
      run: (_action, target) => new Promise((resolve) => {
        // The power switch takes 50 ms; when it works, the target is off (process gone, link gone).
        clock.setTimer(50, () => {
          const r = agentResult();
          const victim = nodes.find((n) => n.id === target.id);
          if (r.outcome === 'success' && victim?.alive) {
            victim.alive = false;
            victim.runtime?.close();
            victim.runtime = null;
            victim.fence.close(); // the whole process is gone, its fencing with it
            victim.dp.release();
          }
          resolve(r);
        });
      }),
    };
    const fencing = cfg.fencing!;
    const fence = createFenceRunner({ cfg: fencing, agent, nodes: cfg.nodes.map((n) => ({ id: n.id, name: n.name })), clock, log });
    const node: PairNode = { id, dp: fakeDataPath(() => clock.nowMs()), runtime: null, fence, tb: 'reachable', alive: true };
    node.dp.install([], null);
    node.runtime = startCluster({ cfg, key: KEY, transport: net.attach([`10.9.0.${id}`]), dp: node.dp, announce: () => undefined, clock, log, incarnation: BigInt(id), fence, tieBreaker: () => node.tb });
    nodes.push(node);
  }
  const answering = (): Map<number, number[]> => {
    const out = new Map<number, number[]>();
    for (const n of nodes) {
      const a = n.dp.answeringNow();
      if (a) for (const b of a) out.set(b, [...(out.get(b) ?? []), n.id]);
    }
    return out;
  };
  return { clock, net, nodes, answering };
}

async function runMs(clock: FakeClock, ms: number, check: () => void): Promise<void> {
  for (let t = 0; t < ms; t++) {
    clock.advance(1);
    if (t % 5 === 0) for (let i = 0; i < 5; i++) await Promise.resolve();
    check();
  }
}

function noDouble(answering: () => Map<number, number[]>): () => void {
  return () => {
    for (const [b, ids] of answering()) if (ids.length > 1) throw new Error(`bucket ${b} answered by ${ids.join(',')}`);
  };
}

describe('two-node policy with fencing (simulated)', () => {
  it('heartbeat path cut, both reach the tie-breaker: node 1 (no delay) fences node 2 and takes every bucket; node 2 never fires', async () => {
    const p = pair(() => ({ outcome: 'success', detail: 'off' }));
    const check = noDouble(() => p.answering());
    await runMs(p.clock, 1000, check);
    expect(p.answering().size).toBe(BUCKETS);
    p.net.cut('10.9.0.1', '10.9.0.2');
    p.net.cut('10.9.0.2', '10.9.0.1');
    await runMs(p.clock, 3000, check);
    const [n1, n2] = p.nodes as [PairNode, PairNode];
    expect(n2.alive).toBe(false);
    expect(n1.alive).toBe(true);
    expect(n1.fence.status().counters).toMatchObject({ requested: 1, succeeded: 1 });
    expect(n2.fence.status().counters.succeeded).toBe(0);
    const a = p.answering();
    expect(a.size).toBe(BUCKETS);
    expect([...a.values()].every((ids) => ids.length === 1 && ids[0] === 1)).toBe(true);
    expect(n1.runtime?.status().quorumPolicy).toMatchObject({ policy: 'two-node', verdict: 'solo' });
  });

  it('a fence that fails: no takeover, each side keeps only its own buckets, failures counted and retried', async () => {
    const p = pair(() => ({ outcome: 'failed', detail: 'exit 1: Unable to connect' }));
    const check = noDouble(() => p.answering());
    await runMs(p.clock, 1000, check);
    const before = new Map([...p.answering()].map(([b, ids]) => [b, ids[0]]));
    p.net.cut('10.9.0.1', '10.9.0.2');
    p.net.cut('10.9.0.2', '10.9.0.1');
    await runMs(p.clock, 4000, check);
    const [n1, n2] = p.nodes as [PairNode, PairNode];
    expect(n1.alive && n2.alive).toBe(true);
    // Nobody took anything: every bucket still answered by its owner before the split.
    expect(new Map([...p.answering()].map(([b, ids]) => [b, ids[0]]))).toEqual(before);
    const st = n1.runtime!.status();
    expect(st.fencing?.counters.failed).toBeGreaterThanOrEqual(2);
    expect(['retry-wait', 'fencing']).toContain(st.fencing?.targets[0]?.phase);
    expect(st.fencing?.targets[0]?.last).toMatchObject({ outcome: 'failed', detail: 'exit 1: Unable to connect' });
    expect(st.quorumPolicy?.verdict).toBe('keep-own');
  });

  it('the side that cannot reach the tie-breaker gives up; the other keeps its own and, once the peer is fenced, takes all', async () => {
    const p = pair(() => ({ outcome: 'success', detail: 'off' }));
    const check = noDouble(() => p.answering());
    await runMs(p.clock, 1000, check);
    const [n1, n2] = p.nodes as [PairNode, PairNode];
    n1.tb = 'unreachable'; // node 1 lost its uplink: it hears neither the peer nor the tie-breaker
    p.net.cut('10.9.0.1', '10.9.0.2');
    p.net.cut('10.9.0.2', '10.9.0.1');
    await runMs(p.clock, 1000, check);
    expect(n1.runtime?.status().quorumPolicy?.verdict).toBe('give-up');
    expect(n1.dp.answeringNow()).toBeNull();
    await runMs(p.clock, 2000, check);
    // Node 2 waited its 2 s delay, fenced node 1, and serves everything.
    expect(n1.alive).toBe(false);
    expect(p.answering().size).toBe(BUCKETS);
    expect(n2.runtime?.status().owned).toHaveLength(BUCKETS);
  });
});

describe('draining (simulated, 3 nodes)', () => {
  it('an unhealthy node hands its buckets over, stays in the cluster, and takes them back when healthy', () => {
    const timing = { intervalMs: 40, deadAfter: 6, suspectAfter: 3, leaseMs: 100, renewMs: 20, marginMs: 10 };
    const c = createSimCluster(3, timing, 64);
    const check = (): void => { const d = c.firstDoubleAnswered(); if (d) throw new Error(`t=${c.clock.nowMs()}: bucket ${d.bucket} answered by ${d.nodes.join(',')}`); };
    const step = (ms: number): void => { for (let t = 0; t < ms; t++) { c.clock.advance(1); check(); } };
    step(1000);
    const n2 = c.nodes[1]!;
    const mine = n2.runtime!.status().owned.length;
    expect(mine).toBeGreaterThan(0);
    expect(c.nodes[0]!.runtime!.healthyPeers()).toBe(2);
    n2.runtime!.setLeasing(false);
    let gone = -1;
    for (let t = 0; t < 1000; t++) {
      step(1);
      if (gone < 0 && n2.runtime!.status().owned.length === 0) gone = t;
    }
    expect(gone).toBeGreaterThanOrEqual(0);
    expect(n2.runtime!.status().self.state).toBe('draining');
    expect(c.answering().size).toBe(64);
    expect([...c.answering().values()].some((ids) => ids.includes(2))).toBe(false);
    expect(c.nodes[0]!.runtime!.healthyPeers()).toBe(1);
    n2.runtime!.setLeasing(true);
    step(1000);
    expect(n2.runtime!.status().owned.length).toBe(mine);
    expect(n2.runtime!.status().self.state).toBe('active');
    expect(c.answering().size).toBe(64);
    console.log(`drain: node 2 handed ${mine} buckets over in ${gone} ms`);
  });
});
