/**
 * Issue 5 in a real 3-node lab: the echo service is each node's resource (command triple,
 * TCP health check on the VIP). Kill one node's echo service while its daemon stays up: its
 * clients are served by the other nodes within fall × interval + takeover; when the service
 * returns, the node takes its buckets back. ≥ 20 runs; gap p50/p99 printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { labDown, labUp, type LabInfo, type LabNodeInfo } from '../../lab/lab.js';
import { predictor } from '../../lab/answers.js';
import { probeUdp } from '../../lab/probe.js';
import { echoResourceYaml, killEcho, restartWith, startEcho, statusOf, waitFor } from '../../lab/ha-lab.js';
import { expectNoNamespacesLeft, uniqueLabName } from './support.js';

const name = uniqueLabName('rs');
const CHECK = { intervalMs: 100, timeoutMs: 50, rise: 2, fall: 3 };
const RUNS = Number(process.env.VMAC_RESOURCE_RUNS ?? 20);
let lab: LabInfo;
let nodes: LabNodeInfo[];

const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN; };

describe('resource failover lab (3 nodes, echo as a command-triple resource)', () => {
  beforeAll(async () => {
    lab = await labUp({ name, nodes: 3, clients: 3, addrs: 60, seed: randomInt(1, 2 ** 31), buckets: 64, profile: 'default', affinity: 'address' });
    nodes = await restartWith(lab, (n) => echoResourceYaml(lab, n, CHECK));
    const ok = await waitFor(nodes, (s) => s.every((x) => x?.resources?.[0]?.role === 'active') && s.reduce((a, x) => a + (x?.cluster.owned.length ?? 0), 0) === 64, 20_000);
    expect(ok).toBe(true);
  }, 120_000);

  afterAll(async () => {
    await labDown(name);
    await expectNoNamespacesLeft(name);
  }, 60_000);

  it(`killing the echo service (daemon alive) moves its clients to the others within fall × interval + takeover, and back when it returns (${RUNS} runs)`, async () => {
    const predict = predictor(lab);
    const gaps: number[] = [];
    const backMs: number[] = [];
    let duplicates = 0;
    let lostOthers = 0;
    for (let r = 0; r < RUNS; r++) {
      const victim = nodes[r % nodes.length]!;
      const files = lab.clients.map((c, i) => {
        const addrs = c.addresses.filter((a) => predict(a) === victim.name).slice(0, 4);
        const file = join(lab.dir, `rs-${r}-c${i + 1}.addrs`);
        writeFileSync(file, `${addrs.join('\n')}\n`);
        return { ns: c.ns, file, n: addrs.length };
      }).filter((f) => f.n > 0);
      const others = lab.clients.map((c, i) => {
        const addrs = c.addresses.filter((a) => predict(a) !== victim.name).slice(0, 3);
        const file = join(lab.dir, `rs-${r}-o${i + 1}.addrs`);
        writeFileSync(file, `${addrs.join('\n')}\n`);
        return { ns: c.ns, file };
      });
      const probes = [...files, ...others].map((f) => probeUdp(f.ns, { vip: lab.vip, port: lab.echoPort, addrFile: f.file, intervalUs: 1000, durationMs: 2500, waitMs: 200 }));
      await new Promise((res) => setTimeout(res, 300));
      expect(await killEcho(victim)).toBe(1);
      const results = await Promise.all(probes);
      const mine = results.slice(0, files.length).flatMap((x) => x.addrs);
      const theirs = results.slice(files.length).flatMap((x) => x.addrs);
      for (const a of mine) {
        expect(a.lastNode).not.toBe(victim.name); // served by another node at the end
        gaps.push(a.maxGapUs / 1000);
      }
      duplicates += [...mine, ...theirs].reduce((s, a) => s + a.duplicates, 0);
      const lostNow = theirs.reduce((s, a) => s + a.lost, 0);
      if (lostNow > 0) console.log(`run ${r} (victim ${victim.name}): other nodes' clients lost ${lostNow}: ${theirs.filter((a) => a.lost > 0).map((a) => `${a.addr} via ${predict(a.addr)} lost ${a.lost} sent ${a.sent} gap ${(a.maxGapUs / 1000).toFixed(1)} ms at ${((a.maxGapStartUs ?? 0) / 1000).toFixed(0)} ms`).join('; ')}`);
      lostOthers += lostNow;
      // One status read can miss its 1 s reply deadline on a loaded CI machine: read until the
      // daemon answers (bounded), then assert what it reports.
      let st = await statusOf(victim);
      for (let i = 0; st === null && i < 10; i++) st = await statusOf(victim);
      expect(st, 'the victim daemon answers status').not.toBeNull();
      expect(st?.cluster.self.state).toBe('draining');
      expect(st?.resources?.[0]).toMatchObject({ health: 'unhealthy', role: 'draining' });
      // The service returns: the node takes its buckets back.
      const t0 = Date.now();
      await startEcho(lab, victim, echoResourceYaml(lab, victim, CHECK));
      const back = await waitFor([victim], ([s]) => s?.resources?.[0]?.role === 'active' && s.cluster.self.state === 'active' && s.cluster.owned.length > 0, 15_000, 20);
      if (!back) console.log(`run ${r}: ${victim.name} did not come back; echo log: ${readFileSync(join(lab.dir, `${victim.name}-echo.log`), 'utf8').split('\n').slice(-5).join(' | ')}\n${JSON.stringify(await statusOf(victim))}\n${readFileSync(victim.log, 'utf8').split('\n').slice(-15).join('\n')}`);
      expect(back).toBe(true);
      backMs.push(Date.now() - t0);
      await waitFor(nodes, (s) => s.reduce((a, x) => a + (x?.cluster.owned.length ?? 0), 0) === 64, 5000);
    }
    // Once back, the victim's clients are its own again.
    const last = nodes[(RUNS - 1) % nodes.length]!;
    const addrs = lab.clients[0]!.addresses.filter((a) => predict(a) === last.name).slice(0, 5);
    const file = join(lab.dir, 'rs-back.addrs');
    writeFileSync(file, `${addrs.join('\n')}\n`);
    const check = await probeUdp(lab.clients[0]!.ns, { vip: lab.vip, port: lab.echoPort, addrFile: file, intervalUs: 1000, durationMs: 300, waitMs: 200 });
    for (const a of check.addrs) expect(a.lastNode).toBe(last.name);
    const bound = CHECK.fall * CHECK.intervalMs + CHECK.intervalMs + CHECK.timeoutMs + 200;
    console.log(`echo killed, daemon alive: ${gaps.length} client gaps over ${RUNS} runs: p50 ${pct(gaps, 50).toFixed(1)} ms, p99 ${pct(gaps, 99).toFixed(1)} ms, max ${Math.max(...gaps).toFixed(1)} ms (fall ${CHECK.fall} × interval ${CHECK.intervalMs} ms = ${CHECK.fall * CHECK.intervalMs} ms); back after restart p50 ${pct(backMs, 50)} ms; duplicates ${duplicates}; lost by other nodes' clients ${lostOthers}`);
    expect(pct(gaps, 99)).toBeLessThan(bound);
    expect(duplicates).toBe(0);
  }, 600_000);
});
