/**
 * The transition engine's interpreter (src/crm/crm-runner.ts): three runners on a fake clock,
 * their reports through the real codec over an in-memory network, fake drivers that record a
 * shared timeline, the real fence runner with a scripted agent. Checks on the timeline: a
 * singleton never runs on two nodes, a group starts in order, a killed node's singleton starts
 * elsewhere only after the fence, never with a failing fence agent, a minority stops its own.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import { fakeClock, type FakeClock } from '../../../src/util/clock.js';
import { startCrmRunner, type CrmRunner } from '../../../src/daemon/crm-runner.js';
import type { ActionResult, ResourceDriver } from '../../../src/health/resources/driver.js';
import { createFenceRunner } from '../../../src/fencing/fence-runner.js';
import { fakeAgent, type FakeAgent } from '../../../src/fencing/fake-agent.js';
import type { CrmModel } from '../../../src/crm/model.js';
import { encodeCrmMessage } from '../../../src/cluster/crm-codec.js';
import { yamlWith } from '../config/helpers.js';

const CMD = { start: 's', stop: 't', monitor: 'm' };
const PEERS = [{ id: 2, name: 'n2', address: '10.200.0.12' }, { id: 3, name: 'n3', address: '10.200.0.13' }];
const NODES = [{ id: 1, name: 'n1' }, { id: 2, name: 'n2' }, { id: 3, name: 'n3' }];
const KEY = new Uint8Array(32).fill(3);
const RESOURCES = [
  { name: 'ip', kind: 'singleton', command: CMD, prefer: { n1: 100 } },
  { name: 'db', kind: 'singleton', command: CMD, colocate: [{ with: 'ip' }], after: ['ip'] },
  { name: 'q', kind: 'singleton', command: CMD },
  { name: 'm', kind: 'singleton', command: CMD },
  { name: 'mail', kind: 'group', members: ['q', 'm'], colocate: [{ with: 'ip' }] },
];
const TIMING = { intervalMs: 100, deadMs: 500, startTimeoutMs: 1000, stopTimeoutMs: 1000, monitorIntervalMs: 1000, monitorTimeoutMs: 500, fenceRetryMs: 500 };

function model(): CrmModel {
  const c = parseConfig(yamlWith({ peers: PEERS, resources: RESOURCES }), 'web.yaml');
  if (!c.crm) throw new Error('no model');
  return c.crm;
}

interface Ev { t: number; node: string; resource: string; what: 'start' | 'stop' }

class Lab {
  clock: FakeClock = fakeClock(1000);
  runners = new Map<string, CrmRunner>();
  up = new Set(['n1', 'n2', 'n3']); // daemons alive
  cuts = new Set<string>(); // "a|b" pairs that cannot hear each other
  running = new Map<string, Set<string>>(); // resource → nodes where it runs
  timeline: Ev[] = [];
  violations: string[] = [];
  stopFails = new Set<string>(); // "node:resource" whose stop fails
  agents = new Map<string, FakeAgent>();
  fenced: { t: number; by: string; target: string }[] = [];
  selfFenced: string[] = [];
  constructor(fencing: boolean, fenceWorks = true, opts: { down?: string[]; startupFenceDelayMs?: number } = {}) {
    for (const n of opts.down ?? []) this.up.delete(n);
    const m = model();
    for (const n of NODES) {
      const agent = fakeAgent();
      if (!fenceWorks) agent.next = { outcome: 'failed', detail: 'agent broken' };
      const run = agent.run.bind(agent);
      agent.run = (action, target, timeoutMs) => { if (agent.next.outcome === 'success') { this.fenced.push({ t: this.clock.nowMs(), by: n.name, target: target.name }); this.kill(target.name); } return run(action, target, timeoutMs); };
      this.agents.set(n.name, agent);
      const log = pino({ level: 'silent' });
      const fence = fencing ? createFenceRunner({ cfg: { action: 'off', delayMs: 0, timeoutMs: 1000, retryBaseMs: 300, retryMaxMs: 1000 }, agent, nodes: NODES, clock: this.clock, log }) : undefined;
      this.runners.set(n.name, startCrmRunner({
        model: m, self: n, nodes: NODES, key: KEY, fingerprint: '00112233aabbccdd', epoch: 1_000_000 + n.id, clock: this.clock, log,
        send: (bytes) => { for (const p of NODES) if (p.name !== n.name && this.hears(p.name, n.name)) this.clock.setTimer(5, () => this.runners.get(p.name)?.onDatagram(bytes)); },
        clusterStatus: () => this.status(n.name),
        driverFor: (r) => this.driver(n.name, r),
        ...(fence ? { fence } : {}),
        selfFence: (reason) => { this.selfFenced.push(`${n.name}: ${reason}`); },
        timing: { ...TIMING, ...(opts.startupFenceDelayMs !== undefined ? { startupFenceDelayMs: opts.startupFenceDelayMs } : {}) },
      }));
    }
  }
  hears(to: string, from: string): boolean { return this.up.has(to) && this.up.has(from) && !this.cuts.has([to, from].sort().join('|')); }
  status(self: string): Parameters<Parameters<typeof startCrmRunner>[0]['clusterStatus']> extends [] ? ReturnType<Parameters<typeof startCrmRunner>[0]['clusterStatus']> : never {
    const alive = NODES.filter((p) => p.name === self || this.hears(self, p.name));
    return {
      self: { id: NODES.find((p) => p.name === self)?.id ?? 0, name: self, state: 'active', incarnation: '1', servingSinceMs: 0 },
      quorum: { has: alive.length >= 2, lease: 'ok', size: 2 },
      nodes: NODES.map((p) => ({ id: p.id, name: p.name, status: alive.includes(p) ? 'alive' : 'dead', state: 'active', lastHeardMsAgo: 0, digest: null, links: [] })),
    };
  }
  driver(node: string, r: string): ResourceDriver {
    const act = (what: 'start' | 'stop'): Promise<ActionResult> => new Promise((resolve) => {
      this.clock.setTimer(50, () => {
        if (!this.up.has(node)) return; // died meanwhile
        const on = this.running.get(r) ?? new Set<string>();
        if (what === 'stop' && this.stopFails.has(`${node}:${r}`)) { resolve({ outcome: 'failed', detail: 'stop failed' }); return; }
        if (what === 'start') { on.add(node); if (on.size > 1) this.violations.push(`${r} on ${[...on].join('+')} at ${this.clock.nowMs()}`); } else on.delete(node);
        this.running.set(r, on);
        this.timeline.push({ t: this.clock.nowMs(), node, resource: r, what });
        resolve({ outcome: 'ok', detail: what });
      });
    });
    return { kind: 'fake', describe: r, start: () => act('start'), stop: () => act('stop'), monitor: () => Promise.resolve({ state: this.running.get(r)?.has(node) ? 'running' : 'stopped', detail: '' }) };
  }
  kill(node: string): void {
    if (!this.up.delete(node)) return;
    this.runners.get(node)?.close();
    for (const on of this.running.values()) on.delete(node); // the resources die with the daemon
  }
  async run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 10) { this.clock.advance(10); await new Promise((r) => setImmediate(r)); }
  }
  where(r: string): string[] { return [...(this.running.get(r) ?? [])].sort(); }
  starts(r: string): Ev[] { return this.timeline.filter((e) => e.resource === r && e.what === 'start'); }
  /** Every start of `after` on a node comes after a start of `before` on that node, with no stop of `before` between. */
  ordered(before: string, after: string): boolean {
    return this.starts(after).every((s) => {
      const prior = this.timeline.filter((e) => e.resource === before && e.node === s.node && e.t <= s.t);
      return prior.at(-1)?.what === 'start';
    });
  }
}

