/**
 * The lab's second readiness step: every daemon serving is not enough on a large lab. Nodes
 * start one after another, the first ones take every bucket, and the rest come to them through
 * the hand-over (drain, grant, take). A lab is *balanced* once every node holds exactly its
 * buckets of the configured map (each node's share, within one bucket of fair for equal
 * weights), with nothing incoming or draining anywhere. Measured runs start only then.
 */
import { loadConfig } from '../src/config/load.js';
import { ownedBuckets, staticMap } from '../src/daemon/ownership.js';
import type { DaemonStatus } from '../src/daemon/node-daemon.js';
import type { LabNodeInfo } from './lab.js';
import { statusOf } from './ha-lab.js';

export interface BalanceReading {
  /** Nodes whose kernel holds exactly their buckets of the configured map, nothing moving. */
  readonly balanced: number;
  readonly nodes: number;
  /** Per node: buckets held (any phase) / expected. */
  readonly held: Record<string, { held: number; expected: number; incoming: number; draining: number; serving: boolean }>;
}

/** Whether one node's status shows it holding exactly `expected` (sorted) and nothing moving. Pure. */
export function nodeBalanced(s: DaemonStatus | null, expected: readonly number[]): boolean {
  if (s === null) return false;
  const c = s.cluster;
  return c.handover.incoming.length === 0 && c.handover.draining.length === 0 && c.owned.length === expected.length && c.owned.every((b, i) => b === expected[i]);
}

export async function readBalance(nodes: readonly LabNodeInfo[]): Promise<BalanceReading> {
  const first = nodes[0];
  if (!first) return { balanced: 0, nodes: 0, held: {} };
  const cfg = loadConfig(first.config);
  const map = staticMap(cfg);
  const statuses = await Promise.all(nodes.map(statusOf));
  const held: BalanceReading['held'] = {};
  let balanced = 0;
  nodes.forEach((n, i) => {
    const s = statuses[i] ?? null;
    const expected = ownedBuckets(map, n.id);
    if (nodeBalanced(s, expected)) balanced++;
    held[n.name] = { held: s?.cluster.owned.length ?? 0, expected: expected.length, incoming: s?.cluster.handover.incoming.length ?? 0, draining: s?.cluster.handover.draining.length ?? 0, serving: s?.cluster.quorum.lease === 'renew' };
  });
  return { balanced, nodes: nodes.length, held };
}

/** Polls until every node is balanced; returns the last reading and how long it took. */
export async function waitBalanced(nodes: readonly LabNodeInfo[], timeoutMs: number, pollMs = 500): Promise<{ ok: boolean; afterMs: number; reading: BalanceReading }> {
  const t0 = Date.now();
  for (;;) {
    const reading = await readBalance(nodes);
    if (reading.balanced === reading.nodes) return { ok: true, afterMs: Date.now() - t0, reading };
    if (Date.now() - t0 > timeoutMs) return { ok: false, afterMs: Date.now() - t0, reading };
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
