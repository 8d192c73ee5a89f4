/**
 * Finds where a field sits in the YAML source, so problems can be listed in file order (the
 * order an operator reads and fixes them) and carry a line for editors. A missing field is
 * placed at its nearest enclosing mapping.
 */
import { type Document, isNode, type LineCounter } from 'yaml';
import type { ConfigProblem } from './problems.js';

/** `peers[1].id` / `a["odd key"]` → `['peers', 1, 'id']` / `['a', 'odd key']`. */
export function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([^.[\]]+)/g)) {
    if (m[1] !== undefined) out.push(Number(m[1]));
    else if (m[2] !== undefined) out.push(JSON.parse(m[2]) as string);
    else if (m[3] !== undefined) out.push(m[3]);
  }
  return out;
}

/** Line and column (1-based) of `path`, or of its closest existing ancestor; none for ''. */
export function locate(doc: Document, lineCounter: LineCounter, path: string): { line: number; column: number } | undefined {
  const segments = pathSegments(path);
  for (let n = segments.length; n > 0; n--) {
    const node: unknown = doc.getIn(segments.slice(0, n), true);
    if (isNode(node) && node.range) {
      const { line, col } = lineCounter.linePos(node.range[0]);
      return { line, column: col };
    }
  }
  return undefined;
}

/** Problems with positions added, sorted by line; those without a position (whole file) first. */
export function inFileOrder(problems: readonly ConfigProblem[], doc: Document, lineCounter: LineCounter): ConfigProblem[] {
  const placed = problems.map((p) => (p.line !== undefined || p.path === '' ? p : { ...p, ...locate(doc, lineCounter, p.path) }));
  return placed
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.line ?? 0) - (b.p.line ?? 0) || (a.p.column ?? 0) - (b.p.column ?? 0) || a.i - b.i)
    .map(({ p }) => p);
}
