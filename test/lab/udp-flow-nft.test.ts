/**
 * The per-flow UDP hand-over's kernel side, against nftables in a namespace this test makes (one
 * node plays the old owner, then another the new owner). A second table counts the UDP packets
 * our chains let through. Timings are generous: each send is a short process.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openNftables, type NftRunner } from '../../native-shims/nftables.js';
import { nftDataPath } from '../../src/vmac/nft-datapath.js';
import type { DataPathPlan, PhaseChange } from '../../src/vmac/ruleset.js';
import { parseFlowSet, renderFlowExpire, renderFlowFill, renderListFlows, renderStage, type TimedFlow } from '../../src/vmac/udp-flow-rules.js';
import { bucketOf } from '../../src/hash/bucket-of.js';
import { nsRun, run } from '../../lab/exec.js';
import { deleteNamespaces, expectNoNamespacesLeft, uniqueLabName, vethPair } from './support.js';

const prefix = uniqueLabName('uf');
let n = 0;
const VIP = '10.77.0.1';
const CLIENT = '10.77.0.2';
const VMAC = '02:bf:0a:4d:00:01';
const BUCKETS = 64;
const IDLE_MS = 1500;
const MARGIN_MS = 200;
const hash = { affinity: 'address' as const, prefixLength: 24, prefixLength6: 64, seed: 1 };
const bucket = bucketOf({ addr: CLIENT }, hash, BUCKETS);
const all = Array.from({ length: BUCKETS }, (_, i) => i);

/** Sends one datagram from CLIENT:sport to VIP:9 for each of `sports`. */
async function send(ns: string, ...sports: number[]): Promise<void> {
  const js = `const d=require('dgram');let left=${sports.length};for(const p of ${JSON.stringify(sports)}){const s=d.createSocket('udp4');s.bind(p,'${CLIENT}',()=>s.send('x',9,'${VIP}',()=>{s.close();}))}`;
  await nsRun(ns, process.execPath, ['-e', js]);
}

interface Subject { nft: NftRunner; plan: DataPathPlan; a: string; b: string; passed(): number; setPhases(c: PhaseChange[]): void; exec(lines: string[]): void; list(set: 'keep' | 'keepfill' | 'seen'): TimedFlow[] }

