/**
 * Issue 5 in real 2-node labs with the two-node quorum policy (tie-breaker: a client address,
 * pinged over ICMP through the raw-socket shim). The heartbeat path is cut with nftables INSIDE
 * both node namespaces (UDP 5789 dropped both ways) while both nodes stay up:
 *   - the lab's fence program (lab/fence-lab-agent.ts, through the exec agent): exactly one node survives with every bucket, the other is fenced (its
 *     link down, its processes killed), zero duplicate answers;
 *   - a fence_*-style exec agent stub that fails: no takeover, each node keeps its own buckets,
 *     the failure is in `vmac status` and in the log.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { labDown, labUp, type LabInfo, type LabNodeInfo } from '../../lab/lab.js';
import { probeUdp } from '../../lab/probe.js';
import { run } from '../../lab/exec.js';
import { cutHeartbeats, echoResourceYaml, labFenceAgentYaml, restartWith, statusOf, waitFor } from '../../lab/ha-lab.js';
import { expectNoNamespacesLeft, uniqueLabName } from './support.js';

const BUCKETS = 64;
let current: string | null = null;

afterEach(async () => {
  if (current) { await labDown(current); await expectNoNamespacesLeft(current); current = null; }
}, 60_000);

async function pairLab(tag: string, agentYaml: (lab: LabInfo) => string): Promise<{ lab: LabInfo; nodes: LabNodeInfo[] }> {
  const name = uniqueLabName(tag);
  current = name;
  const lab = await labUp({ name, nodes: 2, clients: 1, addrs: 40, seed: randomInt(1, 2 ** 31), buckets: BUCKETS, profile: 'default', affinity: 'address' });
  const tieBreaker = lab.clients[0]!.addresses[0]!;
  const nodes = await restartWith(lab, (n) => [
    `quorum: { policy: two-node, tieBreaker: { ping: ${tieBreaker}, intervalMs: 100, timeoutMs: 80 } }`,
    'fencing:',
    // Node 1 fences at once, node 2 only after 2 s: a race always has the same winner.
    `  delayMs: ${n.id === 1 ? 0 : 2000}`,
    '  timeoutMs: 5000',
    '  retryBaseMs: 500',
    '  retryMaxMs: 2000',
    `  agent: ${agentYaml(lab)}`,
    // The echo service as the node's resource, so there is something to answer.
    echoResourceYaml(lab, n, { intervalMs: 100, timeoutMs: 50, rise: 2, fall: 3 }),
  ].join('\n'));
  const ok = await waitFor(nodes, (s) => s.every((x) => x?.cluster.quorumPolicy?.tieBreaker === 'reachable') && s.reduce((a, x) => a + (x?.cluster.owned.length ?? 0), 0) === BUCKETS && s.every((x) => x?.cluster.self.state === 'active' && x.resources?.[0]?.role === 'active'), 20_000);
  if (!ok) console.log(nodes.map((n) => readFileSync(n.log, 'utf8').split('\n').slice(-8).join('\n')).join('\n---\n'));
  expect(ok).toBe(true);
  return { lab, nodes };
}

function probeAll(lab: LabInfo, durationMs: number): ReturnType<typeof probeUdp> {
  const file = join(lab.dir, 'all.addrs');
  writeFileSync(file, `${lab.clients[0]!.addresses.slice(1, 31).join('\n')}\n`);
  return probeUdp(lab.clients[0]!.ns, { vip: lab.vip, port: lab.echoPort, addrFile: file, intervalUs: 1000, durationMs, waitMs: 300 });
}

describe('two nodes, heartbeat path cut, both up', () => {
  it('lab fence agent: node 1 fences node 2 and serves every bucket; no duplicate answers', async () => {
    const { lab, nodes } = await pairLab('fl', (l) => labFenceAgentYaml(l));
    const [n1, n2] = nodes as [LabNodeInfo, LabNodeInfo];
    const probe = probeAll(lab, 4000);
    await new Promise((r) => setTimeout(r, 300));
    const cutAt = Date.now();
    await Promise.all(nodes.map((n) => cutHeartbeats(n.ns, 5789)));
    const fenced = await waitFor([n1], ([s]) => s?.cluster.fencing?.counters.succeeded === 1 && s.cluster.owned.length === BUCKETS, 10_000);
    const tookMs = Date.now() - cutAt;
    const r = await probe;
    const s1 = await statusOf(n1);
    console.log(`two-node split, lab agent: node 1 fenced node 2 and owned all ${BUCKETS} buckets ${tookMs} ms after the cut; fence: ${JSON.stringify(s1?.cluster.fencing?.targets[0]?.last)}; probes: ${r.addrs.reduce((a, x) => a + x.sent, 0)} sent, ${r.addrs.reduce((a, x) => a + x.duplicates, 0)} duplicates, longest gap ${Math.max(...r.addrs.map((a) => a.maxGapUs / 1000)).toFixed(1)} ms`);
    expect(fenced).toBe(true);
    expect(s1?.cluster.quorumPolicy?.verdict).toBe('solo');
    // Node 2: link down, daemon gone.
    expect(await run('ip', ['-n', n2.ns, '-o', 'link', 'show', 'eth0'])).not.toContain('state UP');
    expect(await statusOf(n2)).toBeNull();
    expect(r.addrs.reduce((a, x) => a + x.duplicates, 0)).toBe(0);
    for (const a of r.addrs) expect(a.lastNode).toBe('n1');
    expect(readFileSync(n1.log, 'utf8')).toContain('"event":"fence-succeeded"');
    expect(readFileSync(n2.log, 'utf8')).not.toContain('"event":"fence-started"');
  }, 120_000);

  it('exec agent stub that fails: no takeover, the failure in status and log', async () => {
    const stub = join('/tmp', `vmac-fence-fail-${process.pid}`);
    writeFileSync(stub, '#!/bin/sh\ncat >/dev/null\necho "Unable to connect/login to fencing device" >&2\nexit 1\n');
    chmodSync(stub, 0o755);
    const { lab, nodes } = await pairLab('ff', () => `{ exec: { path: ${stub}, params: { ip: 192.0.2.1, username: admin, password: secret } } }`);
    const before = await Promise.all(nodes.map(async (n) => (await statusOf(n))?.cluster.owned.length ?? 0));
    const probe = probeAll(lab, 4000);
    await new Promise((r) => setTimeout(r, 300));
    await Promise.all(nodes.map((n) => cutHeartbeats(n.ns, 5789)));
    const failed = await waitFor([nodes[0]!], ([s]) => (s?.cluster.fencing?.counters.failed ?? 0) >= 2, 10_000);
    const r = await probe;
    const st = await Promise.all(nodes.map(statusOf));
    console.log(`two-node split, failing exec agent: owned ${st.map((s) => s?.cluster.owned.length).join('/')} (before ${before.join('/')}); node 1 fencing ${JSON.stringify(st[0]?.cluster.fencing?.counters)}; probes ${r.addrs.reduce((a, x) => a + x.duplicates, 0)} duplicates`);
    expect(failed).toBe(true);
    expect(st.map((s) => s?.cluster.owned.length)).toEqual(before);
    expect(st[0]?.cluster.fencing?.targets[0]?.last).toMatchObject({ action: 'off', outcome: 'failed' });
    expect(st[0]?.cluster.fencing?.targets[0]?.last?.detail).toContain('Unable to connect/login');
    expect(st[0]?.cluster.fencing?.targets[0]?.last?.detail).not.toContain('secret');
    expect(st[0]?.cluster.quorumPolicy?.verdict).toBe('keep-own');
    expect(readFileSync(nodes[0]!.log, 'utf8')).toContain('"event":"fence-failed"');
    expect(r.addrs.reduce((a, x) => a + x.duplicates, 0)).toBe(0);
    // The CLI shows it too.
    const { execFileSync } = await import('node:child_process');
    const text = execFileSync(process.execPath, [join(process.cwd(), 'dist/src/cli/main.js'), 'status', '-c', nodes[0]!.config], { encoding: 'utf8' });
    expect(text).toContain('last fence action off failed');
  }, 120_000);
});
