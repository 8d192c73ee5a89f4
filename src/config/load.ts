/**
 * Reads one service file (/etc/vmac/<service>.yaml) into a frozen `VmacConfig`. Every problem
 * found is reported at once — YAML syntax first (nothing else can be trusted then), otherwise
 * structure (JSON Schema) and cross-field rules together — so an operator fixes a file in one
 * round instead of one error per restart.
 */
import { readFileSync } from 'node:fs';
import { type Document, LineCounter, parseDocument, type YAMLError } from 'yaml';
import { VmacError } from '../util/errors.js';
import { buildConfig } from './build.js';
import { formatProblems } from './format-problems.js';
import { inFileOrder } from './locate.js';
import type { ConfigProblem } from './problems.js';
import type { RawConfig } from './raw.js';
import { schemaProblems } from './schema-check.js';
import { semanticProblems } from './semantic-check.js';
import type { VmacConfig } from './types.js';

export type { ConfigProblem } from './problems.js';
export { configWarnings } from './semantic-check.js';

/** Read, parse and validate `path`. Throws VMAC_CONFIG_UNREADABLE or VMAC_CONFIG_INVALID. */
export function loadConfig(path: string): VmacConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const problems = [{ path: '', message: `cannot read the file: ${readFailure(err)}` }];
    throw new VmacError('VMAC_CONFIG_UNREADABLE', formatProblems(path, problems), { file: path, problems }, { cause: err });
  }
  return parseConfig(text, path);
}

/** Parse and validate the text of a service file; `file` only names it in messages. No I/O. */
export function parseConfig(text: string, file: string): VmacConfig {
  const { doc, lineCounter, data } = parseYaml(text, file);
  const structural = schemaProblems(data);
  const isMapping = typeof data === 'object' && data !== null && !Array.isArray(data);
  const problems = isMapping ? [...structural, ...semanticProblems(data as RawConfig, structural)] : structural;
  if (problems.length > 0) throw invalid(file, inFileOrder(problems, doc, lineCounter));
  return buildConfig(data as RawConfig, file);
}

interface ParsedYaml {
  readonly doc: Document;
  readonly lineCounter: LineCounter;
  readonly data: unknown;
}

function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) throw invalid(file, doc.errors.map((e) => yamlProblem(e, lineCounter)));
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw invalid(file, [{ path: '', message: `YAML error: ${err instanceof Error ? err.message : String(err)}` }]);
  }
  if (data === null || data === undefined) {
    throw invalid(file, [{ path: '', message: 'the file is empty; it needs at least service, interface, vip, hash.seed and node (see examples/web.yaml)' }]);
  }
  return { doc, lineCounter, data };
}

function yamlProblem(e: YAMLError, lineCounter: LineCounter): ConfigProblem {
  const { line, col } = lineCounter.linePos(e.pos[0]);
  const message = e.message.split('\n')[0] ?? e.message;
  return { path: '', line, column: col, message: `YAML syntax error at line ${line}, column ${col}: ${message}` };
}

function invalid(file: string, problems: readonly ConfigProblem[]): VmacError {
  return new VmacError('VMAC_CONFIG_INVALID', formatProblems(file, problems), { file, problems });
}

function readFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const known: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory' };
  const text = code === undefined ? undefined : known[code];
  if (text !== undefined) return `${text} (${code})`;
  return err instanceof Error ? err.message : String(err);
}
