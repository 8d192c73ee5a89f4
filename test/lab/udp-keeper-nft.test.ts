/**
 * The UDP flow timeout's kernel side, against nftables in a namespace this test makes: the
 * bucket's UDP keeper accepts all of its UDP (old flows and new) and, while draining, records it
 * in `udpactive` for the flow timeout; a node that is not the keeper accepts none of it, not even
 * a flow its conntrack knows. A second table counts the UDP packets our chain let through.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openNftables, type NftRunner } from '../../native-shims/nftables.js';
import { nftDataPath } from '../../src/vmac/nft-datapath.js';
import type { DataPathPlan, PhaseChange } from '../../src/vmac/ruleset.js';
import { bucketOf } from '../../src/hash/bucket-of.js';
import { nsRun, run } from '../../lab/exec.js';
import { spawn } from 'node:child_process';
import { deleteNamespaces, expectNoNamespacesLeft, uniqueLabName, vethPair } from './support.js';

const prefix = uniqueLabName('uk');
let n = 0;
const VIP = '10.77.0.1';
const CLIENT = '10.77.0.2';
const VMAC = '02:bf:0a:4d:00:01';
const BUCKETS = 64;
const hash = { affinity: 'address' as const, prefixLength: 24, prefixLength6: 64, seed: 1 };
const bucket = bucketOf({ addr: CLIENT }, hash, BUCKETS);
const all = Array.from({ length: BUCKETS }, (_, i) => i);

/** Sends `count` datagrams from CLIENT:sport to VIP:9, `gapMs` apart. */
async function send(ns: string, sport: number, count = 1, gapMs = 0): Promise<void> {
  const js = `const s=require('dgram').createSocket('udp4');s.bind(${sport},'${CLIENT}',async()=>{for(let i=0;i<${count};i++){s.send('x',9,'${VIP}');await new Promise(r=>setTimeout(r,${gapMs}))}setTimeout(()=>s.close(),20)})`;
  await nsRun(ns, process.execPath, ['-e', js]);
}

interface Subject { nft: NftRunner; a: string; b: string; passed(): number; setPhases(c: PhaseChange[]): void; udpActive(): ReadonlySet<number> }

async function subject(udpFlowTimeoutMs: number): Promise<Subject> {
  const a = `${prefix}-a${++n}`;
  const b = `${prefix}-b${n}`;
  await vethPair(a, b);
  await run('ip', ['-n', a, 'addr', 'add', `${VIP}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', b, 'addr', 'add', `${CLIENT}/24`, 'dev', 'eth0']);
  // The kernel does not answer ARP for the VIP (the daemon does): the client knows the VMAC.
  await run('ip', ['-n', b, 'neigh', 'replace', VIP, 'lladdr', VMAC, 'dev', 'eth0', 'nud', 'permanent']);
  const nft = openNftables(`/run/netns/${a}`);
  const plan: DataPathPlan = { table: 'vmac_uk', ifname: 'eth0', vip: VIP, vmac: VMAC, buckets: BUCKETS, hashExpr: `jhash ip saddr mod ${BUCKETS} seed 0x1`, ...(udpFlowTimeoutMs > 0 ? { udpFlowTimeoutMs } : {}) };
  const dp = nftDataPath(nft, plan);
  dp.install(all, 60_000);
  // After our chain (-160): counts what it let through.
  expect(nft.run('add table ip h6probe\nadd chain ip h6probe c { type filter hook prerouting priority 0; policy accept; }\nadd rule ip h6probe c udp dport 9 counter').rc).toBe(0);
  return {
    nft, a, b,
    passed: () => Number(/packets (\d+)/.exec(nft.run('list chain ip h6probe c').output)?.[1] ?? NaN),
    setPhases: (c) => dp.setPhases(c),
    udpActive: () => dp.udpActive(),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const made: Subject[] = [];
async function withSubject(timeoutMs: number, fn: (s: Subject) => Promise<void>): Promise<void> {
  const s = await subject(timeoutMs);
  made.push(s);
  try { await fn(s); } finally { await deleteNamespaces(s.a, s.b); }
}

describe('UDP keeper chains in the kernel (handover.udpFlowTimeoutMs)', () => {
  it('the draining keeper accepts old and new UDP flows and records the bucket for the flow timeout', () => withSubject(300, async (s) => {
    await send(s.b, 5001, 2, 10); // an old flow, while owned
    expect(s.passed()).toBe(2);
    s.setPhases([{ bucket, from: 'owned', to: 'draining', udp: true }]);
    expect(s.udpActive().has(bucket)).toBe(false);
    await send(s.b, 5001); // the old flow
    await send(s.b, 5002); // a new one
    expect(s.passed()).toBe(4);
    expect(s.udpActive()).toEqual(new Set([bucket]));
    await sleep(200);
    await send(s.b, 5001); // refreshes the element
    await sleep(200);
    expect(s.udpActive()).toEqual(new Set([bucket]));
    await sleep(250);
    expect(s.udpActive().size).toBe(0); // quiet for the flow timeout
  }), 30_000);

  it('a node that is not the keeper drops all of the bucket\'s UDP, even a flow its conntrack knows', () => withSubject(300, async (s) => {
    await send(s.b, 5003, 2, 10);
    expect(s.passed()).toBe(2);
    s.setPhases([{ bucket, from: 'owned', to: 'incoming', udp: false }]);
    await send(s.b, 5003); // known to conntrack
    await send(s.b, 5004); // new
    expect(s.passed()).toBe(2);
    s.setPhases([{ bucket, from: 'incoming', to: 'draining', udp: false }]);
    await send(s.b, 5003);
    expect(s.passed()).toBe(2);
    expect(s.udpActive().size).toBe(0);
    // Handed back to the keeper: all UDP again.
    s.setPhases([{ bucket, from: 'draining', to: 'incoming', udp: true }]);
    await send(s.b, 5003);
    await send(s.b, 5005);
    expect(s.passed()).toBe(4);
  }), 30_000);

  it('off (0): incoming takes new UDP flows, draining only established ones (as before)', () => withSubject(0, async (s) => {
    // An echo on the node: a flow is established once it answered.
    const echo = spawn('ip', ['netns', 'exec', s.a, process.execPath, '-e', `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(m,r.port,r.address));s.bind(9,'${VIP}')`], { stdio: 'ignore' });
    try {
      await sleep(300);
      await offCase(s);
    } finally {
      echo.kill();
    }
  }), 30_000);
});

async function offCase(s: Subject): Promise<void> {
    await send(s.b, 5006);
    s.setPhases([{ bucket, from: 'owned', to: 'incoming' }]);
    await send(s.b, 5007);
    expect(s.passed()).toBe(2);
    s.setPhases([{ bucket, from: 'incoming', to: 'draining' }]);
    await send(s.b, 5007); // known: accepted
    await send(s.b, 5008); // new: dropped
    expect(s.passed()).toBe(3);
    expect(s.udpActive().size).toBe(0);
}

afterAll(() => expectNoNamespacesLeft(prefix));
