/**
 * Config agreement in the real runtime (fake network, data paths and clock): a node restarted
 * with one field changed is never a member, holds no bucket, and both sides log the field. Checked
 * every simulated millisecond: the nodes whose kernels answer all have one config (never two
 * configs at once: with another seed, bucket count or VIP they would split clients differently),
 * and no bucket is answered twice among them. At the end the agreeing nodes answer every bucket.
 */
import { describe, expect, it } from 'vitest';
import { pino, type Logger } from 'pino';
import { Writable } from 'node:stream';
import { parseConfig } from '../../../src/config/load.js';
import { fakeClock, type FakeClock } from '../../../src/util/clock.js';
import { createFakeNetwork, type FakeNetwork } from '../../../src/cluster/fake-transport.js';
import { fakeDataPath, type FakeDataPath } from '../../../src/vmac/fake-datapath.js';
import { startCluster, type ClusterRuntime } from '../../../src/daemon/cluster-runtime.js';
import type { VmacConfig } from '../../../src/config/types.js';
import { fingerprintOf, keyIdentity, type LocalFingerprint } from '../../../src/config/fingerprint.js';

const KEY = new Uint8Array(32).fill(7);
const BUCKETS = 32;

interface Change { readonly buckets?: number; readonly seed?: number; readonly vip?: string; readonly intervalMs?: number; readonly weight2?: number; readonly policy?: 'two-node' }

function config(n: number, id: number, c: Change = {}): VmacConfig {
  const nodes = Array.from({ length: n }, (_, i) => i + 1);
  const line = (x: number): string => `{ id: ${x}, name: n${x}, address: 10.9.0.${x}${x === 2 && c.weight2 !== undefined ? `, weight: ${c.weight2}` : ''} }`;
  const yaml = [
    'service: agree', 'interface: eth0', `vip: ${c.vip ?? '10.9.9.9'}`, `buckets: ${c.buckets ?? BUCKETS}`, `hash: { seed: ${c.seed ?? 0x5eed} }`,
    `node: ${line(id)}`, `peers: [${nodes.filter((x) => x !== id).map(line).join(', ')}]`,
    'heartbeat: { keyFile: /k }',
    `timing: { intervalMs: ${c.intervalMs ?? 40}, deadAfter: 6, suspectAfter: 3, leaseMs: 100, renewMs: 20, marginMs: 10 }`,
    ...(c.policy === 'two-node' ? ['quorum: { policy: two-node, tieBreaker: { ping: 10.9.0.254 } }'] : []),
    '',
  ].join('\n');
  return parseConfig(yaml, `n${id}.yaml`);
}

function capture(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk: Buffer, _e, cb) { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); cb(); } });
  return { log: pino({ level: 'info' }, stream), lines };
}

interface Proc { id: number; tag: string; dp: FakeDataPath; runtime: ClusterRuntime | null; lines: Record<string, unknown>[] }

class Cluster {
  readonly clock: FakeClock = fakeClock(1000);
  readonly net: FakeNetwork = createFakeNetwork(this.clock);
  readonly procs: Proc[] = []; // every process ever started (a killed one's kernel lease lives on)
  violations: string[] = [];
  private incarnation = 1n;

  start(cfg: VmacConfig, tag: string, fingerprint?: LocalFingerprint): Proc {
    const { log, lines } = capture();
    const dp = fakeDataPath(() => this.clock.nowMs());
    dp.install([], null);
    const transport = this.net.attach([`10.9.0.${cfg.node.id}`]);
    const runtime = startCluster({ cfg, key: KEY, transport, dp, announce: () => undefined, clock: this.clock, log, incarnation: this.incarnation++, ...(fingerprint ? { fingerprint } : {}) });
    const p: Proc = { id: cfg.node.id, tag, dp, runtime, lines };
    this.procs.push(p);
    return p;
  }

  /** kill -9: the process and its socket go; its kernel keeps the lease it last wrote. */
  kill(p: Proc): void {
    p.runtime?.close();
    p.runtime = null;
  }

