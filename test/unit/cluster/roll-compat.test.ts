/**
 * Rolling node-list changes (src/cluster/roll-compat.ts): which differences count as compatible, and
 * the map property the rule rests on (a weight-0 node in the list changes no owner while some live
 * node owns a bucket of the balanced map).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { differingFields, fingerprintOf, type LocalFingerprint } from '../../../src/config/fingerprint.js';
import { adoptableAcrossRoll, nodeListDelta, rollCompatible, type RollContext } from '../../../src/cluster/roll-compat.js';
import { afterFailure, balancedMap, mapDigest } from '../../../src/hash/bucket-map.js';
import { mulberry32 } from '../../../src/util/prng.js';
import type { PeerReport } from '../../../src/cluster/heartbeat-types.js';

type Entry = { id: number; weight?: number; name?: string };
function fp(selfId: number, nodes: Entry[], seed = 42): LocalFingerprint {
  const line = (n: Entry): string => `{ id: ${n.id}, name: ${n.name ?? `n${n.id}`}, address: 10.9.0.${n.id}${n.weight === undefined ? '' : `, weight: ${n.weight}`} }`;
  const self = nodes.find((n) => n.id === selfId) as Entry;
  const cfg = parseConfig([
    'service: web', 'interface: eth0', 'vip: 10.9.9.9', `hash: { seed: ${seed} }`, `node: ${line(self)}`,
    `peers: [${nodes.filter((n) => n.id !== selfId).map(line).join(', ')}]`, 'heartbeat: { keyFile: /k }', '',
  ].join('\n'), 'x.yaml');
  return fingerprintOf(cfg, 'key');
}
const report = (id: number, status: PeerReport['status']): PeerReport => ({ id, status, incarnationHeard: 1n, lastSeqHeard: 1, ageMs: 0 });
const ctx = (o: Partial<RollContext> = {}): RollContext => ({ heard: new Set([2, 3]), selfId: 1, selfWeight: 100, announced: new Map([[2, 100], [3, 100]]), liveOwner: true, ...o });
const three: Entry[] = [{ id: 1 }, { id: 2 }, { id: 3 }];

describe('nodeListDelta', () => {
  it('names the one node added at weight 0, on either side', () => {
    const old = fp(1, three);
    const added = fp(2, [...three, { id: 4, weight: 0 }]);
    expect(nodeListDelta(old, added)).toEqual({ kind: 'extra', nodeId: 4, zeroWeight: true, inOurs: false });
    expect(nodeListDelta(added, old)).toEqual({ kind: 'extra', nodeId: 4, zeroWeight: true, inOurs: true });
  });
  it('tells a weight set to 0 from other changes of an entry', () => {
    expect(nodeListDelta(fp(1, three), fp(2, [{ id: 1 }, { id: 2 }, { id: 3, weight: 0 }]))).toEqual({ kind: 'weight', nodeId: 3, zeroInOurs: false });
    expect(nodeListDelta(fp(1, three), fp(2, [{ id: 1 }, { id: 2 }, { id: 3, name: 'other' }])).kind).toBe('other');
    expect(nodeListDelta(fp(1, three), fp(2, [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4, weight: 0 }, { id: 5, weight: 0 }])).kind).toBe('other');
  });
});

describe('rollCompatible', () => {
  const old = fp(1, three);
  const added = fp(2, [...three, { id: 4, weight: 0 }]);
  const fields = differingFields(old, added);

  it('a node added at weight 0 that does not run: compatible, both ways', () => {
    expect(fields.map((f) => f.field)).toEqual(['nodes']);
    expect(rollCompatible(fields, old, added, 2, [report(1, 'alive'), report(3, 'alive'), report(4, 'unknown')], ctx())).toEqual({ compatible: true, why: 'extra-idle', nodeId: 4 });
    expect(rollCompatible(differingFields(added, old), added, old, 1, [report(2, 'alive'), report(3, 'alive')], ctx({ selfId: 2, heard: new Set([1, 3]) }))).toMatchObject({ compatible: true });
  });
  it('…not once it runs (we hear it, or the peer reports it alive or suspect)', () => {
    expect(rollCompatible(fields, old, added, 2, [report(4, 'alive')], ctx()).compatible).toBe(false);
    expect(rollCompatible(fields, old, added, 2, [report(4, 'suspect')], ctx()).compatible).toBe(false);
    expect(rollCompatible(differingFields(added, old), added, old, 1, [], ctx({ selfId: 2, heard: new Set([1, 3, 4]) })).compatible).toBe(false);
  });
  it('a node added with a weight, another field, or no live owner: never compatible', () => {
    const heavy = fp(2, [...three, { id: 4, weight: 50 }]);
    expect(rollCompatible(differingFields(old, heavy), old, heavy, 2, [], ctx()).compatible).toBe(false);
    const seeded = fp(2, [...three, { id: 4, weight: 0 }], 77);
    expect(rollCompatible(differingFields(old, seeded), old, seeded, 2, [], ctx()).compatible).toBe(false);
    expect(rollCompatible(fields, old, added, 2, [], ctx({ liveOwner: false })).compatible).toBe(false);
  });
  it('a configured weight set to 0: compatible only while that node runs and announces 0', () => {
    const zero = fp(2, [{ id: 1 }, { id: 2 }, { id: 3, weight: 0 }]);
    const f = differingFields(old, zero);
    expect(rollCompatible(f, old, zero, 2, [report(3, 'alive')], ctx({ announced: new Map([[2, 100], [3, 0]]) }))).toEqual({ compatible: true, why: 'weight-zero', nodeId: 3 });
    expect(rollCompatible(f, old, zero, 2, [report(3, 'alive')], ctx()).compatible).toBe(false); // announces 100
    expect(rollCompatible(f, old, zero, 2, [report(3, 'dead')], ctx({ announced: new Map([[2, 100], [3, 0]]) })).compatible).toBe(false);
    expect(rollCompatible(f, old, zero, 2, [report(3, 'alive')], ctx({ heard: new Set([2]), announced: new Map([[2, 100]]) })).compatible).toBe(false);
  });
  it('…and when that node is the sender, its own heartbeat\'s weight decides (membership has not heard it yet)', () => {
    const zero = fp(3, [{ id: 1 }, { id: 2 }, { id: 3, weight: 0 }]);
    const f = differingFields(old, zero);
    const fresh = ctx({ heard: new Set(), announced: new Map() });
    expect(rollCompatible(f, old, zero, 3, [report(1, 'alive')], fresh, 0)).toMatchObject({ compatible: true, why: 'weight-zero' });
    expect(rollCompatible(f, old, zero, 3, [report(1, 'alive')], fresh, 100).compatible).toBe(false);
  });
  it('a hitless restart adopts across an allowed list change, not across another field', () => {
    expect(adoptableAcrossRoll(added, old)).toBe(true);
    expect(adoptableAcrossRoll(fp(1, [{ id: 1 }, { id: 2 }, { id: 3, weight: 0 }]), old)).toBe(true);
    expect(adoptableAcrossRoll(fp(1, [...three, { id: 4, weight: 0 }], 77), old)).toBe(false);
    expect(adoptableAcrossRoll(fp(1, [...three, { id: 4, weight: 10 }]), old)).toBe(false);
  });
});

describe('the map property the rule rests on', () => {
  it('a weight-0 node in the list changes no owner, whatever fails, while a live node owns a bucket (2,000 random lists)', () => {
    let compared = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const r = mulberry32(seed);
      const n = 2 + Math.floor(r() * 5);
      const buckets = [16, 32, 48, 256][Math.floor(r() * 4)] as number;
      const nodes = Array.from({ length: n }, (_, i) => ({ id: i + 1, weight: r() < 0.15 ? 0 : 1 + Math.floor(r() * 200) }));
      if (nodes.every((x) => x.weight === 0)) continue;
      const x = r() < 0.5 ? n + 1 : 20 + Math.floor(r() * 10);
      const withX = [...nodes, { id: x, weight: 0 }];
      const base = balancedMap(nodes, buckets);
      const baseX = balancedMap(withX, buckets);
      expect(mapDigest(baseX), `seed ${seed}`).toBe(mapDigest(base));
      for (let k = 0; k < 6; k++) {
        const failed = new Set(nodes.filter(() => r() < 0.3).map((nd) => nd.id));
        if (base.every((o) => failed.has(o))) continue; // no live owner: the rule does not apply
        compared++;
        const a = afterFailure(base, failed, new Map(nodes.map((nd) => [nd.id, nd.weight])));
        const b = afterFailure(baseX, new Set([...failed, x]), new Map(withX.map((nd) => [nd.id, nd.weight])));
        expect(mapDigest(b), `seed ${seed} failed ${[...failed].join(',')}`).toBe(mapDigest(a));
      }
    }
    expect(compared).toBeGreaterThan(5000);
  });
});
