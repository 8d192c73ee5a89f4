/**
 * The node daemon: brings up the data path for one service, runs membership and takeover
 * (cluster-runtime.ts), answers ARP for the VIP, and on stop hands its buckets over and removes
 * everything it added. All I/O goes through the ports passed in, so the same code runs against
 * the kernel and against fakes.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { VmacConfig } from '../config/types.js';
import type { PacketPort } from '../arp/packet-port.js';
import { createArpResponder, type ArpResponder } from '../arp/responder.js';
import { createGarpAnnouncer } from '../arp/garp-announcer.js';
import type { Schedule } from '../arp/garp-burst.js';
import { nftHashExpr } from '../hash/bucket-of.js';
import type { Clock } from '../util/clock.js';
import type { DataPathPort } from '../vmac/datapath-port.js';
import { tableName, type DataPathPlan } from '../vmac/ruleset.js';
import { prepareHost, restoreHost, type AddressPort, type HostChanges } from '../vmac/host-setup.js';
import type { SysctlPort } from '../vmac/sysctl.js';
import type { HeartbeatTransport } from '../ha/transport.js';
import { arpDecider } from './ownership.js';
import { startCluster, type ClusterStatus } from './cluster-runtime.js';
import { serveControl } from './control-socket.js';
import type { ConntrackPort } from '../takeover/conntrack-port.js';

export interface DaemonPorts {
  readonly dataPath: (plan: DataPathPlan) => DataPathPort;
  readonly rtnl: AddressPort;
  readonly sysctl: SysctlPort;
  readonly openPacketPort: (ifname: string) => PacketPort;
  readonly openTransport: (localAddresses: readonly string[], port: number) => Promise<HeartbeatTransport>;
  readonly loadKey: (path: string) => Uint8Array;
  readonly clock: Clock;
  /** Changes on every restart; ms since the epoch at start in production. */
  readonly incarnation: bigint;
  /** Which buckets still have connections (drains end when theirs are gone); absent: on the timeout alone. */
  readonly conntrack?: (cfg: VmacConfig) => ConntrackPort;
  /** Serves `vmac status`; absent in unit tests. */
  readonly serveControl?: typeof serveControl;
}

export type StopReason = 'signal' | 'error' | 'request';

export interface DaemonStatus {
  readonly service: string;
  readonly vip: string;
  readonly vmac: string;
  readonly realMac: string;
  readonly cluster: ClusterStatus;
  readonly arp: ReturnType<ArpResponder['stats']>;
}

export interface Daemon {
  status(): DaemonStatus;
  /** `signal`/`request`: hand the buckets over first (planned stop); `error`: just clean up. */
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

/** A node without peers has no heartbeat link: a transport that goes nowhere. */
const NO_TRANSPORT: HeartbeatTransport = { send: () => undefined, onMessage: () => undefined, close: () => undefined };

export async function startDaemon(cfg: VmacConfig, ports: DaemonPorts, log: Logger): Promise<Daemon> {
  const dp = ports.dataPath(dataPathPlan(cfg));
  const cleanups: (() => Promise<void> | void)[] = [];
  const undo = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) {
      try { await fn(); } catch (err) { log.error({ err, event: 'cleanup-failed' }, 'cleanup step failed'); }
    }
    cleanups.length = 0;
  };
  try {
    // Refuse a bad key before touching anything.
    const key = cfg.heartbeat.keyFile === null ? randomBytes(32) : ports.loadKey(cfg.heartbeat.keyFile);
    const host: HostChanges = await prepareHost(ports, cfg.interface, cfg.vip);
    cleanups.push(() => restoreHost(ports, host, cfg.vip));
    cleanups.push(() => dp.teardown());
    // The filter starts with no lease: nothing is answered until a quorum hears us.
    dp.install([], null);
    const packets = ports.openPacketPort(cfg.interface);
    cleanups.push(() => packets.close());
    const arpLog = log.child({ module: 'arp', ifname: cfg.interface });
    const identity = { vip: cfg.vip, vmac: cfg.vmac, realMac: host.link.mac };
    const announcer = createGarpAnnouncer({ port: packets, ...identity, count: cfg.arp.garpCount, intervalMs: cfg.arp.garpIntervalMs, refreshMs: cfg.arp.refreshMs, schedule: scheduleOn(ports.clock), log: arpLog });
    cleanups.push(() => announcer.close());
    const transport = cfg.peers.length === 0 ? NO_TRANSPORT : await ports.openTransport(cfg.node.addresses, cfg.heartbeat.port);
    const cluster = startCluster({ cfg, key, transport, dp, announce: (reason) => announcer.announce(reason), clock: ports.clock, log: log.child({ module: 'cluster' }), incarnation: ports.incarnation, ...(ports.conntrack ? { conntrack: ports.conntrack(cfg) } : {}) });
    cleanups.push(() => cluster.close());
    const responder = createArpResponder({ port: packets, ...identity, decide: arpDecider(cfg, () => cluster.currentMap(), () => cluster.serving()), log: arpLog });
    cleanups.push(() => responder.close());
    const status = (): DaemonStatus => ({ service: cfg.service, vip: cfg.vip, vmac: cfg.vmac, realMac: host.link.mac, cluster: cluster.status(), arp: responder.stats() });
    if (ports.serveControl) {
      const control = await ports.serveControl(cfg.control.socket, (req) => {
        if (req.cmd === 'drain') cluster.drain(req.timeoutMs);
        else if (req.cmd === 'resume') cluster.resume();
        else if (req.cmd === 'weight') cluster.setWeight(req.weight);
        if (req.cmd !== 'status') log.info({ event: 'operator-request', request: req }, `operator: ${req.cmd}`);
        return status();
      });
      cleanups.push(() => control.close());
    }
    log.info({ event: 'ready', vip: cfg.vip, vmac: cfg.vmac, realMac: host.link.mac, nodes: cfg.nodes.length, buckets: cfg.buckets, intervalMs: cfg.timing.intervalMs, deadMs: cfg.timing.intervalMs * cfg.timing.deadAfter, leaseMs: cfg.timing.leaseMs, renewMs: cfg.timing.renewMs }, 'data path up, joining the cluster');
    let stopping: Promise<void> | null = null;
    return {
      status,
      stop(reason) {
        stopping ??= (async () => {
          log.info({ event: 'stopping', reason }, reason === 'error' ? 'stopping after an error' : 'stopping: handing our buckets over');
          if (reason !== 'error') await cluster.leave();
          await undo();
          log.info({ event: 'stopped', reason }, 'stopped: nothing of ours is left in the kernel');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await undo();
    throw err;
  }
}