  check(): void {
    const byBucket = new Map<number, string[]>();
    const tags = new Set<string>();
    for (const p of this.procs) {
      const a = p.dp.answeringNow();
      if (!a || a.size === 0) continue;
      tags.add(p.tag);
      for (const b of a) byBucket.set(b, [...(byBucket.get(b) ?? []), `${p.tag}#${p.id}`]);
    }
    const at = this.clock.nowMs();
    if (tags.size > 1) this.violations.push(`${at}: nodes with different configs answer at once: ${[...tags].join(' ')}`);
    for (const [b, who] of byBucket) if (who.length > 1) this.violations.push(`${at}: bucket ${b} answered by ${who.join(',')}`);
  }

  async run(ms: number): Promise<void> {
    for (let i = 0; i < ms; i++) { this.clock.advance(1); this.check(); }
    await new Promise((r) => setImmediate(r));
  }
}

const events = (p: Proc, e: string): Record<string, unknown>[] => p.lines.filter((l) => l.event === e);
const fieldsOf = (l: Record<string, unknown> | undefined): unknown => l?.fields;
const answered = (ps: Proc[]): number => new Set(ps.flatMap((p) => [...(p.dp.answeringNow() ?? [])])).size;

const CHANGES: readonly [string, Change, string][] = [
  ['seed', { seed: 0x1234 }, 'hash.seed'],
  ['buckets', { buckets: 64 }, 'buckets'],
  ['VIP', { vip: '10.9.9.10' }, 'vip,vmac'], // the VMAC is derived from the VIP (vmac: auto)
  ['timing', { intervalMs: 50 }, 'timing.intervalMs'],
  ['node list', { weight2: 3 }, 'nodes'],
];

