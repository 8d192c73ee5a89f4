/**
 * `vmac drain`, `vmac resume`, `vmac weight N`: operations on a running daemon through its
 * control socket. All of them move buckets through the graceful hand-over (established
 * connections stay where they are; new ones go to the new owner).
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { requestControl, type ControlRequest } from '../daemon/control-socket.js';
import type { DaemonStatus } from '../daemon/node-daemon.js';
import { EXIT_BAD_INPUT, printJson, reportError } from './output.js';

interface Target { config?: string; socket?: string; json?: boolean }

async function send(o: Target, req: ControlRequest): Promise<void> {
  const path = o.socket ?? (o.config === undefined ? undefined : loadConfig(o.config).control.socket);
  if (path === undefined) {
    process.stderr.write(`vmac: ${req.cmd} needs --config <file> or --socket <path>\n`);
    process.exitCode = EXIT_BAD_INPUT;
    return;
  }
  const s = (await requestControl(path, req)) as DaemonStatus & { result?: unknown };
  if (typeof s.result === 'string') {
    process.stdout.write(`${s.result}\n`);
    if (s.result.startsWith('reload refused')) process.exitCode = EXIT_BAD_INPUT;
  }
  if (o.json) { printJson(s); return; }
  const h = s.cluster.handover;
  process.stdout.write(`node ${s.cluster.self.name}: ${s.cluster.self.state}, weight ${h.weight}; holds ${s.cluster.owned.length} buckets (${h.incoming.length} incoming, ${h.draining.length} draining)\n`);
}

function withTarget(c: Command): Command {
  return c.option('-c, --config <file>', 'service config (finds its control socket)')
    .option('-s, --socket <path>', 'control socket path (instead of --config)')
    .option('--json', 'print the daemon status after the request');
}

export function registerOps(program: Command): void {
  withTarget(program.command('drain')
    .description('hand every bucket of this node away gracefully (for maintenance); the daemon keeps running')
    .option('--timeout <ms>', 'let a bucket go after this long even if connections remain (default 30000)'))
    .addHelpText('after', `
Established connections stay on this node until they end (or the timeout passes); new ones go to
the buckets' new owners at once. \`vmac status\` shows how many buckets are still draining.
Example:
  vmac drain -c /etc/vmac/web.yaml --timeout 60000`)
    .action(async (o: Target & { timeout?: string }) => {
      try {
        const timeoutMs = o.timeout === undefined ? undefined : Number(o.timeout);
        if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 0)) {
          process.stderr.write(`vmac: drain: --timeout wants a whole number of milliseconds, got ${o.timeout}\n`);
          process.exitCode = EXIT_BAD_INPUT;
          return;
        }
        await send(o, timeoutMs === undefined ? { cmd: 'drain' } : { cmd: 'drain', timeoutMs });
      } catch (err) { process.exitCode = reportError(err); }
    });
  withTarget(program.command('resume').description('take this node\'s share of buckets back after a drain (gracefully)'))
    .addHelpText('after', `
Example:
  vmac resume -c /etc/vmac/web.yaml`)
    .action(async (o: Target) => {
      try { await send(o, { cmd: 'resume' }); } catch (err) { process.exitCode = reportError(err); }
    });
  withTarget(program.command('weight <n>').description('set this node\'s weight at run time (0..1000); the bucket map follows, gracefully'))
    .addHelpText('after', `
The weight is announced in heartbeats, so every node computes the same map. It lasts until the
daemon restarts (then the config's weight applies); with --persist it is written under the run
directory (beside the control socket) and used at every start until a weight without --persist.
Examples:
  vmac weight 50 -c /etc/vmac/web.yaml
  vmac weight 0 --persist -c /etc/vmac/web.yaml`)
    .option('--persist', 'keep this weight across restarts of the daemon')
    .action(async (n: string, o: Target & { persist?: boolean }) => {
      try {
        const weight = Number(n);
        if (!Number.isInteger(weight) || weight < 0 || weight > 1000) {
          process.stderr.write(`vmac: weight: wants a whole number 0..1000, got ${n}\n`);
          process.exitCode = EXIT_BAD_INPUT;
          return;
        }
        await send(o, { cmd: 'weight', weight, ...(o.persist === true ? { persist: true } : {}) });
      } catch (err) { process.exitCode = reportError(err); }
    });
  withTarget(program.command('reload').description('read the config file again: this node\'s own weight applies live; any other change is refused, naming the field'))
    .addHelpText('after', `
Shared fields (seed, buckets, VIP, timing, node list…) change by the rolling procedure (a restart
per node); local fields the daemon built from (interface, ports, socket, ARP, resources) need a
restart of this node. SIGHUP to the daemon does the same.
Example:
  vmac reload -c /etc/vmac/web.yaml`)
    .action(async (o: Target) => {
      try { await send(o, { cmd: 'reload' }); } catch (err) { process.exitCode = reportError(err); }
    });
}
