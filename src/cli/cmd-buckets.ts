import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { afterFailure, balancedMap, ownedBy, type BucketMap } from '../hash/bucket-map.js';
import type { VmacConfig } from '../config/types.js';
import { EXIT_BAD_INPUT, printJson, reportError } from './output.js';

interface NodeRow { id: number; name: string; weight: number; buckets: number; fairShare: number }

function rows(cfg: VmacConfig, map: BucketMap, alive: readonly number[]): NodeRow[] {
  const live = cfg.nodes.filter((n) => alive.includes(n.id));
  const total = live.reduce((s, n) => s + n.weight, 0);
  return cfg.nodes.map((n) => ({ id: n.id, name: n.name, weight: n.weight, buckets: ownedBy(map, n.id).length, fairShare: alive.includes(n.id) && total > 0 ? (cfg.buckets * n.weight) / total : 0 }));
}

function table(title: string, r: readonly NodeRow[]): string {
  return [title, '', '| id | node | weight | buckets | fair share |', '| ---: | --- | ---: | ---: | ---: |', ...r.map((x) => `| ${x.id} | ${x.name} | ${x.weight} | ${x.buckets} | ${x.fairShare.toFixed(1)} |`)].join('\n');
}

export function registerBuckets(program: Command): void {
  program
    .command('buckets')
    .description('print the balanced bucket map, and with --fail the map after those nodes fail')
    .requiredOption('-c, --config <file>', 'service config')
    .option('--fail <ids>', 'comma-separated node ids that fail (e.g. 2,3)')
    .option('--json', 'print {buckets, nodes, map, failed, after: {nodes, map, moved}}')
    .addHelpText('after', `
Every node computes the same map from the config alone. After a failure only the failed nodes'
buckets move; every survivor keeps its own and receives within one bucket of its weighted share
of the moved ones. Example:
  vmac buckets -c /etc/vmac/web.yaml --fail 2 --json`)
    .action((o: { config: string; fail?: string; json?: boolean }) => {
      try {
        const cfg = loadConfig(o.config);
        const ids = cfg.nodes.map((n) => n.id);
        const failed = o.fail === undefined ? [] : o.fail.split(',').map((x) => Number(x.trim()));
        const bad = failed.filter((id) => !ids.includes(id));
        if (bad.length > 0) {
          process.stderr.write(`vmac: --fail: ${bad.join(',')} ${bad.length === 1 ? 'is not a node id' : 'are not node ids'} of ${o.config} (ids: ${ids.join(',')})\n`);
          process.exitCode = EXIT_BAD_INPUT;
          return;
        }
        const map = balancedMap(cfg.nodes, cfg.buckets);
        const before = rows(cfg, map, ids);
        const after = failed.length === 0 ? null : afterFailure(map, new Set(failed), new Map(cfg.nodes.map((n) => [n.id, n.weight])));
        const alive = ids.filter((id) => !failed.includes(id));
        const moved = after === null ? [] : map.map((owner, b) => ({ bucket: b, from: owner, to: after[b] ?? owner })).filter((m) => m.from !== m.to);
        if (o.json) {
          printJson({ buckets: cfg.buckets, nodes: before, map, failed, after: after === null ? null : { nodes: rows(cfg, after, alive), map: after, moved } });
          return;
        }
        process.stdout.write(`${table(`balanced map of ${cfg.buckets} buckets over ${ids.length} nodes`, before)}\n`);
        if (after !== null) process.stdout.write(`\n${table(`after ${failed.join(',')} fail${failed.length === 1 ? 's' : ''}: ${moved.length} buckets move, all of them the failed nodes'`, rows(cfg, after, alive))}\n`);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}
