import { describe, expect, it } from 'vitest';
import type { ClusterStatus } from '../../../src/daemon/cluster-runtime.js';
import { diffStatus, fromLog, TimelineRing } from '../../../src/metrics/timeline.js';
import { createEventTap } from '../../../src/metrics/event-tap.js';
import { formatLogLine } from '../../../src/cli/log-format.js';
import { parseExposition, sumOf } from '../../../lab/metrics-scrape.js';

function status(nodes: { id: number; status: 'alive' | 'suspect' | 'dead' | 'unknown'; state?: string | null }[]): ClusterStatus {
  return {
    self: { id: 1, name: 'n1', state: 'active', incarnation: '1', servingSinceMs: 0 },
    quorum: { has: true, lease: 'renew', size: 2 },
    view: { epoch: 1, digest: 'x', absent: [], disagreeing: [] },
    owned: [], handover: { incoming: [], draining: [], grants: [], weight: 100 },
    nodes: nodes.map((n) => ({ id: n.id, name: `n${n.id}`, status: n.status, state: n.state ?? 'active', lastHeardMsAgo: 250, digest: null, links: [] })),
    heartbeats: { sent: 0, received: {} as ClusterStatus['heartbeats']['received'], perLinkReceived: [0], flowMessages: 0 },
    moves: 0,
  };
}

describe('timeline', () => {
  it('turns status changes into joins, suspicions, deaths and drains', () => {
    const a = status([{ id: 1, status: 'alive' }, { id: 2, status: 'alive' }, { id: 3, status: 'dead' }]);
    const b = status([{ id: 1, status: 'alive' }, { id: 2, status: 'dead' }, { id: 3, status: 'alive', state: 'draining' }]);
    expect(diffStatus(null, a, 5)).toEqual([]);
    expect(diffStatus(a, b, 5)).toEqual([
      { atMs: 5, event: 'node-dead', node: 'n2', durationMs: 250 },
      { atMs: 5, event: 'node-joined', node: 'n3', reason: 'was dead' },
      { atMs: 5, event: 'node-draining', node: 'n3' },
    ]);
  });

  it('takes takeovers and moves from the daemon\'s log records', () => {
    expect(fromLog({ event: 'buckets-moved', reason: 'takeover', added: 42, removed: 0 }, 9, 'n1')).toEqual({ atMs: 9, node: 'n1', reason: 'takeover', event: 'takeover', buckets: 42 });
    expect(fromLog({ event: 'serving', owned: 3 }, 9, 'n1')).toEqual({ atMs: 9, node: 'n1', event: 'serving' });
    expect(fromLog({ event: 'capture-lost' }, 9, 'n1')).toBeNull();
  });

  it('keeps a bounded ring', () => {
    const r = new TimelineRing(2);
    for (let i = 0; i < 5; i++) r.push({ atMs: i, event: 'serving' });
    expect(r.recent().map((e) => e.atMs)).toEqual([3, 4]);
  });

  it('the event tap replays start-up events to its first listener', () => {
    const tap = createEventTap(() => 7);
    tap.record({ event: 'ready' });
    tap.record({ msg: 'no event field' });
    const seen: unknown[] = [];
    tap.subscribe((o, at) => seen.push([o.event, at]));
    tap.record({ event: 'serving' });
    expect(seen).toEqual([['ready', 7], ['serving', 7]]);
  });
});

describe('log lines for a terminal', () => {
  it('puts the vocabulary first, then the rest as key=value', () => {
    const line = JSON.stringify({ level: 30, time: '2026-11-25T20:01:02.345Z', pid: 1, service: 'lab', node: 'n1', event: 'buckets-moved', reason: 'takeover', added: 42, msg: 'buckets moved (takeover)' });
    expect(formatLogLine(line)).toBe('20:01:02.345 INFO  n1 buckets-moved reason=takeover added=42  buckets moved (takeover)\n');
  });
  it('passes non-JSON through', () => {
    expect(formatLogLine('plain')).toBe('plain');
  });
});

describe('Prometheus text parsing (lab scrapes)', () => {
  it('reads names, labels and values', () => {
    const s = parseExposition('# HELP x y\nvmac_bucket_accepted_packets_total{bucket="7"} 12\nvmac_quorum 1\n');
    expect(sumOf(s, 'vmac_bucket_accepted_packets_total', { bucket: '7' })).toBe(12);
    expect(sumOf(s, 'vmac_quorum')).toBe(1);
  });
});
