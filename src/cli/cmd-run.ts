import { conntrackTool } from '../takeover/conntrack-tool.js';
import { systemMembership } from '../modes/group-membership.js';
import { ipNeighbours } from '../modes/mode-wiring.js';
import { conntrackNetlink } from '../takeover/conntrack-netlink.js';
import { withVip6Connections } from '../takeover/conntrack-dual.js';
import { UNPACED_DRAIN_POLL } from '../takeover/drain-poll.js';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { startDaemon } from '../daemon/node-daemon.js';
import { launch } from '../daemon/launch.js';
import { nativeNeeds, preflight } from '../daemon/preflight.js';
import { probeNativeModule } from '../../native-shims/probe.js';
import { openNetfilterSocket, openNftables } from '../../native-shims/nftables.js';
import { openRtnetlink } from '../../native-shims/netlink.js';
import { openPcapPort } from '../../native-shims/pcap.js';
import { nftDataPath } from '../vmac/nft-datapath.js';
import { xdpDataPath, type XdpDataPath } from '../vmac/xdp-datapath.js';
import { openXdp } from '../../native-shims/xdp.js';
import { unmarkingPort } from '../vmac/xdp-frame-mark.js';
import { procSysctl } from '../vmac/sysctl.js';
import { udpJoinGroup6 } from '../vmac/solicited-node.js';
import { createFileShareStore, pidAlive } from '../vmac/sysctl-share.js';
import { systemClock } from '../util/clock.js';
import { parseIp } from '../util/ip.js';
import { openUdpTransport } from '../cluster/transport.js';
import { loadKeyFile } from '../cluster/key-file.js';
import { requestControl, serveControl } from '../daemon/control-socket.js';
import { reopeningPort } from '../arp/reopening-port.js';
import { enterRealtime, realtimePriority } from '../util/realtime.js';
import { openRealtime } from '../../native-shims/realtime.js';
import { createLogger } from './logger.js';
import { createEventTap } from '../metrics/event-tap.js';
import type { OperatorSurface } from '../metrics/operator-surface.js';
import { startOperatorExtras, withCounterReadBeforeMove } from './operator-wiring.js';
import { openIcmpEcho } from '../../native-shims/raw-socket.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_RESTART, reportError } from './output.js';

/**
 * Only ARP requests asking for the VIP wake the daemon, and with a VIP6 the NS and NA whose
 * target is the VIP6 (ICMPv6 right after the IPv6 header, as ND always is; NA so that a conflict
 * is seen): the kernel filters the rest.
 */
