import type { Command } from 'commander';
import { generateKey } from '../cluster/key-file.js';

export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description('print a new random heartbeat key (32 bytes as 64 hex digits)')
    .addHelpText('after', `
Every node of a service uses the same key file; the daemon refuses a key file that group or
others can read. Example:
  umask 077; vmac keygen > /etc/vmac/web.key      then copy it to every node (mode 0600)`)
    .action(() => {
      process.stdout.write(`${generateKey()}\n`);
    });
}
