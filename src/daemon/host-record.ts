/**
 * What this service changed on the host outside nftables (the VIP, sysctls), kept in a file
 * beside the control socket while the daemon runs and removed once it has restored them. A
 * daemon that died without stopping (kill -9, crash, the systemd watchdog's abort) leaves the
 * file; its successor reads it, so that its own later stop removes the VIP the dead one added and
 * writes back the sysctl values from before the first start (not the dead one's settings, which
 * the successor would otherwise read as "before").
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { HostChanges } from '../vmac/host-setup.js';

export interface HostRecord {
  readonly version: 1;
  readonly service: string;
  readonly ifname: string;
  readonly vip: string;
  readonly vipAdded: boolean;
  readonly sysctlsBefore: readonly (readonly [string, string])[];
}

export function hostRecordPath(controlSocket: string, service: string): string {
  return join(dirname(controlSocket), `${basename(controlSocket)}.${service}.host.json`);
}

/** Pure: this start's changes, plus what a predecessor that never stopped had changed first. */
export function mergeHostChanges(prepared: HostChanges, record: HostRecord | null, ifname: string, vip: string): HostChanges {
  if (record === null || record.ifname !== ifname || record.vip !== vip) return prepared;
  const sysctlsBefore = new Map(prepared.sysctlsBefore);
  for (const [k, v] of record.sysctlsBefore) sysctlsBefore.set(k, v);
  return { ...prepared, vipAdded: prepared.vipAdded || record.vipAdded, sysctlsBefore };
}

export function readHostRecord(path: string, service: string): HostRecord | null {
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as HostRecord;
    return r.version === 1 && r.service === service && typeof r.vipAdded === 'boolean' && Array.isArray(r.sysctlsBefore) ? r : null;
  } catch {
    return null;
  }
}

export function writeHostRecord(path: string, r: HostRecord): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(r)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

export function removeHostRecord(path: string): void {
  rmSync(path, { force: true });
}
