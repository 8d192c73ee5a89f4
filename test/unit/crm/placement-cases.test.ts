/**
 * The placement case table (test/crm/cases.ts), in Pacemaker's style: every case through the
 * real loader (the scenario rendered as a service file) and the policy engine.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { place } from '../../../src/crm/policy.js';
import { CASES } from '../../crm/cases.js';
import { renderServiceFile } from '../../crm/scenario.js';

describe('placement case table', () => {
  it('has at least 30 cases covering every topic the issue names', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
    const topics = new Set(CASES.map((c) => c.topic));
    for (const t of ['scores', 'stickiness', 'colocation', 'anti-colocation', 'ordering', 'groups', 'migration-threshold', 'standby']) expect(topics).toContain(t);
  });

  for (const c of CASES) {
    it(`${c.topic}: ${c.title}`, () => {
      const cfg = parseConfig(renderServiceFile(c.scenario), 'case.yaml');
      const p = place({ nodes: c.scenario.nodes, model: cfg.crm ?? { resources: [] }, active: c.scenario.active, failures: c.scenario.failures, ...(c.serving ? { serving: c.serving } : {}) });
      const got = Object.fromEntries(Object.keys(c.expect).map((k) => [k, p.nodeOf[k] ?? null]));
      expect(got).toEqual(c.expect);
    });
  }

  it('is deterministic: input order of nodes does not matter', () => {
    const c = CASES.find((x) => x.title.startsWith('resources spread'));
    if (!c) throw new Error('case missing');
    const cfg = parseConfig(renderServiceFile(c.scenario), 'case.yaml');
    const a = place({ nodes: c.scenario.nodes, model: cfg.crm ?? { resources: [] }, active: {}, failures: {} });
    const b = place({ nodes: [...c.scenario.nodes].reverse(), model: cfg.crm ?? { resources: [] }, active: {}, failures: {} });
    expect(b).toEqual(a);
  });
});

describe('docs/crm.md', () => {
  it('shows the case table as it is', async () => {
    const { readFileSync } = await import('node:fs');
    const { caseTableMarkdown } = await import('../../crm/cases-doc.js');
    const doc = readFileSync(new URL('../../../docs/crm.md', import.meta.url), 'utf8');
    const m = /<!-- case-table:start -->\n([\s\S]*?)\n<!-- case-table:end -->/.exec(doc);
    expect(m?.[1]).toBe(caseTableMarkdown());
  });
});
