/**
 * `npm run crm-diff -- --scenarios 1000 [--seed 1] [--show 3]`: compare vmac's placement with
 * Pacemaker's scheduler (crm_simulate) on random scenarios; print the count of differences and
 * the first few in full (scenario, both placements, both score tables). Exit 1 on a difference.
 */
import { crmSimulateAvailable, diffScenario, type DiffResult } from './crm-diff.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} needs a non-negative integer`);
  return v;
}

function main(): number {
  if (!crmSimulateAvailable()) { console.error('crm_simulate not found: install pacemaker-cli-utils (scripts/setup.sh does)'); return 2; }
  const n = arg('scenarios', 1000);
  const first = arg('seed', 1);
  const show = arg('show', 3);
  const started = Date.now();
  const bad: DiffResult[] = [];
  let resources = 0;
  let moved = 0;
  let stopped = 0;
  for (let seed = first; seed < first + n; seed += 1) {
    const r = diffScenario(seed);
    for (const [p, at] of Object.entries(r.theirs)) {
      resources += 1;
      if (at === null) stopped += 1;
      else if (r.scenario.active[p] !== undefined && r.scenario.active[p] !== at) moved += 1;
    }
    if (!r.same) bad.push(r);
  }
  for (const r of bad.slice(0, show)) {
    console.log(`--- seed ${r.seed}: differs`);
    console.log(JSON.stringify({ nodes: r.scenario.nodes, units: r.scenario.units, active: r.scenario.active, failures: r.scenario.failures }));
    console.log('vmac:      ', JSON.stringify(r.ours));
    console.log('pacemaker: ', JSON.stringify(r.theirs));
    console.log('vmac scores:', JSON.stringify(r.ourScores));
    console.log(r.theirScores);
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`crm-diff: ${n} scenarios (seeds ${first}..${first + n - 1}), ${resources} resources placed (${moved} moved, ${stopped} stopped by Pacemaker), ${bad.length} scenarios differ, ${secs} s`);
  if (bad.length > 0) console.log(`differing seeds: ${bad.map((r) => r.seed).slice(0, 50).join(' ')}${bad.length > 50 ? ' …' : ''}`);
  return bad.length === 0 ? 0 : 1;
}

process.exitCode = main();
