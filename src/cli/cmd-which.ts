import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { bucketOf } from '../hash/bucket-of.js';
import { afterFailure, ownerOf, type BucketMap } from '../hash/bucket-map.js';
import { requestControl } from '../daemon/control-socket.js';
import type { DaemonStatus } from '../daemon/node-daemon.js';
import type { VmacConfig } from '../config/types.js';
import { parseIp } from '../util/ip.js';
import { staticMap } from '../daemon/ownership.js';
import { EXIT_BAD_INPUT, printJson, reportError } from './output.js';

/**
 * The map in force: from the running daemon's view (nodes it holds absent: failed or leaving)
 * when its control socket answers, else the balanced map of the configured nodes.
 */
async function liveMap(cfg: VmacConfig): Promise<{ map: BucketMap; source: 'daemon' | 'config'; absent: number[] }> {
  const base = staticMap(cfg);
  try {
    const st = (await requestControl(cfg.control.socket, { cmd: 'status' }, 1000)) as DaemonStatus;
    const absent = st.cluster.view.absent;
    return { map: absent.length === 0 ? base : afterFailure(base, new Set(absent), new Map(cfg.nodes.map((n) => [n.id, n.weight]))), source: 'daemon', absent };
  } catch {
    return { map: base, source: 'config', absent: [] };
  }
}

export function registerWhich(program: Command): void {
  program
    .command('which')
    .description("print a client's hash bucket and the node that answers it (same hash as the kernel)")
    .argument('<client>', 'client IPv4 or IPv6 address')
    .requiredOption('-c, --config <file>', 'service config')
    .option('-p, --port <port>', 'client source port (needed with address+port affinity)')
    .option('--json', 'print {client, port, bucket, owner, ownerId, source, absent}')
    .addHelpText('after', `
With a daemon running for this service, the answer follows its current view (after a failure,
the survivor that took the client's bucket); otherwise the balanced map of the config.
Examples:
  vmac which 192.0.2.7 --config /etc/vmac/web.yaml
  vmac which 192.0.2.7 --port 40000 --config /etc/vmac/web.yaml --json
  vmac which 2001:db8:7::42 --config /etc/vmac/web.yaml     (dual stack: hashed by the IPv6
      address, /prefixLength6 under network affinity, into the same bucket map)`)
    .action(async (client: string, opts: { config: string; port?: string; json?: boolean }) => {
      try {
        const cfg = loadConfig(opts.config);
        const addr = parseIp(client).text;
        let sport: number | undefined;
        if (opts.port !== undefined) {
          sport = Number(opts.port);
          if (!Number.isInteger(sport) || sport < 0 || sport > 65535) {
            process.stderr.write(`vmac: --port: ${JSON.stringify(opts.port)} is not a port number (0..65535)\n`);
            process.exitCode = EXIT_BAD_INPUT;
            return;
          }
        }
        const bucket = bucketOf(sport === undefined ? { addr } : { addr, sport }, cfg.hash, cfg.buckets);
        const live = await liveMap(cfg);
        const ownerId = ownerOf(live.map, bucket);
        const owner = cfg.nodes.find((n) => n.id === ownerId)?.name ?? null;
        // One bucket map for both families; a family without its VIP has no clients to answer.
        const family = parseIp(addr).family;
        if (family === 6 && (cfg.vip6 ?? null) === null) process.stderr.write(`vmac: note: ${opts.config} has no vip6: IPv6 clients are not served (the bucket is what they would hash to)\n`);
        if (family === 4 && cfg.vip === null) process.stderr.write(`vmac: note: ${opts.config} has no vip (IPv6 only): IPv4 clients are not served (the bucket is what they would hash to)\n`);
        if (opts.json) printJson({ client: addr, family, port: sport ?? null, bucket, owner, ownerId, source: live.source, absent: live.absent });
        else process.stdout.write(`${addr}${sport === undefined ? '' : `:${sport}`} -> bucket ${bucket} -> ${owner ?? '(none)'} (id ${ownerId}; ${live.source === 'daemon' ? `the running daemon's view${live.absent.length > 0 ? `, absent: ${live.absent.join(',')}` : ''}` : 'balanced map from the config: no daemon answered'})\n`);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}
