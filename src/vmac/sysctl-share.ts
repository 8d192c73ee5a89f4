/**
 * Host-wide sysctls shared by several vmac services on one host (e.g. `arp_announce` of an
 * interface two services use): the first service to set one records the value it found, later
 * ones only add themselves, and the value is put back only when the last service still running
 * lets go. A service that died without letting go (kill -9) is dropped when its process is gone,
 * so it cannot pin the setting for ever, nor make the value it found look like the original.
 *
 * The decision is pure (acquireShare / releaseShare); the state lives in one small JSON file per
 * sysctl and network namespace under a run directory, changed under a lock directory
 * (createFileShareStore), so two daemons starting or stopping at once do not lose an update.
 */
import { mkdirSync, readFileSync, readlinkSync, renameSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VmacError } from '../util/errors.js';

export interface ShareHolder { readonly service: string; readonly pid: number }

export interface ShareState {
  readonly before: string | null; // the value found by the first holder (null: nobody holds it)
  readonly holders: readonly ShareHolder[];
}

export const EMPTY_SHARE: ShareState = { before: null, holders: [] };

/** `service` (process `pid`) sets the sysctl; `current` is what the kernel has now. */
export function acquireShare(s: ShareState, service: string, pid: number, current: string, isAlive: (pid: number) => boolean): ShareState {
  const others = s.holders.filter((h) => h.service !== service && isAlive(h.pid));
  // The first holder's finding stays the original, also when every holder since died without
  // letting go (the kernel then still has their value, not the original).
  return { before: s.before ?? current, holders: [...others, { service, pid }] };
}

/** `service` lets go: `restore` is the value to write back, or null while another service holds it. */
export function releaseShare(s: ShareState, service: string, isAlive: (pid: number) => boolean): { state: ShareState; restore: string | null } {
  const holders = s.holders.filter((h) => h.service !== service && isAlive(h.pid));
  if (holders.length > 0) return { state: { before: s.before, holders }, restore: null };
  return { state: EMPTY_SHARE, restore: s.before };
}

/** Where shared state lives: read-modify-write of one key under a lock. */
export interface ShareStore {
  update<T>(key: string, fn: (s: ShareState) => { state: ShareState; result: T }): T;
}

export function memoryShareStore(): ShareStore & { states: Map<string, ShareState> } {
  const states = new Map<string, ShareState>();
  return {
    states,
    update(key, fn) {
      const r = fn(states.get(key) ?? EMPTY_SHARE);
      states.set(key, r.state);
      return r.result;
    },
  };
}

/** A process is alive if /proc has it (signal 0 would need the same user). */
export function pidAlive(pid: number): boolean {
  try { statSync(`/proc/${pid}`); return true; } catch { return false; }
}

/** The network namespace's identity: sysctls of one namespace are shared, of another not. */
function netnsId(): string {
  try { return readlinkSync('/proc/self/ns/net').replace(/[^0-9]/g, '') || 'default'; } catch { return 'default'; }
}

/** Lock waits are bounded: a lock older than this was left by a crashed process and is broken. */
const STALE_LOCK_MS = 2000;

export function createFileShareStore(runDir: string): ShareStore {
  const dir = join(runDir, 'shared', netnsId());
  return {
    update(key, fn) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, `${key}.json`);
      const lock = `${file}.lock`;
      const deadline = Date.now() + 2 * STALE_LOCK_MS;
      for (;;) {
        try { mkdirSync(lock); break; } catch {
          try { if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmdirSync(lock); } catch { /* gone meanwhile */ }
          if (Date.now() > deadline) throw new VmacError('VMAC_SYSCTL_FAILED', `cannot lock ${lock}`, { key });
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // 5 ms, synchronous
        }
      }
      try {
        let s: ShareState = EMPTY_SHARE;
        try { s = JSON.parse(readFileSync(file, 'utf8')) as ShareState; } catch { /* none yet */ }
        const r = fn(s);
        writeFileSync(`${file}.tmp`, `${JSON.stringify(r.state)}\n`, { mode: 0o600 });
        renameSync(`${file}.tmp`, file);
        return r.result;
      } finally {
        rmdirSync(lock);
      }
    },
  };
}
