/**
 * Config changes during rolls, simulated: real cluster runtimes on a fake network, data paths and
 * clock. Per seed: 2–5 nodes start with config A; then a random roll restarts nodes (kill -9 or a
 * planned stop, then a start after a random delay) with config A or B, some twice, with random
 * pauses. B is another seed or bucket count (a mismatch), or a node-list change a roll allows
 * (src/cluster/roll-compat.ts): `add` (B lists node n+1 at weight 0; node n+1 starts on B at random
 * moments of the roll, even before every file changed), `remove` (A lists node n at weight 0, B
 * drops it; node n is stopped at a random moment, sometimes restarted on A), `weight` (B sets
 * node 1's configured weight to 0; node 1 announces 0 at run time at a random moment, or not).
 * In `add` and `remove` the node added or removed is sometimes given a weight of 50 in the middle
 * of the roll (an operator's mistake).
 * Checked every simulated millisecond:
 *   - `configs`: for a B that hashes otherwise (seed, buckets), the kernels that answer all belong
 *     to nodes of one config (for the node-list variants both versions may answer: `double` is
 *     the invariant, buckets mean the same clients under both);
 *   - `double`: no bucket takes new flows on two nodes (the simulator's safety invariant);
 * and at the end, once every running node has one config and a dead time passed: every bucket is
 * answered (`liveness`).
 *
 * `--broken`: the nodes started with config B announce config A's fingerprint (a node that serves
 * while its config differs): the check must catch it.
 *
 *   npx tsx test/sim/config-roll.ts --seeds 1..20000 [--workers N] [--broken | --broken-roll] [--wire-codec] [--every-ms]
 */
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { fakeClock, type FakeClock } from '../../src/util/clock.js';
import { createFakeNetwork, type FakeNetwork } from '../../src/cluster/fake-transport.js';
import { fakeDataPath, type FakeDataPath } from '../../src/vmac/fake-datapath.js';
import { startCluster, type ClusterRuntime } from '../../src/daemon/cluster-runtime.js';
import type { VmacConfig } from '../../src/config/types.js';
import { fingerprintOf, keyIdentity } from '../../src/config/fingerprint.js';
import { mulberry32, type Rng } from '../../src/util/prng.js';
import { byReferenceCodec } from './sim-codec.js';
import { workerBundle } from './worker-bundle.js';
import type { RollChunk, RollChunkResult, RollFailure } from './config-roll-worker.js';
import { isMainThread } from 'node:worker_threads';

const KEY = new Uint8Array(32).fill(5);
const log = pino({ level: process.env.VMAC_ROLL_LOG ?? 'silent' });
const configs = new Map<string, VmacConfig>();

type Variant = 'B-seed' | 'B-buckets' | 'B-add' | 'B-remove' | 'B-weight';
const SAME_HASH: ReadonlySet<Variant> = new Set(['B-add', 'B-remove', 'B-weight']);

/** Config `A` of variant `v`, or `B` (`tag` B): node lists per the header. */
function config(n: number, id: number, tag: 'A' | 'B', v: Variant): VmacConfig {
  const variant = tag === 'A' ? (v === 'B-remove' ? 'A-remove' : 'A') : v;
  const k = `${n}/${id}/${variant}`;
  const hit = configs.get(k);
  if (hit) return hit;
  const nodes = Array.from({ length: variant === 'B-add' ? n + 1 : variant === 'B-remove' ? n - 1 : n }, (_, i) => i + 1);
  const weight = (x: number): number | null =>
    (variant === 'B-add' && x === n + 1) || (variant === 'A-remove' && x === n) || (variant === 'B-weight' && x === 1) ? 0 : null;
  const line = (x: number): string => `{ id: ${x}, name: n${x}, address: 10.9.0.${x}${weight(x) === null ? '' : `, weight: ${weight(x)}`} }`;
  const cfg = parseConfig([
    'service: roll', 'interface: eth0', 'vip: 10.9.9.9', `buckets: ${variant === 'B-buckets' ? 48 : 32}`, `hash: { seed: ${variant === 'B-seed' ? 77 : 42} }`,
    `node: ${line(id)}`, `peers: [${nodes.filter((x) => x !== id).map(line).join(', ')}]`,
    'heartbeat: { keyFile: /k }', 'timing: { intervalMs: 40, deadAfter: 6, suspectAfter: 3, leaseMs: 100, renewMs: 20, marginMs: 10 }', '',
  ].join('\n'), `n${id}.yaml`);
  configs.set(k, cfg);
  return cfg;
}

