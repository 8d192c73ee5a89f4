/**
 * A whole cluster in one process: the real cluster runtime (membership + takeover reducers) per
 * node, on a fake network, fake data paths and one fake clock. Faults: crash, freeze (SIGSTOP),
 * restart, one-way and two-way cuts, loss, delay, duplication. The kernel side of each node is a
 * fake data path whose lease expires on the shared clock, exactly as nftables' does.
 * Planned operations: drain, resume, weight changes, graceful leave, a node joining late. A
 * fake conntrack gives each draining bucket a connection that ends after a seeded time (some
 * never end: those drains finish on the drain timeout).
 */
import type { ProtocolMutation } from '../../src/takeover/mutations.js';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import type { VmacConfig } from '../../src/config/types.js';
import { fakeClock, type Clock, type FakeClock, type TimerHandle } from '../../src/util/clock.js';
import { fakeDataPath, type FakeDataPath } from '../../src/vmac/fake-datapath.js';
import type { DataPathPort } from '../../src/vmac/datapath-port.js';
import { createFakeNetwork, type FakeNetwork } from '../../src/cluster/fake-transport.js';
import type { HeartbeatTransport } from '../../src/cluster/transport.js';
import type { MacScheme } from '../../src/cluster/heartbeat-auth.js';
import { startCluster, type ClusterRuntime } from '../../src/daemon/cluster-runtime.js';
import { fakeConntrack } from '../../src/takeover/conntrack-port.js';
import type { Adoption } from '../../src/takeover/ownership-reducer.js';
import { byReferenceCodec } from './sim-codec.js';

/**
 * The simulated nodes' heartbeat MAC: a fixed 32-byte trailer instead of HMAC-SHA256. Nothing in
 * a schedule forges messages (authentication has its own tests and fuzzing), and SHA-256 was the
 * largest single cost of a simulated run.
 */
const SIM_MAC = new Uint8Array(32).fill(7);
export const SIM_KEY: MacScheme = { compute: () => SIM_MAC };

export interface SimTiming { intervalMs: number; deadAfter: number; suspectAfter: number; leaseMs: number; renewMs: number; marginMs: number }

/** Parsed configs, by (n, id, timing, buckets): parsing YAML and validating it per node per schedule was a tenth of a run. */
const configs = new Map<string, VmacConfig>();

/**
 * The config of node `id` of `n`. `unchecked`: `timing` is laid over a config parsed with the
 * default timing, bypassing the loader's checks (for deliberately broken variants).
 */
export function simConfig(n: number, id: number, timing: SimTiming, buckets = 64, unchecked = false): VmacConfig {
  const key = `${n}/${id}/${buckets}/${unchecked ? 'default' : `${timing.intervalMs}/${timing.deadAfter}/${timing.suspectAfter}/${timing.leaseMs}/${timing.renewMs}/${timing.marginMs}`}`;
  let cfg = configs.get(key);
  if (!cfg) configs.set(key, (cfg = parseSimConfig(n, id, unchecked ? null : timing, buckets)));
  return unchecked ? { ...cfg, timing: { ...cfg.timing, ...timing } } : cfg;
}

function parseSimConfig(n: number, id: number, timing: SimTiming | null, buckets: number): VmacConfig {
  const nodes = Array.from({ length: n }, (_, i) => i + 1);
  const peerLines = nodes.filter((x) => x !== id).map((x) => `  - { id: ${x}, name: n${x}, address: 10.9.0.${x}, extraAddresses: [10.10.0.${x}] }`);
  const yaml = [
    'service: sim', 'interface: eth0', 'vip: 10.9.9.9', `buckets: ${buckets}`, 'hash: { seed: 0x5eed }',
    `node: { id: ${id}, name: n${id}, address: 10.9.0.${id}, extraAddresses: [10.10.0.${id}] }`,
    peerLines.length ? 'peers:' : 'peers: []', ...peerLines,
    'heartbeat: { keyFile: /sim.key }',
    // Per-flow UDP off: its flow messages would shift the fake network's seeded delays, and the
    // verdicts of existing seeds stay as they were (the per-flow runs set it on: udpPerFlow).
    'handover: { udpPerFlow: false }',
    timing === null ? '' : `timing: { intervalMs: ${timing.intervalMs}, deadAfter: ${timing.deadAfter}, suspectAfter: ${timing.suspectAfter}, leaseMs: ${timing.leaseMs}, renewMs: ${timing.renewMs}, marginMs: ${timing.marginMs} }`,
    '',
  ].join('\n');
  return parseConfig(yaml, `sim-n${id}.yaml`);
}

