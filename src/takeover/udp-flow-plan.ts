/** The per-flow UDP hand-over settings of a config, for the data path and the reducer (null: off). */
import type { VmacConfig } from '../config/types.js';
import { MAX_HANDOVER_FLOWS, REFUSE_MARGIN_MS, type UdpPerFlowPlan } from '../vmac/udp-flow-rules.js';

export function udpPerFlowPlan(cfg: Pick<VmacConfig, 'handover'>): UdpPerFlowPlan | null {
  const h = cfg.handover;
  if (!h || !h.udpPerFlow || h.udpFlowTimeoutMs > 0) return null;
  const portIdleMs = Object.entries(h.udpPortIdleMs).map(([port, idleMs]) => ({ port: Number(port), idleMs })).sort((a, b) => a.port - b.port);
  return { idleMs: h.udpIdleMs, portIdleMs, marginMs: REFUSE_MARGIN_MS, maxFlows: MAX_HANDOVER_FLOWS };
}
