/**
 * The shared-config fingerprint this node's previous daemon of a service started with, kept beside
 * the control socket. A fresh start with another fingerprint (a rolling change on this node) makes
 * the runtime listen two heartbeat intervals before its first lease (config-agreement.ts
 * startHoldUntil): the previous process may have helped a node that our new list does not name to
 * a lease, and our list gives no start gate for that node.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function lastConfigPath(controlSocket: string, service: string): string {
  return join(dirname(controlSocket), `${basename(controlSocket)}.${service}.fingerprint`);
}

/** Whether the previous start recorded another digest (false when none was recorded); records ours. */
export function configChangedSinceLastStart(path: string, digest: string): boolean {
  let before: string | null = null;
  try { before = readFileSync(path, 'utf8').trim(); } catch { before = null; }
  try { writeFileSync(`${path}.tmp`, `${digest}\n`, { mode: 0o644 }); renameSync(`${path}.tmp`, path); } catch { /* best effort: the hold is then skipped next time */ }
  return before !== null && before !== '' && before !== digest;
}
