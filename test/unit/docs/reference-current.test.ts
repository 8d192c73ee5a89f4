/** The generated reference pages in docs/ match what src/docs/gen-docs.ts renders now. */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigReference, renderMetricsReference } from '../../../src/docs/reference.js';
import { renderCliReference } from '../../../src/docs/cli-reference.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (f: string): string => readFileSync(`${root}${f}`, 'utf8');
const stale = 'is stale: run `make docs` (npx tsx src/docs/gen-docs.ts) and commit it';

describe('generated docs are current', () => {
  it('docs/config-reference.md from the JSON Schema', () => {
    const schema = JSON.parse(read('schema/vmac-config.schema.json')) as unknown;
    expect(read('docs/config-reference.md'), `docs/config-reference.md ${stale}`).toBe(renderConfigReference(schema));
  });

  it('docs/metrics-reference.md from the metrics registry', async () => {
    expect(read('docs/metrics-reference.md'), `docs/metrics-reference.md ${stale}`).toBe(await renderMetricsReference());
  });

  it.skipIf(!existsSync(`${root}dist/src/cli/main.js`))('docs/cli-reference.md from the CLI\'s --help (needs `make build`)', () => {
    const help = (args: string[]): string => execFileSync(process.execPath, [`${root}dist/src/cli/main.js`, ...args, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '100' } });
    expect(read('docs/cli-reference.md'), `docs/cli-reference.md ${stale}`).toBe(renderCliReference(help));
  }, 30_000);
});
