/**
 * The import graph between the top-level folders of a source tree (src/cluster, src/config, …), read
 * from the text of every .ts file: static imports and re-exports, type-only ones included (a
 * type import couples two folders as much as a value import). Dynamic `import()` is left out:
 * it is how a folder loads another lazily on purpose (the CLI's lab entry).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** One import that crosses folders: `from` imports `to` (paths relative to the root). */
export interface FolderEdge { readonly from: string; readonly to: string }

export interface FolderGraph {
  /** folder → folder → one import that makes the edge (the first found, for the message). */
  readonly edges: ReadonlyMap<string, ReadonlyMap<string, FolderEdge>>;
}

const IMPORT = /^\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm;

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The folder of a file: its first path segment under the root ('' for a file at the root). */
function folderOf(root: string, file: string): string {
  const rel = relative(root, file).split(sep);
  return rel.length > 1 ? (rel[0] ?? '') : '';
}

export function folderGraph(root: string): FolderGraph {
  const edges = new Map<string, Map<string, FolderEdge>>();
  for (const file of tsFiles(root)) {
    const text = readFileSync(file, 'utf8');
    const from = folderOf(root, file);
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      if (spec === undefined || !spec.startsWith('.')) continue; // packages and node: builtins
      const target = resolve(dirname(file), spec);
      if (relative(root, target).startsWith('..')) continue; // outside the tree
      const to = folderOf(root, target);
      if (to === from || to === '' || from === '') continue;
      let byTo = edges.get(from);
      if (!byTo) edges.set(from, (byTo = new Map<string, FolderEdge>()));
      if (!byTo.has(to)) byTo.set(to, { from: relative(root, file), to: relative(root, target) });
    }
  }
  return { edges };
}

/**
 * Every cycle between folders, as its strongly connected component (Tarjan): folders that all
 * reach each other. Each is given with the imports that close it, for the failure message.
 */
export function folderCycles(g: FolderGraph): { folders: string[]; imports: FolderEdge[] }[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: { folders: string[]; imports: FolderEdge[] }[] = [];
  let next = 0;
  const nodes = new Set<string>([...g.edges.keys(), ...[...g.edges.values()].flatMap((m) => [...m.keys()])]);
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of g.edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    for (;;) {
      const w = stack.pop() as string;
      onStack.delete(w);
      scc.push(w);
      if (w === v) break;
    }
    if (scc.length < 2) return;
    const inScc = new Set(scc);
    const imports = scc.flatMap((f) => [...(g.edges.get(f) ?? [])].filter(([to]) => inScc.has(to)).map(([, e]) => e));
    out.push({ folders: scc.sort(), imports });
  };
  for (const v of [...nodes].sort()) if (!index.has(v)) visit(v);
  return out;
}
