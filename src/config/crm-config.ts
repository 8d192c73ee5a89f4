/**
 * The cluster-placement fields of the `resources:` section (issue 19): kinds, the floating-VIP
 * driver, location scores, stickiness, colocation, ordering and failure handling. Checked once
 * here (every problem names its field) and built into the CrmModel every node shares.
 */
import { parseIp } from '../util/ip.js';
import type { ConfigProblem } from './problems.js';
import type { RawResource } from './ha-raw.js';
import { parseScore, INFINITY } from '../crm/score.js';
import { SERVING, type Colocation, type CrmDriverSpec, type CrmModel, type CrmResource, type ResourceKind } from '../crm/model.js';
import type { ResourceDriverSpec } from './ha-types.js';

const PLACEMENT_FIELDS = ['prefer', 'avoid', 'stickiness', 'colocate', 'after', 'migrationThreshold', 'failureTimeoutMs'] as const;
const DRIVER_FIELDS = ['command', 'systemd', 'ocf', 'vip'] as const;

export const CRM_DEFAULTS = {
  // Pacemaker's default resource-stickiness is 0: a resource may move back to a preferred node.
  stickiness: 0,
  // 0 = never banned for failures (Pacemaker's default migration-threshold is INFINITY failures).
  migrationThreshold: 0,
  // 0 = failures never expire by themselves (Pacemaker's failure-timeout default); `vmac resource cleanup` clears them.
  failureTimeoutMs: 0,
} as const;

function kindOf(r: RawResource): ResourceKind {
  return r.kind ?? 'clone';
}

/** Splits `addr[/len]`; null when the address does not parse. */
export function parseVipAddress(text: string): { address: string; prefixLength: number; family: 4 | 6 } | null {
  const [addr = '', len, extra] = text.split('/');
  if (extra !== undefined) return null;
  let family: 4 | 6;
  try { family = parseIp(addr).family; } catch { return null; }
  const max = family === 4 ? 32 : 128;
  const prefixLength = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!Number.isInteger(prefixLength) || prefixLength < 1 || prefixLength > max) return null;
  return { address: addr, prefixLength, family };
}

/** Colocation and ordering must not loop: a cycle has no placement order. Returns one cycle, or null. */
function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (n: string): string[] | null => {
    if (state.get(n) === 'done') return null;
    if (state.get(n) === 'open') return [...path.slice(path.indexOf(n)), n];
    state.set(n, 'open');
    path.push(n);
    for (const m of edges.get(n) ?? []) { const c = visit(m); if (c) return c; }
    path.pop();
    state.set(n, 'done');
    return null;
  };
  for (const n of [...edges.keys()].sort()) { const c = visit(n); if (c) return c; }
  return null;
}

