import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { bucketOf } from '../hash/bucket-of.js';
import { ownerOf } from '../hash/bucket-map.js';
import { parseIp } from '../util/ip.js';
import { staticMap } from '../daemon/ownership.js';
import { EXIT_BAD_INPUT, printJson, reportError } from './output.js';

export function registerWhich(program: Command): void {
  program
    .command('which')
    .description("print a client's hash bucket and the node that answers it (same hash as the kernel)")
    .argument('<client>', 'client IPv4 or IPv6 address')
    .requiredOption('-c, --config <file>', 'service config')
    .option('-p, --port <port>', 'client source port (needed with address+port affinity)')
    .option('--json', 'print {client, port, bucket, owner, ownerId}')
    .addHelpText('after', `
Examples:
  vmac which 192.0.2.7 --config /etc/vmac/web.yaml
  vmac which 192.0.2.7 --port 40000 --config /etc/vmac/web.yaml --json`)
    .action((client: string, opts: { config: string; port?: string; json?: boolean }) => {
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
        const ownerId = ownerOf(staticMap(cfg), bucket);
        const owner = cfg.nodes.find((n) => n.id === ownerId)?.name ?? null;
        if (opts.json) printJson({ client: addr, port: sport ?? null, bucket, owner, ownerId });
        else process.stdout.write(`${addr}${sport === undefined ? '' : `:${sport}`} -> bucket ${bucket} -> ${owner ?? '(none)'} (id ${ownerId})\n`);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}