async function subject(owned: number[]): Promise<Subject> {
  const a = `${prefix}-a${++n}`;
  const b = `${prefix}-b${n}`;
  await vethPair(a, b);
  await run('ip', ['-n', a, 'addr', 'add', `${VIP}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', b, 'addr', 'add', `${CLIENT}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', b, 'neigh', 'replace', VIP, 'lladdr', VMAC, 'dev', 'eth0', 'nud', 'permanent']);
  const nft = openNftables(`/run/netns/${a}`);
  const plan: DataPathPlan = { table: 'vmac_uf', ifname: 'eth0', vip: VIP, vmac: VMAC, buckets: BUCKETS, hashExpr: `jhash ip saddr mod ${BUCKETS} seed 0x1`, udpPerFlow: { idleMs: IDLE_MS, portIdleMs: [{ port: 53, idleMs: 500 }], marginMs: MARGIN_MS, maxFlows: 65536 } };
  const dp = nftDataPath(nft, plan);
  dp.install(owned, 60_000);
  expect(nft.run('add table ip ufprobe\nadd chain ip ufprobe c { type filter hook prerouting priority 0; policy accept; }\nadd rule ip ufprobe c udp dport 9 counter').rc).toBe(0);
  return {
    nft, plan, a, b,
    passed: () => Number(/packets (\d+)/.exec(nft.run('list chain ip ufprobe c').output)?.[1] ?? NaN),
    setPhases: (c) => dp.setPhases(c),
    exec(lines) { const r = nft.run(lines.join('\n')); expect(r.error).toBe(''); expect(r.rc).toBe(0); },
    list: (set) => [4, 6].flatMap((family) => parseFlowSet(nft.run(renderListFlows(plan, set, family as 4 | 6)).output)),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function withSubject(owned: number[], fn: (s: Subject) => Promise<void>): Promise<void> {
  const s = await subject(owned);
  try { await fn(s); } finally { await deleteNamespaces(s.a, s.b); }
}

describe('per-flow UDP hand-over chains in the kernel', () => {
  it('old owner: adopts the flows conntrack knows, drops new ones, keeps filled ones, lets each go after its idle timeout', () => withSubject(all, async (s) => {
    await send(s.b, 5001, 5003, 5004); // three flows while owned (conntrack knows them)
    expect(s.passed()).toBe(3);
    s.setPhases([{ bucket, from: 'owned', to: 'draining' }]); // → draining_adopt
    await send(s.b, 5001); // known: adopted
    await send(s.b, 5002); // new to the cluster: not ours
    expect(s.passed()).toBe(4);
    expect(s.list('keep').map((f) => f.sport)).toEqual([5001]);
    // conntrack's flows filled in (5003 had no packet since the switch), adoption ends.
    s.exec([...renderFlowFill(s.plan, 'keepfill', [{ saddr: CLIENT, sport: 5003, dport: 9, timeoutMs: IDLE_MS }]), ...renderStage(s.plan, bucket, 'draining')]);
    await send(s.b, 5003); // filled: kept
    await send(s.b, 5004); // known to conntrack but neither adopted nor filled: no longer ours
    expect(s.passed()).toBe(5);
    const keep = s.list('keep');
    expect(keep.map((f) => f.sport).sort()).toEqual([5001, 5003]);
    for (const f of keep) expect(f.timeoutMs).toBeLessThanOrEqual(IDLE_MS);
    await sleep(IDLE_MS + 300); // both idle past their timeout
    expect(s.list('keep')).toEqual([]);
    await send(s.b, 5001);
    expect(s.passed()).toBe(5);
  }), 30_000);

  it('new owner: holds all UDP until the list; then refuses listed flows while the old owner may keep them, takes every other flow', () => withSubject([], async (s) => {
    s.setPhases([{ bucket, from: 'none', to: 'incoming' }]); // → incoming_hold
    await send(s.b, 6001, 6002); // 6001: an old flow of the old owner; 6002: new, arrived during the hold
    expect(s.passed()).toBe(0);
    expect(s.list('seen').map((f) => f.sport).sort()).toEqual([6001, 6002]);
    // The old owner's list: 6001 (expires there in 300 ms, refreshed since by the packet above) and 6003.
    s.exec([
      ...renderFlowFill(s.plan, 'listed', [6001, 6003].map((sport) => ({ saddr: CLIENT, sport, dport: 9, timeoutMs: 30_000 }))),
      ...renderFlowFill(s.plan, 'theirs', [{ saddr: CLIENT, sport: 6001, dport: 9, timeoutMs: 300 + MARGIN_MS }, { saddr: CLIENT, sport: 6003, dport: 9, timeoutMs: 800 + MARGIN_MS }]),
      ...renderStage(s.plan, bucket, 'incoming'),
    ]);
    await send(s.b, 6001, 6003); // the old owner's: refused
    await send(s.b, 6002, 6004); // new to the cluster (6002 was only held): ours
    expect(s.passed()).toBe(2);
    await sleep(600); // `theirs` of 6001 is over, but its packets refreshed `seen`: still the old owner's
    await send(s.b, 6001);
    expect(s.passed()).toBe(2);
    await sleep(IDLE_MS + MARGIN_MS + 200); // idle past the old owner's timeout plus the margin
    await send(s.b, 6001, 6003);
    expect(s.passed()).toBe(4);
  }), 30_000);

  it('drain for health: draining_release accepts no UDP of the bucket, old flows (conntrack, keep) or new', () => withSubject(all, async (s) => {
    await send(s.b, 7001); // known to conntrack
    s.setPhases([{ bucket, from: 'owned', to: 'draining' }]); // → draining_adopt
    await send(s.b, 7001); // adopted into keep
    expect(s.passed()).toBe(2);
    s.exec(renderStage(s.plan, bucket, 'draining_release'));
    await send(s.b, 7001, 7002);
    expect(s.passed()).toBe(2);
  }), 30_000);

  it('a bucket that left the hand-over: its flows end at once in every set (a renewal, never failing on an element already gone)', () => withSubject(all, async (s) => {
    await send(s.b, 7101); // known to conntrack
    s.setPhases([{ bucket, from: 'owned', to: 'draining' }]);
    await send(s.b, 7101); // adopted into keep
    s.exec([...renderFlowFill(s.plan, 'keepfill', [{ saddr: CLIENT, sport: 7102, dport: 9, timeoutMs: 30_000 }]), ...renderStage(s.plan, bucket, 'draining')]);
    expect(s.list('keep').map((f) => f.sport)).toEqual([7101]);
    s.setPhases([{ bucket, from: 'draining', to: 'none' }]);
    s.exec(renderFlowExpire(s.plan, [{ set: 'keep', flows: [{ saddr: CLIENT, sport: 7101, dport: 9 }, { saddr: CLIENT, sport: 7199, dport: 9 }] }, { set: 'keepfill', flows: [{ saddr: CLIENT, sport: 7102, dport: 9 }] }]));
    await sleep(50);
    expect(s.list('keep').filter((f) => f.timeoutMs > 1)).toEqual([]);
    expect(s.list('keepfill').filter((f) => f.timeoutMs > 1)).toEqual([]);
    // Back as the new owner: nothing of the old keep is taken during the hold (the control below
    // shows what a stale entry did).
    s.setPhases([{ bucket, from: 'none', to: 'incoming' }]);
    const before = s.passed();
    await send(s.b, 7101, 7102);
    expect(s.passed()).toBe(before);
  }), 30_000);

  it('control: without that expiry a node that gets a bucket back soon after its drain accepts its old flows during the hold (while their current owner adopts them: two answers)', () => withSubject(all, async (s) => {
    await send(s.b, 7201);
    s.setPhases([{ bucket, from: 'owned', to: 'draining' }]);
    await send(s.b, 7201);
    s.setPhases([{ bucket, from: 'draining', to: 'none' }]);
    s.setPhases([{ bucket, from: 'none', to: 'incoming' }]);
    const before = s.passed();
    await send(s.b, 7201);
    expect(s.passed()).toBe(before + 1);
  }), 30_000);
});

afterAll(() => expectNoNamespacesLeft(prefix));
