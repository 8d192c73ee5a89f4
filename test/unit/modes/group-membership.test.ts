import { describe, expect, it } from 'vitest';
import { joinModeGroup, type MembershipPorts } from '../../../src/modes/group-membership.js';

function fakes(): { ports: MembershipPorts; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    ports: {
      joinGroup4: (group, ifaceAddr) => { calls.push(`join ${group} ${ifaceAddr}`); return Promise.resolve({ leave: () => { calls.push(`leave ${group}`); } }); },
      linkMulticast: (op, ifname, mac) => { calls.push(`maddr ${op} ${mac} ${ifname}`); return Promise.resolve(); },
    },
  };
}

describe('group membership per mode', () => {
  it('igmp joins 239.255.<vip3>.<vip4> on the VIP\'s interface and leaves it on stop', async () => {
    const f = fakes();
    const m = await joinModeGroup(f.ports, 'igmp', { ifname: 'eth0', vip: '10.200.3.4', vmac: '01:00:5e:7f:03:04' });
    expect(m?.what).toBe('igmp 239.255.3.4');
    await m?.leave();
    expect(f.calls).toEqual(['join 239.255.3.4 10.200.3.4', 'leave 239.255.3.4']);
  });

  it('multicast adds the group MAC to the interface and removes it on stop', async () => {
    const f = fakes();
    const m = await joinModeGroup(f.ports, 'multicast', { ifname: 'eth0', vip: '10.200.3.4', vmac: '03:bf:0a:c8:03:04' });
    await m?.leave();
    expect(f.calls).toEqual(['maddr add 03:bf:0a:c8:03:04 eth0', 'maddr del 03:bf:0a:c8:03:04 eth0']);
  });

  it('unicast and arp-steer join nothing', async () => {
    const f = fakes();
    expect(await joinModeGroup(f.ports, 'unicast', { ifname: 'eth0', vip: '10.0.0.1', vmac: '02:bf:0a:00:00:01' })).toBeNull();
    expect(await joinModeGroup(f.ports, 'arp-steer', { ifname: 'eth0', vip: '10.0.0.1', vmac: '02:bf:0a:00:00:01' })).toBeNull();
    expect(f.calls).toEqual([]);
  });
});
