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
}

export interface RawHandover { udpFlowTimeoutMs?: number }

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
  return { udpFlowTimeoutMs: raw?.udpFlowTimeoutMs ?? DEFAULT_UDP_FLOW_TIMEOUT_MS };
}

/** The schema checked the type and the upper bound; 1..19 ms is not a usable flow timeout. */
export function handoverProblems(raw: RawHandover | undefined): ConfigProblem[] {
  const ms = raw?.udpFlowTimeoutMs;
  if (ms === undefined || ms === 0 || ms >= MIN_UDP_FLOW_TIMEOUT_MS) return [];
  return [{ path: 'handover.udpFlowTimeoutMs', message: `must be 0 (off) or at least ${MIN_UDP_FLOW_TIMEOUT_MS}, got ${ms}: kernel set timeouts tick every 4 ms and expire up to 8 ms early, so a shorter flow timeout would call live flows idle` }];
}
