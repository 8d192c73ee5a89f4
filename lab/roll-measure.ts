/**
 * Measures a rolling change of one shared field through a 3-node lab (docs/rolling-changes.md):
 * each node in turn gets a planned stop and a start with the changed file, while every client
 * address is probed every millisecond. Prints, per step, the probes sent, lost and answered twice.
 *
 *   VMAC_LAB_TAG=xx npx tsx lab/roll-measure.ts [seed|buckets|VIP|timing|node list|none]
 */
import { randomInt } from 'node:crypto';
import { labDown, labUp } from './lab.js';
import { MISMATCH_CHANGES, rollChange } from './config-mismatch.js';

async function main(): Promise<void> {
  const which = process.argv[2] ?? 'seed';
  // `none`: the same procedure with the file unchanged (the control: what planned stops and starts cost by themselves).
  const change = which === 'none' ? { name: 'none', field: '', edit: (y: string) => y } : MISMATCH_CHANGES.find((c) => c.name === which);
  if (!change) throw new Error(`unknown change ${which}: one of ${MISMATCH_CHANGES.map((c) => c.name).join(', ')}`);
  const name = `${process.env.VMAC_LAB_TAG ?? ''}rl${randomInt(1000, 9999)}`.slice(0, 12);
  const lab = await labUp({ name, nodes: 3, clients: 3, addrs: 10, seed: randomInt(1, 2 ** 31), buckets: 256, profile: 'default', affinity: 'address', dataPathCheck: false });
  try {
    const r = await rollChange(lab, change, 1000, 8000);
    console.log(JSON.stringify({ change: change.name, steps: r.steps }));
  } finally {
    await labDown(name);
  }
}
void main();
