import type { Command } from 'commander';
import { randomInt } from 'node:crypto';
import { labUp } from '../../lab/lab.js';
import { withLabCleanup } from '../../lab/guard.js';
import { failoverRun, summarize, type FaultKind, type RunResult } from '../../lab/failover.js';
import { printJson, reportError, EXIT_BAD_INPUT } from './output.js';

const FAULTS: readonly FaultKind[] = ['kill', 'stop', 'link', 'term'];

interface Options { name: string; nodes: string; fault: string; runs: string; profile: string; perClient: string; json?: boolean; seed?: string }

export function registerLabFailover(lab: Command): void {
  lab.command('failover')
    .description('measure failover: probe every 1 ms, inject a fault, repeat; prints gap p50/p99/max')
    .option('--name <prefix>', 'namespace prefix', 'vfail')
    .option('--nodes <n>', 'cluster nodes', '3')
    .option('--fault <kind>', `fault to inject: ${FAULTS.join(' | ')} (link = the node's switch port goes down; term = planned stop by SIGTERM, then restart)`, 'kill')
    .option('--runs <n>', 'fault injections (the node is restored between runs)', '20')
    .option('--profile <p>', 'timing profile: default | fast', 'default')
    .option('--per-client <k>', 'probed addresses per client namespace, for the victim and for the others each', '5')
    .option('--seed <n>', 'seed for addresses, hash seed and fault timing')
    .option('--json', 'print {summary, runs} as JSON')
    .addHelpText('after', `
Each run probes from 3 client namespaces (per-client addresses owned by the victim and as many
owned by the others) every 1 ms for 2 s, injects the fault 300-600 ms in, then restores the
victim (SIGCONT, link up, or a restarted daemon) and waits until it serves again.
  gap            longest silence seen by a client of the victim (p50/p99/max over all runs)
  duplicates     requests answered by two nodes (must be 0)
  lost           probes lost by clients of the surviving nodes (must be 0)
Example:
  vmac lab failover --nodes 3 --fault kill --runs 20 --json`)
    .action(async (o: Options) => {
      try {
        const fault = o.fault as FaultKind;
        if (!FAULTS.includes(fault)) {
          process.stderr.write(`vmac: --fault: ${JSON.stringify(o.fault)} is not one of ${FAULTS.join(', ')}\n`);
          process.exitCode = EXIT_BAD_INPUT;
          return;
        }
        const seed = o.seed === undefined ? randomInt(1, 2 ** 31) : Number(o.seed);
        const runs = Number(o.runs);
        const results = await withLabCleanup(o.name, async () => {
          const info = await labUp({ name: o.name, nodes: Number(o.nodes), clients: 3, addrs: 60, seed, buckets: 256, profile: o.profile === 'fast' ? 'fast' : 'default', affinity: 'address' }, { onProgress: (m) => void process.stderr.write(`[lab] ${m}\n`) });
          const out: RunResult[] = [];
          for (let i = 1; i <= runs; i++) {
            const victim = info.nodes[(i - 1) % info.nodes.length];
            if (!victim) break;
            const r = await failoverRun(info, { run: i, fault, victim, perClient: Number(o.perClient), durationMs: 2000, seed: seed + i });
            out.push(r);
            const gaps = r.gapsMs;
            process.stderr.write(`[failover] run ${i}/${runs} ${fault} ${r.victim}: gap ${Math.min(...gaps).toFixed(0)}-${Math.max(...gaps).toFixed(0)} ms, duplicates ${r.duplicates}, lost ${r.lostSurvivors} (victim's clients ${r.lostVictim})${r.proberBehind > 0 ? `, prober behind ${r.proberBehind}x` : ''}${r.leaseStops.length > 0 ? `, lease stopped on ${r.leaseStops.join(',')}` : ''}\n`);
          }
          return out;
        });
        const s = summarize(fault, results);
        if (o.json) printJson({ summary: { ...s, profile: o.profile, nodes: Number(o.nodes) }, runs: results });
        else {
          process.stdout.write(`\n| fault | profile | runs | gap p50 | gap p99 | gap max | duplicates | lost (survivors) | lost (victim's clients) |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n`);
          process.stdout.write(`| ${fault} | ${o.profile} | ${s.runs} | ${s.gapMs.p50.toFixed(1)} ms | ${s.gapMs.p99.toFixed(1)} ms | ${s.gapMs.max.toFixed(1)} ms | ${s.duplicates} | ${s.lostSurvivors} | ${s.lostVictim} |\n`);
          if (s.proberBehind > 0) process.stdout.write(`\nThe prober fell behind its 1 ms schedule ${s.proberBehind} times: gaps carry up to that jitter.\n`);
        }
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}
