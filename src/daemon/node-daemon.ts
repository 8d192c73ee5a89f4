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
import { createArpCounters, createArpResponder, type ArpResponder } from '../arp/responder.js';
import { createNdResponder, type NdResponder } from '../arp/nd-responder.js';
import { joinSolicitedNode, type JoinGroup6 } from '../vmac/solicited-node.js';
import { createGarpAnnouncer } from '../arp/garp-announcer.js';
import type { Schedule } from '../arp/garp-burst.js';
import { nftHashExpr } from '../hash/bucket-of.js';
import { nftIcmpErrorHashExpr } from '../hash/icmp-error-hash.js';
import type { BucketMap } from '../hash/bucket-map.js';
import type { Clock } from '../util/clock.js';
import type { DataPathPort } from '../vmac/datapath-port.js';
import { tableName, type DataPathPlan } from '../vmac/ruleset.js';
import { udpPerFlowPlan } from '../takeover/udp-flow-plan.js';
import { prepareHost, restoreHost, type AddressPort, type HostChanges, type SysctlShare } from '../vmac/host-setup.js';
import type { SysctlPort } from '../vmac/sysctl.js';
import type { HeartbeatTransport } from '../cluster/transport.js';
import { arpDecider } from './ownership.js';
import { createSteerHook } from '../modes/mode-wiring.js';
import { joinModeGroup, type MembershipPorts } from '../modes/group-membership.js';
import { startCluster, type ClusterStatus } from './cluster-runtime.js';
import { serveControl } from './control-socket.js';
import type { IcmpEchoPort } from '../../native-shims/raw-socket.js';
import { createResourceSet, type ResourceSetDeps } from '../health/resources/resource-set.js';
import type { ResourceStatus } from '../health/resources/resource-runner.js';
import type { ResourceDriver } from '../health/resources/driver.js';
import type { FenceAgent } from '../fencing/agent.js';
import { fenceAgentFor } from '../fencing/build-fencing.js';
import { createFenceRunner } from '../fencing/fence-runner.js';
import { deviceWatchdog, startWatchdog, type WatchdogPort } from '../fencing/watchdog.js';
import { startTieBreaker } from '../cluster/quorum-policy-runner.js';
import { VmacError } from '../util/errors.js';
import type { ConntrackPort } from '../takeover/conntrack-port.js';
import type { Adoption } from '../takeover/ownership-reducer.js';
import { restartStatePath, takeRestartState, writeRestartState } from './restart-state.js';
import { hostRecordPath, mergeHostChanges, readHostRecord, removeHostRecord, writeHostRecord } from './host-record.js';
import { fingerprintOf, keyIdentity } from '../config/fingerprint.js';
import { leaseSlackMs } from '../config/semantic-check.js';
import { adoptableAcrossRoll } from '../cluster/roll-compat.js';
import { applyPersistedWeight, operatorReload, operatorWeight } from './operator-weight.js';
import { configChangedSinceLastStart, lastConfigPath } from './last-config.js';
import { loadConfig } from '../config/load.js';
import { leasingGate, startDataPathWiring } from './reachability-wiring.js';
import type { DataPathStatus } from '../health/reachability/reachability-runner.js';
import { splitCrmTransport, startCrmWiring } from './crm-wiring.js';
import type { CrmStatus } from '../node/crm-view.js';
import type { CrmCounters } from './crm-runner.js';
import { parseResourceOp } from '../crm/operator.js';

