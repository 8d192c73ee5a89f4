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
  /** null: an IPv6-only service. */
  readonly vip: string | null;
  readonly vipAdded: boolean;
  /** The VIP6 (on `lo`) and whether this service added it; absent in records of IPv4-only services. */
  readonly vip6?: string | null;
  readonly vip6Added?: boolean;
  readonly sysctlsBefore: readonly (readonly [string, string])[];
}

export function hostRecordPath(controlSocket: string, service: string): string {
  return join(dirname(controlSocket), `${basename(controlSocket)}.${service}.host.json`);
}

/**
 * Pure: this start's changes, plus what a predecessor that never stopped had changed first. The
 * VIP6 the predecessor added is ours to remove when the record names the same VIP6 (a record
 * without `vip6` predates dual stack or had none: nothing of IPv6 to take over).
 */
export function mergeHostChanges(prepared: HostChanges, record: HostRecord | null, ifname: string, vip: string | null, vip6: string | null = null): HostChanges {
  if (record === null || record.ifname !== ifname || record.vip !== vip) return prepared;
  const sysctlsBefore = new Map(prepared.sysctlsBefore);
  for (const [k, v] of record.sysctlsBefore) sysctlsBefore.set(k, v);
  const inherit6 = vip6 !== null && (record.vip6 ?? null) === vip6 && record.vip6Added === true;
  return { ...prepared, vipAdded: prepared.vipAdded || record.vipAdded, ...(inherit6 ? { vip6Added: true } : {}), sysctlsBefore };
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
