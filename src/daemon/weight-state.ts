/**
 * Run-time weights that survive a restart where the operator asks (`vmac weight N --persist`):
 * one small JSON file per service under the run directory, read at start. Without `--persist` a
 * run-time weight lasts until the process ends (the file's weight at the next start), as before.
 *
 * The decision is pure (`startWeight`); the file helpers write atomically (rename) and read
 * defensively: a missing, malformed or other service's file is ignored (the configured weight).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PersistedWeight { readonly version: 1; readonly service: string; readonly weight: number; readonly setAtEpochMs: number }

export const MAX_WEIGHT = 1000;

export function weightStatePath(runDir: string, service: string): string {
  return join(runDir, `${service}.weight.json`);
}

/** The weight to start with, and where it came from. */
export function startWeight(configured: number, persisted: PersistedWeight | null): { weight: number; source: 'config' | 'persisted' } {
  return persisted === null ? { weight: configured, source: 'config' } : { weight: persisted.weight, source: 'persisted' };
}

export function validWeight(w: unknown): w is number {
  return typeof w === 'number' && Number.isInteger(w) && w >= 0 && w <= MAX_WEIGHT;
}

export function writePersistedWeight(path: string, service: string, weight: number, nowEpochMs: number): void {
  if (!validWeight(weight)) throw new RangeError(`weight must be an integer 0..${MAX_WEIGHT}, got ${JSON.stringify(weight)}`);
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o755 });
  const tmp = `${path}.tmp`;
  const st: PersistedWeight = { version: 1, service, weight, setAtEpochMs: nowEpochMs };
  writeFileSync(tmp, `${JSON.stringify(st)}\n`, { mode: 0o644 });
  renameSync(tmp, path);
}

/** null when absent, unreadable, malformed or for another service. */
export function readPersistedWeight(path: string, service: string): PersistedWeight | null {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch { return null; }
  try {
    const st = JSON.parse(text) as Partial<PersistedWeight>;
    return st.version === 1 && st.service === service && validWeight(st.weight) && typeof st.setAtEpochMs === 'number' ? (st as PersistedWeight) : null;
  } catch { return null; }
}

/** `vmac weight N` without --persist after a persisted one: back to the file's weight at the next start. */
export function clearPersistedWeight(path: string): void {
  rmSync(path, { force: true });
}
