import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { EXIT_BAD_INPUT, EXIT_OK, printJson, reportError } from './output.js';
import { staticMap, ownedBuckets } from '../daemon/ownership.js';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate service config files without touching the kernel')
    .argument('<files...>', 'YAML config files, e.g. /etc/vmac/web.yaml')
    .option('--json', 'print the validated configs as JSON')
    .addHelpText('after', `
Exit codes: 0 all valid, 2 at least one invalid (each problem is printed as FILE: FIELD: message).
Nothing is applied: a file that fails here is refused by \`vmac run\` before any kernel change.

Example:
  vmac check /etc/vmac/*.yaml`)
    .action((files: string[], opts: { json?: boolean }) => {
      let code = EXIT_OK;
      const valid = [];
      for (const file of files) {
        try {
          const cfg = loadConfig(file);
          valid.push(cfg);
          if (!opts.json) {
            const owned = ownedBuckets(staticMap(cfg), cfg.node.id).length;
            process.stdout.write(`${file}: ok — service ${cfg.service}, VIP ${cfg.vip}${cfg.vip6 ? `, VIP6 ${cfg.vip6}` : ''}, VMAC ${cfg.vmac}, node ${cfg.node.name} (id ${cfg.node.id}) of ${cfg.nodes.length}, ${owned}/${cfg.buckets} buckets, ${cfg.hash.affinity} affinity, lease ${cfg.timing.leaseMs} ms renewed every ${cfg.timing.renewMs} ms\n`);
          }
        } catch (err) {
          code = Math.max(code, reportError(err));
        }
      }
      if (opts.json) printJson(valid);
      process.exitCode = code === EXIT_OK ? EXIT_OK : EXIT_BAD_INPUT;
    });
}