describe('config agreement: a node restarted with another config never serves beside the others', () => {
  it.each(CHANGES)('three nodes, node 3 restarted with another %s', async (_name, change, field) => {
    const c = new Cluster();
    const [n1, n2, n3] = [1, 2, 3].map((id) => c.start(config(3, id), 'A')) as [Proc, Proc, Proc];
    await c.run(1500);
    expect(answered([n1, n2, n3])).toBe(BUCKETS);
    c.kill(n3);
    await c.run(200);
    const n3b = c.start(config(3, 3, change), 'B');
    await c.run(2500);
    expect(c.violations).toEqual([]);
    // The agreeing nodes answer every bucket; the differing node none, and it never renewed.
    expect(answered([n1, n2])).toBe(BUCKETS);
    expect(n3b.dp.answeringNow()?.size ?? 0).toBe(0);
    expect(n3b.runtime?.serving()).toBe(false);
    expect(n3b.runtime?.status().quorum.lease).toBe('config-mismatch');
    // Both sides log it once, naming the field.
    for (const p of [n1, n2]) {
      expect(events(p, 'config-mismatch')).toHaveLength(1);
      expect(fieldsOf(events(p, 'config-mismatch')[0])).toEqual(field.split(','));
      expect(events(p, 'config-mismatch')[0]).toMatchObject({ node: 3, level: 50 });
      expect(p.runtime?.status().config?.differing.map((d) => d.id)).toEqual([3]);
    }
    expect(events(n3b, 'config-mismatch').map((l) => l.node).sort()).toEqual([1, 2]);
    expect(events(n3b, 'config-mismatch').every((l) => JSON.stringify(fieldsOf(l)) === JSON.stringify(field.split(',')))).toBe(true);
    expect(n3b.runtime?.status().config?.standing).toBe('minority');
    // It ends when node 3 comes back with the cluster's config: logged once on each side.
    c.kill(n3b);
    await c.run(300);
    const n3c = c.start(config(3, 3), 'A');
    await c.run(2500);
    expect(c.violations).toEqual([]);
    for (const p of [n1, n2]) expect(events(p, 'config-agreement')).toHaveLength(1);
    expect(n3c.dp.answeringNow()?.size ?? 0).toBeGreaterThan(0);
    expect(answered([n1, n2, n3c])).toBe(BUCKETS);
    for (const p of c.procs) p.runtime?.close();
  });

  it('negative control: a node that announces the cluster\'s fingerprint over another seed serves beside the others, and the check sees it', async () => {
    const c = new Cluster();
    const [n1, n2, n3] = [1, 2, 3].map((id) => c.start(config(3, id), 'A')) as [Proc, Proc, Proc];
    await c.run(1500);
    c.kill(n3);
    await c.run(200);
    // The broken variant: node 3 runs another seed but claims the others' fingerprint.
    c.start(config(3, 3, { seed: 0x1234 }), 'B', fingerprintOf(config(3, 3), keyIdentity(KEY)));
    await c.run(2500);
    expect(c.violations.length).toBeGreaterThan(0);
    expect(c.violations.some((v) => v.includes('different configs answer at once'))).toBe(true);
    for (const p of [n1, n2]) expect(events(p, 'config-mismatch')).toHaveLength(0);
    for (const p of c.procs) p.runtime?.close();
  });

  it('the values are in the log line on both sides where they are not secret', async () => {
    const c = new Cluster();
    const n1 = c.start(config(3, 1), 'A');
    c.start(config(3, 2), 'A');
    const n3 = c.start(config(3, 3, { seed: 0x1234 }), 'B');
    await c.run(1500);
    expect(c.violations).toEqual([]);
    expect(String(events(n1, 'config-mismatch')[0]?.msg)).toContain(`hash.seed (ours ${0x5eed}, theirs ${0x1234})`);
    expect(String(events(n3, 'config-mismatch')[0]?.msg)).toContain(`hash.seed (ours ${0x1234}, theirs ${0x5eed})`);
    for (const p of c.procs) p.runtime?.close();
  });

  for (const policy of [undefined, 'two-node'] as const) {
    describe(`two nodes (${policy ?? 'majority'} policy)`, () => {
      it.each(CHANGES)('node 2 restarted with another %s: node 1 answers everything, node 2 nothing', async (_name, change, field) => {
        const c = new Cluster();
        const n1 = c.start(config(2, 1, { ...(policy ? { policy } : {}) }), 'A');
        const n2 = c.start(config(2, 2, { ...(policy ? { policy } : {}) }), 'A');
        await c.run(1500);
        expect(answered([n1, n2])).toBe(BUCKETS);
        c.kill(n2);
        await c.run(200);
        const n2b = c.start(config(2, 2, { ...change, ...(policy ? { policy } : {}) }), 'B');
        await c.run(3000);
        expect(c.violations).toEqual([]);
        expect(n1.dp.answeringNow()?.size).toBe(BUCKETS);
        expect(n2b.dp.answeringNow()?.size ?? 0).toBe(0);
        expect(n1.runtime?.status().config?.standing).toBe('win');
        expect(n2b.runtime?.status().config?.standing).toBe('yield');
        expect(fieldsOf(events(n1, 'config-mismatch')[0])).toEqual(field.split(','));
        expect(fieldsOf(events(n2b, 'config-mismatch')[0])).toEqual(field.split(','));
        for (const p of c.procs) p.runtime?.close();
      });

      it('both start at once with different seeds: node 1 serves everything, node 2 never', async () => {
        const c = new Cluster();
        const n1 = c.start(config(2, 1, { ...(policy ? { policy } : {}) }), 'A');
        const n2 = c.start(config(2, 2, { seed: 99, ...(policy ? { policy } : {}) }), 'B');
        await c.run(3000);
        expect(c.violations).toEqual([]);
        expect(n1.dp.answeringNow()?.size).toBe(BUCKETS);
        expect(n2.dp.answeringNow()?.size ?? 0).toBe(0);
        for (const p of c.procs) p.runtime?.close();
      });

      it('node 1 restarted with another seed: exactly one of the two answers everything, the other nothing', async () => {
        const c = new Cluster();
        const n1 = c.start(config(2, 1, { ...(policy ? { policy } : {}) }), 'A');
        const n2 = c.start(config(2, 2, { ...(policy ? { policy } : {}) }), 'A');
        await c.run(1500);
        c.kill(n1);
        await c.run(200);
        const n1b = c.start(config(2, 1, { seed: 7, ...(policy ? { policy } : {}) }), 'B');
        await c.run(3000);
        expect(c.violations).toEqual([]);
        // Without a tie-breaker, node 2 alone stopped serving when node 1 died; neither served,
        // so the lower id (node 1, with the new config) won. Never both.
        const sizes = [n1b, n2].map((p) => p.dp.answeringNow()?.size ?? 0).sort((a, b) => a - b);
        expect(sizes).toEqual([0, BUCKETS]);
        for (const p of c.procs) p.runtime?.close();
      });
    });
  }
});
