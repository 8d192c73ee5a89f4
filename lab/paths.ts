/** Where the lab finds the project's built artefacts and keeps its per-lab state. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VmacError } from '../src/util/errors.js';

/** The repository root: the nearest folder above this file with the project's package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'lab'))) return dir;
    dir = dirname(dir);
  }
  throw new VmacError('VMAC_LAB_FAILED', 'cannot find the vmac repository root from the lab module');
}

export function labStateDir(name: string): string {
  return join('/run/vmac-lab', name);
}

export function requireBuilt(path: string, how: string): string {
  if (!existsSync(path)) throw new VmacError('VMAC_LAB_FAILED', `${path} is missing: ${how}`, { path });
  return path;
}

export function daemonEntry(): string {
  return requireBuilt(join(repoRoot(), 'dist/src/cli/main.js'), 'run `make build` (or `make setup`) first');
}

/**
 * The `vmac` the lab runs in its nodes: the source tree's build (node dist/src/cli/main.js), or
 * the program named by VMAC_LAB_VMAC (e.g. an installed package's /usr/bin/vmac), run as is.
 */
export function vmacCommand(env: NodeJS.ProcessEnv = process.env): { file: string; args: string[] } {
  const given = env.VMAC_LAB_VMAC;
  if (given !== undefined && given !== '') return { file: requireBuilt(given, 'VMAC_LAB_VMAC names no file'), args: [] };
  return { file: process.execPath, args: [daemonEntry()] };
}

export function labBinary(name: 'vmac-echo' | 'vmac-prober' | 'vmac-streams' | 'vmac-drainload'): string {
  return requireBuilt(join(repoRoot(), 'lab/bin', name), 'run `make -C lab/c` (or `make setup`) first');
}
