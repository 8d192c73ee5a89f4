import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { fingerprintOf } from '../../../src/config/fingerprint.js';
import { autoVmacFor, groupMac, igmpGroup, igmpVmac, multicastVmac, MODES } from '../../../src/modes/mode-addresses.js';
import { messageAt, problemsOf, yamlWith } from '../config/helpers.js';

describe('mode addresses', () => {
  it('multicast: 03:bf + the VIP bytes (NLB), a locally administered group address', () => {
    expect(multicastVmac('10.200.0.1')).toBe('03:bf:0a:c8:00:01');
    expect(autoVmacFor('multicast', '192.168.7.250')).toBe('03:bf:c0:a8:07:fa');
  });

  it('igmp: 239.255.<vip byte 3>.<vip byte 4>, mapped by RFC 1112 (low 23 bits)', () => {
    expect(igmpGroup('10.200.7.42')).toBe('239.255.7.42');
    expect(igmpVmac('10.200.7.42')).toBe('01:00:5e:7f:07:2a');
    expect(groupMac('224.129.1.2')).toBe('01:00:5e:01:01:02'); // the 24th bit is not mapped
  });

  it('unicast and arp-steer keep 02:bf + the VIP bytes', () => {
    expect(autoVmacFor('unicast', '10.200.0.1')).toBe('02:bf:0a:c8:00:01');
    expect(autoVmacFor('arp-steer', '10.200.0.1')).toBe('02:bf:0a:c8:00:01');
  });
});

describe('mode configuration', () => {
  it('vmac auto follows the mode', () => {
    expect(parseConfig(yamlWith({ mode: 'multicast' }), 'web.yaml').vmac).toBe('03:bf:0a:c8:00:01');
    expect(parseConfig(yamlWith({ mode: 'igmp' }), 'web.yaml').vmac).toBe('01:00:5e:7f:00:01');
    expect(parseConfig(yamlWith({ mode: 'arp-steer' }), 'web.yaml').mode).toBe('arp-steer');
  });

  it('multicast refuses a unicast, broadcast or IP-multicast VMAC', () => {
    expect(messageAt(problemsOf(yamlWith({ mode: 'multicast', vmac: '02:bf:0a:c8:00:01' })), 'vmac')).toMatch(/is a unicast MAC; multicast mode needs a group address/);
    expect(messageAt(problemsOf(yamlWith({ mode: 'multicast', vmac: 'ff:ff:ff:ff:ff:ff' })), 'vmac')).toMatch(/broadcast/);
    expect(messageAt(problemsOf(yamlWith({ mode: 'multicast', vmac: '01:00:5e:01:02:03' })), 'vmac')).toMatch(/IP multicast range/);
    expect(parseConfig(yamlWith({ mode: 'multicast', vmac: '03:bf:01:02:03:04' }), 'web.yaml').vmac).toBe('03:bf:01:02:03:04');
  });

  it('igmp accepts only the VMAC derived from the VIP', () => {
    expect(messageAt(problemsOf(yamlWith({ mode: 'igmp', vmac: '01:00:5e:00:00:09' })), 'vmac')).toBe('igmp mode derives the VMAC from the VIP\'s group 239.255.0.1: use "auto" or 01:00:5e:7f:00:01, got 01:00:5e:00:00:09');
    expect(parseConfig(yamlWith({ mode: 'igmp', vmac: '01:00:5e:7f:00:01' }), 'web.yaml').vmac).toBe('01:00:5e:7f:00:01');
  });

  it('unicast still refuses a group VMAC (negative control)', () => {
    expect(messageAt(problemsOf(yamlWith({ vmac: '03:bf:0a:c8:00:01' })), 'vmac')).toMatch(/is a multicast MAC/);
  });

  it('arp-steer refuses address+port affinity', () => {
    expect(messageAt(problemsOf(yamlWith({ mode: 'arp-steer', hash: { seed: 1, affinity: 'address+port' } })), 'hash.affinity')).toMatch(/arp-steer .* needs affinity address or network/);
    expect(parseConfig(yamlWith({ mode: 'arp-steer', hash: { seed: 1, affinity: 'network' } }), 'web.yaml').hash.affinity).toBe('network');
  });

  it('the config fingerprint differs for every mode (nodes of different modes never serve together)', () => {
    // The same VMAC written out, so that only the mode differs.
    const digests = MODES.map((mode) => fingerprintOf(parseConfig(yamlWith({ mode, ...(mode === 'igmp' ? {} : { vmac: mode === 'multicast' ? '03:bf:0a:c8:00:01' : '02:bf:0a:c8:00:01' }) }), 'web.yaml'), 'k').digest);
    expect(new Set(digests).size).toBe(MODES.length);
    const a = fingerprintOf(parseConfig(yamlWith({ mode: 'unicast' }), 'web.yaml'), 'k');
    const b = fingerprintOf(parseConfig(yamlWith({ mode: 'arp-steer' }), 'web.yaml'), 'k');
    expect(a.digest).not.toBe(b.digest); // same VMAC (02:bf…), only the mode differs
  });
});

describe('vmac check advice for arp-steer', () => {
  it('warns when the configured gateway would carry the clients; not in other modes, not without a gateway', async () => {
    const { steerWarnings } = await import('../../../src/modes/steer-check.js');
    const steer = parseConfig(yamlWith({ mode: 'arp-steer', dataPathCheck: { targets: ['10.200.0.254'] } }), 'web.yaml');
    const w = steerWarnings(steer);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/^mode arp-steer: clients behind the gateway 10\.200\.0\.254 reach the VIP with its MAC, so ARP steers them all to n[12] .*about 1\/2/);
    expect(steerWarnings(parseConfig(yamlWith({ dataPathCheck: { targets: ['10.200.0.254'] } }), 'web.yaml'))).toEqual([]);
    expect(steerWarnings(parseConfig(yamlWith({ mode: 'arp-steer' }), 'web.yaml'))).toEqual([]);
  });
});

describe('config warnings per mode', () => {
  it('igmp\'s 01:00:5e VMAC is not called a vendor address; a vendor unicast VMAC still is', async () => {
    const { configWarnings } = await import('../../../src/config/semantic-check.js');
    expect(configWarnings(parseConfig(yamlWith({ mode: 'igmp' }), 'web.yaml'))).toEqual([]);
    expect(configWarnings(parseConfig(yamlWith({ mode: 'multicast' }), 'web.yaml'))).toEqual([]);
    expect(configWarnings(parseConfig(yamlWith({ vmac: '00:16:3e:00:00:01' }), 'web.yaml'))).toHaveLength(1);
  });
});

describe('modes beside the other data-path choices', () => {
  it('refuses the XDP backend outside unicast mode, and a group mode without an IPv4 VIP', () => {
    const base = 'service: web\ninterface: eth0\nhash: { seed: 1 }\nnode: { id: 1, name: n1 }\n';
    const problems = (text: string): string[] => {
      try { parseConfig(text, 'web.yaml'); return []; } catch (err) { return ((err as { details: { problems: { path: string; message: string }[] } }).details.problems).map((p) => `${p.path}: ${p.message}`); }
    };
    expect(problems(`${base}vip: 10.0.0.1\nmode: multicast\ndatapath: xdp\n`).join('\n')).toMatch(/^datapath: xdp serves mode unicast only/m);
    expect(problems(`${base}vip: 10.0.0.1\nmode: unicast\ndatapath: xdp\n`)).toEqual([]);
    expect(problems(`${base}vip6: fd00::1\nmode: igmp\n`).join('\n')).toMatch(/^mode: igmp needs an IPv4 vip/m);
  });
});
