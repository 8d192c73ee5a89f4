/**
 * Config changes during rolls, simulated: real cluster runtimes on a fake network, data paths and
 * clock. Per seed: 2–5 nodes start with config A; then a random roll restarts nodes (kill -9 or a
 * planned stop, then a start after a random delay) with config A or B (another seed or bucket
 * count), some twice, with random pauses. Checked every simulated millisecond:
 *   - `configs`: the kernels that answer all belong to nodes of one config;
 *   - `double`: no bucket takes new flows on two nodes (the simulator's safety invariant);
 * and at the end, once every running node has one config and a dead time passed: every bucket is
 * answered (`liveness`).
 *
 * `--broken`: the nodes started with config B announce config A's fingerprint (a node that serves
 * while its config differs): the check must catch it.
 *
 *   npx tsx test/sim/config-roll.ts --seeds 1..20000 [--broken]
 */
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { fakeClock, type FakeClock } from '../../src/util/clock.js';
import { createFakeNetwork, type FakeNetwork } from '../../src/ha/fake-transport.js';
import { fakeDataPath, type FakeDataPath } from '../../src/vmac/fake-datapath.js';
import { startCluster, type ClusterRuntime } from '../../src/daemon/cluster-runtime.js';
import type { VmacConfig } from '../../src/config/types.js';
import { fingerprintOf, keyIdentity } from '../../src/config/fingerprint.js';
import { mulberry32, type Rng } from '../../src/util/prng.js';

const KEY = new Uint8Array(32).fill(5);
const log = pino({ level: 'silent' });
const configs = new Map<string, VmacConfig>();

function config(n: number, id: number, variant: 'A' | 'B-seed' | 'B-buckets'): VmacConfig {
  const k = `${n}/${id}/${variant}`;
  const hit = configs.get(k);
  if (hit) return hit;
  const nodes = Array.from({ length: n }, (_, i) => i + 1);
  const line = (x: number): string => `{ id: ${x}, name: n${x}, address: 10.9.0.${x} }`;
  const cfg = parseConfig([
    'service: roll', 'interface: eth0', 'vip: 10.9.9.9', `buckets: ${variant === 'B-buckets' ? 48 : 32}`, `hash: { seed: ${variant === 'B-seed' ? 77 : 42} }`,
    `node: ${line(id)}`, `peers: [${nodes.filter((x) => x !== id).map(line).join(', ')}]`,
    'heartbeat: { keyFile: /k }', 'timing: { intervalMs: 40, deadAfter: 6, suspectAfter: 3, leaseMs: 100, renewMs: 20, marginMs: 10 }', '',
  ].join('\n'), `n${id}.yaml`);
  configs.set(k, cfg);
  return cfg;
}

interface Proc { id: number; tag: string; dp: FakeDataPath; runtime: ClusterRuntime | null }

export interface RollResult { readonly seed: number; readonly violations: readonly string[]; readonly steps: readonly string[] }

