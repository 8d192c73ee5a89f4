#!/usr/bin/env node
import { Command } from 'commander';
import { registerCheck } from './cmd-check.js';
import { registerRun } from './cmd-run.js';
import { registerWhich } from './cmd-which.js';
import { registerLab } from './cmd-lab.js';

const program = new Command();
program
  .name('vmac')
  .description('Share one virtual IP and MAC among 2-32 Linux nodes; the kernel splits clients by hash.')
  .version('0.1.0')
  .showHelpAfterError()
  .addHelpText('after', `
Typical use:
  vmac check /etc/vmac/web.yaml          validate a service config (changes nothing)
  vmac run /etc/vmac/web.yaml            run the node daemon for that service
  vmac which 192.0.2.7 -c /etc/vmac/web.yaml   which node answers a client
  vmac lab up --name demo --nodes 3      build a namespace lab on this machine`);
registerCheck(program);
registerRun(program);
registerWhich(program);
registerLab(program);
await program.parseAsync(process.argv);
