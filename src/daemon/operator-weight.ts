/**
 * The operator's weight and reload requests (control socket: `vmac weight N [--persist]`,
 * `vmac reload`, SIGHUP), kept out of the daemon's wiring: each returns what to tell the operator.
 *   weight N            run-time weight; a weight persisted before is forgotten (the file's weight
 *                       applies at the next start)
 *   weight N --persist  run-time weight, also written under the run directory and used at start
 *   reload              the file read again; only this node's own weight applies live
 *                       (src/config/reload-plan.ts), anything else is refused, nothing applied
 */
import { basename, dirname } from 'node:path';
import type { VmacConfig } from '../config/types.js';
import { describeReload, planReload } from '../config/reload-plan.js';
import { clearPersistedWeight, readPersistedWeight, startWeight, weightStatePath, writePersistedWeight } from './weight-state.js';

export interface WeightTarget { setWeight(weight: number): void }

/**
 * Where this service's persisted weight lives: beside its control socket, named after it (like the
 * restart file), so nodes or services that share a directory never share the file.
 */
export function weightFileOf(cfg: Pick<VmacConfig, 'control' | 'service'>): string {
  return weightStatePath(dirname(cfg.control.socket), `${basename(cfg.control.socket)}.${cfg.service}`);
}

/** At start: a persisted weight, if any, replaces the file's. Returns the line to log. */
export function applyPersistedWeight(cfg: VmacConfig, cluster: WeightTarget): { weight: number; source: 'config' | 'persisted' } {
  const w = startWeight(cfg.node.weight, readPersistedWeight(weightFileOf(cfg), cfg.service));
  if (w.source === 'persisted') cluster.setWeight(w.weight);
  return w;
}

export function operatorWeight(cfg: VmacConfig, cluster: WeightTarget, weight: number, persist: boolean, nowEpochMs: number): string {
  cluster.setWeight(weight);
  if (persist) { writePersistedWeight(weightFileOf(cfg), cfg.service, weight, nowEpochMs); return `weight ${weight}, kept across restarts (${weightFileOf(cfg)})`; }
  clearPersistedWeight(weightFileOf(cfg));
  return `weight ${weight} until this daemon restarts`;
}

export function operatorReload(cfg: VmacConfig, cluster: WeightTarget, load: (path: string) => VmacConfig): { ok: boolean; message: string } {
  let next: VmacConfig;
  try { next = load(cfg.file); } catch (err) { return { ok: false, message: `reload refused, nothing applied: ${(err as Error).message}` }; }
  const p = planReload(cfg, next);
  if (p.outcome === 'apply') cluster.setWeight(p.weight);
  return { ok: p.outcome !== 'refused', message: describeReload(p) };
}
