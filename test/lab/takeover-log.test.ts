/** Pure: reading each survivor's first takeover decision for the victim from its log. */
import { describe, expect, it } from 'vitest';
import { takeoverLogs } from '../../lab/takeover-log.js';

const line = (o: object): string => JSON.stringify({ level: 30, module: 'cluster', ...o });

describe('takeoverLogs', () => {
  it('takes the first takeover that names the victim, with its silence and transaction time', () => {
    const n2 = [
      line({ event: 'serving' }),
      line({ event: 'buckets-moved', reason: 'rebalance', absent: [], applyMs: 1.1 }),
      line({ event: 'buckets-moved', reason: 'takeover', absent: [1, 3], silentMs: [33.4, 80], applyMs: 2.5 }),
      line({ event: 'buckets-moved', reason: 'takeover', absent: [1], silentMs: [40], applyMs: 9 }),
    ].join('\n');
    const n3 = ['not json {"event":"buckets-moved","reason":"takeover"', line({ event: 'buckets-moved', reason: 'takeover', absent: [1], applyMs: 3 })].join('\n');
    expect(takeoverLogs(1, [{ node: 'n2', logSince: n2 }, { node: 'n3', logSince: n3 }])).toEqual([
      { node: 'n2', silentMs: 33.4, applyMs: 2.5 },
      { node: 'n3', silentMs: null, applyMs: 3 },
    ]);
  });

  it('a survivor that took nothing of the victim gives no decision', () => {
    expect(takeoverLogs(1, [{ node: 'n2', logSince: line({ event: 'buckets-moved', reason: 'takeover', absent: [3], silentMs: [35], applyMs: 1 }) }])).toEqual([]);
  });
});
