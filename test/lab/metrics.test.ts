/**
 * Issue 7, metrics: a 3-node lab with real daemons; `curl` of each node's /metrics (inside its
 * namespace) shows per-bucket kernel counters that add up to the packets the probes sent, per
 * bucket and in total (within 1%), and the membership metrics of a healthy cluster.
 */
import { describe, expect, it } from 'vitest';
import type { LabInfo } from '../../lab/lab.js';
import { probeUdp } from '../../lab/probe.js';
import { parseExposition, perBucket, scrapeNode, sumOf, type Sample } from '../../lab/metrics-scrape.js';
import { loadConfig } from '../../src/config/load.js';
import { bucketOf } from '../../src/hash/bucket-of.js';
import { uniqueLabName, useLab } from './support.js';

const name = uniqueLabName('mt');
let lab: LabInfo;

async function scrapeAll(): Promise<Map<string, Sample[]>> {
  const out = new Map<string, Sample[]>();
  for (const n of lab.nodes) out.set(n.name, parseExposition(await scrapeNode(n.ns)));
  return out;
}

describe('metrics endpoint in a 3-node lab', () => {
  useLab(name, (l) => (lab = l));

  it('shows quorum, membership and the bucket map of a healthy cluster', async () => {
    await new Promise((r) => setTimeout(r, 500));
    const all = await scrapeAll();
    for (const n of lab.nodes) {
      const s = all.get(n.name) ?? [];
      expect(sumOf(s, 'vmac_quorum')).toBe(1);
      expect(sumOf(s, 'vmac_lease_active')).toBe(1);
      for (const peer of lab.nodes) expect(sumOf(s, 'vmac_node_status', { node: peer.name, status: 'alive' })).toBe(1);
      expect(sumOf(s, 'vmac_node_buckets')).toBe(256);
      expect(sumOf(s, 'vmac_heartbeats_sent_total')).toBeGreaterThan(0);
      expect(sumOf(s, 'vmac_heartbeats_received_total', { link: '0' })).toBeGreaterThan(0);
      expect(s.some((x) => x.name === 'vmac_heartbeats_dropped_total' && x.labels.reason === 'bad-mac')).toBe(true);
      expect(s.some((x) => x.name === 'vmac_fence_actions_total')).toBe(true);
      expect(s.some((x) => x.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
    }
  }, 30_000);

  it('per-bucket accepted packets add up to the packets the probes sent (per bucket and in total, within 1%)', async () => {
    const cfg = loadConfig(lab.nodes[0]!.config);
    const before = await scrapeAll();
    // 300 addresses, a round every 10 ms for 2 s: up to 60,000 probes, bounded in count and time.
    const results = await Promise.all(lab.clients.map((c) => probeUdp(c.ns, { vip: lab.vip, port: lab.echoPort, addrFile: c.addrFile, intervalUs: 10_000, durationMs: 2000, waitMs: 300 })));
    await new Promise((r) => setTimeout(r, 300));
    const after = await scrapeAll();
    const expected = new Map<number, number>();
    let sent = 0;
    for (const r of results) for (const a of r.addrs) {
      const b = bucketOf({ addr: a.addr }, cfg.hash, cfg.buckets);
      expected.set(b, (expected.get(b) ?? 0) + a.sent);
      sent += a.sent;
    }
    const measured = new Map<number, number>();
    let perNodeSum = 0;
    for (const n of lab.nodes) {
      const b0 = perBucket(before.get(n.name) ?? [], 'vmac_bucket_accepted_packets_total');
      const b1 = perBucket(after.get(n.name) ?? [], 'vmac_bucket_accepted_packets_total');
      for (const [b, v] of b1) measured.set(b, (measured.get(b) ?? 0) + v - (b0.get(b) ?? 0));
      perNodeSum += sumOf(after.get(n.name) ?? [], 'vmac_accepted_packets_total') - sumOf(before.get(n.name) ?? [], 'vmac_accepted_packets_total');
    }
    const total = [...measured.values()].reduce((a, v) => a + v, 0);
    const worst = [...expected].map(([b, e]) => ({ b, e, m: measured.get(b) ?? 0 })).sort((x, y) => Math.abs(y.m - y.e) / y.e - Math.abs(x.m - x.e) / x.e)[0];
    console.log(`metrics: probes sent ${sent} to ${expected.size} buckets; kernel counters: ${total} packets over all buckets (${((100 * (total - sent)) / sent).toFixed(3)}%), per-node totals ${perNodeSum}; worst bucket ${worst?.b}: sent ${worst?.e}, counted ${worst?.m}`);
    expect(sent).toBeGreaterThan(10_000); // the prober skips late rounds on a busy machine; what it sent is counted
    expect(Math.abs(total - sent) / sent).toBeLessThan(0.01);
    expect(perNodeSum).toBe(total);
    for (const [b, e] of expected) expect(Math.abs((measured.get(b) ?? 0) - e) / e).toBeLessThan(0.01);
    for (const [b, m] of measured) if (!expected.has(b)) expect(m).toBe(0);
  }, 60_000);

  it('serves the dashboard page, its state and its event stream on the same address', async () => {
    const n = lab.nodes[0]!;
    expect(await scrapeNode(n.ns, '/')).toContain('vmac dashboard');
    const st = JSON.parse(await scrapeNode(n.ns, '/api/state')) as { state: { map: number[]; nodes: { name: string; status: string }[] }; timeline: { event: string }[] };
    expect(st.state.map).toHaveLength(256);
    expect(st.state.nodes.map((x) => x.status)).toEqual(['alive', 'alive', 'alive']);
    expect(st.timeline.map((e) => e.event)).toContain('serving');
  }, 30_000);
});
