/** The config-agreement rule (who may serve while a peer's config differs), as a table, and its events. */
import { describe, expect, it } from 'vitest';
import { describeFields, expireConfig, holdsOut, observeConfig, standing, startHoldUntil, unlistedHoldUntil, type Standing, type StandingInput } from '../../../src/cluster/config-agreement.js';
import { fingerprintOf } from '../../../src/config/fingerprint.js';
import { parseConfig } from '../../../src/config/load.js';
import type { Heartbeat } from '../../../src/cluster/heartbeat-types.js';
import { HEARTBEAT } from './codec/vectors.js';

const d = (id: number, serving: boolean): { id: number; serving: boolean } => ({ id, serving });

// selfId, nodes, selfServing, agreeing peers heard, differing peers heard → standing
const TABLE: readonly [string, StandingInput, Standing][] = [
  ['nobody differs', { selfId: 1, nodeCount: 3, selfServing: true, agreeingHeard: 2, differing: [] }, 'agree'],
  ['nobody differs, alone', { selfId: 1, nodeCount: 3, selfServing: false, agreeingHeard: 0, differing: [] }, 'agree'],
  ['3 nodes, one differs, we are two', { selfId: 1, nodeCount: 3, selfServing: true, agreeingHeard: 1, differing: [d(3, false)] }, 'majority'],
  ['3 nodes, we are the one that differs', { selfId: 3, nodeCount: 3, selfServing: false, agreeingHeard: 0, differing: [d(1, true), d(2, true)] }, 'minority'],
  ['3 nodes, we differ and our lease still runs', { selfId: 3, nodeCount: 3, selfServing: true, agreeingHeard: 0, differing: [d(1, true), d(2, true)] }, 'minority'],
  ['3 nodes, all three differ', { selfId: 1, nodeCount: 3, selfServing: false, agreeingHeard: 0, differing: [d(2, false), d(3, false)] }, 'minority'],
  ['4 nodes split 2/2: no side has 3', { selfId: 1, nodeCount: 4, selfServing: false, agreeingHeard: 1, differing: [d(3, false), d(4, false)] }, 'minority'],
  ['5 nodes, 3 agree', { selfId: 5, nodeCount: 5, selfServing: false, agreeingHeard: 2, differing: [d(1, true), d(2, true)] }, 'majority'],
  ['2 nodes, we serve, peer not', { selfId: 2, nodeCount: 2, selfServing: true, agreeingHeard: 0, differing: [d(1, false)] }, 'win'],
  ['2 nodes, peer serves, we not', { selfId: 1, nodeCount: 2, selfServing: false, agreeingHeard: 0, differing: [d(2, true)] }, 'yield'],
  ['2 nodes, neither serves, lower id', { selfId: 1, nodeCount: 2, selfServing: false, agreeingHeard: 0, differing: [d(2, false)] }, 'win'],
  ['2 nodes, neither serves, higher id', { selfId: 2, nodeCount: 2, selfServing: false, agreeingHeard: 0, differing: [d(1, false)] }, 'yield'],
  ['2 nodes, both serve, lower id', { selfId: 1, nodeCount: 2, selfServing: true, agreeingHeard: 0, differing: [d(2, true)] }, 'win'],
  ['2 nodes, both serve, higher id', { selfId: 2, nodeCount: 2, selfServing: true, agreeingHeard: 0, differing: [d(1, true)] }, 'yield'],
];

describe('standing: who may serve while a peer differs', () => {
  it.each(TABLE)('%s', (_name, input, want) => {
    expect(standing(input)).toBe(want);
  });

  it('two nodes always name exactly one winner, from either side, whatever they announce', () => {
    for (const s1 of [false, true]) for (const s2 of [false, true]) {
      const a = standing({ selfId: 1, nodeCount: 2, selfServing: s1, agreeingHeard: 0, differing: [d(2, s2)] });
      const b = standing({ selfId: 2, nodeCount: 2, selfServing: s2, agreeingHeard: 0, differing: [d(1, s1)] });
      expect([a, b].filter((x) => !holdsOut(x))).toHaveLength(1);
    }
  });

  it('two groups of one node list never both hold a majority (every split of 2..7 nodes)', () => {
    for (let n = 2; n <= 7; n++) for (let a = 0; a <= n; a++) {
      const b = n - a;
      const sa = a === 0 ? 'none' : standing({ selfId: 1, nodeCount: n, selfServing: false, agreeingHeard: a - 1, differing: b > 0 ? [d(99, false)] : [] });
      const sb = b === 0 ? 'none' : standing({ selfId: 99, nodeCount: n, selfServing: false, agreeingHeard: b - 1, differing: a > 0 ? [d(1, false)] : [] });
      expect(sa === 'majority' && sb === 'majority').toBe(false);
    }
  });
});

