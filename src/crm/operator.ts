/**
 * Operator constraints (`vmac resource move|ban|clear|cleanup|standby`), pure. They are
 * cluster-wide: one OperatorScores value (transition.ts) travels in every node's report, and
 * every node keeps the newest (highest version; equal versions: the larger text), so all members
 * end with the same constraints whichever node the operator asked. Besides resource → node
 * scores (Pacemaker's `cli-prefer` / `cli-ban` location constraints) it holds two reserved rows
 * that are no resource name: `@standby` (node → 1: runs no singleton) and `@cleanup`
 * (resource → a counter each node applies once: forget the failures and bans of that resource).
 */
import type { CrmModel } from './model.js';
import { INFINITY } from './score.js';
import type { OperatorScores } from './transition.js';

export const STANDBY_ROW = '@standby';
export const CLEANUP_ROW = '@cleanup';

export type ResourceOp =
  | { readonly op: 'move'; readonly resource: string; readonly node: string }
  | { readonly op: 'ban'; readonly resource: string; readonly node: string }
  | { readonly op: 'clear'; readonly resource: string }
  | { readonly op: 'cleanup'; readonly resource: string }
  | { readonly op: 'standby'; readonly node: string; readonly on: boolean };

/** Parses a control-socket request's fields; a string says what is wrong. */
export function parseResourceOp(raw: { op?: unknown; resource?: unknown; node?: unknown; on?: unknown }): ResourceOp | string {
  const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 63;
  switch (raw.op) {
    case 'move': case 'ban':
      return str(raw.resource) && str(raw.node) ? { op: raw.op, resource: raw.resource, node: raw.node } : `resource ${raw.op}: needs resource and node`;
    case 'clear': case 'cleanup':
      return str(raw.resource) ? { op: raw.op, resource: raw.resource } : `resource ${raw.op}: needs resource`;
    case 'standby':
      return str(raw.node) && typeof raw.on === 'boolean' ? { op: 'standby', node: raw.node, on: raw.on } : 'resource standby: needs node and on (true/false)';
    default: return `resource: unknown operation ${JSON.stringify(raw.op)} (move, ban, clear, cleanup, standby)`;
  }
}

/** The top-level unit an operator constraint applies to: a group for a member (Pacemaker moves the group). */
function unitOf(model: CrmModel, name: string): string | null {
  const r = model.resources.find((x) => x.name === name);
  if (r === undefined || r.kind === 'clone') return null;
  const group = model.resources.find((g) => g.kind === 'group' && g.members.includes(name));
  return group?.name ?? name;
}

/**
 * The constraints after one operation, versioned above the current ones (wallMs, or one more
 * than the current version when a clock is behind), or a string naming the bad argument.
 */
export function applyResourceOp(cur: OperatorScores, op: ResourceOp, model: CrmModel, nodes: readonly string[], wallMs: number): OperatorScores | string {
  const version = Math.max(Math.floor(wallMs), cur.version + 1);
  const scores: Record<string, Record<string, number>> = Object.fromEntries(Object.entries(cur.scores).map(([r, by]) => [r, { ...by }]));
  if ('node' in op && !nodes.includes(op.node)) return `unknown node "${op.node}" (configured: ${nodes.join(', ')})`;
  if (op.op === 'standby') {
    const row = { ...(scores[STANDBY_ROW] ?? {}) };
    if (op.on) row[op.node] = 1;
    else delete row[op.node];
    scores[STANDBY_ROW] = row;
    return { version, scores: prune(scores) };
  }
  const unit = unitOf(model, op.resource);
  if (unit === null) return `"${op.resource}" is no singleton or group of this service`;
  switch (op.op) {
    case 'move': {
      // Like crm_resource --move: prefer the node absolutely; an earlier move of this unit is replaced, its bans stay.
      const row = Object.fromEntries(Object.entries(scores[unit] ?? {}).filter(([, s]) => s < 0));
      row[op.node] = INFINITY;
      scores[unit] = row;
      break;
    }
    case 'ban': scores[unit] = { ...(scores[unit] ?? {}), [op.node]: -INFINITY }; break;
    case 'clear': delete scores[unit]; break;
    case 'cleanup': {
      // Cleanup is per primitive: a group's cleanup cleans every member.
      const row = { ...(scores[CLEANUP_ROW] ?? {}) };
      const targets = model.resources.find((r) => r.name === op.resource)?.kind === 'group' ? model.resources.find((r) => r.name === op.resource)?.members ?? [] : [op.resource];
      for (const t of targets) row[t] = ((row[t] ?? 0) % 1_000_000) + 1;
      scores[CLEANUP_ROW] = row;
      break;
    }
  }
  return { version, scores: prune(scores) };
}

function prune(scores: Record<string, Record<string, number>>): Record<string, Record<string, number>> {
  return Object.fromEntries(Object.entries(scores).filter(([, by]) => Object.keys(by).length > 0));
}

/** Nodes the operator put in standby. */
export function standbyOf(op: OperatorScores): string[] {
  return Object.keys(op.scores[STANDBY_ROW] ?? {}).sort();
}

/** Cleanups not applied yet on this node: resource names, and the counters to remember as applied. */
export function pendingCleanups(op: OperatorScores, applied: Readonly<Record<string, number>>): { resources: string[]; applied: Record<string, number> } {
  const row = op.scores[CLEANUP_ROW] ?? {};
  const resources = Object.entries(row).filter(([r, k]) => applied[r] !== k).map(([r]) => r).sort();
  return { resources, applied: { ...applied, ...row } };
}
