/**
 * The UDP flow timeout (handover.udpFlowTimeoutMs): one node per bucket, its keeper, answers the
 * bucket's UDP through a hand-over; pure steps against a hand-built peer view, the rendered
 * chains, the config field, and the fake data path's UDP acceptance.
 */
import { describe, expect, it } from 'vitest';
import { EMPTY_HANDOVER, stepHandover, type HandoverState, type PeerView } from '../../../src/takeover/handover.js';
import type { WirePhase } from '../../../src/cluster/heartbeat-types.js';
import { renderCtTable, renderPhaseChanges, type DataPathPlan } from '../../../src/vmac/ruleset.js';
import { parsePhaseMap, parseUdpActive } from '../../../src/vmac/nft-datapath.js';
import { fakeDataPath } from '../../../src/vmac/fake-datapath.js';
import { parseConfig } from '../../../src/config/load.js';
import { isVmacError } from '../../../src/util/errors.js';

interface Peer { phases: Record<number, WirePhase>; grants: Record<number, number>; acked: number }

function view(selfId: number, peers: Record<number, Peer>): PeerView {
  return {
    selfId, dead: new Set(), mayTakeUnheld: true, mayTakeOrphans: true, nextSeq: 10,
    phaseAt: (p, b) => peers[p]?.phases[b] ?? 'none',
    serving: (p) => peers[p] !== undefined,
    holders: (b) => Object.keys(peers).map(Number).filter((id) => (peers[id]?.phases[b] ?? 'none') !== 'none'),
    grantOf: (p, b) => peers[p]?.grants[b] ?? 0,
    leaving: () => false,
    acked: (p, seq) => (peers[p]?.acked ?? 0) >= seq,
  };
}

const on = { drainTimeoutMs: 5000, udpFlowTimeoutMs: 300 };
const off = { drainTimeoutMs: 5000 };
const keeper = (phases: [number, 'owned' | 'incoming' | 'draining'][], kept: number[]): HandoverState => ({ ...EMPTY_HANDOVER, phases: new Map(phases), udpKept: new Set(kept) });
const peer2 = (phase: WirePhase | null): Record<number, Peer> => ({ 2: { phases: phase ? { 0: phase } : {}, grants: {}, acked: 10 } });