/** A node's view of the shared clock that a freeze (SIGSTOP) suspends, as the kernel would. */
function freezableClock(base: FakeClock): Clock & { frozen: boolean; thaw(): void } {
  const overdue = new Set<() => void>();
  const wrap = (fn: () => void) => () => { if (c.frozen) overdue.add(fn); else fn(); };
  const c = {
    frozen: false,
    nowMs: () => base.nowMs(),
    wallMs: () => base.wallMs(),
    setTimer: (ms: number, fn: () => void): TimerHandle => base.setTimer(ms, wrap(fn)),
    setRepeating: (ms: number, fn: () => void): TimerHandle => base.setRepeating(ms, wrap(fn)),
    clear: (h: TimerHandle) => base.clear(h),
    thaw() {
      c.frozen = false;
      const fns = [...overdue];
      overdue.clear();
      for (const fn of fns) fn(); // overdue timers fire once, late, as Node's do after SIGCONT
    },
  };
  return c;
}

export interface SimNode {
  readonly id: number;
  readonly cfg: VmacConfig;
  readonly dp: FakeDataPath;
  clock: ReturnType<typeof freezableClock>;
  runtime: ClusterRuntime | null;
  incarnation: bigint;
}

export interface SimCluster {
  readonly clock: FakeClock;
  readonly net: FakeNetwork;
  readonly nodes: readonly SimNode[];
  readonly timing: SimTiming;
  crash(id: number): void;
  freeze(id: number): void;
  thaw(id: number): void;
  restart(id: number): void;
  /** Cuts every link between the two sides in the given directions. */
  cut(a: readonly number[], b: readonly number[], dir: 'both' | 'a-to-b' | 'b-to-a'): void;
  healAll(): void;
  /** Who answers each bucket right now (owned in the kernel with a live lease). */
  answering(): Map<number, number[]>;
  /** The first bucket answering() lists with two nodes, or null; cheap when there is none. */
  firstDoubleAnswered(): { bucket: number; nodes: number[] } | null;
  /** A bucket one node drains (keeps established connections) while another owns it outright (would reset them). */
  firstResetRisk(): { bucket: number; draining: number; owner: number } | null;
  /** Buckets whose new flows no node accepts right now (into `out`, reused). */
  refusedNow(out: Uint8Array): void;
  /** With a UDP flow timeout: the first bucket whose UDP two nodes accept at once, or null. */
  firstDoubleUdp(): { bucket: number; nodes: number[] } | null;
  leave(id: number): Promise<void>;
  /** Stops the process of every node whose graceful leave finished (as the daemon exits). */
  reapLeft(): void;
  drain(id: number, timeoutMs?: number): void;
  resume(id: number): void;
  setWeight(id: number, weight: number): void;
  /**
   * Starts a node that was not started (`lateJoin`) or stopped by a leave. A node still leaving
   * starts once its leave finished (reapLeft), as a service manager's restart waits for the stop.
   */
  start(id: number): void;
  running(id: number): boolean;
  /**
   * The next instant at which anything in the cluster can change by itself: a timer (every
   * heartbeat, delivery, renewal and conntrack poll is one) or a kernel lease running out.
   * Between now and then every node's state, and what every data path answers, stays as it is.
   */
  nextChangeMs(): number;
  /** Hitless restart, step 2: the old process is gone; a new one adopts its buckets and lease. */
  adoptRestart(id: number, adopt: Adoption): void;
}

const addr = (id: number, link: number): string => `10.${9 + link}.0.${id}`;

