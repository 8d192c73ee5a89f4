/**
 * 100,000 malformed, forged and replayed heartbeats at a running daemon: it keeps running, its
 * view and buckets do not change, and its counters account for every datagram.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { labDown, labUp, type LabInfo } from '../../lab/lab.js';
import { nsRun, run } from '../../lab/exec.js';
import { repoRoot } from '../../lab/paths.js';
import { requestControl } from '../../src/daemon/control-socket.js';
import type { DaemonStatus } from '../../src/daemon/node-daemon.js';
import { expectNoNamespacesLeft, uniqueLabName } from './support.js';

const name = uniqueLabName('fz');
let lab: LabInfo;
const status = (node: string): Promise<DaemonStatus> => requestControl(join(lab.dir, `${node}.sock`), { cmd: 'status' }) as Promise<DaemonStatus>;
// Every datagram is judged once: by the heartbeat decoder, or (a flow message's magic byte) by the per-flow UDP runner.
const totalOf = (s: DaemonStatus): number => Object.values(s.cluster.heartbeats.received).reduce((a, b) => a + b, 0) + s.cluster.heartbeats.flowMessages;

describe('hostile heartbeats at a running daemon', () => {
  beforeAll(async () => {
    lab = await labUp({ name, nodes: 3, clients: 1, addrs: 5, seed: randomInt(1, 2 ** 31), buckets: 256, profile: 'default', affinity: 'address' });
  }, 120_000);
  afterAll(async () => {
    await labDown(name);
    await expectNoNamespacesLeft(name);
  }, 60_000);

  it('100,000 datagrams: no crash, no state change, every one counted', async () => {
    const target = lab.nodes[0]!;
    const before = await status(target.name);
    const udpBefore = await run('ip', ['netns', 'exec', target.ns, 'cat', '/proc/net/snmp']);
    const out = await nsRun(lab.clients[0]!.ns, join(repoRoot(), 'node_modules/.bin/tsx'), [join(repoRoot(), 'test/lab/helpers/hb-fuzz-sender.ts'), target.address, '5789', join(lab.dir, 'cluster.key'), '100000', '2'], { timeoutMs: 240_000 });
    const sent = JSON.parse(out) as { sent: number; byKind: Record<string, number> };
    expect(sent.sent).toBe(100_000);
    await new Promise((r) => setTimeout(r, 500));
    const after = await status(target.name);
    process.kill(target.daemonPid, 0); // still running
    const udpAfter = await run('ip', ['netns', 'exec', target.ns, 'cat', '/proc/net/snmp']);
    const rcvbufErrors = (text: string): number => Number(/Udp: \d+ \d+ \d+ \d+ (\d+)/.exec(text.split('\n').filter((l) => l.startsWith('Udp:'))[1] ?? '')?.[1] ?? 0);
    const kernelDropped = rcvbufErrors(udpAfter) - rcvbufErrors(udpBefore);
    const r = after.cluster.heartbeats.received;
    const b = before.cluster.heartbeats.received;
    const hostile = totalOf(after) - totalOf(before) - ((r.accepted - b.accepted) + (r.duplicate - b.duplicate));
    console.log(`hostile heartbeats: sent ${sent.sent}, counted ${hostile} (${Object.entries(r).map(([k, v]) => `${k} +${v - (b[k as keyof typeof b] ?? 0)}`).join(', ')}), kernel socket drops ${kernelDropped}`);
    expect(hostile + kernelDropped).toBe(100_000);
    expect(r['bad-mac'] - b['bad-mac']).toBeGreaterThan(0);
    expect(r['stale-incarnation'] + r.replay - b['stale-incarnation'] - b.replay).toBeGreaterThan(0);
    expect(r['unknown-node'] - b['unknown-node']).toBeGreaterThan(0);
    // No state change: same view, same buckets, everyone still alive, lease still renewed.
    expect(after.cluster.view).toEqual(before.cluster.view);
    expect(after.cluster.owned).toEqual(before.cluster.owned);
    expect(after.cluster.quorum.lease).toBe('renew');
    expect(after.cluster.nodes.map((n) => n.status)).toEqual(['alive', 'alive', 'alive']);
  }, 300_000);
});
