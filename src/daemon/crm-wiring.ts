/**
 * Wires the cluster resource runner (src/crm/crm-runner.ts) into the node daemon: resource
 * reports share the heartbeat sockets (split off by their first byte before the heartbeat
 * decoder sees them), go to every peer on every link, and the runner reads the cluster's view
 * from the cluster runtime's status. Singleton drivers are the local resource manager's
 * (command, systemd, OCF) plus the floating VIP. Nothing here decides anything.
 */
import type { Logger } from 'pino';
import type { VmacConfig } from '../config/types.js';
import type { HeartbeatKey } from '../cluster/heartbeat-auth.js';
import type { DatagramHandler, HeartbeatTransport } from '../cluster/transport.js';
import type { FenceRunner } from '../fencing/fence-runner.js';
import type { Clock } from '../util/clock.js';
import type { AddressPort } from '../vmac/host-setup.js';
import type { PacketPort } from '../arp/packet-port.js';
import type { ResourceDriver } from '../health/resources/driver.js';
import type { Rtnetlink } from '../../native-shims/netlink.js';
import { isCrmMessage } from '../cluster/crm-codec.js';
import { startCrmRunner, type CrmRunner, type CrmTiming } from './crm-runner.js';
import { isPlaced } from '../crm/model.js';
import { driverFor } from '../health/resources/resource-set.js';
import { floatingVip } from '../health/resources/floating-vip.js';
import { HA_DEFAULTS } from '../config/ha-build.js';
import type { ClusterRuntime } from './cluster-runtime.js';

/** How often a running singleton's monitor runs: a dead service is noticed within this, as a health check's interval × fall would. */
export const CRM_MONITOR_INTERVAL_MS = 2000;
/** A monitor that hangs this long is a failure. */
export const CRM_MONITOR_TIMEOUT_MS = 10_000;
/**
 * Startup fencing waits 20 s for a node not seen since this daemon started (Pacemaker's
 * dc-deadtime default): machines of a cluster that boots together come up seconds apart, and
 * fencing a node that is still booting only delays the cluster. Singletons that node may run
 * start meanwhile only if every node is known stopped.
 */
export const CRM_STARTUP_FENCE_DELAY_MS = 20_000;

/** The heartbeat transport with resource reports taken out: the cluster sees the rest. */
export function splitCrmTransport(t: HeartbeatTransport): { cluster: HeartbeatTransport; onReport: (h: DatagramHandler) => void } {
  let report: DatagramHandler | null = null;
  return {
    cluster: {
      send: (link, address, bytes) => t.send(link, address, bytes),
      // Without singletons or groups nothing takes reports: such a datagram is no protocol of this
      // service, and the heartbeat decoder counts it (bad magic) like any other stray datagram.
      onMessage: (h) => t.onMessage((bytes, link, from) => { if (report !== null && isCrmMessage(bytes)) report(bytes, link, from); else h(bytes, link, from); }),
      close: () => t.close(),
    },
    onReport: (h) => { report = h; },
  };
}

export interface CrmWiringDeps {
  readonly cfg: VmacConfig;
  readonly key: HeartbeatKey;
  readonly fingerprint: string;
  readonly transport: HeartbeatTransport;
  readonly onReport: (h: DatagramHandler) => void;
  readonly cluster: Pick<ClusterRuntime, 'status'>;
  readonly fence?: FenceRunner;
  readonly rtnl: AddressPort & Partial<Pick<Rtnetlink, 'listAddresses'>>;
  readonly openPacketPort: (ifname: string) => PacketPort;
  readonly clock: Clock;
  readonly log: Logger;
  readonly incarnation: bigint;
  readonly selfFence: (reason: string) => void;
  /** Replaces every singleton's driver (tests). */
  readonly driverOverride?: (resource: string) => ResourceDriver;
}

/** null: the service has no singleton or group. */
export function startCrmWiring(d: CrmWiringDeps): (CrmRunner & { closeDrivers(): void }) | null {
  const { cfg } = d;
  const model = cfg.crm;
  if (!model || !model.resources.some(isPlaced)) return null;
  const linkCount = Math.max(1, cfg.node.addresses.length);
  const closers: (() => void)[] = [];
  const timing: CrmTiming = {
    intervalMs: cfg.timing.intervalMs, deadMs: cfg.timing.intervalMs * cfg.timing.deadAfter,
    startTimeoutMs: HA_DEFAULTS.startTimeoutMs, stopTimeoutMs: HA_DEFAULTS.stopTimeoutMs,
    monitorIntervalMs: CRM_MONITOR_INTERVAL_MS, monitorTimeoutMs: CRM_MONITOR_TIMEOUT_MS,
    fenceRetryMs: cfg.fencing?.retryBaseMs ?? HA_DEFAULTS.fenceRetryBaseMs,
    startupFenceDelayMs: CRM_STARTUP_FENCE_DELAY_MS,
  };
  const runner = startCrmRunner({
    model, self: { id: cfg.node.id, name: cfg.node.name }, nodes: cfg.nodes.map((n) => ({ id: n.id, name: n.name })),
    key: d.key, fingerprint: d.fingerprint, epoch: Number(d.incarnation), clock: d.clock, log: d.log,
    send(bytes) {
      for (let link = 0; link < linkCount; link++) for (const p of cfg.peers) { const a = p.addresses[link]; if (a !== undefined) d.transport.send(link, a, bytes); }
    },
    clusterStatus: () => d.cluster.status(),
    driverFor(name, spec) {
      if (d.driverOverride) return d.driverOverride(name);
      if (spec.kind !== 'vip') return driverFor(spec, name);
      const vip = floatingVip({ spec, rtnl: d.rtnl, openPacketPort: d.openPacketPort, schedule: (fn, ms) => { const h = d.clock.setTimer(ms, fn); return () => d.clock.clear(h); }, log: d.log.child({ resource: name }), garpCount: cfg.arp.garpCount, garpIntervalMs: cfg.arp.garpIntervalMs });
      closers.push(() => vip.close());
      return vip;
    },
    ...(d.fence ? { fence: d.fence } : {}),
    selfFence: d.selfFence,
    timing,
  });
  d.onReport((bytes) => runner.onDatagram(bytes));
  return { ...runner, closeDrivers: () => { for (const c of closers) c(); } };
}
