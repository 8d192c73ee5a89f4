/**
 * `vmac check` across files, pure. How files are told apart:
 *
 *   files with the SAME service name are the files of one cluster (one per node): every field of
 *   the config fingerprint (src/config/fingerprint.ts: VIP, VMAC, mode, buckets, hash, timing,
 *   node list, hand-over, quorum policy, key identity) must be equal, and each file must be a
 *   different node of the list;
 *   files with DIFFERENT service names are services of one host (`vmac check /etc/vmac/*.yaml`):
 *   they must not collide on the interface + VIP, the VMAC on one interface, the heartbeat port
 *   on a shared address, the metrics/dashboard address, the control socket, or the nft tables.
 *
 * Both checks run on any list of files: a mixed list is split by service name.
 */
import { FINGERPRINT_FIELDS, fingerprintOf } from './fingerprint.js';
import { ctTableName, tableName } from '../vmac/ruleset.js';
import type { VmacConfig } from './types.js';

export interface CrossProblem { readonly file: string; readonly field: string; readonly message: string }

export interface CheckedFile { readonly cfg: VmacConfig; readonly keyId: string }

/** Every problem between files: cluster disagreements first, then host collisions. */
export function crossCheck(files: readonly CheckedFile[]): CrossProblem[] {
  const byService = new Map<string, CheckedFile[]>();
  for (const f of files) byService.set(f.cfg.service, [...(byService.get(f.cfg.service) ?? []), f]);
  const out: CrossProblem[] = [];
  for (const group of byService.values()) if (group.length > 1) out.push(...clusterProblems(group));
  // One file per service for the host check (several files of one service are several nodes).
  const services = [...byService.values()].map((g) => g[0]).filter((f): f is CheckedFile => f !== undefined);
  out.push(...hostProblems(services));
  return out;
}

/** Files of one cluster: each shared field equal in every file, each file another node. */
export function clusterProblems(group: readonly CheckedFile[]): CrossProblem[] {
  const out: CrossProblem[] = [];
  const fps = group.map((f) => fingerprintOf(f.cfg, f.keyId));
  FINGERPRINT_FIELDS.forEach((field, i) => {
    const values = fps.map((fp) => fp.values[i] ?? '');
    const distinct = [...new Set(values)];
    if (distinct.length < 2) return;
    // The value most files have is the reference; every other file is named with both values.
    const count = (v: string): number => values.filter((x) => x === v).length;
    const common = distinct.reduce((a, b) => (count(b) > count(a) ? b : a));
    const commonFiles = group.filter((_, j) => values[j] === common).map((f) => f.cfg.file);
    group.forEach((f, j) => {
      const v = values[j] ?? '';
      if (v === common) return;
      const shown = field.name.startsWith('heartbeat.keyFile') ? `a key with identity ${v}` : JSON.stringify(v);
      const theirs = field.name.startsWith('heartbeat.keyFile') ? `identity ${common}` : JSON.stringify(common);
      out.push({ file: f.cfg.file, field: field.name, message: `differs from the other files of service "${f.cfg.service}": ${shown} here, ${theirs} in ${commonFiles.join(', ')} (must be equal on every node)` });
    });
  });
  const seen = new Map<number, string>();
  for (const f of group) {
    const other = seen.get(f.cfg.node.id);
    if (other !== undefined) out.push({ file: f.cfg.file, field: 'node.id', message: `node id ${f.cfg.node.id} is also this node in ${other}: each node of service "${f.cfg.service}" needs its own file and id` });
    else seen.set(f.cfg.node.id, f.cfg.file);
  }
  return out;
}

interface Claim { readonly what: string; readonly field: string; readonly key: string }

function claims(c: VmacConfig): Claim[] {
  const out: Claim[] = [
    ...(c.vip === null ? [] : [{ what: `VIP ${c.vip} on interface ${c.interface}`, field: 'vip', key: `vip ${c.interface} ${c.vip}` }]),
    // The VIP6 lives on lo (host-setup.ts): two services of one host cannot both hold it.
    ...(c.vip6 ? [{ what: `VIP6 ${c.vip6} on this host`, field: 'vip6', key: `vip6 ${c.vip6}` }] : []),
    { what: `VMAC ${c.vmac} on interface ${c.interface}`, field: 'vmac', key: `vmac ${c.interface} ${c.vmac}` },
    { what: `control socket ${c.control.socket}`, field: 'control.socket', key: `socket ${c.control.socket}` },
    { what: `nft table netdev ${tableName(c.service)}`, field: 'service', key: `table ${tableName(c.service)}` },
    { what: `nft table ip ${ctTableName(tableName(c.service))}`, field: 'service', key: `table ${ctTableName(tableName(c.service))}` },
  ];
  if (c.peers.length > 0) {
    // The heartbeat socket binds each of this node's addresses on the port.
    for (const a of c.node.addresses) out.push({ what: `heartbeat UDP ${a}:${c.heartbeat.port}`, field: 'heartbeat.port', key: `hb ${a}:${c.heartbeat.port}` });
  }
  const m = c.metrics.listen;
  if (m !== null) out.push({ what: `metrics/dashboard TCP ${m.host}:${m.port}`, field: 'metrics.listen', key: `tcp ${m.port}` });
  return out;
}

/** Services of one host: no two claim the same address, socket or table. */
export function hostProblems(services: readonly CheckedFile[]): CrossProblem[] {
  const out: CrossProblem[] = [];
  const owner = new Map<string, { file: string; service: string }>();
  for (const s of services) {
    for (const c of claims(s.cfg)) {
      const prev = owner.get(c.key);
      if (prev === undefined) { owner.set(c.key, { file: s.cfg.file, service: s.cfg.service }); continue; }
      if (prev.service === s.cfg.service) continue;
      out.push({ file: s.cfg.file, field: c.field, message: `service "${s.cfg.service}" collides with service "${prev.service}" in ${prev.file}: both use ${c.what} (services on one host need their own)` });
    }
  }
  return out;
}
