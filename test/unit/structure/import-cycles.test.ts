import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { folderCycles, folderGraph } from './import-graph.js';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

describe('imports between the folders of src/', () => {
  it('form no cycle (a folder never imports, through any chain, a folder that imports it)', () => {
    const cycles = folderCycles(folderGraph(SRC));
    const text = cycles.map((c) => `${c.folders.join(' ↔ ')}: ${c.imports.map((e) => `${e.from} → ${e.to}`).join(', ')}`);
    expect(text).toEqual([]);
  });

  it('are read at all: the interpreter imports the node reducer, the reducer the cluster view', () => {
    const g = folderGraph(SRC);
    expect(g.edges.get('daemon')?.has('node')).toBe(true);
    expect(g.edges.get('node')?.has('cluster')).toBe(true);
    expect(g.edges.get('config')?.has('cluster') ?? false).toBe(false);
  });

  describe('a planted cycle', () => {
    const root = mkdtempSync(join(tmpdir(), 'vmac-cycles-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const file = (path: string, text: string): void => {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    file('a/one.ts', "import type { B } from '../b/two.js';\nexport type A = B;\n");
    file('b/two.ts', "export type B = number;\nexport {\n  C,\n} from '../c/three.js';\n");
    file('c/three.ts', "import { A } from '../a/one.js';\nexport const C = 1 as unknown as A;\n");
    file('d/lazy.ts', "export const load = () => import('../a/one.js');\n");
    file('a/lazy-back.ts', "export const load = () => import('../d/lazy.js');\n");

    it('is found, with the imports that close it (type-only and multi-line re-exports count, lazy imports do not)', () => {
      const cycles = folderCycles(folderGraph(root));
      expect(cycles.map((c) => c.folders)).toEqual([['a', 'b', 'c']]);
      expect(cycles[0]?.imports.map((e) => e.from).sort()).toEqual(['a/one.ts', 'b/two.ts', 'c/three.ts']);
    });
  });
});
