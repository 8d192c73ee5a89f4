/** Pure: the comparison table, its ratios and JSON rows, and the peers' generated configs. */
import { describe, expect, it } from 'vitest';
import { compareTable, rowOf, withRatios } from '../../lab/compare.js';
import { keepalivedConf, priorityOf, PEER_PROFILES } from '../../lab/peers.js';
import { jsonRow } from '../../src/cli/cmd-lab-compare.js';
import type { FailoverSummary } from '../../lab/failover.js';

const summary = (p99: number): FailoverSummary => ({
  fault: 'crash', runs: 20, gapMs: { p50: p99 / 2, p99, max: p99 + 1 }, duplicates: 0, lostSurvivors: 3, lostVictim: 100,
  falseTakeovers: 0, victimMoved: 15, victimSilentAfterMs: { p50: 1, max: 2 }, proberBehind: 0, survivorLeaseStops: 0, leaseGoneBeforeTakeover: 0, leaseWatched: 0,
  takeoverDecision: { decisions: 0, silentMs: { p50: NaN, max: NaN }, applyMs: { p50: NaN, max: NaN } },
});

describe('compare rows', () => {
  const rows = withRatios([
    rowOf('vmac', 'default', 'kill', summary(200)),
    rowOf('vmac', 'fast', 'kill', summary(40)),
    rowOf('keepalived', 'default', 'kill', summary(3000)),
  ]);

  it('gives every row its p99 against vmac default and fast', () => {
    expect(rows.map((r) => r.p99VsVmacDefault)).toEqual([1, 0.2, 15]);
    expect(rows.map((r) => r.p99VsVmacFast)).toEqual([5, 1, 75]);
  });

  it('has no ratio without a vmac row', () => {
    expect(withRatios([rowOf('ucarp', 'default', 'link', summary(3000))])[0]?.p99VsVmacDefault).toBeNull();
  });

  it('prints one Markdown row per system and profile', () => {
    const t = compareTable(rows).split('\n');
    expect(t).toHaveLength(5);
    expect(t[4]).toBe('| keepalived | default | kill | 20 | 1500.0 | 3000.0 | 3001.0 | 0 | 3 | 100 | 15.00× | 75.00× |');
  });

  it('--json rows carry exactly the issue\'s fields', () => {
    const j = jsonRow(rows[2]!);
    expect(Object.keys(j)).toEqual(['system', 'profile', 'fault', 'runs', 'gapMs', 'duplicates', 'lost']);
    expect(j).toEqual({ system: 'keepalived', profile: 'default', fault: 'kill', runs: 20, gapMs: { p50: 1500, p99: 3000, max: 3001 }, duplicates: 0, lost: 3 });
  });
});

describe('peer configs', () => {
  it('keepalived default is VRRPv2 with 1 s adverts, fastest VRRPv3 with 10 ms', () => {
    const def = keepalivedConf({ node: 'n1', priority: 250, vip: '10.200.0.1', prefixLength: 16, fastest: false });
    expect(def).toContain('advert_int 1\n');
    expect(def).not.toContain('vrrp_version 3');
    expect(def).toContain('10.200.0.1/16 dev eth0');
    const fast = keepalivedConf({ node: 'n2', priority: 200, vip: '10.200.0.1', prefixLength: 16, fastest: true });
    expect(fast).toContain('vrrp_version 3');
    expect(fast).toContain('advert_int 0.01');
    expect(fast).toContain('priority 200');
  });

  it('n1 has the highest priority, the backups lower ones', () => {
    const p = Array.from({ length: 3 }, (_, i) => priorityOf(i));
    expect(p).toEqual([250, 200, 150]);
    expect(PEER_PROFILES.map((x) => `${x.system}-${x.profile}`)).toEqual(['keepalived-default', 'keepalived-fastest', 'ucarp-default']);
  });
});
