/** vip6: the IPv6 VIP beside the IPv4 one (dual stack), checked and named by file and field. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { formatProblems } from '../../../src/config/format-problems.js';
import { BASE, messageAt, problemsOf, yamlWith } from './helpers.js';

describe('vip6 (dual stack)', () => {
  it('is optional: absent means IPv4 only', () => {
    expect(parseConfig(yamlWith({}), 'web.yaml').vip6).toBeNull();
  });

  it('is kept in canonical text beside vip, with the IPv6 network prefix for network affinity', () => {
    const c = parseConfig(yamlWith({ vip6: '2001:DB8:200:0:0:0:0:1', hash: { seed: 1, affinity: 'network', prefixLength6: 56 } }), 'web.yaml');
    expect(c.vip).toBe('10.200.0.1');
    expect(c.vip6).toBe('2001:db8:200::1');
    expect(c.hash.prefixLength6).toBe(56);
    // One service, one bucket map: nothing else about the cluster changes with a second family.
    expect(c.buckets).toBe(256);
  });

  const refused: [string, RegExp][] = [
    ['fe80::1', /which is link-local \(fe80::\/10\)$/],
    ['febf::1', /which is link-local \(fe80::\/10\)$/],
    ['ff02::1', /which is multicast \(ff00::\/8\)$/],
    ['ff05::1:3', /which is multicast \(ff00::\/8\)$/],
    ['::', /which is unspecified \(::\)$/],
    ['::1', /which is loopback \(::1\)$/],
    ['::ffff:10.0.0.1', /which is IPv4-mapped/],
  ];
  for (const [addr, why] of refused) {
    it(`refuses ${addr} naming the field`, () => {
      expect(messageAt(problemsOf(yamlWith({ vip6: addr })), 'vip6')).toMatch(why);
    });
  }

  it('refuses an IPv4 address or garbage in vip6', () => {
    expect(messageAt(problemsOf(yamlWith({ vip6: '10.0.0.1' })), 'vip6')).toBe('must be an IPv6 address like 2001:db8:200::1 (the IPv4 VIP goes in vip), got "10.0.0.1"');
    expect(messageAt(problemsOf(yamlWith({ vip6: 'fd00::1::2' })), 'vip6')).toMatch(/^must be an IPv6 address/);
    expect(messageAt(problemsOf(yamlWith({ vip6: 'fd00::1%eth0' })), 'vip6')).toMatch(/^must be an IPv6 address/);
    expect(messageAt(problemsOf(yamlWith({ vip6: 7 })), 'vip6')).toMatch(/^must be a string/);
  });

  it('accepts unique-local and global unicast addresses', () => {
    for (const a of ['fd00:200::1', '2001:db8::10', 'fec0::1']) expect(parseConfig(yamlWith({ vip6: a }), 'web.yaml').vip6).toBe(a);
  });

  it('refuses a heartbeat address equal to the VIP6', () => {
    const text = yamlWith({ vip6: 'fd00::11', node: { id: 1, name: 'n1', address: 'fd00::11' }, peers: [{ id: 2, name: 'n2', address: 'fd00::12' }] });
    expect(messageAt(problemsOf(text), 'node.address')).toBe("fd00::11 is the VIP6; a heartbeat address must be the node's own address");
  });

  it('`vmac check` lines name the file and the field', () => {
    const lines = formatProblems('/etc/vmac/web.yaml', problemsOf(yamlWith({ vip6: 'fe80::5' })));
    expect(lines).toBe('/etc/vmac/web.yaml: vip6: must be a global or unique-local unicast IPv6 address a client can reach, got fe80::5, which is link-local (fe80::/10)');
    expect(BASE.vip).toBe('10.200.0.1');
  });
});
