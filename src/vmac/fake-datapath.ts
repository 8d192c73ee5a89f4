import type { BucketPhase, DataPathPort, DataPathState } from './datapath-port.js';
import { VmacError } from '../util/errors.js';

export interface FakeDataPath extends DataPathPort {
  failNext(message: string): void;
  /**
   * The buckets let in right now (installed, any phase but none, live lease) — the live set, not
   * a copy, so the simulator can check every simulated millisecond cheaply; null when answering
   * nothing.
   */
  answeringNow(): ReadonlySet<number> | null;
  /**
   * The buckets whose NEW flows this node accepts right now (owned or incoming, live lease): the
   * set the simulator's safety invariant checks (established flows may overlap in a hand-over).
   */
  acceptingNewNow(): ReadonlySet<number> | null;
  /** The buckets draining right now (live lease; the live set, not a copy); null when answering nothing. */
  drainingNow(): ReadonlySet<number> | null;
  /** Phase of one bucket as written (lease not considered). */
  phaseOf(bucket: number): BucketPhase;
  /**
   * With a UDP flow timeout: the buckets whose UDP this node accepts right now (owned, or kept in
   * a hand-over phase; live lease): at most one node per bucket. Null when answering nothing.
   */
  acceptingUdpNow(): ReadonlySet<number> | null;
  /** A UDP packet of `bucket` arrives: a keeper draining it records it (as `udpactive` does). */
  udpPacket(bucket: number): void;
  /** How many buckets this node keeps the UDP of in a hand-over phase (0: acceptingUdpNow ⊆ acceptingNewNow). */
  keptInHandover(): number;
  /**
   * When the lease written last runs out, on the injected clock (null: none, or not installed):
   * the one instant, besides calls on this port, at which what this data path answers changes.
   */
  leaseEndsAtMs(): number | null;
}

export interface FakeDataPathOptions {
  /** As the plan's: 0 or absent = UDP moves with new flows (no keeper chains). */
  readonly udpFlowTimeoutMs?: number;
}

/** In-memory data path with a lease that expires on an injected clock; for unit tests and the simulator. */
export function fakeDataPath(nowMs: () => number, opts: FakeDataPathOptions = {}): FakeDataPath {
  const udpTimeoutMs = opts.udpFlowTimeoutMs ?? 0;
  let installed = false;
  let acceptsUdp = new Set<number>(); // owned, or kept (udp chains)
  let keptMoving = new Set<number>(); // kept in incoming/draining
  const udpSeenMs = new Map<number, number>(); // udpactive: bucket → last packet
  let owned = new Set<number>(); // every bucket not `none`
  let acceptsNew = new Set<number>(); // owned or incoming
  let draining = new Set<number>();
  let phases = new Map<number, BucketPhase>(); // buckets not `none`
  let leaseUntilMs: number | null = null;
  let fault: string | null = null;
  const guard = (what: string): void => {
    if (fault !== null) {
      const message = fault;
      fault = null;
      throw new VmacError('VMAC_NFT_FAILED', `nft ${what} failed: ${message}`, { what });
    }
  };
  const needInstalled = (what: string): void => {
    guard(what);
    if (!installed) throw new VmacError('VMAC_NFT_FAILED', `nft ${what} failed: No such file or directory`, { what });
  };
  const set = (b: number, p: BucketPhase, udp = false): void => {
    keptMoving.delete(b);
    if (p === 'none') { phases.delete(b); owned.delete(b); acceptsNew.delete(b); acceptsUdp.delete(b); draining.delete(b); return; }
    phases.set(b, p);
    owned.add(b);
    if (p === 'owned' || p === 'incoming') acceptsNew.add(b);
    else acceptsNew.delete(b);
    if (p === 'owned' || (udp && udpTimeoutMs > 0)) acceptsUdp.add(b);
    else acceptsUdp.delete(b);
    if (p !== 'owned' && udp && udpTimeoutMs > 0) keptMoving.add(b);
    if (p === 'draining') draining.add(b);
    else draining.delete(b);
  };
  const live = (): boolean => installed && leaseUntilMs !== null && leaseUntilMs - nowMs() > 0;
  const list = (p: BucketPhase): number[] => [...phases].filter(([, x]) => x === p).map(([b]) => b).sort((a, b) => a - b);
  return {
    install(buckets, leaseMs) {
      guard('install');
      installed = true;
      owned = new Set();
      acceptsNew = new Set();
      acceptsUdp = new Set();
      keptMoving = new Set();
      udpSeenMs.clear();
      draining = new Set();
      phases = new Map();
      for (const b of buckets) set(b, 'owned');
      leaseUntilMs = leaseMs === null ? null : nowMs() + leaseMs;
    },
    move(add, remove) {
      needInstalled('move');
      for (const b of remove) if (!owned.has(b)) throw new VmacError('VMAC_NFT_FAILED', `nft move failed: bucket ${b} not owned`, { bucket: b });
      for (const b of remove) set(b, 'none');
      for (const b of add) set(b, 'owned');
    },
    setPhases(changes) {
      needInstalled('phases');
      for (const c of changes) {
        if ((phases.get(c.bucket) ?? 'none') !== c.from) throw new VmacError('VMAC_NFT_FAILED', `nft phases failed: bucket ${c.bucket} is not ${c.from}`, { bucket: c.bucket });
      }
      for (const c of changes) set(c.bucket, c.to, c.udp === true);
    },
    renew(leaseMs) {
      needInstalled('renew');
      leaseUntilMs = nowMs() + leaseMs;
    },
    release() {
      needInstalled('release');
      leaseUntilMs = null;
    },
    teardown() {
      guard('teardown');
      installed = false;
      owned = new Set();
      acceptsNew = new Set();
      acceptsUdp = new Set();
      keptMoving = new Set();
      udpSeenMs.clear();
      draining = new Set();
      phases = new Map();
      leaseUntilMs = null;
    },
    keptInHandover() {
      return keptMoving.size;
    },
    udpActive() {
      const now = nowMs();
      const out = new Set<number>();
      for (const [b, at] of udpSeenMs) if (now - at < udpTimeoutMs) out.add(b);
      return out;
    },
    acceptingUdpNow() {
      return live() ? acceptsUdp : null;
    },
    udpPacket(bucket) {
      if (live() && udpTimeoutMs > 0 && phases.get(bucket) === 'draining' && acceptsUdp.has(bucket)) udpSeenMs.set(bucket, nowMs());
    },
    inspect(): DataPathState {
      if (!installed) return { installed: false, owned: [], incoming: [], draining: [], leaseRemainingMs: null };
      const remaining = leaseUntilMs === null ? null : leaseUntilMs - nowMs();
      return { installed, owned: [...owned].sort((a, b) => a - b), incoming: list('incoming'), draining: list('draining'), leaseRemainingMs: remaining !== null && remaining > 0 ? remaining : null };
    },
    answeringNow() {
      return live() ? owned : null;
    },
    acceptingNewNow() {
      return live() ? acceptsNew : null;
    },
    drainingNow() {
      return live() ? draining : null;
    },
    phaseOf(bucket) {
      return phases.get(bucket) ?? 'none';
    },
    leaseEndsAtMs() {
      return installed ? leaseUntilMs : null;
    },
    failNext(message) {
      fault = message;
    },
  };
}
