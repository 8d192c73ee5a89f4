import type { Command } from 'commander';
import { randomInt } from 'node:crypto';
import { COMPARE_FAULTS, compare, compareTable, type CompareFault, type CompareRow } from '../../lab/compare.js';
import { printJson, reportError, EXIT_BAD_INPUT } from './output.js';

interface Options { name: string; fault: string; runs: string; perClient: string; seed?: string; systems?: string; json?: boolean }

/** The JSON row: exactly these fields (ratios are in the table, derivable from gapMs). */
export function jsonRow(r: CompareRow): { system: string; profile: string; fault: string; runs: number; gapMs: { p50: number; p99: number; max: number }; duplicates: number; lost: number } {
  return { system: r.system, profile: r.profile, fault: r.fault, runs: r.runs, gapMs: r.gapMs, duplicates: r.duplicates, lost: r.lost };
}

export function registerLabCompare(lab: Command): void {
  lab.command('compare')
    .description('the same failover runs against vmac (default, fast), keepalived (default, fastest timers) and ucarp; one table')
    .option('--name <prefix>', 'namespace prefix (one lab at a time uses it)', 'vcmp')
    .option('--fault <kind>', `fault: ${COMPARE_FAULTS.join(' | ')}`, 'kill')
    .option('--runs <n>', 'fault injections per system and profile', '20')
    .option('--per-client <k>', 'probed addresses per client namespace', '5')
    .option('--systems <list>', 'comma-separated subset: vmac-default,vmac-fast,vmac-xdp-fast (fast profile on the XDP backend),keepalived-default,keepalived-fastest,ucarp-default')
    .option('--seed <n>', 'seed for addresses, hash seed and fault timing')
    .option('--json', 'print the rows as JSON: [{system, profile, fault, runs, gapMs: {p50, p99, max}, duplicates, lost}]')
    .addHelpText('after', `
Every system runs in its own 3-node lab with the same clients, prober (1 ms UDP probes from
15 addresses) and fault injection. keepalived and ucarp are active/standby: n1 is the master and
the victim of every run (kill = kill -9 of all its processes, the VIP stays configured as after a
real crash; link = its switch port down). keepalived default: VRRPv2 advert_int 1 s; fastest:
VRRPv3 advert_int 0.01. ucarp: advbase 1 s, deadratio 3 (whole seconds: also its fastest).
  lost    probes lost by clients of nodes that did not fail (active/standby has none)
Example:
  vmac lab compare --fault kill --runs 20`)
    .action(async (o: Options) => {
      try {
        const fault = o.fault as CompareFault;
        if (!COMPARE_FAULTS.includes(fault)) {
          process.stderr.write(`vmac: --fault: ${JSON.stringify(o.fault)} is not one of ${COMPARE_FAULTS.join(', ')}\n`);
          process.exitCode = EXIT_BAD_INPUT;
          return;
        }
        const rows = await compare({
          name: o.name, fault, runs: Number(o.runs), perClient: Number(o.perClient), seed: o.seed === undefined ? randomInt(1, 2 ** 31) : Number(o.seed),
          ...(o.systems !== undefined ? { systems: o.systems.split(',') } : {}),
          progress: (l) => void process.stderr.write(`${l}\n`),
        });
        if (o.json) printJson(rows.map(jsonRow));
        else process.stdout.write(`\n${compareTable(rows)}\n`);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}