function cfg(extra: string, id = 1): ReturnType<typeof parseConfig> {
  return parseConfig([
    'service: s', 'interface: eth0', 'vip: 10.0.0.9', 'buckets: 64', 'hash: { seed: 42 }',
    `node: { id: ${id}, name: n${id}, address: 10.0.0.${id} }`, `peers: [{ id: ${3 - id}, name: n${3 - id}, address: 10.0.0.${3 - id} }]`,
    'heartbeat: { keyFile: /k }', extra, '',
  ].join('\n'), 'x.yaml');
}

describe('fingerprint and events', () => {
  const ours = fingerprintOf(cfg(''), 'aaaa');
  const hbWith = (fp: ReturnType<typeof fingerprintOf> | null, version: 2 | 3 = 3): Heartbeat => ({
    ...HEARTBEAT, version, handover: { phases: ['none'], grants: [], restartWindowMs: 0 }, hasQuorum: false,
    ...(fp ? { fingerprint: { layout: fp.layout, digest: fp.digest, slots: fp.slots } } : {}),
  });

  it('the two nodes of one cluster (different own ids) have one fingerprint', () => {
    expect(fingerprintOf(cfg('', 2), 'aaaa').digest).toBe(ours.digest);
  });

  it('names each differing field, with both values where the slot carries one', () => {
    const theirs = fingerprintOf(cfg('timing: { profile: fast }'), 'bbbb');
    const e = observeConfig(new Map(), 2, hbWith(theirs), ours, 1000);
    expect(e.differs).toBe(true);
    expect(e.event?.kind).toBe('config-mismatch');
    const fields = e.event?.kind === 'config-mismatch' ? e.event.fields : [];
    expect(fields.map((f) => f.field)).toEqual(expect.arrayContaining(['timing.profile', 'timing.intervalMs', 'heartbeat.keyFile (key identity)']));
    expect(describeFields(fields)).toContain('timing.profile (ours default, theirs fast)');
    // Never the key: only its identity's digest.
    expect(JSON.stringify(fields)).not.toContain('/k');
  });

  it('logs once per episode, again when it ends (agreeing heartbeat, or the peer silent a dead time)', () => {
    const arpOnly = fingerprintOf(cfg('arp: { refreshMs: 0 }'), 'aaaa');
    expect(arpOnly.digest).toBe(ours.digest); // ARP announcement settings are per node, not shared
    const other = fingerprintOf({ ...cfg(''), buckets: 128 }, 'aaaa');
    let s = observeConfig(new Map(), 2, hbWith(other), ours, 1000);
    expect(s.event?.kind).toBe('config-mismatch');
    s = observeConfig(s.state, 2, hbWith(other), ours, 1040);
    expect(s.event).toBe(null);
    const end = observeConfig(s.state, 2, hbWith(ours), ours, 1100);
    expect(end.event).toMatchObject({ kind: 'config-agreement', reason: 'fingerprints-equal', forMs: 100 });
    const again = observeConfig(end.state, 2, hbWith(other), ours, 2000);
    const gone = expireConfig(again.state, 2239, 240);
    expect(gone.events).toEqual([]);
    expect(expireConfig(again.state, 2240, 240).events).toEqual([{ kind: 'config-agreement', peerId: 2, forMs: 240, reason: 'peer-silent' }]);
  });

  it('a v2 peer (no fingerprint) cannot be checked: it differs in `fingerprint`', () => {
    const e = observeConfig(new Map(), 2, hbWith(null, 2), ours, 1000);
    expect(e.differs).toBe(true);
    expect(e.event?.kind === 'config-mismatch' && e.event.fields.map((f) => f.field)).toEqual(['fingerprint']);
  });
});

describe('node lists of another size (rolling add or removal)', () => {
  it('two nodes: a differing peer on a list of three yields us, whoever serves (it may hold a majority of its own list)', () => {
    expect(standing({ selfId: 1, nodeCount: 2, selfServing: true, agreeingHeard: 0, differing: [{ id: 2, serving: false, nodeCount: 3 }] })).toBe('yield');
    expect(standing({ selfId: 1, nodeCount: 2, selfServing: true, agreeingHeard: 0, differing: [{ id: 2, serving: false, nodeCount: 2 }] })).toBe('win');
  });
  it('a serving node outside our list holds us for a lease plus margin after its last such heartbeat', () => {
    expect(unlistedHoldUntil(-Infinity, true, 1000, 100, 10)).toBe(1110);
    expect(unlistedHoldUntil(1110, false, 1050, 100, 10)).toBe(1110);
    expect(unlistedHoldUntil(1110, true, 1050, 100, 10)).toBe(1160);
    expect(startHoldUntil(1000, 40, 10)).toBe(1090);
  });
});
