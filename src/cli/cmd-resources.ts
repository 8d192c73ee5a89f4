/**
 * `vmac resources` (crm_mon's view: every singleton and group member, where it should run and
 * where it runs, failure counts, pending actions, nodes waiting for a fence) and
 * `vmac resource move|ban|clear|cleanup|standby` (cluster-wide operator constraints), through
 * the local daemon's control socket. Any node answers for the whole cluster: each shows what
 * every member reported.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { requestControl, type ControlRequest } from '../daemon/control-socket.js';
import type { DaemonStatus } from '../daemon/node-daemon.js';
import type { CrmStatus } from '../node/crm-view.js';
import { EXIT_BAD_INPUT, EXIT_FAILURE, printJson, reportError } from './output.js';

interface Target { config?: string; socket?: string; json?: boolean }

function socketOf(o: Target, what: string): string | null {
  const path = o.socket ?? (o.config === undefined ? undefined : loadConfig(o.config).control.socket);
  if (path !== undefined) return path;
  process.stderr.write(`vmac: ${what} needs --config <file> or --socket <path>\n`);
  process.exitCode = EXIT_BAD_INPUT;
  return null;
}

const scoreText = (n: number): string => (n >= 1_000_000 ? '+INFINITY' : n <= -1_000_000 ? '-INFINITY' : String(n));

/** The table `vmac resources` prints (pure, for tests). */
export function resourcesText(c: CrmStatus): string {
  const lines: string[] = [];
  lines.push(`node ${c.self}: ${c.quorate ? 'quorate' : 'NO QUORUM (starts nothing, stops its singletons)'}; members ${c.members.join(', ') || '-'}${c.standby.length > 0 ? `; standby ${c.standby.join(', ')}` : ''}`);
  const rows = c.resources.map((r) => [
    r.group === null ? r.name : `${r.group}/${r.name}`,
    r.runningOn.length === 0 ? 'Stopped' : r.runningOn.map((n) => `${r.phases[n] ?? '?'} on ${n}`).join(', '),
    r.target ?? `- (${r.stoppedBecause ?? 'stopped'})`,
    Object.entries(r.failures).map(([n, k]) => `${n}:${k}`).join(' ') || '-',
    r.pending.map((p) => `${p.phase} on ${p.node}`).join(', ') || '-',
  ]);
  const head = ['RESOURCE', 'STATE', 'PLACED ON', 'FAILURES', 'PENDING'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const r of [head, ...rows]) lines.push(r.map((x, i) => x.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  for (const u of c.unclean) lines.push(`unclean: ${u.node} (fence ${u.fence}${u.stopFailed ? ', a stop failed there' : ''}): what it may run starts nowhere else until it is fenced`);
  const constraints = Object.entries(c.operator.scores).filter(([r]) => !r.startsWith('@')).map(([r, by]) => `${r}: ${Object.entries(by).map(([n, s]) => `${n} ${scoreText(s)}`).join(', ')}`);
  if (constraints.length > 0) lines.push(`operator constraints (version ${c.operator.version}): ${constraints.join('; ')}`);
  return `${lines.join('\n')}\n`;
}

function withTarget(c: Command): Command {
  return c.option('-c, --config <file>', 'service config (finds its control socket)')
    .option('-s, --socket <path>', 'control socket path (instead of --config)')
    .option('--json', 'print JSON');
}

export function registerResources(program: Command): void {
  withTarget(program.command('resources').description('show the cluster resources (singletons, groups): where each runs, failures, pending actions'))
    .addHelpText('after', `
Any node answers for the whole cluster (every member reports its resources to the others).
Example:
  vmac resources -c /etc/vmac/web.yaml`)
    .action(async (o: Target) => {
      try {
        const path = socketOf(o, 'resources');
        if (path === null) return;
        const s = (await requestControl(path, { cmd: 'status' })) as DaemonStatus;
        if (!s.crm) { process.stderr.write('vmac: resources: this service has no singleton or group\n'); process.exitCode = EXIT_BAD_INPUT; return; }
        if (o.json) printJson(s.crm);
        else process.stdout.write(resourcesText(s.crm));
      } catch (err) { process.exitCode = reportError(err); }
    });
  withTarget(program.command('resource <op...>').description('move|ban|clear|cleanup|standby: operator constraints on cluster resources, cluster-wide'))
    .addHelpText('after', `
  move <resource> <node>     run it on <node> (+INFINITY there; replaces an earlier move)
  ban <resource> <node>      never on <node> (-INFINITY there)
  clear <resource>           forget the moves and bans of <resource>
  cleanup <resource>         forget its failure counts and failed starts/stops on every node
  standby <node> on|off      <node> runs no singleton while on
A group member's move or ban applies to its group. Constraints reach every member with the next
report and survive restarts of single nodes (the others keep them).
Examples:
  vmac resource move db web2 -c /etc/vmac/web.yaml
  vmac resource standby web1 on -c /etc/vmac/web.yaml`)
    .action(async (words: string[], o: Target) => {
      try {
        const [op = '', ...args] = words;
        let req: ControlRequest;
        if ((op === 'move' || op === 'ban') && args.length === 2) req = { cmd: 'resource', op, resource: args[0] as string, node: args[1] as string };
        else if ((op === 'clear' || op === 'cleanup') && args.length === 1) req = { cmd: 'resource', op, resource: args[0] as string };
        else if (op === 'standby' && args.length === 2 && (args[1] === 'on' || args[1] === 'off')) req = { cmd: 'resource', op, node: args[0] as string, on: args[1] === 'on' };
        else {
          process.stderr.write(`vmac: resource: usage: move|ban <resource> <node>, clear|cleanup <resource>, standby <node> on|off (got ${[op, ...args].join(' ')})\n`);
          process.exitCode = EXIT_BAD_INPUT;
          return;
        }
        const path = socketOf(o, 'resource');
        if (path === null) return;
        const s = (await requestControl(path, req)) as DaemonStatus & { result?: string };
        if (o.json) printJson(s.crm ?? null);
        else if (s.result !== undefined) process.stdout.write(`${s.result}\n`);
        if (s.result?.startsWith('resource refused')) process.exitCode = EXIT_FAILURE;
      } catch (err) { process.exitCode = reportError(err); }
    });
}