export interface DaemonPorts {
  readonly dataPath: (plan: DataPathPlan) => DataPathPort;
  readonly rtnl: AddressPort;
  readonly sysctl: SysctlPort;
  /** Interface sysctls shared with the host's other vmac services (absent: this service's own before/after). */
  readonly sysctlShare?: SysctlShare;
  readonly openPacketPort: (ifname: string) => PacketPort;
  /** Dual stack: joins the VIP6's solicited-node group on the cluster interface (absent: not joined, e.g. unit tests). */
  readonly joinGroup6?: JoinGroup6;
  /** multicast / igmp modes: how the node receives the group MAC (absent: not joined, e.g. unit tests). */
  readonly membership?: MembershipPorts;
  /** arp-steer: false sends no directed ARP on gains (VMAC_STEER_ANNOUNCE=off, only to show the gap it prevents). */
  readonly steerAnnounce?: boolean;
  /** arp-steer: the interface's IPv4 neighbours as `ip -j -4 neigh` JSON (absent: ARP requests seen only). */
  readonly readNeighbours?: () => Promise<string>;
  readonly openTransport: (localAddresses: readonly string[], port: number) => Promise<HeartbeatTransport>;
  readonly loadKey: (path: string) => Uint8Array;
  readonly clock: Clock;
  /** Changes on every restart; ms since the epoch at start in production. */
  readonly incarnation: bigint;
  /** false: ICMP errors are not steered to the connection's owner (VMAC_ICMP_STEERING=off; to show the black hole it prevents). */
  readonly icmpSteering?: boolean;
  /** false: planned moves without the hand-over (VMAC_HANDOVER=off; to show the resets it prevents). */
  readonly graceful?: boolean;
  /** Hitless restart window (default DEFAULT_RESTART_WINDOW_MS). */
  readonly restartWindowMs?: number;
  /** Which buckets still have connections (drains end when theirs are gone); absent: on the timeout alone. */
  readonly conntrack?: (cfg: VmacConfig) => ConntrackPort;
  /** Serves `vmac status`; absent in unit tests. */
  readonly serveControl?: typeof serveControl;
  /** ICMP echo for the two-node tie-breaker (quorum.policy two-node). */
  readonly openIcmpEcho?: () => IcmpEchoPort;
  /** ICMP echo bound to the cluster interface, for the data-path check (dataPathCheck). */
  readonly openDataPathEcho?: (ifname: string) => IcmpEchoPort;
  /** The watchdog device (fencing.watchdog.enabled); default /dev/watchdog through fs. */
  readonly watchdog?: WatchdogPort;
  /** Replaces the configured fence agent (tests). */
  readonly fenceAgent?: FenceAgent;
  /** Replace the configured resource drivers and health checks (tests). */
  readonly resourceDriver?: ResourceSetDeps['driver'];
  readonly resourceCheck?: ResourceSetDeps['check'];
  /** The kernel backend and what its program did with frames (XDP: per outcome), for `vmac status`. */
  readonly backendStatus?: () => BackendStatus;
  /** Cluster resources: a stop failed where no peer can fence this node (default: stop with reason error). */
  readonly selfFence?: (reason: string) => void;
  /** Replace the singletons' drivers (tests). */
  readonly crmDriver?: (resource: string) => ResourceDriver;
}

export interface BackendStatus { readonly kind: 'nft' | 'xdp'; readonly frames?: Readonly<Record<string, number>> }

export type StopReason = 'signal' | 'error' | 'request' | 'restart';

/**
 * Default restart window: how long the kernel serves on by itself while the next process starts
 * (Node start-up, native modules, config). Start-up took ~5 s on the loaded 2-core lab VM, so
 * 15 s; peers hold the node that long plus a dead time before taking over if no successor comes.
 */
export const DEFAULT_RESTART_WINDOW_MS = 15_000;

export interface DaemonStatus {
  readonly service: string;
  /** null: an IPv6-only service (vip6 only). */
  readonly vip: string | null;
  /** Dual stack: the VIP6 (absent: IPv4 only). */
  readonly vip6?: string;
  readonly vmac: string;
  readonly realMac: string;
  /** How the VIP's frames reach the nodes (docs/switch-modes.md); absent in older snapshots: unicast. */
  readonly mode?: VmacConfig['mode'];
  readonly cluster: ClusterStatus;
  readonly arp: ReturnType<ArpResponder['stats']>;
  /** Dual stack: the ND responder's per-outcome counters. */
  readonly nd?: ReturnType<NdResponder['stats']>;
  readonly resources?: ResourceStatus[];
  readonly watchdog?: { armed: boolean; kicks: number };
  readonly dataPath?: DataPathStatus;
  readonly backend?: BackendStatus;
  /** Cluster resources (singletons, groups): docs/crm.md. */
  readonly crm?: CrmStatus & { counters: CrmCounters };
}

