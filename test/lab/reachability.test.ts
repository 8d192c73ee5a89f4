/**
 * The data-path check on a real 3-node lab (flat topology: the daemons ping the gateway address
 * on the switch's bridge through their eth0):
 *  - partition-data (heartbeats kept, everything else cut in the victim's namespace): the
 *    victim's check fails, it drains, its clients are answered by the peers; zero duplicates,
 *    nothing lost by the other nodes' clients (reported: the machine is shared); it comes back;
 *  - the gateway itself goes away (every node loses the target at once): every node holds its
 *    buckets (role `holding`, announced `standby`) and every client is still answered.
 * Timing is reported, not asserted, but for the bound of the probe window.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabInfo } from '../../lab/lab.js';
import { failoverRun } from '../../lab/failover.js';
import { probeWindowMs } from '../../lab/faults.js';
import { run } from '../../lab/exec.js';
import { probeUdp } from '../../lab/probe.js';
import { requestControl } from '../../src/daemon/control-socket.js';
import type { DaemonStatus } from '../../src/daemon/node-daemon.js';
import { uniqueLabName, useLab } from './support.js';

const name = uniqueLabName('h4adp');
let lab: LabInfo;

const status = async (n: LabInfo['nodes'][number]): Promise<DaemonStatus> => (await requestControl(join(lab.dir, `${n.name}.sock`), { cmd: 'status' })) as DaemonStatus;

async function until<T>(what: string, fn: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('data-path check on a 3-node lab', () => {
  // A short UDP idle timeout (as `vmac lab failover` sets): once the victim serves again, its
  // peers hand its buckets back keeping each probe flow until it is quiet (per-flow hand-over),
  // and the probes' flows end with the probe window.
  useLab(name, (l) => (lab = l), { addrs: 40, udpIdleMs: 1000 });

  it('partition-data: the victim drains to its peers — its clients are answered again, no duplicates', async () => {
    expect(lab.gateway).toBe('10.200.0.254');
    const victim = lab.nodes[0]!;
    // rise (5) good rounds after start: the path is judged reachable about 0.5 s in.
    const before = await until('the gateway judged reachable', async () => { const s = await status(victim); return s.dataPath?.health === 'reachable' ? s : null; }, 10_000);
    expect(before.dataPath).toMatchObject({ health: 'reachable', role: 'serving', targets: [{ address: '10.200.0.254' }] });
    const logFrom = readFileSync(victim.log, 'utf8').length;
    const r = await failoverRun(lab, { run: 1, fault: 'partition-data', victim, perClient: 3, durationMs: probeWindowMs('partition-data'), seed: 11 });
    const gaps = [...r.gapsMs].sort((a, b) => a - b);
    process.stderr.write(`datapath lab: partition-data of ${victim.name}: gap ${gaps[0]?.toFixed(1)}-${gaps.at(-1)?.toFixed(1)} ms over ${gaps.length} clients; takeover after ${r.takeoverAfterMs?.toFixed(1)} ms; duplicates ${r.duplicates}; lost by the others' clients ${r.lostSurvivors}; survivors' lease stops ${r.leaseStops.join(',') || 'none'}\n`);
    expect(r.duplicates).toBe(0);
    expect(r.takeoverAfterMs).not.toBeNull();
    expect(r.victimMoved).toBe(gaps.length); // every probed client of the victim moved to a peer
    expect(gaps.at(-1)!).toBeLessThan(probeWindowMs('partition-data'));
    const log = readFileSync(victim.log, 'utf8').slice(logFrom);
    expect(log).toContain('"event":"datapath-unreachable"');
    expect(log).toContain('"event":"datapath-drain"');
    // Restored by the harness: the victim serves again once rise rounds passed.
    await until('the victim to serve its share again', async () => {
      const s = await status(victim);
      return s.dataPath?.role === 'serving' && s.cluster.self.state === 'active' && s.cluster.owned.length > 0 ? s : null;
    }, 15_000);
  }, 60_000);

  it('the gateway goes away (every node loses the target): every node holds, every client is still answered', async () => {
    const addrFile = join(lab.dir, 'dp-all.addrs');
    const c = lab.clients[0]!;
    writeFileSync(addrFile, `${c.addresses.join('\n')}\n`);
    // Probe through the whole episode (every 2 ms): the transient while nodes notice one after
    // the other is reported; after it, every address must be answered.
    const probe = probeUdp(c.ns, { vip: lab.vip, port: lab.echoPort, addrFile, intervalUs: 2000, durationMs: 4000, waitMs: 300 });
    await new Promise((r) => setTimeout(r, 300));
    await run('ip', ['-n', lab.switchNs, 'addr', 'del', `${lab.gateway}/16`, 'dev', 'br0']);
    try {
      const roles = await until('every node holding', async () => {
        const all = await Promise.all(lab.nodes.map(status));
        return all.every((s) => s.dataPath?.role === 'holding') ? all : null;
      }, 10_000);
      // Settled: every node still serves its own share (none drained), all clients answered.
      await new Promise((r) => setTimeout(r, 500));
      const settled = await Promise.all(lab.nodes.map(status));
      expect(settled.map((s) => s.cluster.owned.length > 0)).toEqual([true, true, true]);
      expect(settled.every((s) => s.cluster.self.state === 'active' && s.dataPath?.role === 'holding')).toBe(true);
      expect(settled[0]!.cluster.nodes.filter((n) => n.id !== settled[0]!.cluster.self.id).map((n) => n.state)).toEqual(['standby', 'standby']);
      const p = await probe;
      const lost = p.addrs.reduce((s, a) => s + a.lost, 0);
      // Answered in the last 300 ms of the probe (after the episode settled).
      const silentAtEnd = p.addrs.filter((a) => a.lastUs === null || a.lastUs < p.sendEndUs - 300_000).length;
      const longest = Math.max(...p.addrs.map((a) => a.maxGapUs)) / 1000;
      process.stderr.write(`datapath lab: gateway gone: roles ${roles.map((s) => s.dataPath?.role).join(',')}; probes lost ${lost} of ${p.addrs.reduce((s, a) => s + a.sent, 0)} over the episode (longest silence ${longest.toFixed(1)} ms), addresses silent at the end ${silentAtEnd} of ${p.addrs.length}\n`);
      expect(silentAtEnd).toBe(0);
      expect(p.addrs.reduce((s, a) => s + a.duplicates, 0)).toBe(0);
      for (const n of lab.nodes) expect(readFileSync(n.log, 'utf8')).toContain('"event":"datapath-all-failing"');
    } finally {
      await run('ip', ['-n', lab.switchNs, 'addr', 'add', `${lab.gateway}/16`, 'dev', 'br0']);
    }
    await until('every node serving again', async () => {
      const all = await Promise.all(lab.nodes.map(status));
      return all.every((s) => s.dataPath?.role === 'serving') ? all : null;
    }, 10_000);
  }, 60_000);
});
