/**
 * Differential test against Pacemaker's scheduler (crm_simulate, from pacemaker-cli-utils, which
 * scripts/setup.sh installs): the case table's expectations hold for Pacemaker too, and a seeded
 * sample of random scenarios places identically. The 1,000+ run is `npm run crm-diff`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CASES } from '../../crm/cases.js';
import { parseSummary, renderCib } from '../../crm/cib.js';
import { crmSimulateAvailable, diffScenario, primitivesOf } from '../../crm/crm-diff.js';

const available = crmSimulateAvailable();

describe.skipIf(!available)('vmac placement vs Pacemaker crm_simulate', () => {
  it('the case table: Pacemaker places every case it can express as the table expects', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmac-crm-cases-'));
    try {
      const checked = CASES.filter((c) => c.topic !== 'serving');
      for (const c of checked) {
        writeFileSync(join(dir, 'cib.xml'), renderCib(c.scenario));
        const out = execFileSync('crm_simulate', ['-x', join(dir, 'cib.xml'), '-s'], { encoding: 'utf8' });
        const theirs = parseSummary(out, c.scenario.active, primitivesOf(c.scenario));
        expect({ title: c.title, placement: Object.fromEntries(Object.keys(c.expect).map((k) => [k, theirs[k] ?? null])) }).toEqual({ title: c.title, placement: c.expect });
      }
      expect(checked.length).toBeGreaterThanOrEqual(30);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('50 seeded random scenarios place identically', () => {
    const differ: number[] = [];
    for (let seed = 1; seed <= 50; seed += 1) if (!diffScenario(seed).same) differ.push(seed);
    expect(differ).toEqual([]);
  }, 120_000);
});

describe.runIf(!available)('crm_simulate missing', () => {
  it.skip('install pacemaker-cli-utils (scripts/setup.sh) to run the differential test', () => undefined);
});
