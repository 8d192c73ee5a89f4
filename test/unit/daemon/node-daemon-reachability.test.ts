/**
 * The daemon with a data-path check, three nodes on fakes and a fake clock (no sleeps): a node
 * that loses its target hands its buckets to the peers and stops renewing (healthHold), and takes
 * them back once the target answers again; when every node loses the target at once (the router
 * died) nobody is left drained — every node holds its own buckets and the VIP stays answered.
 * At every step no bucket's new flows are accepted by two nodes. Status shows the check.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import { startDaemon, type Daemon } from '../../../src/daemon/node-daemon.js';
import { fakeClock } from '../../../src/util/clock.js';
import { fakeDataPath, type FakeDataPath } from '../../../src/vmac/fake-datapath.js';
import { createFakeNetwork } from '../../../src/cluster/fake-transport.js';
import { fakeIcmpEcho, type FakeIcmpEcho } from '../../../src/health/reachability/fake-icmp-echo.js';
import { fakeNodePorts, threeNodeYaml } from './fake-ports.js';

const GW = '10.0.0.254';
const yamlFor = (id: number): string => threeNodeYaml(id, `dataPathCheck: { targets: [${GW}], intervalMs: 100, fall: 3, rise: 2 }\n`);

async function cluster(): Promise<{ nodes: { id: number; dp: FakeDataPath; echo: FakeIcmpEcho; daemon: Daemon }[]; run: (ms: number) => Promise<void>; answered: (id: number) => number; lowest: number[] }> {
  const clock = fakeClock();
  const net = createFakeNetwork(clock);
  const log = pino({ level: 'silent' });
  const built = [1, 2, 3].map((id) => {
    const dp = fakeDataPath(() => clock.nowMs());
    const echo = fakeIcmpEcho(clock, [GW], 1);
    const ports = fakeNodePorts(id, clock, net, dp, { openDataPathEcho: (ifname) => { expect(ifname).toBe('eth0'); return echo; } });
    return { id, dp, echo, ports, cfg: parseConfig(yamlFor(id), `n${id}.yaml`) };
  });
  const daemons = await Promise.all(built.map((n) => startDaemon(n.cfg, n.ports, log)));
  // Promise chains and the prober's verdict (deferred behind pending I/O: one macrotask).
  const flush = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  const lowest = [Infinity, Infinity, Infinity]; // fewest buckets each node answered at any step
  const run = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 5) {
      clock.advance(5);
      await flush();
      built.forEach((n, i) => { lowest[i] = Math.min(lowest[i]!, n.dp.answeringNow()?.size ?? 0); });
      const seen = new Map<number, number>();
      for (const n of built) for (const b of n.dp.acceptingNewNow() ?? []) {
        if (seen.has(b)) throw new Error(`t=${clock.nowMs()}: new flows of bucket ${b} accepted by ${seen.get(b)} and ${n.id}`);
        seen.set(b, n.id);
      }
    }
  };
  const answered = (id: number): number => built[id - 1]!.dp.answeringNow()?.size ?? 0;
  return { nodes: built.map((n, i) => ({ id: n.id, dp: n.dp, echo: n.echo, daemon: daemons[i]! })), run, answered, lowest };
}

describe('daemon with a data-path check (fakes, fake clock)', () => {
  it('a node that cannot reach its target drains to the peers and stops renewing; it takes its buckets back when the target answers', async () => {
    const { nodes, run, answered } = await cluster();
    await run(1500);
    expect([1, 2, 3].map(answered)).toEqual([20, 20, 20]);
    expect(nodes[0]!.daemon.status().dataPath).toMatchObject({ health: 'reachable', role: 'serving', healthyPeers: 2 });
    // The data path of node 1 is cut (its echoes go unanswered); heartbeats still flow.
    nodes[0]!.echo.reachable.clear();
    await run(250);
    expect(answered(1)).toBe(20); // two failed rounds: not yet (fall 3)
    await run(750);
    expect(answered(1)).toBe(0);
    expect(answered(2) + answered(3)).toBe(60);
    const st = nodes[0]!.daemon.status();
    expect(st.dataPath).toMatchObject({ health: 'unreachable', role: 'draining', lastRound: { outcome: 'fail', lost: [GW] } });
    expect(st.cluster.self.state).toBe('draining');
    expect(st.cluster.quorum.lease).toBe('draining'); // healthHold: drained, so no lease at all
    expect(nodes[0]!.dp.answeringNow()).toBeNull();
    expect(nodes[1]!.daemon.status().cluster.nodes.find((n) => n.id === 1)?.state).toBe('draining');
    // The path comes back: after rise good rounds it takes its share back through the hand-over.
    nodes[0]!.echo.reachable.add(GW);
    await run(2000);
    expect([1, 2, 3].map(answered)).toEqual([20, 20, 20]);
    expect(nodes[0]!.daemon.status().dataPath).toMatchObject({ health: 'reachable', role: 'serving' });
    await Promise.all(nodes.map((n) => n.daemon.stop('error')));
  });

  it.each([[0, 0], [45, 90], [120, 60], [30, 600]])('every node loses the target (the router died; nodes notice %i/%i ms apart): nobody stays drained, every bucket keeps an owner', async (d2, d3) => {
    const { nodes, run, answered, lowest } = await cluster();
    await run(1500);
    expect([1, 2, 3].map(answered)).toEqual([20, 20, 20]);
    lowest.fill(Infinity);
    // The nodes' rounds are in step here: offsets make them notice one after the other.
    const cuts = [{ at: 0, n: 0 }, { at: d2, n: 1 }, { at: d3, n: 2 }].sort((a, b) => a.at - b.at);
    let t = 0;
    for (const c of cuts) { await run(c.at - t); t = c.at; nodes[c.n]!.echo.reachable.clear(); }
    // Whatever moved while the nodes noticed one after the other settles back: all hold.
    await run(3000);
    expect(nodes.map((n) => n.daemon.status().dataPath?.role)).toEqual(['holding', 'holding', 'holding']);
    expect(answered(1) + answered(2) + answered(3)).toBe(60);
    expect([1, 2, 3].map(answered)).toEqual([20, 20, 20]);
    // Within the settle time (check interval + 2 heartbeat intervals = 180 ms) nobody moved a
    // bucket at all; a node noticing much later sees the others drain towards it for a while.
    const withinSettle = Math.max(d2, d3) < 100 + 2 * 40;
    if (withinSettle) expect(lowest).toEqual([20, 20, 20]);
    else expect(Math.min(...lowest)).toBeLessThan(20);
    // Holding nodes announce standby: none counts the others as healthy.
    expect(nodes[0]!.daemon.status().cluster.nodes.filter((n) => n.id !== 1).map((n) => n.state)).toEqual(['standby', 'standby']);
    // Node 3's path comes back first: the others now have a healthy peer and drain to it.
    nodes[2]!.echo.reachable.add(GW);
    await run(1500);
    expect(answered(3)).toBe(60);
    expect(answered(1) + answered(2)).toBe(0);
    for (const n of nodes) n.echo.reachable.add(GW);
    await run(2500);
    expect([1, 2, 3].map(answered)).toEqual([20, 20, 20]);
    await Promise.all(nodes.map((n) => n.daemon.stop('error')));
  });
});
