/** Dual stack: the VIP6's rules in the netdev table and the inet hand-over table. */
import { describe, expect, it } from 'vitest';
import { ipv6Hex, renderInstall, renderPhaseChanges, type DataPathPlan } from '../../../src/vmac/ruleset.js';
import { dataPathPlan } from '../../../src/daemon/node-daemon.js';
import { parseConfig } from '../../../src/config/load.js';
import { yamlWith } from '../config/helpers.js';

const v4: DataPathPlan = { table: 'vmac_web', ifname: 'eth0', vip: '10.0.0.1', vmac: '02:bf:0a:00:00:01', buckets: 256, hashExpr: 'jhash ip saddr mod 256 seed 0xabcd' };
const dual: DataPathPlan = { ...v4, v6: { vip6: 'fd00:200::1', hashExpr6: 'jhash ip6 saddr mod 256 seed 0xabcd' } };

describe('dual-stack ruleset', () => {
  it('IPv4 only renders no IPv6 rule at all', () => {
    expect(renderInstall(v4, [1], 200)).not.toMatch(/ip6|icmpv6/);
  });

  it('drops ND for the VIP6 before the VIP6 rule, which feeds the same owned map; both before the VMAC drop', () => {
    const lines = renderInstall(dual, [1], 200).split('\n');
    const ingress = lines.filter((l) => l.startsWith('add rule netdev vmac_web ingress'));
    expect(ingress).toEqual([
      'add rule netdev vmac_web ingress ether daddr 02:bf:0a:00:00:01 ip daddr 10.0.0.1 iifname @alive meta pkttype set host jhash ip saddr mod 256 seed 0xabcd vmap @owned',
      'add rule netdev vmac_web ingress icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } @th,64,128 0xfd000200000000000000000000000001 drop',
      'add rule netdev vmac_web ingress ether daddr 02:bf:0a:00:00:01 ip6 daddr fd00:200::1 iifname @alive meta pkttype set host jhash ip6 saddr mod 256 seed 0xabcd vmap @owned',
      'add rule netdev vmac_web ingress ether daddr 02:bf:0a:00:00:01 drop',
      'add rule netdev vmac_web ingress arp daddr ip 10.0.0.1 drop',
      'add rule netdev vmac_web ingress arp saddr ip 10.0.0.1 drop',
    ]);
    expect(lines.filter((l) => l.startsWith('add map '))).toEqual([
      'add map netdev vmac_web owned { typeof numgen inc mod 256 : verdict; counter; }',
      'add map inet vmac_web_ct phase { typeof numgen inc mod 256 : verdict; }',
    ]);
  });

  it('the inet hand-over table sends both families through one phase map', () => {
    const pre = renderInstall(dual, [], null).split('\n').filter((l) => l.startsWith('add rule inet vmac_web_ct pre '));
    expect(pre).toEqual([
      'add rule inet vmac_web_ct pre iifname "eth0" ip daddr 10.0.0.1 jhash ip saddr mod 256 seed 0xabcd vmap @phase',
      'add rule inet vmac_web_ct pre iifname "eth0" ip6 daddr fd00:200::1 jhash ip6 saddr mod 256 seed 0xabcd vmap @phase',
    ]);
    expect(renderPhaseChanges(dual, [{ bucket: 3, from: 'owned', to: 'draining' }])).toBe('add element inet vmac_web_ct phase { 3 : jump draining }');
  });

  it('writes the VIP6 as nft raw-payload hex', () => {
    expect(ipv6Hex('2001:db8::a:b')).toBe('0x20010db80000000000000000000a000b');
  });

  it('the daemon plan hashes IPv6 clients with the same buckets and seed, per affinity', () => {
    const plan = (hash: Record<string, unknown>): DataPathPlan => dataPathPlan(parseConfig(yamlWith({ vip6: 'fd00:200::1', buckets: 64, hash: { seed: 0x5eed, ...hash } }), 'web.yaml'));
    expect(plan({}).v6).toEqual({ vip6: 'fd00:200::1', hashExpr6: 'jhash ip6 saddr mod 64 seed 0x5eed' });
    expect(plan({ affinity: 'address+port' }).v6?.hashExpr6).toBe('jhash ip6 saddr . th sport mod 64 seed 0x5eed');
    expect(plan({ affinity: 'network', prefixLength6: 56 }).v6?.hashExpr6).toBe('jhash ip6 saddr & ffff:ffff:ffff:ff00:: mod 64 seed 0x5eed');
    expect(dataPathPlan(parseConfig(yamlWith({}), 'web.yaml')).v6).toBeUndefined();
  });
});

describe('IPv6-only ruleset (vip null)', () => {
  const only: DataPathPlan = { ...dual, vip: null, icmpErrors: { hashExpr4: 'jhash @th,192,32 mod 256 seed 0xabcd', hashExpr6: 'jhash @th,256,128 mod 256 seed 0xabcd' }, fragments: { hashExpr4: 'jhash ip saddr mod 256 seed 0xabcd', hashExpr6: 'jhash ip6 saddr mod 256 seed 0xabcd' } };
  it('renders no IPv4 client, fragment, ICMP or ARP rule: only the VIP6\'s, then the VMAC drop', () => {
    const lines = renderInstall(only, [1], 200).split('\n');
    expect(lines.filter((l) => / ip daddr | arp |null/.test(l))).toEqual([]);
    const ingress = lines.filter((l) => l.startsWith('add rule netdev vmac_web ingress'));
    expect(ingress.map((l) => l.replace(/^add rule netdev vmac_web ingress /, '').split(' iifname')[0])).toEqual([
      expect.stringMatching(/^ether daddr 02:bf:0a:00:00:01 ip6 daddr fd00:200::1 icmpv6 type/) as string,
      expect.stringMatching(/^ether daddr 02:bf:0a:00:00:01 ip6 daddr fd00:200::1 icmpv6 type .* drop$/) as string,
      'ether daddr 02:bf:0a:00:00:01 ip6 daddr fd00:200::1 exthdr frag exists',
      'ether daddr 02:bf:0a:00:00:01 ip6 daddr fd00:200::1 exthdr frag exists drop',
      'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } @th,64,128 0xfd000200000000000000000000000001 drop',
      'ether daddr 02:bf:0a:00:00:01 ip6 daddr fd00:200::1',
      'ether daddr 02:bf:0a:00:00:01 drop',
    ]);
    expect(lines.filter((l) => l.startsWith('add rule inet vmac_web_ct pre '))).toEqual([
      'add rule inet vmac_web_ct pre iifname "eth0" ip6 daddr fd00:200::1 jhash ip6 saddr mod 256 seed 0xabcd vmap @phase',
    ]);
  });

  it('the daemon\'s plan for an IPv6-only config has vip null and the VIP6 rules', () => {
    const cfg = parseConfig(yamlWith({ vip: undefined, vip6: 'fd00:200::1' }), 'web.yaml');
    const plan = dataPathPlan(cfg);
    expect(plan.vip).toBeNull();
    expect(plan.v6?.vip6).toBe('fd00:200::1');
    expect(renderInstall(plan, [], null)).not.toMatch(/ ip daddr |arp /);
  });
});

