import { describe, expect, it } from 'vitest';
import { icmpErrorMatch, nftIcmpErrorHashExpr } from '../../../src/hash/icmp-error-hash.js';
import { renderInstall } from '../../../src/vmac/ruleset.js';
import { dataPathPlan } from '../../../src/daemon/node-daemon.js';
import { parseConfig } from '../../../src/config/load.js';
import { yamlWith } from '../config/helpers.js';

const hash = (affinity: 'address' | 'address+port' | 'network') => ({ affinity, prefixLength: 20, prefixLength6: 56, seed: 0xabc });

describe('ICMP error steering expressions', () => {
  it('hash the embedded destination (and port) with the clients\' modulus and seed', () => {
    expect(nftIcmpErrorHashExpr(hash('address'), 4, 256)).toBe('jhash @th,192,32 mod 256 seed 0xabc');
    expect(nftIcmpErrorHashExpr(hash('address+port'), 4, 256)).toBe('jhash @th,192,32 . @th,240,16 mod 256 seed 0xabc');
    expect(nftIcmpErrorHashExpr(hash('network'), 4, 256)).toBe('jhash @th,192,32 & 0xfffff000 mod 256 seed 0xabc');
    expect(nftIcmpErrorHashExpr(hash('address'), 6, 64)).toBe('jhash @th,256,128 mod 64 seed 0xabc');
    expect(nftIcmpErrorHashExpr(hash('address+port'), 6, 64)).toBe('jhash @th,256,128 . @th,400,16 mod 64 seed 0xabc');
    expect(nftIcmpErrorHashExpr(hash('network'), 6, 64)).toBe('jhash @th,256,128 & 0xffffffffffffff000000000000000000 mod 64 seed 0xabc');
  });

  it('match only errors about packets the VIP sent', () => {
    expect(icmpErrorMatch('10.200.0.1')).toBe('icmp type { destination-unreachable, time-exceeded } @th,64,8 0x45 @th,160,32 0x0ac80001');
    expect(icmpErrorMatch('fd00:200::1')).toBe('icmpv6 type { destination-unreachable, packet-too-big, time-exceeded } @th,128,128 0xfd000200000000000000000000000001');
  });

  it('the daemon renders them first in the ingress chain, both families, unless steering is off', () => {
    const cfg = parseConfig(yamlWith({ vip6: 'fd00:200::1', hash: { seed: 0xabc } }), 'web.yaml');
    const ingress = renderInstall(dataPathPlan(cfg), [], null).split('\n').filter((l) => l.startsWith('add rule netdev vmac_web ingress'));
    expect(ingress[0]).toBe('add rule netdev vmac_web ingress ether daddr 02:bf:0a:c8:00:01 ip daddr 10.200.0.1 icmp type { destination-unreachable, time-exceeded } @th,64,8 0x45 @th,160,32 0x0ac80001 iifname @alive meta pkttype set host jhash @th,192,32 mod 256 seed 0xabc vmap @owned');
    // Each steering rule decides alone: what it matched and this node does not own is dropped, never
    // handed to the clients' rule (which would hash the router's address: a second node).
    expect(ingress[1]).toBe('add rule netdev vmac_web ingress ether daddr 02:bf:0a:c8:00:01 ip daddr 10.200.0.1 icmp type { destination-unreachable, time-exceeded } @th,64,8 0x45 @th,160,32 0x0ac80001 drop');
    expect(ingress[2]).toMatch(/^add rule netdev vmac_web ingress ether daddr 02:bf:0a:c8:00:01 ip6 daddr fd00:200::1 icmpv6 type .* jhash @th,256,128 mod 256 seed 0xabc vmap @owned$/);
    expect(ingress[3]).toMatch(/^add rule netdev vmac_web ingress ether daddr 02:bf:0a:c8:00:01 ip6 daddr fd00:200::1 icmpv6 type .* @th,128,128 0xfd000200000000000000000000000001 drop$/);
    expect(ingress[4]).toContain('ip daddr 10.200.0.1 iifname @alive meta pkttype set host jhash ip saddr mod 256');
    expect(renderInstall(dataPathPlan(cfg, false), [], null)).not.toContain('@th,192,32');
  });
});

describe('fragments under address+port', () => {
  it('every fragment (MF set or offset > 0) hashed by address alone, before the port rule; not rendered for other affinities', () => {
    const plan = (affinity: string) => dataPathPlan(parseConfig(yamlWith({ vip6: 'fd00:200::1', hash: { seed: 0xabc, affinity } }), 'web.yaml'));
    const lines = renderInstall(plan('address+port'), [], null).split('\n').filter((l) => l.startsWith('add rule netdev vmac_web ingress'));
    expect(lines[4]).toBe('add rule netdev vmac_web ingress ether daddr 02:bf:0a:c8:00:01 ip daddr 10.200.0.1 ip frag-off & 0x3fff != 0 iifname @alive meta pkttype set host jhash ip saddr mod 256 seed 0xabc vmap @owned');
    // A fragment of a bucket this node does not own is dropped here: the port rule would hand a first fragment to the owner of its port.
    expect(lines[5]).toBe('add rule netdev vmac_web ingress ether daddr 02:bf:0a:c8:00:01 ip daddr 10.200.0.1 ip frag-off & 0x3fff != 0 drop');
    expect(lines[6]).toBe('add rule netdev vmac_web ingress ether daddr 02:bf:0a:c8:00:01 ip6 daddr fd00:200::1 exthdr frag exists iifname @alive meta pkttype set host jhash ip6 saddr mod 256 seed 0xabc vmap @owned');
    expect(lines[7]).toBe('add rule netdev vmac_web ingress ether daddr 02:bf:0a:c8:00:01 ip6 daddr fd00:200::1 exthdr frag exists drop');
    expect(lines[8]).toContain('jhash ip saddr . th sport');
    for (const a of ['address', 'network']) expect(renderInstall(plan(a), [], null)).not.toContain('frag');
  });
});
