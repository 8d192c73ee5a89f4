import { describe, expect, it } from 'vitest';
import { bridgeCreate, bystanderRuleset, switchPortCommands } from '../../../lab/switch.js';
import { modeSpecOf } from '../../../lab/modes.js';
import { nodeConfigYaml, planLab } from '../../../lab/plan.js';

const ports = [{ port: 'n1', mac: '52:54:00:00:00:01', cluster: true }, { port: 'c1', mac: '52:54:00:00:01:01', cluster: false }];

describe('the lab switch settings', () => {
  it('render the commands a network engineer would type', () => {
    expect(bridgeCreate('flood')).toBe('link add br0 type bridge');
    expect(bridgeCreate('igmp-snooping')).toBe('link add br0 type bridge mcast_snooping 1 mcast_querier 1');
    expect(switchPortCommands('no-flood', ports)).toEqual(['link set dev n1 type bridge_slave flood off', 'link set dev c1 type bridge_slave flood off']);
    expect(switchPortCommands('igmp-mrouter', ports)).toEqual(['link set dev n1 type bridge_slave mcast_router 2']);
    expect(switchPortCommands('flood', ports)).toEqual([]);
    expect(bystanderRuleset('10.200.0.1')).toContain('ip daddr 10.200.0.1 counter');
    expect(bystanderRuleset('10.200.0.1')).not.toContain('ip6');
    expect(bystanderRuleset('10.200.0.1', 'fd00:200::1')).toContain('ip6 daddr fd00:200::1 counter');
  });

  it('--mode / --switch are checked and written into every node config', () => {
    expect(() => modeSpecOf({ mode: 'broadcast' })).toThrow(/--mode: "broadcast" is not one of unicast, multicast, igmp, arp-steer/);
    expect(() => modeSpecOf({ switch: 'hub' })).toThrow(/--switch: "hub"/);
    const spec = { name: 'x', nodes: 2, clients: 1, addrs: 1, seed: 1, buckets: 256, profile: 'default' as const, affinity: 'address' as const, ...modeSpecOf({ mode: 'igmp', switch: 'igmp-mrouter' }) };
    expect(spec.switchMode).toBe('igmp-mrouter');
    const plan = planLab(spec);
    const n1 = plan.nodes[0];
    expect(n1 && nodeConfigYaml(plan, n1, '/tmp/k/cluster.key')).toContain('mode: igmp');
  });
});