describe('cluster resource runner', () => {
  it('runs each singleton once, the group in order, on the preferred node; every node shows the same', async () => {
    const lab = new Lab(true);
    await lab.run(3000);
    expect(lab.violations).toEqual([]);
    for (const r of ['ip', 'db', 'q', 'm']) expect(lab.where(r)).toEqual(['n1']);
    expect(lab.ordered('ip', 'db') && lab.ordered('q', 'm') && lab.ordered('ip', 'q')).toBe(true);
    for (const n of ['n1', 'n2', 'n3']) {
      const st = lab.runners.get(n)?.status();
      expect(st?.resources.map((r) => `${r.name}@${r.runningOn.join()}`)).toEqual(['ip@n1', 'db@n1', 'q@n1', 'm@n1']);
      expect(st?.counters.dropped).toEqual({});
    }
  });

  it('kill of the node that runs them: fenced first, then started once on a survivor, in order', async () => {
    const lab = new Lab(true);
    await lab.run(3000);
    const killedAt = lab.clock.nowMs();
    lab.kill('n1');
    await lab.run(5000);
    expect(lab.violations).toEqual([]);
    const at = lab.where('ip');
    expect(at).toHaveLength(1);
    for (const r of ['db', 'q', 'm']) expect(lab.where(r)).toEqual(at);
    const fence = lab.fenced.find((f) => f.target === 'n1');
    expect(fence).toBeDefined();
    const restart = lab.starts('ip').find((e) => e.t > killedAt);
    expect(restart && fence && restart.t > fence.t).toBe(true);
    expect(lab.ordered('ip', 'db') && lab.ordered('q', 'm')).toBe(true);
  });

  it('startup fencing waits the startup delay for a node not seen since start, then fences it', async () => {
    const lab = new Lab(true, true, { down: ['n3'], startupFenceDelayMs: 2000 });
    await lab.run(1800);
    expect(lab.fenced).toEqual([]);
    expect(lab.where('ip')).toEqual([]); // n3 may run it (never seen): nothing starts yet
    await lab.run(2000);
    expect(lab.fenced.map((f) => f.target)).toContain('n3');
    for (const r of ['ip', 'db', 'q', 'm']) expect(lab.where(r)).toEqual(['n1']);
    expect(lab.violations).toEqual([]);
  });

  it('a failing fence agent: the killed node\'s singletons are started nowhere else', async () => {
    const lab = new Lab(true, false);
    await lab.run(3000);
    lab.kill('n1');
    await lab.run(8000);
    expect(lab.violations).toEqual([]);
    for (const r of ['ip', 'db', 'q', 'm']) expect(lab.where(r)).toEqual([]);
    expect(lab.agents.get('n2')?.calls.length ?? 0).toBeGreaterThan(1); // retried, never assumed clean
    const unclean = lab.runners.get('n2')?.status().unclean ?? [];
    expect(unclean.map((u) => `${u.node}:${u.stopFailed}`)).toEqual(['n1:false']);
    expect(unclean[0]?.fence).toMatch(/requested|failed/);
  });

  it('a stop that fails: the node is fenced before the singleton starts elsewhere', async () => {
    const lab = new Lab(true);
    await lab.run(3000);
    lab.stopFails.add('n1:m');
    const movedAt = lab.clock.nowMs();
    expect(lab.runners.get('n2')?.operate({ op: 'ban', resource: 'mail', node: 'n1' }).ok).toBe(true);
    await lab.run(5000);
    expect(lab.violations).toEqual([]);
    const fence = lab.fenced.find((f) => f.target === 'n1');
    expect(fence).toBeDefined();
    const restart = lab.starts('m').find((e) => e.t > movedAt && e.node !== 'n1');
    expect(restart).toBeDefined();
    expect(restart && fence && restart.t > fence.t).toBe(true);
  });

  it('without fencing, a partitioned minority stops its singletons before the majority starts them', async () => {
    const lab = new Lab(false);
    await lab.run(3000);
    const cutAt = lab.clock.nowMs();
    lab.cuts.add('n1|n2').add('n1|n3');
    await lab.run(12_000);
    expect(lab.violations).toEqual([]);
    const stopped = lab.timeline.filter((e) => e.node === 'n1' && e.what === 'stop' && e.t > cutAt);
    const started = lab.timeline.filter((e) => e.node !== 'n1' && e.what === 'start' && e.t > cutAt);
    expect(stopped.map((e) => e.resource).sort()).toEqual(['db', 'ip', 'm', 'q']);
    expect(started.map((e) => e.resource).sort()).toEqual(['db', 'ip', 'm', 'q']);
    expect(Math.max(...stopped.map((e) => e.t))).toBeLessThan(Math.min(...started.map((e) => e.t)));
    // dependents first on the minority side
    const order = stopped.map((e) => e.resource);
    expect(order.indexOf('db')).toBeLessThan(order.indexOf('ip'));
    expect(order.indexOf('m')).toBeLessThan(order.indexOf('q'));
  });

  it('operator move, cleanup and standby reach every node; a stale or foreign report is dropped', async () => {
    const lab = new Lab(true);
    await lab.run(3000);
    expect(lab.runners.get('n3')?.operate({ op: 'move', resource: 'ip', node: 'n2' }).ok).toBe(true);
    await lab.run(3000);
    expect(lab.violations).toEqual([]);
    for (const r of ['ip', 'db', 'q', 'm']) expect(lab.where(r)).toEqual(['n2']);
    expect(lab.runners.get('n1')?.status().operator.scores.ip).toEqual({ n2: 1_000_000 });
    expect(lab.runners.get('n1')?.operate({ op: 'standby', node: 'n2', on: true }).ok).toBe(true);
    await lab.run(3000);
    // A standby node runs nothing: the move's +INFINITY cannot hold them there, they go to the next best node.
    for (const r of ['ip', 'db', 'q', 'm']) expect(lab.where(r)).toEqual(['n1']);
    expect(lab.runners.get('n3')?.status().standby).toEqual(['n2']);
    expect(lab.violations).toEqual([]);
    const refused = lab.runners.get('n1')?.operate({ op: 'move', resource: 'nope', node: 'n2' });
    expect(refused?.ok).toBe(false);
    expect(refused?.message).toMatch(/no singleton or group/);
    const n1 = lab.runners.get('n1');
    const report = { epoch: 5, seq: 1, phases: { ip: 'started' as const }, failures: {}, banned: [], claims: {}, acks: {}, operator: { version: 0, scores: {} } };
    n1?.onDatagram(encodeCrmMessage({ senderId: 2, fingerprint: 'ffffffffffffffff', report }, KEY));
    n1?.onDatagram(encodeCrmMessage({ senderId: 2, fingerprint: '00112233aabbccdd', report }, KEY)); // epoch 5 < n2's: a replay
    n1?.onDatagram(encodeCrmMessage({ senderId: 2, fingerprint: '00112233aabbccdd', report }, new Uint8Array(32)));
    expect(n1?.status().counters.dropped).toEqual({ 'config-differs': 1, stale: 1, 'bad-mac': 1 });
    await lab.run(500);
    expect(lab.where('ip')).toEqual(['n1']);
  });
});
