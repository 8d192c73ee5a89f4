import { conntrackTool } from '../takeover/conntrack-tool.js';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { startDaemon, type Daemon } from '../daemon/node-daemon.js';
import { openNftables } from '../../native-shims/nftables.js';
import { openRtnetlink } from '../../native-shims/netlink.js';
import { openPcapPort } from '../../native-shims/pcap.js';
import { nftDataPath } from '../vmac/nft-datapath.js';
import { procSysctl } from '../vmac/sysctl.js';
import { createFileShareStore, pidAlive } from '../vmac/sysctl-share.js';
import { systemClock } from '../util/clock.js';
import { parseIp } from '../util/ip.js';
import { openUdpTransport } from '../ha/transport.js';
import { loadKeyFile } from '../ha/key-file.js';
import { serveControl } from '../daemon/control-socket.js';
import { reopeningPort } from '../arp/reopening-port.js';
import { enterRealtime, realtimePriority } from '../util/realtime.js';
import { openRealtime } from '../../native-shims/realtime.js';
import { createLogger } from './logger.js';
import { createEventTap } from '../metrics/event-tap.js';
import type { OperatorSurface } from '../metrics/operator-surface.js';
import { startOperatorExtras, withCounterReadBeforeMove } from './operator-wiring.js';
import { openIcmpEcho } from '../../native-shims/raw-socket.js';
import { EXIT_FAILURE, EXIT_OK, reportError } from './output.js';

/** Only ARP requests asking for the VIP wake the daemon: the kernel filters the rest. */
export function arpCaptureFilter(vip: string): string {
  const hex = Array.from(parseIp(vip).bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `arp and arp[6:2] == 1 and arp[24:4] == 0x${hex}`;
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
the service adopts the table instead of rebuilding it (systemd: ExecReload=kill -USR2 $MAINPID
is not enough alone; use \`systemctl kill -s USR2 vmac@web\` and let Restart=always start it).
If the daemon dies without stopping (kill -9, crash, hang), the kernel lease expires after
timing.leaseMs and the node stops answering by itself.

Logs are JSON lines on stdout (human-readable on a terminal unless VMAC_LOG_FORMAT=json);
VMAC_LOG_LEVEL=debug shows every ARP decision.

Metrics (Prometheus) and a live dashboard are served on metrics.listen, by default
http://127.0.0.1:9789/metrics and http://127.0.0.1:9789/ (loopback only; "off" disables).
Under systemd (Type=notify) it sends READY=1 once it serves, and WATCHDOG=1 while its
heartbeat loop runs.`)
    .action(async (file: string) => {
      let daemon: Daemon | undefined;
      try {
        const cfg = loadConfig(file);
        const tap = createEventTap();
        const log = createLogger({ service: cfg.service, node: cfg.node.name }, undefined, tap);
        let surface: OperatorSurface | null = null;
        const nft = openNftables();
        const rtnl = openRtnetlink();
        daemon = await startDaemon(cfg, {
          dataPath: (plan) => withCounterReadBeforeMove(nftDataPath(nft, plan), (remove) => surface?.beforeMove(remove)),
          conntrack: (c) => conntrackTool(c.vip, c.hash, c.buckets),
          // VMAC_HANDOVER=off: planned moves break connections (only to show what the hand-over prevents).
          graceful: process.env.VMAC_HANDOVER !== 'off',
          // VMAC_RESTART_WINDOW_MS: the hitless-restart window (default 15 s).
          ...(process.env.VMAC_RESTART_WINDOW_MS ? { restartWindowMs: Number(process.env.VMAC_RESTART_WINDOW_MS) } : {}),
          rtnl,
          sysctl: procSysctl,
          // arp_announce of the interface is shared with the host's other vmac services: restored
          // only when the last one stops (VMAC_RUN_DIR: where that is recorded, default /run/vmac).
          sysctlShare: { store: createFileShareStore(process.env.VMAC_RUN_DIR ?? '/run/vmac'), service: cfg.service, pid: process.pid, isAlive: pidAlive },
          openPacketPort: (ifname) => reopeningPort((onLinkError) => openPcapPort({ ifname, filter: arpCaptureFilter(cfg.vip), onLinkError }), systemClock, log.child({ module: 'capture', ifname })),
          openTransport: (addresses, port) => openUdpTransport(addresses, port, (err) => log.error({ err, event: 'heartbeat-socket-error' }, err.message)),
          loadKey: loadKeyFile,
          clock: systemClock,
          incarnation: BigInt(Date.now()),
          serveControl,
          openIcmpEcho: () => openIcmpEcho((err) => log.error({ err, event: 'icmp-socket-error' }, err.message)),
          openDataPathEcho: (ifname) => openIcmpEcho((err) => log.error({ err, event: 'icmp-socket-error', module: 'datapath' }, err.message), { device: ifname }),
        }, log);
        const running = daemon;
        const extras = await startOperatorExtras(cfg, running, { nft, tap, clock: systemClock, log, onSurface: (s) => { surface = s; } });
        // SCHED_FIFO for the heartbeat path (src/util/realtime.ts says why), entered only now: the
        // start-up above (module loading, schema compilation, ~1 s of CPU on a small machine) at
        // real-time priority starved the peers' daemons and the service on that core (measured).
        const rt = enterRealtime(openRealtime(), realtimePriority(process.env));
        if (rt.scheduling !== 'off') log.info({ event: 'scheduling', ...rt }, `heartbeat path scheduling: ${rt.scheduling}`);
        let stopping = false;
        const onSignal = (sig: NodeJS.Signals): void => {
          if (stopping) return;
          stopping = true;
          log.info({ event: 'signal', signal: sig }, 'signal received');
          extras.stopping();
          // SIGUSR2: hitless restart (the next `vmac run` adopts the kernel state); else a planned stop.
          running.stop(sig === 'SIGUSR2' ? 'restart' : 'signal').then(
            async () => { await extras.close(); rtnl.close(); process.exit(EXIT_OK); },
            (err: unknown) => { log.error({ err }, 'stop failed'); process.exit(EXIT_FAILURE); },
          );
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        process.on('SIGUSR2', onSignal);
      } catch (err) {
        process.exitCode = reportError(err);
        process.exit();
      }
    });
}