export function runRoll(seed: number, broken = false): RollResult {
  const rnd: Rng = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const clock: FakeClock = fakeClock(1000);
  const net: FakeNetwork = createFakeNetwork(clock);
  const n = pick([2, 3, 3, 4, 5]);
  const bVariant = pick(['B-seed', 'B-buckets'] as const);
  const procs: Proc[] = [];
  const running = new Map<number, Proc>();
  const violations: string[] = [];
  const steps: string[] = [];
  let incarnation = 1n;

  const start = (id: number, tag: 'A' | 'B'): void => {
    // One kernel per node: a new process rebuilds the node's table (no adoption), which ends the
    // lease an earlier process of this node left behind.
    for (const old of procs) if (old.id === id) old.dp.teardown();
    const cfg = config(n, id, tag === 'A' ? 'A' : bVariant);
    const dp = fakeDataPath(() => clock.nowMs());
    dp.install([], null);
    const lie = broken && tag === 'B' ? { fingerprint: fingerprintOf(config(n, id, 'A'), keyIdentity(KEY)) } : {};
    const runtime = startCluster({ cfg, key: KEY, transport: net.attach([`10.9.0.${id}`]), dp, announce: () => undefined, clock, log, incarnation: incarnation++, ...lie });
    const p: Proc = { id, tag, dp, runtime };
    procs.push(p);
    running.set(id, p);
  };
  const check = (): void => {
    const tags = new Set<string>();
    const taking = new Map<number, string[]>();
    procs.forEach((p, i) => {
      const a = p.dp.answeringNow();
      if (a && a.size > 0) tags.add(p.tag);
      for (const b of p.dp.acceptingNewNow() ?? []) taking.set(b, [...(taking.get(b) ?? []), `${p.tag}${p.id}.${i}`]);
    });
    const at = clock.nowMs();
    if (tags.size > 1) violations.push(`configs@${at}`);
    for (const [b, who] of taking) if (who.length > 1) { violations.push(`double@${at}:b${b}:${who.join('+')}`); break; }
  };
  const run = (ms: number): void => { for (let i = 0; i < ms; i++) { clock.advance(1); check(); } };

  for (let id = 1; id <= n; id++) start(id, 'A');
  run(1500);
  const rounds = 2 + Math.floor(rnd() * 6);
  for (let r = 0; r < rounds; r++) {
    const id = 1 + Math.floor(rnd() * n);
    const p = running.get(id);
    const tag = rnd() < 0.6 ? 'B' : 'A';
    const how = rnd() < 0.5 ? 'kill' : 'stop';
    const delay = Math.floor(rnd() * 400);
    steps.push(`${how} n${id} → ${tag} after ${delay} ms`);
    if (p?.runtime) {
      if (how === 'kill') { p.runtime.close(); p.runtime = null; }
      else {
        const rt = p.runtime;
        let done = false;
        void rt.leave().then(() => { done = true; });
        for (let t = 0; t < 2000 && !done; t++) { clock.advance(1); check(); }
        rt.close();
        p.runtime = null;
      }
    }
    running.delete(id);
    run(delay);
    start(id, tag);
    run(200 + Math.floor(rnd() * 1500));
  }
  run(2000);
  // Liveness: once every node runs one config, every bucket is answered again.
  const allTags = new Set([...running.values()].map((p) => p.tag));
  if (allTags.size === 1 && running.size === n) {
    run(1000);
    const answered = new Set<number>();
    for (const p of running.values()) for (const b of p.dp.answeringNow() ?? []) answered.add(b);
    const buckets = config(n, 1, [...allTags][0] === 'A' ? 'A' : bVariant).buckets;
    if (answered.size !== buckets) violations.push(`liveness:${answered.size}/${buckets}`);
  }
  for (const p of procs) p.runtime?.close();
  return { seed, violations: violations.slice(0, 5), steps };
}

function parseSeeds(arg: string): [number, number] {
  const m = /^(\d+)\.\.(\d+)$/.exec(arg);
  if (!m) throw new Error(`--seeds FROM..TO, got ${arg}`);
  return [Number(m[1]), Number(m[2])];
}

if (process.argv[1]?.endsWith('config-roll.ts')) {
  const args = process.argv.slice(2);
  const [from, to] = parseSeeds(args[args.indexOf('--seeds') + 1] ?? '1..100');
  const broken = args.includes('--broken');
  const t0 = Date.now();
  let failed = 0;
  for (let s = from; s <= to; s++) {
    const r = runRoll(s, broken);
    if (r.violations.length > 0) {
      failed++;
      if (failed <= 10) console.log(`seed ${s}: ${r.violations.join(' ')} | ${r.steps.join('; ')}`);
    }
    if ((s - from + 1) % 250 === 0) console.log(`… seeds ${from}..${s}: ${s - from + 1 - failed} passed, ${failed} with violations (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  console.log(`${to - from + 1 - failed} passed, ${failed} with violations (seeds ${from}..${to}${broken ? ', broken variant' : ''}, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  process.exitCode = broken ? (failed > 0 ? 0 : 1) : (failed > 0 ? 1 : 0);
}
