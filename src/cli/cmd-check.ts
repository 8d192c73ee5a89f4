import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { EXIT_BAD_INPUT, EXIT_OK, printJson, reportError } from './output.js';
import { staticMap, ownedBuckets } from '../daemon/ownership.js';
import { crossCheck, type CheckedFile } from '../config/cross-check.js';
import { keyIdentity } from '../config/fingerprint.js';
import { loadKeyFile } from '../cluster/key-file.js';
import type { VmacConfig } from '../config/types.js';
import { steerWarnings } from './steer-check.js';

/** The key's identity for comparing files; the path when the key cannot be read here (not root). */
function keyIdOf(cfg: VmacConfig): string {
  if (cfg.heartbeat.keyFile === null) return 'none';
  try { return keyIdentity(loadKeyFile(cfg.heartbeat.keyFile)); } catch { return `unreadable key file ${cfg.heartbeat.keyFile}`; }
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate service config files without touching the kernel')
    .argument('<files...>', 'YAML config files, e.g. /etc/vmac/web.yaml')
    .option('--json', 'print the validated configs as JSON')
    .addHelpText('after', `
Exit codes: 0 all valid, 2 at least one invalid (each problem is printed as FILE: FIELD: message).
Nothing is applied: a file that fails here is refused by \`vmac run\` before any kernel change.

Several files are also checked against each other. Files with the same service name are the
files of one cluster (one per node): every shared field (VIP, VMAC, mode, buckets, hash,
timing, node list, hand-over, quorum policy, key identity) must be equal, and each file must be
another node. Files with different service names are services of one host: they must not share
an interface + VIP, a VMAC on one interface, a heartbeat address:port, a metrics port, a control
socket or nft table names.

Examples:
  vmac check /etc/vmac/*.yaml                    the services of this host
  vmac check node1/web.yaml node2/web.yaml node3/web.yaml   the files of one cluster`)
    .action((files: string[], opts: { json?: boolean }) => {
      let code = EXIT_OK;
      const valid = [];
      for (const file of files) {
        try {
          const cfg = loadConfig(file);
          valid.push(cfg);
          if (!opts.json) {
            const owned = ownedBuckets(staticMap(cfg), cfg.node.id).length;
            for (const w of steerWarnings(cfg)) process.stderr.write(`${file}: warning: ${w}\n`);
            process.stdout.write(`${file}: ok — service ${cfg.service}, ${cfg.vip === null ? `VIP6 ${cfg.vip6 ?? '?'} (IPv6 only)` : `VIP ${cfg.vip}${cfg.vip6 ? `, VIP6 ${cfg.vip6}` : ''}`}, VMAC ${cfg.vmac}, node ${cfg.node.name} (id ${cfg.node.id}) of ${cfg.nodes.length}, ${owned}/${cfg.buckets} buckets, ${cfg.hash.affinity} affinity, lease ${cfg.timing.leaseMs} ms renewed every ${cfg.timing.renewMs} ms\n`);
          }
        } catch (err) {
          code = Math.max(code, reportError(err));
        }
      }
      const checked: CheckedFile[] = valid.map((cfg) => ({ cfg, keyId: keyIdOf(cfg) }));
      const cross = crossCheck(checked);
      for (const p of cross) process.stderr.write(`${p.file}: ${p.field}: ${p.message}\n`);
      if (cross.length > 0) code = EXIT_BAD_INPUT;
      else if (valid.length > 1 && !opts.json) process.stdout.write(`${valid.length} files agree: no shared field differs within a service, no collision between services\n`);
      if (opts.json) printJson(valid);
      process.exitCode = code === EXIT_OK ? EXIT_OK : EXIT_BAD_INPUT;
    });
}