describe('UDP keeper: the old owner keeps a moving bucket\'s UDP until it is quiet for the flow timeout', () => {
  it('owning a bucket makes a node its keeper; it drains into the keeper chain', () => {
    const taken = stepHandover(EMPTY_HANDOVER, [1], view(1, {}), on, 0);
    expect(taken.changes).toEqual([{ bucket: 0, from: 'none', to: 'owned', udp: true }]);
    expect([...taken.state.udpKept]).toEqual([0]);
    const drain = stepHandover(taken.state, [2], view(1, peer2(null)), on, 100);
    expect(drain.changes).toEqual([{ bucket: 0, from: 'owned', to: 'draining', udp: true }]);
  });

  it('the new owner is not the keeper while incoming; it becomes it once it owns the bucket outright', () => {
    const granted = { 1: { phases: { 0: 'draining' as const }, grants: { 0: 2 }, acked: 10 } };
    const inc = stepHandover(EMPTY_HANDOVER, [2], view(2, granted), on, 0);
    expect(inc.changes).toEqual([{ bucket: 0, from: 'none', to: 'incoming', udp: false }]);
    const own = stepHandover(inc.state, [2], view(2, {}), on, 50);
    expect(own.changes).toEqual([{ bucket: 0, from: 'incoming', to: 'owned', udp: true }]);
  });

  it('no TCP left is not enough: the keeper waits until no UDP was seen for a whole flow timeout after the drain began', () => {
    const start = stepHandover(keeper([[0, 'owned']], [0]), [2], view(1, peer2(null)), on, 100).state;
    const took = view(1, peer2('incoming'));
    const reading = (atMs: number, udp: number[]): HandoverState => ({ ...start, busy: new Set(), busyAtMs: atMs, udpBusy: new Set(udp) });
    // No UDP recorded yet, but the set has only been recording for 150 ms of the 300: not quiet.
    expect(stepHandover(reading(250, []), [2], took, on, 255).changes).toEqual([]);
    // UDP seen within the flow timeout: still kept.
    expect(stepHandover(reading(450, [0]), [2], took, on, 455).changes).toEqual([]);
    // A whole flow timeout of recording and nothing seen: let go (the keeper role ends with it).
    const done = stepHandover(reading(400, []), [2], took, on, 405);
    expect(done.changes).toEqual([{ bucket: 0, from: 'draining', to: 'none', udp: false }]);
    expect(done.state.udpKept.size).toBe(0);
    // Steady UDP: the drain timeout still ends it.
    expect(stepHandover(reading(5100, [0]), [2], took, on, 5100).changes).toEqual([{ bucket: 0, from: 'draining', to: 'none', udp: false }]);
  });

  it('off (0): UDP is not waited for and no change names a keeper', () => {
    const start = stepHandover(keeper([[0, 'owned']], []), [2], view(1, peer2(null)), off, 100);
    expect(start.changes).toEqual([{ bucket: 0, from: 'owned', to: 'draining' }]);
    const idle = { ...start.state, busy: new Set<number>(), busyAtMs: 120, udpBusy: new Set([0]) };
    expect(stepHandover(idle, [2], view(1, peer2('incoming')), off, 125).changes).toEqual([{ bucket: 0, from: 'draining', to: 'none' }]);
  });

  it('a node that drains a bucket it never owned (handed on) keeps none of its UDP and does not wait for it', () => {
    // Node 2 took bucket 0 from 1 (incoming, not the keeper); now the map sends it to 3.
    const peers = { 1: { phases: { 0: 'draining' as const }, grants: {}, acked: 10 }, 3: { phases: {}, grants: {}, acked: 10 } };
    const r = stepHandover(keeper([[0, 'incoming']], []), [3], view(2, peers), on, 0);
    expect(r.changes).toEqual([{ bucket: 0, from: 'incoming', to: 'draining', udp: false }]);
    const took = view(2, { ...peers, 3: { phases: { 0: 'incoming' }, grants: {}, acked: 10 } });
    const idle = { ...r.state, busy: new Set<number>(), busyAtMs: 10, udpBusy: new Set([0]) };
    expect(stepHandover(idle, [3], took, on, 12).changes).toEqual([{ bucket: 0, from: 'draining', to: 'none', udp: false }]);
  });

  it('a bucket handed back to its keeper while it drains stays kept (incoming_udp)', () => {
    const peers = { 2: { phases: { 0: 'draining' as const }, grants: { 0: 1 }, acked: 10 } };
    const draining = { ...keeper([[0, 'draining']], [0]), grants: new Map([[0, { to: 2, seq: 1, revoked: false, consumed: true }]]), drainSinceMs: new Map([[0, 0]]) };
    const r = stepHandover(draining, [1], view(1, peers), on, 0);
    expect(r.changes).toEqual([{ bucket: 0, from: 'draining', to: 'incoming', udp: true }]);
  });
});

const plan: DataPathPlan = { table: 'vmac_t', ifname: 'eth0', vip: '10.0.0.1', vmac: '02:bf:0a:00:00:01', buckets: 64, hashExpr: 'jhash ip saddr mod 64 seed 0x1' };