export interface SimOptions {
  /** Use `timing` as is, bypassing the config loader's checks (deliberately broken variants). */
  readonly unchecked?: boolean;
  /** Nodes not started with the others (a configured node that joins later: `start`). */
  readonly lateJoin?: readonly number[];
  /** The drain timeout of every node (default: two dead times). */
  readonly drainTimeoutMs?: number;
  /** Seed of the fake connection lifetimes. */
  readonly seed?: number;
  /** The UDP flow timeout of every node (0/absent: off). */
  readonly udpFlowTimeoutMs?: number;
  /** Heartbeats serialised with the real wire codec (default: handed over by reference, sim-codec.ts). */
  readonly wireCodec?: boolean;
  /** Every node runs this deliberate protocol fault (src/takeover/mutations.ts). */
  readonly mutation?: ProtocolMutation;
  /** Wraps each process's data-path port at its start (arp-steer's gain watch: steer-sim.ts). */
  readonly wrapDataPath?: (node: SimNode, dp: DataPathPort) => DataPathPort;
}

export function createSimCluster(n: number, timing: SimTiming, buckets = 64, opts: SimOptions = {}): SimCluster {
  const clock = fakeClock(1_000);
  const net = createFakeNetwork(clock);
  const log = pino({ level: 'silent' });
  const codec = opts.wireCodec === true ? undefined : byReferenceCodec();
  let incarnations = 1n;
  const nodes: SimNode[] = [];

  const boot = (node: SimNode, adopt: Adoption | null = null): void => {
    const nodeClock = node.clock;
    const raw = net.attach([addr(node.id, 0), addr(node.id, 1)]);
    // A frozen process reads nothing: datagrams wait in the socket buffer until it thaws.
    const buffered: (() => void)[] = [];
    const transport: HeartbeatTransport = {
      send: (l, a, b) => { if (!nodeClock.frozen) raw.send(l, a, b); },
      onMessage: (h) => raw.onMessage((bytes, link, from) => {
        if (nodeClock.frozen) buffered.push(() => h(bytes, link, from));
        else h(bytes, link, from);
      }),
      close: () => raw.close(),
    };
    const thaw = nodeClock.thaw.bind(nodeClock);
    nodeClock.thaw = () => { thaw(); for (const f of buffered.splice(0)) f(); };
    if (adopt === null) node.dp.install([], null);
    // A draining bucket keeps a connection for a seeded time, 0..drainTimeout (a quarter never end).
    const drainStart = new Map<number, number>();
    const lifeMs = (b: number): number => {
      const x = Math.imul(b + 1, 0x9e3779b1) ^ Math.imul(node.id, 0x85ebca6b) ^ (opts.seed ?? 0);
      const r = ((x >>> 0) % 1000) / 1000;
      return r < 0.25 ? Infinity : r * drainTimeoutMs;
    };
    const conntrack = fakeConntrack(() => {
      const now = clock.nowMs();
      const busy = new Set<number>();
      for (const b of node.dp.inspect().draining) {
        let at = drainStart.get(b);
        if (at === undefined) drainStart.set(b, (at = now));
        if (now - at < lifeMs(b)) busy.add(b);
      }
      for (const b of drainStart.keys()) if (node.dp.phaseOf(b) !== 'draining') drainStart.delete(b);
      return busy;
    });
    // UDP (flow timeout on): a bucket its keeper drains has UDP traffic for a seeded time (some
    // never stop: those drains end on the drain timeout), then the kernel set keeps it a flow timeout.
    const udpMs = opts.udpFlowTimeoutMs ?? 0;
    const udpDrainStart = new Map<number, number>();
    const udpActive = (): ReadonlySet<number> => {
      const now = clock.nowMs();
      const active = new Set<number>();
      const kept = node.dp.acceptingUdpNow();
      for (const b of node.dp.inspect().draining) {
        if (!kept?.has(b)) continue;
        let at = udpDrainStart.get(b);
        if (at === undefined) udpDrainStart.set(b, (at = now));
        if (now - at < lifeMs(b + 1000) + udpMs) active.add(b);
      }
      for (const b of udpDrainStart.keys()) if (node.dp.phaseOf(b) !== 'draining') udpDrainStart.delete(b);
      return active;
    };
    const plain = udpMs > 0 ? { ...node.dp, udpActive } : node.dp;
    const dp = opts.wrapDataPath ? opts.wrapDataPath(node, plain) : plain;
    node.runtime = startCluster({ cfg: node.cfg, key: SIM_KEY, transport, dp, announce: () => undefined, clock: nodeClock, log, incarnation: node.incarnation, conntrack, drainTimeoutMs, adopt, udpFlowTimeoutMs: udpMs, ...(codec ? { codec } : {}), ...(opts.mutation ? { mutation: opts.mutation } : {}) });
  };
  const drainTimeoutMs = opts.drainTimeoutMs ?? timing.intervalMs * timing.deadAfter * 2;

  for (let id = 1; id <= n; id++) {
    const node: SimNode = { id, cfg: simConfig(n, id, timing, buckets, opts.unchecked === true), dp: fakeDataPath(() => clock.nowMs(), { udpFlowTimeoutMs: opts.udpFlowTimeoutMs ?? 0 }), clock: freezableClock(clock), runtime: null, incarnation: incarnations++ };
    nodes.push(node);
  }
  const late = new Set(opts.lateJoin ?? []);
  const leaving = new Set<SimNode>();
  // `start` of a node whose graceful leave is still running: as `systemctl restart` does, the new
  // process starts once the old one exited (its leave finished), never on top of it.
  const startAfterLeave = new Set<SimNode>();
  for (const node of nodes) if (!late.has(node.id)) boot(node);

  const owner = new Int32Array(buckets);
  // Only once something is wrong: the full scan, bucket for bucket (new flows: owned or incoming).
  const reportDouble = (): { bucket: number; nodes: number[] } | null => {
    const acc = new Map<number, number[]>();
    for (const node of nodes) for (const b of node.dp.acceptingNewNow() ?? []) acc.set(b, [...(acc.get(b) ?? []), node.id]);
    for (const [bucket, ids] of acc) if (ids.length > 1) return { bucket, nodes: ids };
    return null;
  };

  // Only once something is wrong: the scan in bucket order, for a stable report.
  const reportResetRisk = (): { bucket: number; draining: number; owner: number } | null => {
    for (const node of nodes) {
      const draining = node.dp.answeringNow() === null ? [] : node.dp.inspect().draining;
      for (const b of draining) {
        for (const other of nodes) {
          if (other !== node && other.dp.answeringNow() !== null && other.dp.phaseOf(b) === 'owned') return { bucket: b, draining: node.id, owner: other.id };
        }
      }
    }
    return null;
  };

  const find = (id: number): SimNode => {
    const node = nodes.find((x) => x.id === id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  };

  const cluster: SimCluster = {
    clock, net, nodes, timing,
    crash(id) {
      const node = find(id);
      leaving.delete(node);
      startAfterLeave.delete(node);
      node.runtime?.close();
      node.runtime = null;
    },
    freeze: (id) => void (find(id).clock.frozen = true),
    thaw: (id) => find(id).clock.thaw(),
    restart(id) {
      const node = find(id);
      leaving.delete(node);
      startAfterLeave.delete(node);
      node.runtime?.close();
      node.clock = freezableClock(clock);
      node.incarnation = incarnations++ + 1000n;
      boot(node);
    },
    cut(a, b, dir) {
      for (const x of a) for (const y of b) for (const l of [0, 1]) {
        if (dir !== 'b-to-a') net.cut(addr(x, l), addr(y, l));
        if (dir !== 'a-to-b') net.cut(addr(y, l), addr(x, l));
      }
    },
    healAll: () => net.healAll(),
    answering() {
      const out = new Map<number, number[]>();
      for (const node of nodes) {
        const st = node.dp.inspect();
        if (st.leaseRemainingMs === null) continue;
        for (const b of st.owned) out.set(b, [...(out.get(b) ?? []), node.id]);
      }
      return out;
    },
    firstDoubleAnswered() {
      // Allocation-free: called every simulated millisecond. owner[b] = node answering b, 0 = none.
      owner.fill(0);
      let outside = false; // a bucket beyond the map (never expected): leave it to the full scan
      for (const node of nodes) {
        const answered = node.dp.acceptingNewNow();
        if (answered === null) continue;
        for (const b of answered) {
          const other = owner[b];
          if (other === undefined) outside = true;
          else if (other !== 0) return reportDouble();
          else owner[b] = node.id;
        }
      }
      return outside ? reportDouble() : null;
    },
    firstResetRisk() {
      // Called every checked instant: the live draining sets only; the ordered scan reports.
      for (const node of nodes) {
        const draining = node.dp.drainingNow();
        if (draining === null || draining.size === 0) continue;
        for (const b of draining) {
          for (const other of nodes) {
            if (other !== node && other.dp.phaseOf(b) === 'owned' && other.dp.answeringNow() !== null) return reportResetRisk();
          }
        }
      }
      return null;
    },
    refusedNow(out) {
      out.fill(1);
      for (const node of nodes) {
        const accepting = node.dp.acceptingNewNow();
        if (accepting !== null) for (const b of accepting) out[b] = 0;
      }
    },
    firstDoubleUdp() {
      if ((opts.udpFlowTimeoutMs ?? 0) === 0) return null;
      // Without a bucket kept in a hand-over phase, UDP is accepted only where new flows are
      // (owned ⊆ owned ∪ incoming), which firstDoubleAnswered already checks.
      let moving = 0;
      for (const node of nodes) moving += node.dp.keptInHandover();
      if (moving === 0) return null;
      owner.fill(0);
      for (const node of nodes) {
        for (const b of node.dp.acceptingUdpNow() ?? []) {
          const other = owner[b];
          if (other !== undefined && other !== 0) return { bucket: b, nodes: [other, node.id] };
          owner[b] = node.id;
        }
      }
      return null;
    },
    leave(id) {
      const node = find(id);
      // A stop while a start waits for the previous leave: the start is cancelled (a service
      // manager replaces the pending restart by the stop) and the running leave goes on.
      if (startAfterLeave.delete(node)) return Promise.resolve();
      leaving.add(node);
      return node.runtime?.leave() ?? Promise.resolve();
    },
    reapLeft() {
      if (leaving.size === 0) return;
      for (const node of leaving) {
        const st = node.runtime?.status().self.state;
        if (node.runtime && st === 'leaving' && node.dp.inspect().owned.length === 0 && node.dp.inspect().leaseRemainingMs === null && node.runtime.status().owned.length === 0) {
          node.runtime.close();
          node.runtime = null;
          node.dp.teardown();
          leaving.delete(node);
          if (startAfterLeave.delete(node)) cluster.start(node.id);
        }
      }
    },
    drain: (id, timeoutMs) => find(id).runtime?.drain(timeoutMs),
    resume: (id) => find(id).runtime?.resume(),
    setWeight: (id, w) => find(id).runtime?.setWeight(w),
    start(id) {
      const node = find(id);
      if (leaving.has(node) && node.runtime !== null) { startAfterLeave.add(node); return; }
      leaving.delete(node);
      node.runtime?.close();
      node.runtime = null;
      node.clock = freezableClock(clock);
      node.incarnation = incarnations++ + 1000n;
      boot(node);
    },
    running: (id) => find(id).runtime !== null,
    nextChangeMs() {
      let at = clock.nextDueMs();
      const now = clock.nowMs();
      for (const node of nodes) {
        const end = node.dp.leaseEndsAtMs();
        if (end !== null && end > now && end < at) at = end;
      }
      return at;
    },
    adoptRestart(id, adopt) {
      const node = find(id);
      node.runtime?.close();
      node.clock = freezableClock(clock);
      node.incarnation = incarnations++ + 1000n;
      boot(node, adopt);
    },
  };
  return cluster;
}

/** The first bucket answered by two nodes at once, or null. */
export function doubleAnswered(c: SimCluster): { bucket: number; nodes: number[] } | null {
  return c.firstDoubleAnswered();
}
