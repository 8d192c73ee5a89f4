/**
 * Writes the generated reference pages: docs/config-reference.md (from the JSON Schema),
 * docs/metrics-reference.md (from the metrics registry) and docs/cli-reference.md (from the
 * CLI's own --help). Run by `make build`; test/unit/docs checks the files are current.
 *   npx tsx src/docs/gen-docs.ts
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigReference, renderMetricsReference } from './reference.js';
import { renderCliReference } from './cli-reference.js';

const root = fileURLToPath(new URL('../../', import.meta.url)); // run from the source tree (tsx)
const schema = JSON.parse(readFileSync(`${root}schema/vmac-config.schema.json`, 'utf8')) as unknown;
writeFileSync(`${root}docs/config-reference.md`, renderConfigReference(schema));
writeFileSync(`${root}docs/metrics-reference.md`, await renderMetricsReference());
const help = (args: string[]): string => execFileSync(process.execPath, [`${root}dist/src/cli/main.js`, ...args, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '100' } });
writeFileSync(`${root}docs/cli-reference.md`, renderCliReference(help));
console.log('docs: config-reference.md, metrics-reference.md, cli-reference.md written');