interface Proc { id: number; tag: string; dp: FakeDataPath; runtime: ClusterRuntime | null }

/** The seed's variant: one in five of each kind, so the mismatch variants (and `--broken`) stay covered. */
const VARIANTS: readonly Variant[] = ['B-seed', 'B-buckets', 'B-add', 'B-remove', 'B-weight'];

export interface RollResult {
  readonly seed: number;
  readonly violations: readonly string[];
  readonly steps: readonly string[];
  /** With RollOptions.trace: every change of what the data paths answer, one line per change. */
  readonly trace?: readonly string[];
}

export interface RollOptions {
  /** Serialise, sign and parse every heartbeat (the wire codec) instead of handing it over by reference (sim-codec.ts). */
  readonly wireCodec?: boolean;
  /** Check every simulated millisecond instead of only the milliseconds at which something can change. */
  readonly everyMs?: boolean;
  /** Record RollResult.trace (for the equivalence test of the two options above). */
  readonly trace?: boolean;
}

/**
 * `broken`: the mismatch variants only (seed, buckets), B nodes announcing A's fingerprint.
 * `broken-roll`: the remove variant with the unlisted-node hold off (a node that serves while a
 * node outside its list, on the other version, may still hold a lease).
 */
export function runRoll(seed: number, broken: boolean | 'roll' = false, o: RollOptions = {}): RollResult {
  const rnd: Rng = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const clock: FakeClock = fakeClock(1000);
  const net: FakeNetwork = createFakeNetwork(clock);
  const codec = o.wireCodec === true ? undefined : byReferenceCodec();
  const picked = pick(VARIANTS);
  const variant: Variant = broken === 'roll' ? 'B-remove' : broken ? (picked === 'B-buckets' || picked === 'B-add' ? 'B-buckets' : 'B-seed') : picked;
  const n = Math.max(variant === 'B-remove' ? 3 : 2, pick([2, 3, 3, 4, 5]));
  const sameHash = SAME_HASH.has(variant);
  const procs: Proc[] = [];
  const running = new Map<number, Proc>();
  const violations: string[] = [];
  const steps: string[] = [];
  let incarnation = 1n;

  const start = (id: number, tag: 'A' | 'B'): void => {
    // One kernel per node: a new process rebuilds the node's table (no adoption), which ends the
    // lease an earlier process of this node left behind.
    for (const old of procs) if (old.id === id) old.dp.teardown();
    const cfg = config(n, id, tag, variant);
    const dp = fakeDataPath(() => clock.nowMs());
    dp.install([], null);
    const lie = broken === true && tag === 'B' ? { fingerprint: fingerprintOf(config(n, id, 'A', variant), keyIdentity(KEY)) }
      : broken === 'roll' ? { unlistedHold: false } : {};
    // A node whose previous process ran the other version starts after a config change (last-config.ts).
    const previous = [...procs].reverse().find((p) => p.id === id);
    const configChanged = previous !== undefined && previous.tag !== tag;
    // VMAC_ROLL_LOG=info: the runtimes' logs, stamped with the simulated time and the process.
    const plog = process.env.VMAC_ROLL_LOG === undefined ? log : pino({ level: process.env.VMAC_ROLL_LOG, timestamp: () => `,"t":${clock.nowMs()}` }).child({ n: `${tag}${id}.${procs.length}` });
    const runtime = startCluster({ cfg, key: KEY, transport: net.attach([`10.9.0.${id}`]), dp, announce: () => undefined, clock, log: plog, incarnation: incarnation++, configChanged, ...lie, ...(codec ? { codec } : {}) });
    const p: Proc = { id, tag, dp, runtime };
    procs.push(p);
    running.set(id, p);
  };
  const trace: string[] | undefined = o.trace === true ? [] : undefined;
  let traced = '';
  const check = (): void => {
    const tags = new Set<string>();
    const taking = new Map<number, string[]>();
    procs.forEach((p, i) => {
      const a = p.dp.answeringNow();
      if (a && a.size > 0) tags.add(p.tag);
      for (const b of p.dp.acceptingNewNow() ?? []) taking.set(b, [...(taking.get(b) ?? []), `${p.tag}${p.id}.${i}`]);
    });
    const at = clock.nowMs();
    if (tags.size > 1 && !sameHash) violations.push(`configs@${at}`);
    for (const [b, who] of taking) if (who.length > 1) { violations.push(`double@${at}:b${b}:${who.join('+')}`); break; }
    if (trace) {
      const line = procs.map((p) => `${[...p.dp.answeringNow() ?? []].sort((x, y) => x - y).join(',')}/${[...p.dp.acceptingNewNow() ?? []].sort((x, y) => x - y).join(',')}`).join(' ');
      if (line !== traced) { trace.push(`@${at} ${line}`); traced = line; }
    }
  };
  // What the data paths answer changes only when a timer fires (every message, heartbeat, renewal
  // and decision runs on the fake clock's timers) or a lease runs out; and at the moments the roll
  // itself acts (starts, stops), after which each run checks the next millisecond. So checking
  // the first whole millisecond at or after each such instant sees every state a check every
  // millisecond sees (`everyMs` does that; the equivalence test compares the two traces).
  const nextChangeMs = (): number => {
    let at = clock.nextDueMs();
    const now = clock.nowMs();
    for (const p of procs) { const end = p.dp.leaseEndsAtMs(); if (end !== null && end > now && end < at) at = end; }
    return at;
  };
  /** Advances up to `ms` (stopping early once `until()` holds), checking as described above. */
  const run = (ms: number, until?: () => boolean): void => {
    const end = clock.nowMs() + ms;
    let first = true;
    while (clock.nowMs() < end && until?.() !== true) {
      const now = clock.nowMs();
      const next = first || o.everyMs === true ? now + 1 : Math.min(end, Math.max(now + 1, Math.ceil(nextChangeMs())));
      first = false;
      clock.advance(next - now);
      check();
    }
  };
  const stop = (id: number, how: 'kill' | 'stop'): void => {
    const p = running.get(id);
    if (p?.runtime) {
      if (how === 'kill') { p.runtime.close(); p.runtime = null; }
      else {
        const rt = p.runtime;
        let done = false;
        void rt.leave().then(() => { done = true; });
        run(2000, () => done);
        rt.close();
        p.runtime = null;
      }
    }
    running.delete(id);
  };

  const firstIds = variant === 'B-add' ? n : n;
  for (let id = 1; id <= firstIds; id++) start(id, 'A');
  run(1500);
  const ids = variant === 'B-add' ? n + 1 : n;
  const rounds = 2 + Math.floor(rnd() * 6);
  for (let r = 0; r < rounds; r++) {
    const id = 1 + Math.floor(rnd() * ids);
    let tag: 'A' | 'B' = rnd() < 0.6 ? 'B' : 'A';
    const how = rnd() < 0.5 ? 'kill' : 'stop';
    const delay = Math.floor(rnd() * 400);
    if (variant === 'B-add' && id === n + 1) tag = 'B'; // listed in B only
    if (variant === 'B-remove' && id === n) tag = 'A'; // listed in A only
    const stayDown = variant === 'B-remove' && id === n && rnd() < 0.5;
    if (variant === 'B-weight' && rnd() < 0.3) { running.get(1)?.runtime?.setWeight(0); steps.push('n1 weight 0'); }
    // The node added or removed is given a weight in the middle of the roll (an operator's
    // mistake: the procedure keeps it at 0 until every file lists it, or until it stops). The
    // broken roll variant does so more often: the hold it leaves out is the one for a node outside
    // the list that serves.
    if ((variant === 'B-add' || variant === 'B-remove') && rnd() < (broken === 'roll' ? 0.5 : 0.15)) {
      const x = variant === 'B-add' ? n + 1 : n;
      const rt = running.get(x)?.runtime;
      if (rt) { rt.setWeight(50); steps.push(`n${x} weight 50`); }
    }
    steps.push(`@${clock.nowMs()} ${how} n${id} → ${stayDown ? 'down' : tag} after ${delay} ms`);
    stop(id, how);
    run(delay);
    if (!stayDown) start(id, tag);
    run(200 + Math.floor(rnd() * 1500));
  }
  run(2000);
  // Liveness. Mismatch variants: once every node runs one config, every bucket is answered again.
  // Node-list variants: the roll is completed by the procedure (planned restarts onto B, node n+1
  // started / node n stopped), then every bucket must be answered.
  if (sameHash) {
    if (variant === 'B-weight') running.get(1)?.runtime?.setWeight(0);
    for (let id = 1; id <= n; id++) {
      const p = running.get(id);
      if (variant === 'B-remove' && id === n) { if (p) { steps.push(`@${clock.nowMs()} done: stop n${id}`); stop(id, 'stop'); run(300); } continue; }
      if (p?.tag === 'B') continue;
      steps.push(`@${clock.nowMs()} done: n${id} → B`);
      stop(id, 'stop');
      start(id, 'B');
      run(300);
    }
    if (variant === 'B-add' && !running.has(n + 1)) start(n + 1, 'B');
    run(2000);
  }
  const allTags = new Set([...running.values()].map((p) => p.tag));
  const expected = sameHash ? config(n, 1, 'B', variant).nodes.length : n;
  if (allTags.size === 1 && running.size === expected) {
    run(1000);
    const answered = new Set<number>();
    for (const p of running.values()) for (const b of p.dp.answeringNow() ?? []) answered.add(b);
    const buckets = config(n, 1, [...allTags][0] === 'A' ? 'A' : 'B', variant).buckets;
    if (answered.size !== buckets) violations.push(`liveness:${answered.size}/${buckets}`);
  } else if (sameHash) violations.push(`roll-not-completed:${[...running.values()].map((p) => p.tag + p.id).join(',')}`);
  for (const p of procs) p.runtime?.close();
  return { seed, violations: violations.slice(0, 5), steps: [variant, ...steps], ...(trace ? { trace } : {}) };
}