export interface Daemon {
  status(): DaemonStatus;
  /** The bucket map in this node's current view (index = bucket, value = owner id). */
  currentMap(): BucketMap;
  /**
   * `signal`/`request`: hand the buckets over first (planned stop); `error`: just clean up;
   * `restart`: hitless — leave the kernel serving on an announced window for the successor.
   */
  stop(reason: StopReason): Promise<void>;
}

/** `icmpSteering` false: ICMP errors follow the clients' rule (VMAC_ICMP_STEERING=off, only to show what steering prevents). */
export function dataPathPlan(cfg: VmacConfig, icmpSteering = true): DataPathPlan {
  const udpFlowTimeoutMs = cfg.handover?.udpFlowTimeoutMs ?? 0;
  const perFlow = udpPerFlowPlan(cfg);
  const vip6 = cfg.vip6 ?? null;
  return {
    table: tableName(cfg.service), ifname: cfg.interface, vip: cfg.vip, vmac: cfg.vmac, buckets: cfg.buckets, hashExpr: nftHashExpr(cfg.hash, 4, cfg.buckets),
    ...(vip6 !== null ? { v6: { vip6, hashExpr6: nftHashExpr(cfg.hash, 6, cfg.buckets) } } : {}),
    // address+port: fragmented datagrams by address alone (ruleset.ts, `fragments`).
    ...(cfg.hash.affinity === 'address+port' ? { fragments: { hashExpr4: nftHashExpr({ ...cfg.hash, affinity: 'address' }, 4, cfg.buckets), ...(vip6 !== null ? { hashExpr6: nftHashExpr({ ...cfg.hash, affinity: 'address' }, 6, cfg.buckets) } : {}) } } : {}),
    ...(icmpSteering ? { icmpErrors: { hashExpr4: nftIcmpErrorHashExpr(cfg.hash, 4, cfg.buckets), ...(vip6 !== null ? { hashExpr6: nftIcmpErrorHashExpr(cfg.hash, 6, cfg.buckets) } : {}) } } : {}),
    ...(udpFlowTimeoutMs > 0 ? { udpFlowTimeoutMs } : {}),
    ...(perFlow ? { udpPerFlow: perFlow } : {}),
    ...(cfg.mode !== 'unicast' ? { mode: cfg.mode } : {}),
  };
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
  // arp-steer watches the data path for gained buckets (src/modes/mode-wiring.ts).
  const steer = cfg.mode === 'arp-steer' ? createSteerHook() : null;
  const dp = steer ? steer.wrap(ports.dataPath(dataPathPlan(cfg, ports.icmpSteering !== false))) : ports.dataPath(dataPathPlan(cfg, ports.icmpSteering !== false));
  const cleanups: (() => Promise<void> | void)[] = [];
  const kernelCleanups = new Set<() => Promise<void> | void>(); // skipped on a hitless restart
  let keepKernel = false;
  const undo = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) {
      if (keepKernel && kernelCleanups.has(fn)) continue;
      try { await fn(); } catch (err) { log.error({ err, event: 'cleanup-failed' }, 'cleanup step failed'); }
    }
    cleanups.length = 0;
  };
  try {
    // Refuse a bad key before touching anything.
    const key = cfg.heartbeat.keyFile === null ? randomBytes(32) : ports.loadKey(cfg.heartbeat.keyFile);
    const hostPorts = { rtnl: ports.rtnl, sysctl: ports.sysctl, ...(ports.sysctlShare ? { share: ports.sysctlShare } : {}) };
    // A hitless restart's predecessor left its table serving: adopt it instead of rebuilding.
    const statePath = restartStatePath(cfg.control.socket, cfg.service);
    const inherited = ports.serveControl ? takeRestartState(statePath, cfg.service) : null;
    const leftMs = inherited === null ? 0 : inherited.leaseUntilEpochMs - ports.clock.wallMs();
    const fingerprint = fingerprintOf(cfg, keyIdentity(cfg.heartbeat.keyFile === null ? null : key));
    // Another shared config than the predecessor's (another seed, buckets, VIP…): its buckets mean
    // other clients under ours, so adopting them could answer a client twice. Rebuild instead.
    const sameConfig = inherited?.fingerprint === undefined || inherited.fingerprint === fingerprint.digest ||
      (inherited.fingerprintSlots !== undefined && adoptableAcrossRoll(fingerprint, { ...inherited.fingerprintSlots, digest: inherited.fingerprint }));
    if (inherited !== null && !sameConfig) log.error({ event: 'restart-config-changed', ours: fingerprint.digest, predecessor: inherited.fingerprint }, 'hitless restart with another shared config: not adopting the running data path (it stops answering now)');
    const adopt: Adoption | null = inherited !== null && sameConfig && leftMs > cfg.timing.marginMs && dp.inspect().installed
      ? { phases: new Map(inherited.phases), grants: new Map(inherited.grants), untilMs: ports.clock.nowMs() + leftMs, ...(inherited.udpKept ? { udpKept: new Set(inherited.udpKept) } : {}) } : null;
    // What a predecessor that died without stopping had changed (host-record.ts), read before ours.
    const recordPath = hostRecordPath(cfg.control.socket, cfg.service);
    const record = ports.serveControl ? readHostRecord(recordPath, cfg.service) : null;
    const vip6 = cfg.vip6 ?? null;
    const prepared: HostChanges = mergeHostChanges(await prepareHost(hostPorts, cfg.interface, cfg.vip, vip6), record, cfg.interface, cfg.vip, vip6);
    // The VIP and sysctls the predecessor changed are ours to restore on a later stop.
    const host: HostChanges = adopt && inherited ? { ...prepared, vipAdded: inherited.vipAdded, ...(vip6 !== null ? { vip6Added: inherited.vip6Added === true } : {}), sysctlsBefore: new Map(inherited.sysctlsBefore) } : prepared;
    if (ports.serveControl) writeHostRecord(recordPath, { version: 1, service: cfg.service, ifname: cfg.interface, vip: cfg.vip, vipAdded: host.vipAdded, ...(vip6 !== null ? { vip6, vip6Added: host.vip6Added === true } : {}), sysctlsBefore: [...host.sysctlsBefore] });
    const restore = async (): Promise<void> => {
      await restoreHost(hostPorts, host, cfg.vip, vip6);
      if (ports.serveControl) removeHostRecord(recordPath);
    };
    const teardown = (): void => dp.teardown();
    kernelCleanups.add(restore).add(teardown);
    cleanups.push(restore, teardown);
    if (adopt) {
      log.info({ event: 'adopted', buckets: adopt.phases.size, leaseLeftMs: Math.round(leftMs), predecessor: inherited?.incarnation }, 'hitless restart: adopted the running data path');
    } else {
      // The filter starts with no lease: nothing is answered until a quorum hears us.
      dp.install([], null);
    }
    const packets = ports.openPacketPort(cfg.interface);
    cleanups.push(() => packets.close());
    const arpLog = log.child({ module: 'arp', ifname: cfg.interface });
    const identity = { vip: cfg.vip, vmac: steer ? host.link.mac : cfg.vmac, realMac: host.link.mac, ...(steer ? { steer: true } : {}) };
    // multicast / igmp: receive the group MAC (group-membership.ts); left again on stop.
    const group = ports.membership && cfg.vip !== null ? await joinModeGroup(ports.membership, cfg.mode, { ifname: cfg.interface, vip: cfg.vip, vmac: cfg.vmac }) : null;
    if (group) { cleanups.push(() => group.leave()); log.info({ event: 'group-joined', group: group.what }, `receiving the group MAC: ${group.what}`); }
    if (vip6 !== null && ports.joinGroup6) {
      const membership = await joinSolicitedNode(ports.joinGroup6, cfg.interface, vip6);
      cleanups.push(() => membership.leave());
    }
    const announcer = steer
      ? steer.start({ cfg, port: packets, realMac: host.link.mac, schedule: scheduleOn(ports.clock), log: arpLog, enabled: ports.steerAnnounce !== false, ...(ports.readNeighbours ? { readNeighbours: ports.readNeighbours } : {}) })
      : createGarpAnnouncer({ port: packets, ...identity, vip6, count: cfg.arp.garpCount, intervalMs: cfg.arp.garpIntervalMs, refreshMs: cfg.arp.refreshMs, schedule: scheduleOn(ports.clock), log: arpLog });
    cleanups.push(() => announcer.close());
    const rawTransport = cfg.peers.length === 0 ? NO_TRANSPORT : await ports.openTransport(cfg.node.addresses, cfg.heartbeat.port);
    // Resource reports share the heartbeat sockets (crm-wiring.ts).
    const { cluster: transport, onReport } = splitCrmTransport(rawTransport);
    // Fencing, the two-node tie-breaker and the watchdog (issue 5), before the cluster uses them.
    const fence = cfg.fencing ? createFenceRunner({ cfg: cfg.fencing, agent: ports.fenceAgent ?? fenceAgentFor(cfg.fencing.agent), nodes: cfg.nodes.map((n) => ({ id: n.id, name: n.name })), clock: ports.clock, log: log.child({ module: 'fencing' }) }) : undefined;
    if (fence) cleanups.push(() => fence.close());
    let tieBreaker: ReturnType<typeof startTieBreaker> | undefined;
    if (cfg.quorum?.policy === 'two-node') {
      if (!ports.openIcmpEcho) throw new VmacError('VMAC_PING_FAILED', 'quorum.policy two-node needs ICMP echo for its tie-breaker, and this daemon has none');
      const tb = startTieBreaker(cfg.quorum.tieBreaker, ports.openIcmpEcho(), ports.clock, log.child({ module: 'tie-breaker' }));
      tieBreaker = tb;
      cleanups.push(() => tb.close());
    }
    const watchdog = cfg.fencing?.watchdog.enabled ? startWatchdog(cfg.fencing.watchdog, ports.watchdog ?? deviceWatchdog(), ports.clock, log.child({ module: 'watchdog' })) : undefined;
    if (watchdog) cleanups.push(() => watchdog.close());
    const resources = cfg.resources ?? [];
    const cluster = startCluster({
      cfg, key, transport, dp, announce: (reason) => announcer.announce(reason), clock: ports.clock, log: log.child({ module: 'cluster' }), incarnation: ports.incarnation, fingerprint,
      ...(fence ? { fence } : {}),
      ...(tieBreaker ? { tieBreaker: () => tieBreaker.state().state } : {}),
      startDrained: resources.length > 0,
      ...(ports.conntrack ? { conntrack: ports.conntrack(cfg) } : {}), adopt, graceful: ports.graceful !== false,
      configChanged: ports.serveControl !== undefined && configChangedSinceLastStart(lastConfigPath(cfg.control.socket, cfg.service), fingerprint.digest),
      alignHeartbeats: true, leaseEarlyMs: leaseSlackMs(cfg.datapath ?? 'nft'),
    });
    const startW = applyPersistedWeight(cfg, cluster);
    if (startW.source === 'persisted') log.info({ event: 'weight-persisted', weight: startW.weight }, `weight ${startW.weight} from the persisted run-time weight (vmac weight --persist), not the file's ${cfg.node.weight}`);
    cleanups.push(() => cluster.close());
    // Singletons and groups placed cluster-wide (docs/crm.md); null without any.
    let stopDaemon: ((reason: StopReason) => Promise<void>) | null = null;
    const crm = startCrmWiring({ cfg, key, fingerprint: fingerprint.digest, transport: rawTransport, onReport, cluster, ...(fence ? { fence } : {}), rtnl: ports.rtnl, openPacketPort: (ifname) => ports.openPacketPort(ifname), clock: ports.clock, log: log.child({ module: 'crm' }), incarnation: ports.incarnation, selfFence: ports.selfFence ?? (() => void stopDaemon?.('error')), ...(ports.crmDriver ? { driverOverride: ports.crmDriver } : {}) });
    if (crm) cleanups.push(() => { crm.close(); crm.closeDrivers(); });
    // Leasing needs both the local service and the data path (reachability-wiring.ts).
    const dpc = cfg.dataPathCheck ?? null;
    const gate = leasingGate(cluster, { service: resources.length === 0, datapath: true }, dpc ? { datapath: dpc.drainTimeoutMs } : {});
    if (dpc && !ports.openDataPathEcho) throw new VmacError('VMAC_PING_FAILED', 'dataPathCheck needs ICMP echo, and this daemon has none');
    const dataPath = dpc && ports.openDataPathEcho ? startDataPathWiring({
      cfg: dpc, ifname: cfg.interface, openEcho: ports.openDataPathEcho, clock: ports.clock, log: log.child({ module: 'datapath' }), gate,
      healthyPeers: () => cluster.healthyPeers(), setDegraded: (x) => cluster.setDegraded(x), peerPollMs: cfg.timing.intervalMs,
    }) : null;
    if (dataPath) cleanups.push(() => dataPath.close());
    // The local service: the node leases only once it is started and healthy.
    const resourceSet = resources.length === 0 ? null : createResourceSet({
      resources, clock: ports.clock, log: log.child({ module: 'resources' }),
      setLeasing: (allowed) => gate.set('service', allowed),
      releaseBuckets: () => cluster.leave(),
      healthyPeers: () => cluster.healthyPeers(),
      peerPollMs: cfg.timing.intervalMs,
      ...(ports.resourceDriver ? { driver: ports.resourceDriver } : {}),
      ...(ports.resourceCheck ? { check: ports.resourceCheck } : {}),
    });
    if (resourceSet) {
      resourceSet.start();
      cleanups.push(() => resourceSet.close());
    }
    // An IPv6-only service has no ARP to answer: no ARP responder (its counters stay zero).
    const responder = cfg.vip === null ? null : createArpResponder({ port: packets, ...identity, vip: cfg.vip, decide: arpDecider(cfg, () => cluster.currentMap(), () => cluster.serving(), () => cluster.arpStandInFor()), log: arpLog });
    if (responder) cleanups.push(() => responder.close());
    // Neighbour Discovery answers with the same policy: the owner of the soliciting address's bucket.
    const nd = vip6 === null ? null : createNdResponder({ port: packets, vip6, vmac: identity.vmac, realMac: host.link.mac, ...(steer ? { steer: true } : {}), decide: arpDecider(cfg, () => cluster.currentMap(), () => cluster.serving(), () => cluster.arpStandInFor()), log: log.child({ module: 'nd', ifname: cfg.interface }) });
    if (nd) cleanups.push(() => nd.close());
    const status = (): DaemonStatus => ({
      service: cfg.service, vip: cfg.vip, ...(vip6 !== null ? { vip6 } : {}), vmac: cfg.vmac, realMac: host.link.mac, mode: cfg.mode, cluster: cluster.status(), arp: responder?.stats() ?? createArpCounters(),
      ...(nd ? { nd: nd.stats() } : {}),
      ...(resourceSet ? { resources: resourceSet.status() } : {}),
      ...(watchdog ? { watchdog: { armed: watchdog.armed, kicks: watchdog.kicks() } } : {}),
      ...(dataPath ? { dataPath: dataPath.status() } : {}),
      ...(ports.backendStatus ? { backend: ports.backendStatus() } : {}),
      ...(crm ? { crm: crm.status() } : {}),
    });
    if (ports.serveControl) {
      const control = await ports.serveControl(cfg.control.socket, (req) => {
        if (req.cmd === 'drain') cluster.drain(req.timeoutMs);
        else if (req.cmd === 'resume') cluster.resume();
        const op = req.cmd === 'resource' ? parseResourceOp(req) : null;
        const said = req.cmd === 'weight' ? operatorWeight(cfg, cluster, req.weight, req.persist === true, Date.now())
          : req.cmd === 'reload' ? operatorReload(cfg, cluster, loadConfig).message
          : op === null ? null : typeof op === 'string' ? `resource refused: ${op}` : crm === null ? 'resource refused: this service has no singleton or group' : crm.operate(op).message;
        if (req.cmd !== 'status') log[said?.startsWith('reload refused') ? 'error' : 'info']({ event: 'operator-request', request: req, ...(said ? { result: said } : {}) }, `operator: ${said ?? req.cmd}`);
        return said === null ? status() : { ...status(), result: said };
      });
      cleanups.push(() => control.close());
    }
    log.info({ event: 'ready', vip: cfg.vip, ...(vip6 !== null ? { vip6 } : {}), vmac: cfg.vmac, realMac: host.link.mac, nodes: cfg.nodes.length, buckets: cfg.buckets, intervalMs: cfg.timing.intervalMs, deadMs: cfg.timing.intervalMs * cfg.timing.deadAfter, leaseMs: cfg.timing.leaseMs, renewMs: cfg.timing.renewMs }, 'data path up, joining the cluster');
    let stopping: Promise<void> | null = null;
    const daemon: Daemon = {
      status,
      currentMap: () => cluster.currentMap(),
      stop(reason) {
        stopping ??= (async () => {
          log.info({ event: 'stopping', reason }, reason === 'error' ? 'stopping after an error' : reason === 'restart' ? 'restarting: the kernel serves on' : 'stopping: handing our buckets over');
          if (reason === 'restart') {
            try {
              const a = await cluster.prepareRestart(ports.restartWindowMs ?? DEFAULT_RESTART_WINDOW_MS);
              writeRestartState(statePath, {
                version: 1, service: cfg.service, incarnation: ports.incarnation.toString(),
                leaseUntilEpochMs: ports.clock.wallMs() + (a.untilMs - ports.clock.nowMs()),
                phases: [...a.phases], grants: [...a.grants], vipAdded: host.vipAdded, ...(host.vip6Added !== undefined ? { vip6Added: host.vip6Added } : {}), sysctlsBefore: [...host.sysctlsBefore],
                ...(a.udpKept ? { udpKept: [...a.udpKept] } : {}),
                fingerprint: fingerprint.digest, fingerprintSlots: { layout: fingerprint.layout, slots: fingerprint.slots },
              });
              keepKernel = true;
            } catch (err) {
              log.warn({ err, event: 'restart-refused' }, 'restart window not acknowledged: handing the buckets over instead');
              await cluster.leave();
            }
          } else if (reason !== 'error') {
            // Singletons first (stopped here, reported, so peers may start them), then the buckets and clones.
            if (crm) await crm.leave(); // (no await without: the hand-over below starts in this same turn)
            // Buckets first, the service last (resource-set.ts); without resources, just the buckets.
            await (resourceSet ? resourceSet.stop() : cluster.leave());
          }
          await undo();
          log.info({ event: 'stopped', reason }, 'stopped: nothing of ours is left in the kernel');
        })();
        return stopping;
      },
    };
    stopDaemon = (reason) => daemon.stop(reason);
    return daemon;
  } catch (err) {
    log.error({ err, event: 'start-failed' }, 'start-up failed: removing what it had added');
    await undo();
    log.info({ event: 'stopped', reason: 'error' }, 'stopped: nothing of ours is left in the kernel');
    throw err;
  }
}
