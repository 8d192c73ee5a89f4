/**
 * `npm run sim -- --resources --seeds N [--start S] [--mutation NAME] [--trace]`: the cluster
 * resource simulator (crm-sim.ts). Without --mutation it must find no violation; with one, it
 * must catch it (exit 0 once a seed fails, 1 if none of the N seeds did).
 */
import { CRM_MUTATIONS, type CrmMutation } from '../../src/crm/transition.js';
import { runCrmSeed } from './crm-sim.js';

export function crmSimMain(args: readonly string[]): number {
  const num = (flag: string, dflt: number): number => { const i = args.indexOf(flag); const v = i >= 0 ? Number(args[i + 1]) : dflt; if (!Number.isInteger(v) || v < 0) throw new Error(`${flag} wants a whole number`); return v; };
  const seeds = num('--seeds', 1000);
  const start = num('--start', 1);
  const mi = args.indexOf('--mutation');
  const mutation = mi >= 0 ? args[mi + 1] : undefined;
  if (mutation !== undefined && !(CRM_MUTATIONS as readonly string[]).includes(mutation)) throw new Error(`--mutation wants one of ${CRM_MUTATIONS.join(', ')}`);
  const t0 = performance.now();
  let events = 0;
  let starts = 0;
  for (let seed = start; seed < start + seeds; seed += 1) {
    const r = runCrmSeed(seed, { ...(mutation ? { mutation: mutation as CrmMutation } : {}), trace: args.includes('--trace') });
    events += r.events;
    starts += r.starts;
    if (r.violation) {
      const again = runCrmSeed(seed, { ...(mutation ? { mutation: mutation as CrmMutation } : {}), trace: true });
      console.log(again.log.join('\n'));
      console.log(`crm-sim: seed ${seed}: ${r.violation}${mutation ? ` (mutation ${mutation} caught after ${seed - start + 1} seeds)` : ''}`);
      return mutation ? 0 : 1;
    }
    if ((seed - start + 1) % 10_000 === 0) console.error(`crm-sim: ${seed - start + 1} seeds, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  console.log(`crm-sim: ${seeds} seeds (${start}..${start + seeds - 1}), ${events} reducer steps, ${starts} starts, 0 violations${mutation ? `; mutation ${mutation} NOT caught` : ''}, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return mutation ? 1 : 0;
}

if (process.argv[1]?.endsWith('sim-main.ts')) process.exitCode = crmSimMain(process.argv.slice(2));
