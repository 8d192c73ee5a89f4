/**
 * The operator's event vocabulary (logs, dashboard timeline, metrics): what happened, to which
 * node or bucket, why, and how long it took. Two sources feed it:
 *  - `fromLog`: the daemon's own log events (buckets-moved, serving, lease-stopped, ...), taken
 *    from the pino call itself (a logger hook), so the timeline and the logs cannot disagree;
 *  - `diffStatus`: changes between two status snapshots (joins, suspicions, deaths, drains),
 *    which the cluster loop does not log. Pure: both snapshots in, events out.
 */
import type { ClusterStatus } from '../daemon/cluster-runtime.js';

export type TimelineKind =
  | 'node-joined' | 'node-suspect' | 'node-dead' | 'node-draining' | 'node-leaving'
  | 'takeover' | 'buckets-moved' | 'serving' | 'lease-stopped' | 'lease-short'
  | 'ready' | 'stopping' | 'fence' | 'health';

export interface TimelineEvent {
  readonly atMs: number; // ms since the epoch
  readonly event: TimelineKind;
  readonly node?: string;
  readonly bucket?: number;
  readonly reason?: string;
  readonly durationMs?: number;
  readonly buckets?: number; // how many buckets, for moves
}

const FROM_LOG: ReadonlySet<string> = new Set(['buckets-moved', 'serving', 'lease-stopped', 'lease-short', 'ready', 'stopping', 'fence', 'health']);

/** A daemon log record (the object passed to pino) → a timeline event, or null if not one. */
export function fromLog(obj: Record<string, unknown>, atMs: number, selfName: string): TimelineEvent | null {
  const ev = obj.event;
  if (typeof ev !== 'string' || !FROM_LOG.has(ev)) return null;
  const reason = typeof obj.reason === 'string' ? obj.reason : undefined;
  const base = { atMs, node: typeof obj.node === 'string' ? obj.node : selfName, ...(reason === undefined ? {} : { reason }) };
  if (ev === 'buckets-moved') {
    const added = typeof obj.added === 'number' ? obj.added : 0;
    const removed = typeof obj.removed === 'number' ? obj.removed : 0;
    const kind: TimelineKind = reason === 'takeover' ? 'takeover' : 'buckets-moved';
    const durationMs = typeof obj.durationMs === 'number' ? { durationMs: obj.durationMs } : {};
    return { ...base, event: kind, buckets: added + removed, ...durationMs };
  }
  return { ...base, event: ev as TimelineKind };
}

/** Membership changes between two snapshots of this node's view. */
export function diffStatus(prev: ClusterStatus | null, next: ClusterStatus, atMs: number): TimelineEvent[] {
  if (prev === null) return [];
  const out: TimelineEvent[] = [];
  const before = new Map(prev.nodes.map((n) => [n.id, n]));
  for (const n of next.nodes) {
    if (n.id === next.self.id) continue;
    const p = before.get(n.id);
    if (!p) continue;
    if (p.status !== n.status) {
      if (n.status === 'alive') out.push({ atMs, event: 'node-joined', node: n.name, reason: `was ${p.status}` });
      else if (n.status === 'suspect') out.push({ atMs, event: 'node-suspect', node: n.name, ...(n.lastHeardMsAgo === null ? {} : { durationMs: n.lastHeardMsAgo }) });
      else if (n.status === 'dead') out.push({ atMs, event: 'node-dead', node: n.name, ...(n.lastHeardMsAgo === null ? {} : { durationMs: n.lastHeardMsAgo }) });
    }
    if (p.state !== n.state && (n.state === 'draining' || n.state === 'leaving')) {
      out.push({ atMs, event: n.state === 'draining' ? 'node-draining' : 'node-leaving', node: n.name });
    }
  }
  return out;
}

/** A bounded ring of recent events (the dashboard shows the newest; memory stays fixed). */
export class TimelineRing {
  private readonly items: TimelineEvent[] = [];
  constructor(private readonly capacity: number) {}
  push(e: TimelineEvent): void {
    this.items.push(e);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }
  recent(): readonly TimelineEvent[] {
    return [...this.items];
  }
}
