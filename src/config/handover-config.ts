/**
 * The `handover` section: settings of the connection-preserving hand-over between live nodes
 * (src/takeover/handover.ts). Built and checked here so the shared config files only gain a line.
 */
import type { ConfigProblem } from './problems.js';

export interface HandoverConfig {
  /**
   * 0: UDP moves with a bucket's new flows. Else: during a hand-over one node (the bucket's
   * keeper, its old owner) answers all of the bucket's UDP and lets the bucket go only once it
   * saw none for this long; a UDP flow is then never split between two nodes.
   */
  readonly udpFlowTimeoutMs: number;
  /**
   * Per-flow UDP hand-over (src/takeover/udp-flow-handover.ts): while a bucket moves, every UDP
   * flow its old owner serves stays there until it is idle for its timeout; only flows new to the
   * cluster go to the new owner. Ignored while udpFlowTimeoutMs > 0 (the per-bucket keeper).
   */
  readonly udpPerFlow: boolean;
  /** Idle timeout of a UDP flow during a hand-over, unless its VIP port has its own. */
  readonly udpIdleMs: number;
  /** Idle timeouts by VIP port (port → ms). */
  readonly udpPortIdleMs: Readonly<Record<string, number>>;
}

export interface RawHandover { udpFlowTimeoutMs?: number; udpPerFlow?: boolean; udpIdleMs?: number; udpPortIdleMs?: Record<string, number> }

/**
 * On: UDP and QUIC flows survive planned moves (drain, resume, join, weight, planned stop) with no
 * datagram answered twice and no flow switching node mid-life. A drain for health (a dead service,
 * a lost data path) keeps no flow: the new owner takes them at once (udp-flow-handover.ts), since
 * the old owner could not answer them.
 */
export const DEFAULT_UDP_PER_FLOW = true;

/**
 * 30 s: QUIC's max_idle_timeout as HTTP/3 servers and browsers commonly set it (both ends close a
 * connection silent for longer, so a later packet from that address and port starts a new one);
 * long enough for UDP sessions with keepalives (WireGuard 25 s, RTP/RTCP every few s). Only flows
 * that are quiet this long move; an old flow that keeps sending holds its bucket's drain up to the
 * drain timeout.
 */
export const DEFAULT_UDP_IDLE_MS = 30_000;

/**
 * Port 53 (DNS): 5 s, the stub resolver's default wait before it sends its query again
 * (resolv.conf `timeout:5`), on the same socket: a retry within 5 s still reaches the node that
 * has the first query; later, the exchange is over and it may go to any node.
 */
export const DEFAULT_UDP_PORT_IDLE_MS: Readonly<Record<string, number>> = { 53: 5_000 };

/**
 * Off by default. With it on, every drain lasts at least the flow timeout, and a bucket whose
 * clients send UDP steadily (DNS, syslog, metrics: request/response traffic that does not care
 * which node answers the next datagram) is never quiet, so its drain runs to the drain timeout
 * (30 s by default) and its flows move then anyway. Off, such traffic moves at once, and a drain
 * ends as soon as the TCP connections are gone. Services with UDP sessions that must stay on one
 * node (QUIC, VPN tunnels, RTP) turn it on, a little above their keepalive interval.
 */
export const DEFAULT_UDP_FLOW_TIMEOUT_MS = 0;

/** Kernel set timeouts tick every 4 ms and fire up to 8 ms early: shorter flow timeouts mean nothing. */
export const MIN_UDP_FLOW_TIMEOUT_MS = 20;

export function buildHandover(raw: RawHandover | undefined): HandoverConfig {
  return {
    udpFlowTimeoutMs: raw?.udpFlowTimeoutMs ?? DEFAULT_UDP_FLOW_TIMEOUT_MS,
    udpPerFlow: raw?.udpPerFlow ?? DEFAULT_UDP_PER_FLOW,
    udpIdleMs: raw?.udpIdleMs ?? DEFAULT_UDP_IDLE_MS,
    udpPortIdleMs: raw?.udpPortIdleMs ?? DEFAULT_UDP_PORT_IDLE_MS,
  };
}

/** The schema checked the type and the upper bound; 1..19 ms is not a usable flow timeout. */
export function handoverProblems(raw: RawHandover | undefined): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const [port, v] of Object.entries(raw?.udpPortIdleMs ?? {})) {
    if (!/^[0-9]+$/.test(port) || Number(port) < 1 || Number(port) > 65535) out.push({ path: `handover.udpPortIdleMs.${port}`, message: `not a port number (1..65535): ${JSON.stringify(port)}` });
    else if (v < MIN_UDP_FLOW_TIMEOUT_MS) out.push({ path: `handover.udpPortIdleMs.${port}`, message: `must be at least ${MIN_UDP_FLOW_TIMEOUT_MS}, got ${v}: kernel set timeouts expire up to 8 ms early` });
  }
  if (raw?.udpIdleMs !== undefined && raw.udpIdleMs < MIN_UDP_FLOW_TIMEOUT_MS) out.push({ path: 'handover.udpIdleMs', message: `must be at least ${MIN_UDP_FLOW_TIMEOUT_MS}, got ${raw.udpIdleMs}` });
  const ms = raw?.udpFlowTimeoutMs;
  if (ms === undefined || ms === 0 || ms >= MIN_UDP_FLOW_TIMEOUT_MS) return out;
  return [...out, { path: 'handover.udpFlowTimeoutMs', message: `must be 0 (off) or at least ${MIN_UDP_FLOW_TIMEOUT_MS}, got ${ms}: kernel set timeouts tick every 4 ms and expire up to 8 ms early, so a shorter flow timeout would call live flows idle` }];
}
