/**
 * `vmac lab modes`: the switch-friendly modes (issue 17) measured on a lab switch configured
 * like real ones, one lab per mode × switch setting (lab/modes.ts), with progress on stderr and
 * the table on stdout. Bounded: cells are started only within --time-limit-s.
 */
import type { Command } from 'commander';
import type { Mode } from '../config/types.js';
import { LAB_MODES, failedCell, modesCell, modesTable, randomSeed, type ModesCell } from '../../lab/modes.js';
import { SWITCH_MODES, type SwitchMode } from '../../lab/switch.js';
import { withLabCleanup } from '../../lab/guard.js';
import { printJson, reportError, EXIT_BAD_INPUT } from './output.js';

interface Options { name: string; modes: string; switches: string; runs: string; nodes: string; clients: string; seed?: string; steerContrast?: boolean; contrastWindowS: string; timeLimitS: string; json?: boolean; ipv6?: boolean }

function listOf<T extends string>(text: string, allowed: readonly T[], flag: string): T[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = items.filter((s) => !(allowed as readonly string[]).includes(s));
  if (bad.length > 0 || items.length === 0) throw new Error(`${flag}: ${JSON.stringify(bad.join(',') || text)} is not a list of ${allowed.join(', ')}`);
  return items as T[];
}

export function registerLabModes(lab: Command): void {
  lab.command('modes')
    .description('measure every mode on every switch setting: answers, duplicates, kill gap, frames at a bystander')
    .option('--name <prefix>', 'namespace prefix (a cell number is appended)', 'vmod')
    .option('--modes <list>', `modes: ${LAB_MODES.join(',')}`, LAB_MODES.join(','))
    .option('--switches <list>', `switch settings: ${SWITCH_MODES.join(',')}`, SWITCH_MODES.join(','))
    .option('--runs <n>', 'kill failover runs per cell (0: answers only)', '5')
    .option('--nodes <n>', 'cluster nodes', '3')
    .option('--clients <n>', 'client namespaces, one address each', '12')
    .option('--seed <n>', 'seed for addresses and the hash seed')
    .option('--steer-contrast', 'add arp-steer rows without the directed ARP (VMAC_STEER_ANNOUNCE=off), one run each with a --contrast-window-s probe window')
    .option('--contrast-window-s <s>', 'probe window of the contrast runs: clients re-learn by themselves only when their entry goes stale', '60')
    .option('--time-limit-s <s>', 'start no new cell after this many seconds', '1200')
    .option('--json', 'print the cells as JSON')
    .option('--ipv6', 'dual stack: every client namespace gets an IPv6 address too, probed and failed over in the same runs (an IPv6 row per cell)')
    .addHelpText('after', `
Switch settings (lab/switch.ts): flood = a plain learning bridge; no-flood = unknown-unicast
flooding off on every port plus static MAC entries for the nodes and clients; igmp-snooping =
mcast_snooping with the bridge as querier; igmp-mrouter = that plus the cluster's ports as
static multicast-router ports. A bystander namespace on the bridge counts the VIP's frames.
Example:
  vmac lab modes --runs 5 --steer-contrast          (the table of docs/switch-modes.md)
  vmac lab modes --modes unicast,arp-steer --switches no-flood --runs 0`)
    .action(async (o: Options) => {
      try {
        let modes: Mode[]; let switches: SwitchMode[];
        try { modes = listOf(o.modes, LAB_MODES, '--modes'); switches = listOf(o.switches, SWITCH_MODES, '--switches'); } catch (err) {
          process.stderr.write(`vmac: ${(err as Error).message}\n`); process.exitCode = EXIT_BAD_INPUT; return;
        }
        const seed = o.seed !== undefined ? Number(o.seed) : randomSeed();
        const limitMs = Number(o.timeLimitS) * 1000;
        const t0 = Date.now();
        const log = (line: string): void => { process.stderr.write(`${line}\n`); };
        const plan: { mode: Mode; sw: SwitchMode; announce: boolean }[] = [];
        for (const mode of modes) for (const sw of switches) {
          plan.push({ mode, sw, announce: true });
          if (mode === 'arp-steer' && o.steerContrast === true) plan.push({ mode, sw, announce: false });
        }
        const cells: ModesCell[] = [];
        for (const [i, p] of plan.entries()) {
          if (Date.now() - t0 > limitMs) { log(`[modes] time limit reached: ${plan.length - i} cells not run`); break; }
          log(`[modes] cell ${i + 1}/${plan.length}`);
          const name = `${process.env.VMAC_LAB_TAG ?? ''}${o.name}${i}`.slice(0, 12);
          const measure = (): Promise<ModesCell> => withLabCleanup(name, () => modesCell({ // removed however the cell ends, Ctrl-C included
            name, mode: p.mode, switchMode: p.sw, nodes: Number(o.nodes), clients: Number(o.clients),
            runs: p.announce ? Number(o.runs) : Math.min(1, Number(o.runs)), seed, steerAnnounce: p.announce, ...(p.announce ? {} : { windowMs: Number(o.contrastWindowS) * 1000 }), ...(o.ipv6 === true ? { ipv6: true } : {}), log,
          }));
          // A lab that did not come up (a daemon starved on a loaded machine) is built once more; a second failure is a row.
          cells.push(await measure().catch((err: unknown) => { log(`[modes] cell failed, once more: ${(err as Error).message.split('\n')[0] ?? ''}`); return measure(); })
            .catch((err: unknown) => failedCell({ mode: p.mode, switchMode: p.sw, steerAnnounce: p.announce }, err)));
        }
        if (o.json === true) { printJson({ seed, cells }); return; }
        process.stdout.write(`${modesTable(cells)}\n\nseed ${seed}, ${o.nodes} nodes, ${o.clients} client namespaces with one address each; ${Math.round((Date.now() - t0) / 1000)} s.\n`);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}
