/**
 * The differential test of issue 19: one random scenario rendered as a vmac service file (loaded
 * and checked by the real loader, placed by the policy engine) and as a Pacemaker CIB (placed by
 * `crm_simulate`, Pacemaker's own scheduler, offline), and the two placements compared.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { place } from '../../src/crm/policy.js';
import { generateScenario, renderServiceFile, type Scenario } from './scenario.js';
import { parseSummary, renderCib } from './cib.js';

export interface DiffResult {
  readonly seed: number;
  readonly same: boolean;
  readonly ours: Readonly<Record<string, string | null>>;
  readonly theirs: Readonly<Record<string, string | null>>;
  readonly ourScores: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly theirScores: string; // crm_simulate's allocation-score lines for the primitives
  readonly scenario: Scenario;
  readonly cib: string;
  readonly serviceFile: string;
}

export function crmSimulateAvailable(): boolean {
  try { execFileSync('crm_simulate', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

export function primitivesOf(s: Scenario): string[] {
  return s.units.flatMap((u) => (u.kind === 'group' ? [...u.members] : [u.name]));
}

export function diffScenario(seed: number): DiffResult {
  const scenario = generateScenario(seed);
  const serviceFile = renderServiceFile(scenario);
  const cfg = parseConfig(serviceFile, `scenario-${seed}.yaml`);
  const model = cfg.crm;
  if (model === undefined) throw new Error('the loader built no resource model');
  const placement = place({ nodes: scenario.nodes, model, active: scenario.active, failures: scenario.failures });
  const prims = primitivesOf(scenario);
  const ours = Object.fromEntries(prims.map((p) => [p, placement.nodeOf[p] ?? null]));
  const cib = renderCib(scenario);
  const dir = mkdtempSync(join(tmpdir(), 'vmac-crm-diff-'));
  let out: string;
  try {
    writeFileSync(join(dir, 'cib.xml'), cib);
    out = execFileSync('crm_simulate', ['-x', join(dir, 'cib.xml'), '-s'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const theirs = parseSummary(out, scenario.active, prims);
  const same = prims.every((p) => (ours[p] ?? null) === (theirs[p] ?? null));
  const theirScores = out.split('\n').filter((l) => /pcmk__primitive_assign/.test(l)).join('\n');
  return { seed, same, ours, theirs, ourScores: placement.scores, theirScores, scenario, cib, serviceFile };
}