export function arpCaptureFilter(vip: string | null, vip6: string | null = null, xdpMarked = false): string {
  const hex = vip === null ? '' : Array.from(parseIp(vip).bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  // The XDP backend passes these frames marked so that the kernel ignores them (src/vmac/xdp-frame-mark.ts).
  const arp = `arp and ${xdpMarked ? '(arp[6:2] == 1 or arp[6:2] == 0x8001)' : 'arp[6:2] == 1'} and arp[24:4] == 0x${hex}`;
  if (vip6 === null) return arp;
  const b = parseIp(vip6).bytes;
  const word = (i: number): string => `0x${Array.from(b.subarray(i, i + 4), (x) => x.toString(16).padStart(2, '0')).join('')}`;
  // ip6[40] is the ICMPv6 type, ip6[48..63] the ND target address.
  const target = [0, 4, 8, 12].map((i) => `ip6[${48 + i}:4] == ${word(i)}`).join(' and ');
  const types = xdpMarked ? '(ip6[40] == 135 or ip6[40] == 136 or ip6[40] == 200 or ip6[40] == 201)' : '(ip6[40] == 135 or ip6[40] == 136)';
  const nd = `ip6 and ip6[6] == 58 and ${types} and ${target}`;
  // An IPv6-only service captures no ARP at all.
  return vip === null ? nd : `(${arp}) or (${nd})`;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the node daemon for one service: data path, ARP responder, leases')
    .argument('<config>', 'service config, e.g. /etc/vmac/web.yaml')
    .addHelpText('after', `
The config is validated before anything is applied: a bad file exits 2 and changes nothing.
On SIGTERM or SIGINT the daemon hands its buckets over gracefully, then removes its nftables
table, the VIP and its sysctl changes. On SIGUSR2 it restarts hitlessly: it announces a restart
window (15 s; VMAC_RESTART_WINDOW_MS) to its peers, leaves the kernel serving on that lease, and the next \`vmac run\` of
the service adopts the table instead of rebuilding it. That process exits 75, which the
packaged unit restarts at once (\`systemctl reload vmac@web\` sends the SIGUSR2).
Exit codes: 0 stopped, 1 failed (everything it had added is removed), 2 bad config (nothing
touched), 75 hitless restart (the kernel serves on for the successor).
If the daemon dies without stopping (kill -9, crash, hang), the kernel lease expires after
timing.leaseMs and the node stops answering by itself.

Logs are JSON lines on stdout (human-readable on a terminal unless VMAC_LOG_FORMAT=json);
VMAC_LOG_LEVEL=debug shows every ARP decision.

Metrics (Prometheus) and a live dashboard are served on metrics.listen, by default
http://127.0.0.1:9789/metrics and http://127.0.0.1:9789/ (loopback only; "off" disables).
Under systemd (Type=notify) it sends READY=1 once it serves, and WATCHDOG=1 while its
heartbeat loop runs.`)
    .action(async (file: string) => {
      try {
        const cfg = loadConfig(file);
        const tap = createEventTap();
        const log = createLogger({ service: cfg.service, node: cfg.node.name }, undefined, tap);
        let surface: OperatorSurface | null = null;
        let xdpPort: XdpDataPath | null = null;
        const { daemon: running, extras } = await launch({
          // Every native module the config needs is loaded before the kernel is touched.
          preflight: () => preflight(nativeNeeds(cfg, process.env), probeNativeModule),
          onDegraded: (r) => {
            for (const d of r.degraded) log.warn({ event: 'capability-missing', module: d.module, code: d.code, err: { message: d.message } }, `running without ${d.without}: native module ${d.module} did not load (${d.message})`);
          },
          start: async () => {
            const nft = openNftables();
            // Lease renewals as one prebuilt netlink batch each (no ruleset re-read): src/vmac/lease-batch.ts.
            const netfilter = openNetfilterSocket();
            const rtnl = openRtnetlink();
            // datapath: xdp — the XDP program instead of the netdev table (src/vmac/xdp-datapath.ts).
            const xdp = cfg.datapath === 'xdp';
            const daemon = await startDaemon(cfg, {
              dataPath: (plan) => withCounterReadBeforeMove(xdp ? (xdpPort = xdpDataPath(openXdp(), nft, plan, { hash: cfg.hash })) : nftDataPath(nft, plan, netfilter), (remove) => surface?.beforeMove(remove)),
              // ctnetlink through our shim; VMAC_CONNTRACK=tool: the old `conntrack -L` child (cost
              // comparison only). The shim reads IPv4 entries: a VIP6's connections are listed by the tool.
              conntrack: (c) => {
                // An IPv6-only service: the VIP6's connections through the tool alone.
                if (c.vip === null) return conntrackTool(c.vip6 ?? [], c.hash, c.buckets);
                // VMAC_DRAIN_POLL=unpaced (bench only): readings on every poll tick, as before pacing (drain-poll.ts).
                const v4Port = process.env.VMAC_CONNTRACK === 'tool' ? conntrackTool(c.vip, c.hash, c.buckets) : conntrackNetlink(c.vip, c.hash, c.buckets);
                const v4 = process.env.VMAC_DRAIN_POLL === 'unpaced' ? { ...v4Port, pacing: UNPACED_DRAIN_POLL } : v4Port;
                return c.vip6 ? withVip6Connections(v4, conntrackTool(c.vip6, c.hash, c.buckets)) : v4;
              },
              // VMAC_HANDOVER=off: planned moves break connections (only to show what the hand-over prevents).
              graceful: process.env.VMAC_HANDOVER !== 'off',
              // VMAC_ICMP_STEERING=off: ICMP errors hashed on the router that sent them (only to show the path-MTU black hole steering prevents).
              icmpSteering: process.env.VMAC_ICMP_STEERING !== 'off',
              // VMAC_RESTART_WINDOW_MS: the hitless-restart window (default 15 s).
              ...(process.env.VMAC_RESTART_WINDOW_MS ? { restartWindowMs: Number(process.env.VMAC_RESTART_WINDOW_MS) } : {}),
              rtnl,
              // Cluster resources: a stop failed and no peer can fence us: leave like a crash (the lease runs out, the watchdog resets).
              selfFence: () => process.exit(EXIT_FAILURE),
              sysctl: procSysctl,
              // arp_announce of the interface is shared with the host's other vmac services: restored
              // only when the last one stops (VMAC_RUN_DIR: where that is recorded, default /run/vmac).
              sysctlShare: { store: createFileShareStore(process.env.VMAC_RUN_DIR ?? '/run/vmac'), service: cfg.service, pid: process.pid, isAlive: pidAlive },
              openPacketPort: (ifname) => {
                const port = reopeningPort((onLinkError) => openPcapPort({ ifname, filter: arpCaptureFilter(cfg.vip, cfg.vip6 ?? null, xdp), onLinkError }), systemClock, log.child({ module: 'capture', ifname }));
                return xdp ? unmarkingPort(port) : port;
              },
              joinGroup6: udpJoinGroup6,
              // Modes (issue 17): the group MAC's membership; arp-steer's directed ARP and neighbour table.
              membership: systemMembership,
              // VMAC_STEER_ANNOUNCE=off: arp-steer sends no directed ARP on takeover (only to show the gap it prevents).
              steerAnnounce: process.env.VMAC_STEER_ANNOUNCE !== 'off',
              readNeighbours: ipNeighbours(cfg.interface),
              openTransport: (addresses, port) => openUdpTransport(addresses, port, (err) => log.error({ err, event: 'heartbeat-socket-error' }, err.message)),
              loadKey: loadKeyFile,
              clock: systemClock,
              incarnation: BigInt(Date.now()),
              serveControl,
              openIcmpEcho: () => openIcmpEcho((err) => log.error({ err, event: 'icmp-socket-error' }, err.message)),
              backendStatus: () => (xdpPort ? { kind: 'xdp', frames: xdpPort.outcomes() } : { kind: 'nft' }),
              openDataPathEcho: (ifname) => openIcmpEcho((err) => log.error({ err, event: 'icmp-socket-error', module: 'datapath' }, err.message), { device: ifname }),
            }, log);
            return Object.assign(daemon, { nft, rtnl });
          },
          afterStart: async (daemon, report) => {
            const port = xdpPort;
            const counters = port ? () => port.counters() : undefined;
            const extras = await startOperatorExtras(cfg, daemon, { nft: daemon.nft, tap, clock: systemClock, log, onSurface: (s) => { surface = s; }, ...(counters ? { counters } : {}) });
            try {
              // SCHED_FIFO for the heartbeat path (src/util/realtime.ts says why), entered only now: the
              // start-up above (module loading, schema compilation, ~1 s of CPU on a small machine) at
              // real-time priority starved the peers' daemons and the service on that core (measured).
              const priority = realtimePriority(process.env);
              if (priority !== null && !report.loaded.includes('realtime')) {
                log.warn({ event: 'scheduling', scheduling: 'unavailable', priority: 0 }, 'heartbeat path scheduling: normal (the realtime module is missing)');
              } else {
                const rt = enterRealtime(openRealtime(), priority);
                if (rt.scheduling !== 'off') log.info({ event: 'scheduling', ...rt }, `heartbeat path scheduling: ${rt.scheduling}`);
              }
              // A test hook: fails the start-up here, after the data path is up (the lab shows the clean-up).
              if (process.env.VMAC_TEST_FAIL_AFTER_START) throw new Error(`injected failure (VMAC_TEST_FAIL_AFTER_START=${process.env.VMAC_TEST_FAIL_AFTER_START})`);
            } catch (err) {
              await extras.close();
              throw err;
            }
            return extras;
          },
        });
        let stopping = false;
        const onSignal = (sig: NodeJS.Signals): void => {
          if (stopping) return;
          stopping = true;
          log.info({ event: 'signal', signal: sig }, 'signal received');
          extras.stopping();
          // SIGUSR2: hitless restart (the next `vmac run` adopts the kernel state); else a planned stop.
          running.stop(sig === 'SIGUSR2' ? 'restart' : 'signal').then(
            async () => { await extras.close(); running.rtnl.close(); process.exit(sig === 'SIGUSR2' ? EXIT_RESTART : EXIT_OK); },
            (err: unknown) => { log.error({ err }, 'stop failed'); process.exit(EXIT_FAILURE); },
          );
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        process.on('SIGUSR2', onSignal);
        // SIGHUP: `vmac reload` (the file read again; only what can change live is applied).
        process.on('SIGHUP', () => { requestControl(cfg.control.socket, { cmd: 'reload' }).catch((err: unknown) => log.error({ err }, 'reload failed')); });
      } catch (err) {
        process.exitCode = reportError(err);
        process.exit();
      }
    });
}
