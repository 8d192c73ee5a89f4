/**
 * The per-flow UDP runner against a recording data path: a health drain releases the bucket in
 * the kernel and publishes none of its flows; a bucket that leaves the hand-over has its flows
 * ended in every set (a stale `keep` entry let a node that got the bucket back accept flows its
 * current owner adopted: duplicate answers on a resume right after a drain's timeout); conntrack's
 * reading is published at once, not one heartbeat later.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startFlowRunner } from '../../../src/takeover/udp-flow-runner.js';
import type { FlowView } from '../../../src/takeover/udp-flow-handover.js';
import type { DataPathPort } from '../../../src/vmac/datapath-port.js';
import type { FlowSet, TimedFlow, UdpFlowKey } from '../../../src/vmac/udp-flow-rules.js';
import { decodeFlowMessage } from '../../../src/cluster/flow-codec.js';
import { bucketOf } from '../../../src/hash/bucket-of.js';
import type { WirePhase } from '../../../src/cluster/heartbeat-types.js';

const hash = { affinity: 'address' as const, prefixLength: 32, prefixLength6: 128, seed: 7 };
const BUCKETS = 16;
const key = new Uint8Array(32).fill(3);
const addrIn = (b: number): string => {
  for (let i = 1; i < 250; i++) if (bucketOf({ addr: `10.0.0.${i}` }, hash, BUCKETS) === b) return `10.0.0.${i}`;
  throw new Error(`no address for bucket ${b}`);
};

function rig(conntrack?: { flows: { saddr: string; sport: number; dport: number; idleAtLeastMs: number }[] }) {
  const sets: Record<FlowSet, TimedFlow[]> = { keep: [], keepfill: [], listed: [], theirs: [], seen: [] };
  const calls: string[] = [];
  const expired: { set: FlowSet; flows: readonly UdpFlowKey[] }[] = [];
  const sent: { to: number; bytes: Uint8Array }[] = [];
  const dp = {
    udpFlowStage: (b: number, stage: string) => { calls.push(`${stage} ${b}`); },
    udpFlowSet: (set: FlowSet) => sets[set],
    udpFlowExpire: (x: readonly { set: FlowSet; flows: readonly UdpFlowKey[] }[]) => { expired.push(...x); },
    udpFlowStages: (x: readonly { bucket: number; stage: string }[]) => { calls.push(`batch ${x.map((y) => `${y.stage} ${y.bucket}`).join(',')}`); },
  } as unknown as DataPathPort;
  let view: FlowView = { selfId: 1, draining: new Set(), incoming: new Set(), holders: () => [] };
  const runner = startFlowRunner({
    selfId: 1, incarnation: 1n, key, hash, buckets: BUCKETS,
    params: { idleMs: 30_000, portIdleMs: [], marginMs: 100, resendMs: 200, listedMs: 60_000 },
    dp, ...(conntrack ? { conntrack: { busyBuckets: () => new Set<number>(), udpFlows: () => Promise.resolve(conntrack.flows) } } : {}),
    send: (to, bytes) => sent.push({ to, bytes }), knownIds: new Set([1, 2]), nowMs: () => 0, log: pino({ level: 'silent' }), view: () => view,
  });
  const setView = (draining: number[], incoming: number[], holders: Record<number, [number, WirePhase][]>, release = false): FlowView => {
    view = { selfId: 1, draining: new Set(draining), incoming: new Set(incoming), release, holders: (b) => (holders[b] ?? []).map(([id, phase]) => ({ id, phase })) };
    return view;
  };
  return { runner, sets, calls, expired, sent, setView };
}

describe('per-flow UDP runner', () => {
  it('drain for health: the bucket is released in the kernel, conntrack is not read, and the new owner gets an empty list at once', () => {
    const r = rig({ flows: [] });
    const b = 3;
    r.sets.keep.push({ saddr: addrIn(b), sport: 4000, dport: 443, timeoutMs: 20_000 }); // would be ours on a planned drain
    r.runner.sync(r.setView([b], [], { [b]: [[1, 'draining'], [2, 'incoming']] }, true));
    expect(r.calls).toEqual([`draining_release ${b}`]);
    expect(r.sent).toHaveLength(1);
    const m = decodeFlowMessage(r.sent[0]?.bytes ?? new Uint8Array(), key);
    expect(m.ok && m.msg.type === 'flows' && m.msg.bucket === b && m.msg.flows.length === 0).toBe(true);
    expect(r.runner.udpBusy()).toEqual(new Set()); // its drain waits for no UDP flow
  });

  it('a bucket that left the hand-over: its flows end in every set, other buckets\' flows untouched', () => {
    const r = rig();
    const [b, other] = [3, 4];
    r.runner.sync(r.setView([b, other], [], {}));
    r.sets.keep.push({ saddr: addrIn(b), sport: 4000, dport: 443, timeoutMs: 20_000 }, { saddr: addrIn(other), sport: 4001, dport: 443, timeoutMs: 20_000 });
    r.sets.listed.push({ saddr: addrIn(b), sport: 4002, dport: 443, timeoutMs: 50_000 });
    r.runner.sync(r.setView([other], [], {})); // b let go (drain over)
    expect(r.expired).toEqual([
      { set: 'keep', flows: [{ saddr: addrIn(b), sport: 4000, dport: 443, timeoutMs: 20_000 }] },
      { set: 'listed', flows: [{ saddr: addrIn(b), sport: 4002, dport: 443, timeoutMs: 50_000 }] },
    ]);
    r.expired.length = 0;
    r.runner.sync(r.setView([other], [], {}));
    expect(r.expired).toEqual([]); // once
  });

  it('publishes as soon as conntrack\'s flows are filled in, not at the next sync', async () => {
    const b = 5;
    const r = rig({ flows: [{ saddr: addrIn(b), sport: 4000, dport: 443, idleAtLeastMs: 0 }] });
    r.runner.sync(r.setView([b], [], { [b]: [[1, 'draining'], [2, 'incoming']] }));
    expect(r.sent).toHaveLength(0); // adopting: conntrack asked
    await new Promise((res) => setImmediate(res));
    expect(r.calls).toEqual([`draining ${b}`]);
    expect(r.sent).toHaveLength(1);
  });

  it('the stages of several buckets go to the kernel in one transaction (a drain start moves many at once)', async () => {
    const r = rig({ flows: [] });
    r.runner.sync(r.setView([3, 4, 5], [], {}));
    await new Promise((res) => setImmediate(res));
    expect(r.calls).toEqual(['batch draining 3,draining 4,draining 5']);
    const h = rig();
    h.runner.sync(h.setView([3, 4], [], {}, true));
    expect(h.calls).toEqual(['batch draining_release 3,draining_release 4']);
  });
});
