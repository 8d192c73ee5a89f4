/**
 * The node daemon: brings up the data path for one service, answers ARP for the VIP, renews the
 * kernel lease, and on stop removes everything it added. All I/O goes through the ports passed
 * in, so the same code runs against the kernel and against fakes.
 */
import type { Logger } from 'pino';
import type { VmacConfig } from '../config/types.js';
import type { PacketPort } from '../arp/packet-port.js';
import { createArpResponder, type ArpResponder } from '../arp/responder.js';
import { createGarpAnnouncer, type GarpAnnouncer } from '../arp/garp-announcer.js';
import type { Schedule } from '../arp/garp-burst.js';
import { nftHashExpr } from '../hash/bucket-of.js';
import { mapDigest, type BucketMap } from '../hash/bucket-map.js';
import type { Clock } from '../util/clock.js';
import type { DataPathPort } from '../vmac/datapath-port.js';
import { tableName, type DataPathPlan } from '../vmac/ruleset.js';
import { prepareHost, restoreHost, type AddressPort, type HostChanges } from '../vmac/host-setup.js';
import type { SysctlPort } from '../vmac/sysctl.js';
import { startLeaseRenewer, type LeaseRenewer } from '../vmac/lease-renewer.js';
import { arpDecider, ownedBuckets, staticMap } from './ownership.js';

export interface DaemonPorts {
  readonly dataPath: (plan: DataPathPlan) => DataPathPort;
  readonly rtnl: AddressPort;
  readonly sysctl: SysctlPort;
  readonly openPacketPort: (ifname: string) => PacketPort;
  readonly clock: Clock;
}

export type StopReason = 'signal' | 'error' | 'request';

export interface DaemonStatus {
  readonly service: string;
  readonly node: { id: number; name: string };
  readonly vip: string;
  readonly vmac: string;
  readonly realMac: string;
  readonly owned: readonly number[];
  readonly mapDigest: string;
  readonly lease: ReturnType<LeaseRenewer['stats']>;
  readonly arp: ReturnType<ArpResponder['stats']>;
}

export interface Daemon {
  status(): DaemonStatus;
  stop(reason: StopReason): Promise<void>;
}

export function dataPathPlan(cfg: VmacConfig): DataPathPlan {
  return { table: tableName(cfg.service), ifname: cfg.interface, vip: cfg.vip, vmac: cfg.vmac, buckets: cfg.buckets, hashExpr: nftHashExpr(cfg.hash, 4, cfg.buckets) };
}

export function scheduleOn(clock: Clock): Schedule {
  return (callback, delayMs) => {
    const h = clock.setTimer(delayMs, callback);
    return () => clock.clear(h);
  };
}

export async function startDaemon(cfg: VmacConfig, ports: DaemonPorts, log: Logger): Promise<Daemon> {
  const plan = dataPathPlan(cfg);
  const dp = ports.dataPath(plan);
  const map: BucketMap = staticMap(cfg);
  const owned = ownedBuckets(map, cfg.node.id);
  const cleanups: (() => Promise<void> | void)[] = [];
  const undo = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) {
      try { await fn(); } catch (err) { log.error({ err, event: 'cleanup-failed' }, 'cleanup step failed'); }
    }
    cleanups.length = 0;
  };
  try {
    const host: HostChanges = await prepareHost(ports, cfg.interface, cfg.vip);
    cleanups.push(() => restoreHost(ports, host, cfg.vip));
    cleanups.push(() => dp.teardown());
    dp.install(owned, cfg.timing.leaseMs);
    const renewer = startLeaseRenewer({ port: dp, clock: ports.clock, leaseMs: cfg.timing.leaseMs, renewMs: cfg.timing.renewMs, log: log.child({ module: 'lease' }) });
    cleanups.push(() => renewer.stop());
    const packets = ports.openPacketPort(cfg.interface);
    cleanups.push(() => packets.close());
    const arpLog = log.child({ module: 'arp', ifname: cfg.interface });
    const identity = { vip: cfg.vip, vmac: cfg.vmac, realMac: host.link.mac };
    const responder = createArpResponder({ port: packets, ...identity, decide: arpDecider(cfg, () => map), log: arpLog });
    cleanups.push(() => responder.close());
    const announcer: GarpAnnouncer = createGarpAnnouncer({ port: packets, ...identity, count: cfg.arp.garpCount, intervalMs: cfg.arp.garpIntervalMs, refreshMs: cfg.arp.refreshMs, schedule: scheduleOn(ports.clock), log: arpLog });
    cleanups.push(() => announcer.close());
    announcer.announce('start');
    const status = (): DaemonStatus => ({
      service: cfg.service,
      node: { id: cfg.node.id, name: cfg.node.name },
      vip: cfg.vip,
      vmac: cfg.vmac,
      realMac: host.link.mac,
      owned,
      mapDigest: mapDigest(map),
      lease: renewer.stats(),
      arp: responder.stats(),
    });
    log.info({ event: 'ready', vip: cfg.vip, vmac: cfg.vmac, realMac: host.link.mac, owned: owned.length, buckets: cfg.buckets, mapDigest: mapDigest(map), leaseMs: cfg.timing.leaseMs, renewMs: cfg.timing.renewMs }, 'data path up');
    return {
      status,
      async stop(reason) {
        log.info({ event: 'stopping', reason }, 'stopping: removing the data path');
        await undo();
        log.info({ event: 'stopped', reason }, 'stopped: nothing of ours is left in the kernel');
      },
    };
  } catch (err) {
    await undo();
    throw err;
  }
}
