/**
 * What a reload (the file read again by a running daemon, without a restart) may change, pure.
 *
 * Live: this node's own weight, applied as its run-time weight (as `vmac weight N` does): it is
 * announced in heartbeats and the buckets move through the connection-preserving hand-over. The
 * running process keeps the fingerprint it started with, so its peers keep agreeing with it.
 *
 * Everything else needs a restart, and the reload is refused as a whole (nothing applied) naming
 * each field:
 *   - shared fields (in the config fingerprint: VIP, VMAC, mode, buckets, hash, timing, the node
 *     list, hand-over, quorum policy, key): only by the rolling procedure (docs/rolling-changes.md),
 *     a node at a time with a restart;
 *   - local fields the running daemon has bound or built from (interface, heartbeat port and
 *     addresses, control socket, metrics listener, ARP, resources, health checks, fencing, the
 *     data-path check): a restart of this node (hitless where the shared config is unchanged).
 */
import type { VmacConfig } from './types.js';
import { FINGERPRINT_FIELDS } from './fingerprint.js';

export interface ReloadChange { readonly field: string; readonly from: string; readonly to: string }
export type ReloadPlan =
  | { readonly outcome: 'unchanged' }
  | { readonly outcome: 'apply'; readonly weight: number; readonly changes: readonly ReloadChange[] }
  | { readonly outcome: 'refused'; readonly shared: readonly ReloadChange[]; readonly restart: readonly ReloadChange[] };

/** Flattens a value to `path -> JSON text` (arrays as one value: lists change as a whole). */
function flatten(v: unknown, path: string, out: Map<string, string>): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(x, path === '' ? k : `${path}.${k}`, out);
    return;
  }
  out.set(path, JSON.stringify(v) ?? 'undefined');
}

/** The shared field a path belongs to, or null for a local one. */
function sharedField(path: string): string | null {
  if (path === 'nodes' || path === 'peers' || path.startsWith('peers.') || path.startsWith('node.')) return 'nodes';
  if (path.startsWith('heartbeat.keyFile')) return 'heartbeat.keyFile (key identity)';
  const hit = FINGERPRINT_FIELDS.find((f) => path === f.name || path.startsWith(`${f.name}.`));
  return hit ? hit.name : null;
}

export function planReload(running: VmacConfig, next: VmacConfig): ReloadPlan {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten({ ...running, file: null }, '', a);
  flatten({ ...next, file: null }, '', b);
  const changes: ReloadChange[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const from = a.get(k) ?? 'absent';
    const to = b.get(k) ?? 'absent';
    if (from !== to) changes.push({ field: k, from, to });
  }
  if (changes.length === 0) return { outcome: 'unchanged' };
  // Our own weight shows as node.weight, and in the node list (nodes): both are the live change.
  const ownWeight = (c: ReloadChange): boolean => c.field === 'node.weight' || (c.field === 'nodes' && sameButOwnWeight(running, next));
  const shared: ReloadChange[] = [];
  const restart: ReloadChange[] = [];
  for (const c of changes) {
    if (ownWeight(c)) continue;
    (sharedField(c.field) !== null ? shared : restart).push(c);
  }
  if (shared.length + restart.length > 0) return { outcome: 'refused', shared, restart };
  return { outcome: 'apply', weight: next.node.weight, changes };
}

function sameButOwnWeight(a: VmacConfig, b: VmacConfig): boolean {
  const strip = (c: VmacConfig): string => JSON.stringify(c.nodes.map((n) => (n.id === c.node.id ? { ...n, weight: 0 } : n)));
  return a.node.id === b.node.id && strip(a) === strip(b);
}

/** One line for the operator (the control socket's reply and the log). */
export function describeReload(p: ReloadPlan): string {
  switch (p.outcome) {
    case 'unchanged': return 'reload: the file is unchanged';
    case 'apply': return `reload: weight ${p.weight} applied at run time (announced; buckets move through the hand-over)`;
    case 'refused': {
      const show = (cs: readonly ReloadChange[]): string => cs.map((c) => `${c.field} (${c.from} -> ${c.to})`).join(', ');
      const parts = [
        p.shared.length > 0 ? `shared fields need the rolling procedure (every node, one at a time, with a restart): ${show(p.shared)}` : '',
        p.restart.length > 0 ? `fields that need a restart of this node: ${show(p.restart)}` : '',
      ].filter(Boolean);
      return `reload refused, nothing applied: ${parts.join('; ')}`;
    }
  }
}