function parseSeeds(arg: string): [number, number] {
  const m = /^(\d+)\.\.(\d+)$/.exec(arg);
  if (!m) throw new Error(`--seeds FROM..TO, got ${arg}`);
  return [Number(m[1]), Number(m[2])];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const [from, to] = parseSeeds(args[args.indexOf('--seeds') + 1] ?? '1..100');
  const broken = args.includes('--broken-roll') ? 'roll' : args.includes('--broken');
  const wi = args.indexOf('--workers');
  const workers = wi >= 0 ? Math.max(1, Number(args[wi + 1])) : 1;
  const opts: RollOptions = { ...(args.includes('--wire-codec') ? { wireCodec: true } : {}), ...(args.includes('--every-ms') ? { everyMs: true } : {}) };
  const t0 = Date.now();
  const total = to - from + 1;
  const failures: RollFailure[] = [];
  let done = 0;
  let printedAt = 0;
  const progress = (r: RollChunkResult): void => {
    done += r.count;
    failures.push(...r.failures);
    for (const f of r.failures) if (failures.length <= 10) console.log(f.line);
    if (done - printedAt >= 100 || done === total) {
      printedAt = done;
      const sec = (Date.now() - t0) / 1000;
      console.log(`… ${done}/${total} seeds: ${done - failures.length} passed, ${failures.length} with violations (${sec.toFixed(0)} s, ${(done / sec).toFixed(2)} seeds/s)`);
    }
  };
  // Chunks of 10 seeds on worker threads running the simulator bundled by esbuild (worker-bundle.ts):
  // tsx's loader wraps every function and costs about a third of a run.
  const { Worker } = await import('node:worker_threads');
  const bundle = workerBundle('config-roll-worker');
  let next = from;
  await new Promise<void>((resolve, reject) => {
    let active = Math.min(workers, Math.ceil(total / 10));
    const feed = (w: InstanceType<typeof Worker>): void => {
      if (next > to) { void w.terminate(); if (--active === 0) resolve(); return; }
      const req: RollChunk = { from: next, count: Math.min(10, to - next + 1), broken, opts };
      next += req.count;
      w.postMessage(req);
    };
    const pool = Array.from({ length: active }, () => new Worker(bundle.source, { eval: true }));
    for (const w of pool) {
      w.on('message', (r: RollChunkResult) => { progress(r); feed(w); });
      w.on('error', (err) => { for (const x of pool) void x.terminate(); reject(err); });
      feed(w);
    }
  }).finally(() => bundle.dispose());
  failures.sort((a, b) => a.seed - b.seed);
  if (failures.length > 0) console.log(`seeds with violations: ${failures.slice(0, 50).map((f) => f.seed).join(' ')}${failures.length > 50 ? ' …' : ''}`);
  const sec = (Date.now() - t0) / 1000;
  console.log(`${total - failures.length} passed, ${failures.length} with violations (seeds ${from}..${to}${broken === 'roll' ? ', broken roll variant' : broken ? ', broken variant' : ''}, ${workers} worker${workers > 1 ? 's' : ''}, ${sec.toFixed(1)} s, ${(total / sec).toFixed(2)} seeds/s)`);
  process.exitCode = broken ? (failures.length > 0 ? 0 : 1) : (failures.length > 0 ? 1 : 0);
}

// Not in a worker thread: a worker shares the main thread's argv.
if (isMainThread && process.argv[1]?.endsWith('config-roll.ts')) void main();
