/**
 * The conntrack port: what this node's kernel still tracks to the VIP. The old owner of a
 * draining bucket lets it go once this reports no TCP connection for it and its kept UDP flows
 * ended (or the drain timeout passes); the UDP flows it lists are what the old owner keeps and
 * publishes to the new owner (udp-flow-handover.ts).
 *
 * Adapters: conntrack-netlink.ts (ctnetlink through our native shim, the default) and
 * conntrack-tool.ts (`conntrack -L` text, kept for the side-by-side cost comparison). Both and the
 * fake below pass test/contract/conntrack.contract.ts.
 */
import type { DrainPollParams } from './drain-poll.js';

/** A UDP flow to the VIP as conntrack knows it (original direction: src = client). */
export interface UdpFlowEntry {
  readonly saddr: string;
  readonly sport: number;
  readonly dport: number;
  /**
   * A lower bound of the time since the flow's last packet, from the entry's remaining timeout
   * (whole seconds): never more than the truth, so a flow kept for `idle - idleAtLeastMs` is kept
   * at least as long as its idle timeout requires.
   */
  readonly idleAtLeastMs: number;
}

export interface ConntrackPort {
  /** Buckets (of the service's VIP) with at least one live TCP connection tracked right now. */
  busyBuckets(): ReadonlySet<number> | Promise<ReadonlySet<number>>;
  /** UDP flows to the VIP tracked right now (absent: the adapter cannot list them). */
  udpFlows?(): Promise<readonly UdpFlowEntry[]>;
  close?(): void;
  /** How the drain paces this port's readings (absent: DEFAULT_DRAIN_POLL, drain-poll.ts). */
  readonly pacing?: DrainPollParams;
}

/** A flow the fake tracks: TCP with its state, or UDP with when its last packet was seen. */
export type FakeCtEntry =
  | { readonly proto: 'tcp'; readonly vip: string; readonly saddr: string; readonly sport: number; readonly dport: number; readonly state: string }
  | { readonly proto: 'udp'; readonly vip: string; readonly saddr: string; readonly sport: number; readonly dport: number; readonly lastSeenMs: number };

/** TCP states that still carry a connection (TIME_WAIT and CLOSE are over: their packets are late). */
export const LIVE_TCP_STATES: ReadonlySet<string> = new Set(['SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'SYN_SENT2']);

/**
 * A fake for tests and the simulator. `busy` alone: the buckets given by a function of the fake
 * clock. With `entries`: a table of flows, hashed with `bucketOf` like the real adapters.
 */
export function fakeConntrack(busy: () => ReadonlySet<number>): ConntrackPort;
export function fakeConntrack(o: { vip: string; entries: () => readonly FakeCtEntry[]; bucketOf: (saddr: string, sport: number) => number; nowMs: () => number }): ConntrackPort;
export function fakeConntrack(a: (() => ReadonlySet<number>) | { vip: string; entries: () => readonly FakeCtEntry[]; bucketOf: (saddr: string, sport: number) => number; nowMs: () => number }): ConntrackPort {
  if (typeof a === 'function') return { busyBuckets: a };
  return {
    busyBuckets() {
      const out = new Set<number>();
      for (const e of a.entries()) if (e.proto === 'tcp' && e.vip === a.vip && LIVE_TCP_STATES.has(e.state)) out.add(a.bucketOf(e.saddr, e.sport));
      return out;
    },
    udpFlows() {
      const now = a.nowMs();
      const out: UdpFlowEntry[] = [];
      // Whole seconds, rounded down like the kernel's remaining timeout: a lower bound.
      for (const e of a.entries()) if (e.proto === 'udp' && e.vip === a.vip) out.push({ saddr: e.saddr, sport: e.sport, dport: e.dport, idleAtLeastMs: Math.max(0, Math.floor((now - e.lastSeenMs) / 1000) * 1000) });
      return Promise.resolve(out);
    },
  };
}
