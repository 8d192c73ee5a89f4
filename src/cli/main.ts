#!/usr/bin/env node
import { Command } from 'commander';
import { registerCheck } from './cmd-check.js';
import { registerRun } from './cmd-run.js';
import { registerWhich } from './cmd-which.js';
import { registerKeygen } from './cmd-keygen.js';
import { registerStatus } from './cmd-status.js';
import { registerBuckets } from './cmd-buckets.js';
import { registerOps } from './cmd-ops.js';
import { LAB_SUMMARY, wantsLab } from './lab-entry.js';
import { registerResources } from './cmd-resources.js';

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
  vmac status -c /etc/vmac/web.yaml      the running daemon's view (--json)
  vmac buckets -c /etc/vmac/web.yaml --fail 2   the bucket map, and after node 2 fails
  vmac drain -c /etc/vmac/web.yaml       hand this node's buckets away gracefully (resume, weight N)
  vmac which 192.0.2.7 -c /etc/vmac/web.yaml   which node answers a client
  vmac lab up --name demo --nodes 3      build a namespace lab on this machine`);
registerCheck(program);
registerRun(program);
registerWhich(program);
// The lab (namespaces, probers, keepalived/ucarp drivers) is a harness, not the product: its
// modules load only when the command line asks for `vmac lab …` (or help on it), so the daemon
// and the operator commands start without them.
if (wantsLab(process.argv.slice(2))) {
  const { registerLab } = await import('./cmd-lab.js');
  registerLab(program);
} else {
  program.command('lab').description(LAB_SUMMARY); // listed in `vmac --help`; never run (see wantsLab)
}
registerKeygen(program);
registerStatus(program);
registerBuckets(program);
registerOps(program);
registerResources(program);
await program.parseAsync(process.argv);