describe('UDP keeper chains (rendered)', () => {
  it('off: the chains are as before (incoming takes new UDP), no udpactive set', () => {
    const text = renderCtTable(plan).join('\n');
    expect(text).toContain('add rule inet vmac_t_ct incoming ct state new meta l4proto udp accept');
    expect(text).not.toContain('udpactive');
    expect(renderPhaseChanges(plan, [{ bucket: 3, from: 'owned', to: 'draining', udp: true }])).toContain('3 : jump draining }');
  });

  it('on: the keeper records and accepts all UDP while draining; other chains drop UDP first', () => {
    const p = { ...plan, udpFlowTimeoutMs: 2500 };
    const lines = renderCtTable(p);
    expect(lines).toContain('add set inet vmac_t_ct udpactive { typeof numgen inc mod 64; flags dynamic,timeout; timeout 2500ms; }');
    expect(lines).toContain('add rule inet vmac_t_ct draining_udp meta l4proto udp update @udpactive { jhash ip saddr mod 64 seed 0x1 } accept');
    expect(lines).toContain('add rule inet vmac_t_ct incoming_udp meta l4proto udp accept');
    for (const chain of ['draining', 'incoming']) {
      const rules = lines.filter((l) => l.startsWith(`add rule inet vmac_t_ct ${chain} `));
      expect(rules[0]).toBe(`add rule inet vmac_t_ct ${chain} meta l4proto udp drop`);
    }
    expect(lines.join('\n')).not.toContain('ct state new meta l4proto udp accept');
    expect(renderPhaseChanges(p, [{ bucket: 3, from: 'owned', to: 'draining', udp: true }, { bucket: 4, from: 'none', to: 'incoming', udp: false }]))
      .toBe('add element inet vmac_t_ct phase { 3 : jump draining_udp, 4 : jump incoming }\nadd element netdev vmac_t owned { 4 : accept }');
  });

  it('reads the keeper chains back as their phases, and the udpactive set as buckets', () => {
    const map = { nftables: [{ map: { elem: [[3, { jump: { target: 'draining_udp' } }], [4, { jump: { target: 'incoming_udp' } }], [5, { jump: { target: 'draining' } }]] } }] };
    expect(parsePhaseMap(JSON.stringify(map))).toEqual({ incoming: [4], draining: [3, 5] });
    const set = { nftables: [{ metainfo: {} }, { set: { name: 'udpactive', elem: [{ elem: { val: 151, timeout: 0, expires: 0 } }, 7] } }] };
    expect([...parseUdpActive(JSON.stringify(set))].sort((a, b) => a - b)).toEqual([7, 151]);
    expect(parseUdpActive(JSON.stringify({ nftables: [{ set: { name: 'udpactive' } }] })).size).toBe(0);
  });
});

describe('handover.udpFlowTimeoutMs (config)', () => {
  const yaml = (extra: string): string => ['service: web', 'interface: eth0', 'vip: 10.0.0.1', 'hash: { seed: 1 }', 'node: { id: 1, name: n1 }', extra, ''].join('\n');
  const problems = (extra: string): string => {
    try { parseConfig(yaml(extra), 'x.yaml'); return ''; } catch (e) { return isVmacError(e) ? e.message : String(e); }
  };

  it('defaults to 0 (off) and takes a value', () => {
    expect(parseConfig(yaml(''), 'x.yaml').handover).toMatchObject({ udpFlowTimeoutMs: 0 });
    expect(parseConfig(yaml('handover: { udpFlowTimeoutMs: 2000 }'), 'x.yaml').handover).toMatchObject({ udpFlowTimeoutMs: 2000 });
  });

  it('refuses unusable values, naming the field', () => {
    expect(problems('handover: { udpFlowTimeoutMs: 5 }')).toMatch(/handover\.udpFlowTimeoutMs.*at least 20/);
    expect(problems('handover: { udpFlowTimeoutMs: -1 }')).toMatch(/handover\.udpFlowTimeoutMs/);
    expect(problems('handover: { udpFlowTimeoutMs: 1000000 }')).toMatch(/handover\.udpFlowTimeoutMs/);
    expect(problems('handover: { udpFlowTimeoutMs: "2s" }')).toMatch(/handover\.udpFlowTimeoutMs/);
    expect(problems('handover: { flowTimeout: 2 }')).toMatch(/handover/);
  });
});

describe('fake data path: UDP acceptance follows the keeper', () => {
  it('owned and kept buckets accept UDP; a draining keeper records it for the flow timeout', () => {
    let now = 0;
    const dp = fakeDataPath(() => now, { udpFlowTimeoutMs: 300 });
    dp.install([1, 2], 10_000);
    dp.setPhases([{ bucket: 1, from: 'owned', to: 'draining', udp: true }, { bucket: 2, from: 'owned', to: 'draining', udp: false }, { bucket: 3, from: 'none', to: 'incoming', udp: false }]);
    expect([...(dp.acceptingUdpNow() ?? [])]).toEqual([1]);
    dp.udpPacket(1);
    dp.udpPacket(2);
    now = 200;
    expect([...dp.udpActive()]).toEqual([1]);
    now = 301;
    expect(dp.udpActive().size).toBe(0);
  });
});
