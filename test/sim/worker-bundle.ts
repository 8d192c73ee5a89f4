/**
 * What a simulator worker thread loads. Preferred: worker.ts and everything it imports from this
 * repository bundled into one ES module by esbuild (packages stay external), written under
 * node_modules/.cache so the packages resolve; a third faster than tsx's loader, whose helpers
 * wrap every function. Compiled (dist/…/worker.js next to this file): that file as is. Without
 * esbuild: tsx's loader registered in the worker (tsx's hooks do not reach a worker by themselves).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface WorkerBundle {
  /** Module source for `new Worker(source, { eval: true })`. */
  readonly source: string;
  /** Removes the bundle file (after the workers loaded it). */
  dispose(): void;
}

const importOf = (href: string): string => `import(${JSON.stringify(href)});`;

/** `name`: the worker's file in this folder, without extension (default: the main simulator's). */
export function workerBundle(name = 'worker'): WorkerBundle {
  const here = import.meta.url;
  if (here.endsWith('.js')) return { source: importOf(new URL(`./${name}.js`, here).href), dispose: () => undefined };
  const entry = fileURLToPath(new URL(`./${name}.ts`, here));
  const dir = fileURLToPath(new URL('../../node_modules/.cache/vmac-sim/', here));
  const outfile = `${dir}worker-${process.pid}-${Math.random().toString(36).slice(2)}.mjs`;
  try {
    const esbuild = createRequire(here)('esbuild') as typeof import('esbuild');
    mkdirSync(dir, { recursive: true });
    esbuild.buildSync({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'esm', packages: 'external', target: 'node20', logLevel: 'silent' });
    let disposed = false;
    return {
      source: importOf(new URL(`file://${outfile}`).href),
      dispose: () => { if (!disposed) { disposed = true; rmSync(outfile, { force: true }); } },
    };
  } catch {
    const tsxApi = import.meta.resolve('tsx/esm/api');
    const worker = new URL(`./${name}.ts`, here).href;
    return { source: `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(worker)}); });`, dispose: () => undefined };
  }
}
