/** Pure: the lab plan's topologies (--hb-link, --router) and the fault rulesets, before any namespace exists. */
import { describe, expect, it } from 'vitest';
import { nodeConfigYaml, parseTimingOverrides, planLab, routedClientLink, routedClientLink6, type LabSpec } from '../../lab/plan.js';
import { parseIp } from '../../src/util/ip.js';
import { FAULTS, partitionRuleset, probeWindowMs } from '../../lab/faults.js';

const base: LabSpec = { name: 'tplan', nodes: 3, clients: 2, addrs: 10, seed: 7, buckets: 256, profile: 'default', affinity: 'address' };

describe('lab plan topologies', () => {
  it('puts heartbeats on the data link by default', () => {
    const plan = planLab(base);
    const yaml = nodeConfigYaml(plan, plan.nodes[0]!, '/run/vmac-lab/tplan/cluster.key');
    expect(yaml).toContain('node: { id: 1, name: n1, weight: 100, address: 10.200.0.11 }');
    expect(yaml).not.toContain('extraAddresses');
    expect(plan.router).toBeNull();
  });

  it('--hb-link separate: heartbeats only on the heartbeat bridge; both: two links', () => {
    const sep = planLab({ ...base, hbLink: 'separate' });
    expect(nodeConfigYaml(sep, sep.nodes[1]!, 'k/cluster.key')).toContain('node: { id: 2, name: n2, weight: 100, address: 10.201.0.12 }');
    const both = planLab({ ...base, hbLink: 'both' });
    const yaml = nodeConfigYaml(both, both.nodes[0]!, 'k/cluster.key');
    expect(yaml).toContain('address: 10.200.0.11, extraAddresses: [10.201.0.11] }');
    expect(yaml).toContain('- { id: 3, name: n3, weight: 100, address: 10.200.0.13, extraAddresses: [10.201.0.13] }');
  });

  it('--router --ipv6: client j\'s IPv6 sources in fd00:(224+j)::/32 behind the router; --ipv6-only: no vip in the configs', () => {
    const plan = planLab({ ...base, router: true, ipv6: true });
    plan.clients.forEach((c, j) => {
      expect(c.addresses6).toHaveLength(base.addrs);
      for (const a of c.addresses6) expect(a.startsWith(`fd00:${224 + j}::1:`)).toBe(true);
      // Canonical text: the probers report canonical text and the failover analysis matches by text.
      for (const a of c.addresses6) expect(parseIp(a).text).toBe(a);
    });
    expect(routedClientLink6(1)).toEqual({ router: 'fd00:209:2::1', client: 'fd00:209:2::2', net: 'fd00:225::/32', prefix: 'fd00:225::1' });
    const only = planLab({ ...base, ipv6: true, ipv6Only: true });
    const yaml = nodeConfigYaml(only, only.nodes[0]!, 'k/cluster.key');
    expect(yaml).toContain('vip6: fd00:200::1');
    expect(yaml).not.toMatch(/^vip:/m);
    expect(() => planLab({ ...base, ipv6Only: true })).toThrow(/--ipv6-only needs --ipv6/);
  });

  it('--router: client j in 10.(224+j)/16 behind the router, not on the nodes\' segment', () => {
    const plan = planLab({ ...base, router: true });
    expect(plan.router).toEqual({ ns: 'tplan-r', address: '10.200.0.254', clientNet: '10.224.0.0/12' });
    plan.clients.forEach((c, j) => { for (const a of c.addresses) expect(a.startsWith(`10.${224 + j}.`)).toBe(true); });
    expect(routedClientLink(1)).toEqual({ router: '10.209.2.1', client: '10.209.2.2', net: '10.225.0.0/16' });
  });

  it('the daemons ping the gateway (the router, or 10.200.0.254 on the flat switch) unless turned off; the config passes vmac check', async () => {
    const { parseConfig } = await import('../../src/config/load.js');
    for (const router of [false, true]) {
      const plan = planLab({ ...base, router });
      expect(plan.gateway).toBe('10.200.0.254');
      const yaml = nodeConfigYaml(plan, plan.nodes[0]!, 'k/cluster.key');
      expect(yaml).toContain('dataPathCheck: { targets: [10.200.0.254] }');
      expect(parseConfig(yaml, 'n1.yaml').dataPathCheck).toMatchObject({ targets: ['10.200.0.254'], fall: 3, rise: 5 });
    }
    const off = planLab({ ...base, dataPathCheck: false });
    expect(nodeConfigYaml(off, off.nodes[0]!, 'k/cluster.key')).not.toContain('dataPathCheck');
  });

  it('refuses an unknown --hb-link before anything is built', () => {
    expect(() => planLab({ ...base, hbLink: 'wifi' as never })).toThrow(/--hb-link/);
  });

  it('--timing writes its values over the profile into every node config', () => {
    const plan = planLab({ ...base, profile: 'fast', timing: parseTimingOverrides('intervalMs=3, deadAfter=8,leaseMs=12,renewMs=2') });
    const yaml = nodeConfigYaml(plan, plan.nodes[2]!, 'k/cluster.key');
    expect(yaml).toContain('timing:\n  profile: fast\n  intervalMs: 3\n  deadAfter: 8\n  leaseMs: 12\n  renewMs: 2\n');
  });

  it('--timing is checked like a config file before anything is built, naming the part at fault', () => {
    expect(() => parseTimingOverrides('intervalMs=3,bogus=1')).toThrow(/"bogus=1" must be KEY=INTEGER/);
    expect(() => parseTimingOverrides('intervalMs=-3')).toThrow(/"intervalMs=-3"/);
    // 4 ms x 5 = 20 ms dead time cannot outlast a 16 ms lease + 2 ms margin + 3 intervals.
    const unsafe = (): unknown => planLab({ ...base, profile: 'fast', timing: { deadAfter: 5 } });
    expect(unsafe).toThrow(/timing\.deadAfter: dead time 20 ms/);
    try { unsafe(); } catch (err) { expect((err as { code?: string }).code).toBe('VMAC_LAB_BAD_OPTION'); }
  });
});

describe('fault rulesets', () => {
  it('partition drops heartbeats both ways and nothing else', () => {
    const r = partitionRuleset('partition');
    expect(r).toContain('table inet vmac_labfault');
    expect(r).toContain('udp dport 5789 drop; udp sport 5789 drop;');
    expect(r).not.toContain('l4proto');
  });

  it('partition-data keeps heartbeats and drops the rest of the IP traffic', () => {
    const r = partitionRuleset('partition-data');
    expect(r.indexOf('udp dport 5789 accept')).toBeLessThan(r.indexOf('meta l4proto { udp, tcp, icmp } drop'));
  });

  it('gives restarts room for the daemon to start inside the probe window', () => {
    expect(FAULTS).toContain('partition');
    expect(probeWindowMs('restart')).toBeGreaterThan(probeWindowMs('kill'));
  });
});