/** Problems in the placement fields of `resources` (run when the section passed the schema). */
export function crmProblems(resources: readonly RawResource[], nodes: ReadonlySet<string>): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const byName = new Map(resources.map((r) => [r.name, r]));
  const groupOf = new Map<string, string>();
  const known = [...nodes].join(', ');
  resources.forEach((r, i) => {
    const at = `resources[${i}]`;
    const kind = kindOf(r);
    if (r.name.startsWith('@')) out.push({ path: `${at}.name`, message: `"${r.name}": names starting with @ are reserved (${SERVING} names the VIP's serving nodes)` });
    if (kind === 'group') {
      const drivers = DRIVER_FIELDS.filter((k) => r[k] !== undefined);
      if (drivers.length > 0) out.push({ path: `${at}.${drivers[0] ?? ''}`, message: 'a group has no driver of its own: its members do the work' });
      if (r.members === undefined) out.push({ path: `${at}.members`, message: 'required for kind group: the member resources in start order' });
      for (const [j, m] of (r.members ?? []).entries()) {
        const mr = byName.get(m);
        const mat = `${at}.members[${j}]`;
        if (mr === undefined) out.push({ path: mat, message: `"${m}" is not a configured resource` });
        else if (kindOf(mr) !== 'singleton') out.push({ path: mat, message: `"${m}" is kind ${kindOf(mr)}; group members must be kind singleton` });
        else if (groupOf.has(m)) out.push({ path: mat, message: `"${m}" is already a member of group "${groupOf.get(m) ?? ''}"` });
        else groupOf.set(m, r.name);
      }
    } else if (r.members !== undefined) {
      out.push({ path: `${at}.members`, message: `only for kind group (this resource is kind ${kind})` });
    }
    if (r.vip !== undefined) {
      if (kind !== 'singleton') out.push({ path: `${at}.vip`, message: `the floating VIP driver is for kind singleton (an address on ${kind === 'clone' ? 'every node' : 'a group'} would conflict)` });
      if (parseVipAddress(r.vip.address) === null) out.push({ path: `${at}.vip.address`, message: `not an IPv4/IPv6 address with optional /prefix, got ${JSON.stringify(r.vip.address)}` });
    }
    if (kind === 'clone') {
      for (const f of PLACEMENT_FIELDS) if (r[f] !== undefined) out.push({ path: `${at}.${f}`, message: 'only for kind singleton or group (a clone runs on every node in service)' });
    }
    for (const f of ['prefer', 'avoid'] as const) {
      for (const node of Object.keys(r[f] ?? {})) if (!nodes.has(node)) out.push({ path: `${at}.${f}.${node}`, message: `"${node}" is not a configured node (nodes: ${known})` });
    }
  });
  // Second pass: references that need group membership known.
  resources.forEach((r, i) => {
    const at = `resources[${i}]`;
    const group = groupOf.get(r.name);
    if (group !== undefined) {
      for (const f of PLACEMENT_FIELDS) if (r[f] !== undefined) out.push({ path: `${at}.${f}`, message: `"${r.name}" is a member of group "${group}": put placement, ordering and failure handling on the group` });
    }
    const target = (name: string, path: string, what: string): void => {
      if (name === r.name) { out.push({ path, message: `a resource cannot ${what} itself` }); return; }
      const t = byName.get(name);
      if (t === undefined) out.push({ path, message: `"${name}" is not a configured resource${what === 'colocate with' ? ` (or ${SERVING})` : ''}` });
      else if (kindOf(t) === 'clone') out.push({ path, message: `"${name}" is a clone; only singletons and groups can be ${what === 'colocate with' ? `colocated with (use ${SERVING} for the serving nodes)` : 'ordered'}` });
      else if (groupOf.has(name)) out.push({ path, message: `"${name}" is a member of group "${groupOf.get(name) ?? ''}": refer to the group` });
    };
    (r.colocate ?? []).forEach((c, j) => { if (c.with !== SERVING) target(c.with, `${at}.colocate[${j}].with`, 'colocate with'); });
    (r.after ?? []).forEach((a, j) => target(a, `${at}.after[${j}]`, 'start after'));
  });
  if (out.length > 0) return out;
  const colo = new Map(resources.map((r) => [r.name, (r.colocate ?? []).map((c) => c.with).filter((w) => w !== SERVING)]));
  const cc = findCycle(colo);
  if (cc) out.push({ path: 'resources', message: `colocations form a cycle (${cc.join(' → ')}): the placement has no order` });
  const ord = new Map(resources.map((r) => [r.name, [...(r.after ?? [])]]));
  const oc = findCycle(ord);
  if (oc) out.push({ path: 'resources', message: `orderings form a cycle (${oc.join(' after ')}): nothing could start first` });
  return out;
}

function driverOf(r: RawResource, iface: string, local: (r: RawResource) => ResourceDriverSpec): CrmDriverSpec | null {
  if (kindOf(r) === 'group') return null;
  if (r.vip) {
    const v = parseVipAddress(r.vip.address);
    if (v === null) throw new Error(`unchecked vip address ${r.vip.address}`); // crmProblems rejected it
    return { kind: 'vip', address: v.address, prefixLength: v.prefixLength, interface: r.vip.interface ?? iface };
  }
  return local(r);
}

function scoresOf(r: RawResource): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [n, s] of Object.entries(r.prefer ?? {})) out[n] = parseScore(s);
  for (const [n, s] of Object.entries(r.avoid ?? {})) {
    const v = parseScore(s);
    const neg = v >= INFINITY ? -INFINITY : -v;
    out[n] = out[n] === undefined ? neg : Math.max(-INFINITY, Math.min(INFINITY, (out[n] ?? 0) + neg));
  }
  return out;
}

/** The model of a checked `resources` list (`iface`: the service's interface, the VIP driver's default). */
export function buildCrm(resources: readonly RawResource[], iface: string, local: (r: RawResource) => ResourceDriverSpec): CrmModel {
  return {
    resources: resources.map((r): CrmResource => ({
      name: r.name,
      kind: kindOf(r),
      driver: driverOf(r, iface, local),
      members: [...(r.members ?? [])],
      location: scoresOf(r),
      stickiness: r.stickiness ?? CRM_DEFAULTS.stickiness,
      colocations: (r.colocate ?? []).map((c): Colocation => ({ with: c.with, score: parseScore(c.score ?? 'INFINITY') })),
      after: [...(r.after ?? [])],
      migrationThreshold: r.migrationThreshold ?? CRM_DEFAULTS.migrationThreshold,
      failureTimeoutMs: r.failureTimeoutMs ?? CRM_DEFAULTS.failureTimeoutMs,
    })),
  };
}

/**
 * The model's canonical text for the config fingerprint: every field of every singleton and group,
 * in file order. Clones stay out: each node runs its own (their commands may name local paths),
 * exactly as before layout 2.
 */
export function crmText(m: CrmModel): string {
  return m.resources.filter((r) => r.kind !== 'clone').map((r) => JSON.stringify([r.name, r.kind, r.driver, r.members, Object.entries(r.location).sort(([a], [b]) => a.localeCompare(b)), r.stickiness, r.colocations, r.after, r.migrationThreshold, r.failureTimeoutMs])).join('\n');
}
