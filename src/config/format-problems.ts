/**
 * Renders config problems for people: one line per problem, `FILE: FIELD: message`, or
 * `FILE: message` for problems with the whole file (unreadable, empty, YAML syntax), so an
 * operator sees every mistake at once and grep/editors can pick the lines apart.
 */
import type { VmacError } from '../util/errors.js';
import type { ConfigProblem } from './problems.js';

export function formatProblem(file: string, problem: ConfigProblem): string {
  return problem.path === '' ? `${file}: ${problem.message}` : `${file}: ${problem.path}: ${problem.message}`;
}

export function formatProblems(file: string, problems: readonly ConfigProblem[]): string {
  return problems.map((p) => formatProblem(file, p)).join('\n');
}

/** The lines for a VMAC_CONFIG_* error (from its details), or its message for any other error. */
export function formatConfigError(err: VmacError): string {
  const { file, problems } = err.details;
  if (typeof file !== 'string' || !Array.isArray(problems)) return err.message;
  return formatProblems(file, problems.filter(isProblem));
}

function isProblem(p: unknown): p is ConfigProblem {
  if (typeof p !== 'object' || p === null) return false;
  const { path, message } = p as Record<string, unknown>;
  return typeof path === 'string' && typeof message === 'string';
}
