/**
 * What a service file may leave out, as profile factories (memberlist's DefaultLANConfig style):
 * one function returns a complete set of defaults, and every number says why it is what it is.
 * The schema's `default` annotations repeat the profile-independent values; a unit test keeps
 * the two equal.
 */
import type { Affinity, ArpConfig, HeartbeatConfig, Mode, TimingConfig, TimingProfile } from './types.js';

export interface ProfileDefaults {
  readonly vmac: 'auto';
  readonly mode: Mode;
  readonly buckets: number;
  readonly affinity: Affinity;
  readonly prefixLength: number;
  readonly prefixLength6: number;
  readonly weight: number;
  readonly timing: TimingConfig;
  readonly arp: ArpConfig;
  readonly heartbeat: Omit<HeartbeatConfig, 'keyFile'>;
  readonly metricsListen: string;
}

/** The profile for ordinary LANs: tolerant of event-loop stalls, still fails over in ~200 ms. */
export function defaultProfile(): ProfileDefaults {
  return {
    // Derived from the VIP (02:bf:<vip>) like Windows NLB: no MAC to allocate, unique per VIP.
    vmac: 'auto',
    // The only mode built: the VMAC is never a frame source, so switches flood it to every node.
    mode: 'unicast',
    // 256 buckets keep every node within 1/256 of its fair share (32 nodes: 8 buckets each)
    // while a whole bucket map still fits in one small nft transaction.
    buckets: 256,
    // One client address always lands on one node, so multi-connection sessions stay together.
    affinity: 'address',
    // A /24 is the usual IPv4 site or NAT pool: network affinity keeps such a site on one node.
    prefixLength: 24,
    // A /64 is one IPv6 subnet (SLAAC, privacy addresses rotate inside it).
    prefixLength6: 64,
    // Equal weights: every node takes the same share unless told otherwise.
    weight: 100,
    timing: {
      profile: 'default',
      // A lease survives four missed renewals, so event-loop stalls of up to ~80 ms do not drop
      // traffic; kernel set timeouts expire on 4 ms ticks (0–8 ms early), noise at this scale.
      // A killed daemon's node keeps answering this long: the clients' gap is deadMs - leaseMs.
      leaseMs: 100,
      // Five renewals per lease; each one also needs fresh proof that a quorum hears us.
      renewMs: 20,
      // 25 heartbeats a second: small next to any link, fast enough that dead time stays ~240 ms.
      intervalMs: 40,
      // Three missed heartbeats: worth a log line, not yet an action.
      suspectAfter: 3,
      // Six missed heartbeats (240 ms): failover under the 300 ms p99 target even when the link
      // goes (the lease cannot bridge that), and deadMs - leaseMs - marginMs = 130 ms >= 3
      // intervals: a proof of being heard is up to two intervals old in normal operation.
      deadAfter: 6,
      // Clock-rate drift and scheduling between a proof and the kernel acting on the lease.
      marginMs: 10,
    },
    arp: {
      // Three copies: one frame lost on a busy or just-linked port does not leave stale caches.
      garpCount: 3,
      // 100 ms spacing (10/s) stays below common switch ARP-inspection limits (e.g. 15/s per
      // port) and outlasts a short queue drop, yet the whole burst is over in 200 ms.
      garpIntervalMs: 100,
      // Every 10 s: well inside client neighbour-cache lifetimes (Linux/Windows go stale after
      // 15–45 s), so a poisoned or flushed cache heals quickly, at a cost of a few frames.
      refreshMs: 10_000,
    },
    heartbeat: {
      // An unassigned port in the registered range (corosync uses 5405; keep clear of it).
      port: 5789,
    },
    // On, but loopback only: the endpoint is unauthenticated plain HTTP, so it must not be
    // reachable from the network unless the operator says so; on loopback a local Prometheus
    // agent or an SSH tunnel reaches it. 9789: next to the heartbeat port, unassigned.
    metricsListen: '127.0.0.1:9789',
  };
}

/** For labs and latency-critical segments: failover in ~20 ms, at the price of a tight event loop. */
export function fastProfile(): ProfileDefaults {
  return {
    ...defaultProfile(),
    timing: {
      profile: 'fast',
      // The shortest useful lease: set timeouts tick every 4 ms and fire up to 8 ms early, so a
      // 16 ms lease lives 8–16 ms, still two 4 ms renewals.
      leaseMs: 16,
      // One renewal per 4 ms kernel timer tick.
      renewMs: 4,
      // A heartbeat per kernel tick: a few hundred small datagrams a second per peer.
      intervalMs: 4,
      suspectAfter: 3,
      // 8 intervals = 32 ms of silence: deadMs - leaseMs - marginMs = 14 ms >= 3 intervals.
      deadAfter: 8,
      // Tight: this profile assumes an idle event loop (real-time priority where permitted).
      marginMs: 2,
    },
  };
}

/**
 * The fast profile on the XDP backend (issue 18): its lease is a nanosecond deadline that never
 * ends early (semantic-check's renewal rule needs 2 × renewMs + 1 ≤ leaseMs there, not + 8), so
 * the lease shrinks to the schema's floor and the dead time with it, under the same safety rule.
 */
export function fastXdpProfile(): ProfileDefaults {
  const fast = fastProfile();
  return {
    ...fast,
    timing: {
      ...fast.timing,
      // The schema's shortest lease; 2 × 4 + 1 = 9 ≤ 12: one renewal may be missed and the next
      // still be 3 ms late (nft's fast profile needs 16).
      leaseMs: 12,
      // 7 intervals = 28 ms of silence: deadMs - leaseMs - marginMs = 14 ms >= 3 intervals.
      deadAfter: 7,
    },
  };
}

/** The defaults for the profile named by `timing.profile` (on the data-path backend named by `datapath`). */
export function profileDefaults(profile: TimingProfile, backend: 'nft' | 'xdp' = 'nft'): ProfileDefaults {
  if (profile === 'fast') return backend === 'xdp' ? fastXdpProfile() : fastProfile();
  return defaultProfile();
}

/**
 * The data path's kernel backend when the file names none: nftables, the one proven in every
 * lab and failover test; `xdp` (issue 18) is the faster one (docs/xdp.md) and becomes the default
 * once it has been through the same labs.
 */
export const DEFAULT_DATAPATH: 'nft' | 'xdp' = 'nft';
