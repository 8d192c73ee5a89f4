import { describe, expect, it } from 'vitest';
import { renderInstall, type DataPathPlan } from '../../../src/vmac/ruleset.js';

const base: DataPathPlan = { table: 'vmac_web', ifname: 'eth0', vip: '10.0.0.1', vmac: '02:bf:0a:00:00:01', buckets: 256, hashExpr: 'jhash ip saddr mod 256 seed 0x0000abcd' };
const ingress = (p: DataPathPlan): string[] => renderInstall(p, [], null).split('\n').filter((l) => l.startsWith('add rule netdev'));

describe('the ingress rules per mode', () => {
  it('multicast / igmp: the same rules as unicast with the group VMAC', () => {
    const uni = ingress(base);
    for (const [mode, vmac] of [['multicast', '03:bf:0a:00:00:01'], ['igmp', '01:00:5e:7f:00:01']] as const) {
      expect(ingress({ ...base, mode, vmac })).toEqual(uni.map((l) => l.replaceAll(base.vmac, vmac)));
    }
  });

  it('arp-steer: frames to our own MAC (pkttype host), the VIP hashed; the rest for the VIP dropped; own traffic untouched', () => {
    expect(ingress({ ...base, mode: 'arp-steer', v6: { vip6: 'fd00::1', hashExpr6: 'jhash ip6 saddr mod 256 seed 0x0000abcd' } })).toEqual([
      'add rule netdev vmac_web ingress meta pkttype host ip daddr 10.0.0.1 iifname @alive jhash ip saddr mod 256 seed 0x0000abcd vmap @owned',
      'add rule netdev vmac_web ingress icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } @th,64,128 0xfd000000000000000000000000000001 drop',
      'add rule netdev vmac_web ingress meta pkttype host ip6 daddr fd00::1 iifname @alive jhash ip6 saddr mod 256 seed 0x0000abcd vmap @owned',
      'add rule netdev vmac_web ingress ip daddr 10.0.0.1 drop',
      'add rule netdev vmac_web ingress ip6 daddr fd00::1 drop',
      'add rule netdev vmac_web ingress arp daddr ip 10.0.0.1 drop',
      'add rule netdev vmac_web ingress arp saddr ip 10.0.0.1 drop',
    ]);
    expect(ingress({ ...base, mode: 'arp-steer' }).join('\n')).not.toContain('ether daddr');
  });
});
