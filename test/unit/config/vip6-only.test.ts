/** An IPv6-only service: vip6 without vip, checked and named by file and field. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { autoVmac6 } from '../../../src/config/build.js';
import { fingerprintOf } from '../../../src/config/fingerprint.js';
import { messageAt, problemsOf, yamlWith } from './helpers.js';

const V6ONLY = { vip: undefined, vip6: 'fd00:200::1' };

describe('an IPv6-only service (vip6 without vip)', () => {
  it('loads: no IPv4 VIP, the VIP6 in canonical text, an auto VMAC from the VIP6 (02:b6:…)', () => {
    const c = parseConfig(yamlWith({ ...V6ONLY, vip6: 'FD00:200:0::1' }), 'web.yaml');
    expect(c.vip).toBeNull();
    expect(c.vip6).toBe('fd00:200::1');
    expect(c.vmac).toBe('02:b6:00:00:00:01');
    expect(autoVmac6('2001:db8::a:b0c:d0e')).toBe('02:b6:0b:0c:0d:0e');
  });

  it('keeps an explicit VMAC', () => {
    expect(parseConfig(yamlWith({ ...V6ONLY, vmac: '02:aa:00:00:00:01' }), 'web.yaml').vmac).toBe('02:aa:00:00:00:01');
  });

  it('refuses a file with neither vip nor vip6, naming vip and the IPv6-only alternative', () => {
    expect(messageAt(problemsOf(yamlWith({ vip: undefined })), 'vip')).toMatch(/^required .*vip6 alone for an IPv6-only service/);
  });

  it('still refuses a link-local, multicast or loopback VIP6', () => {
    for (const bad of ['fe80::1', 'ff02::1:ff00:1', '::1']) expect(messageAt(problemsOf(yamlWith({ ...V6ONLY, vip6: bad })), 'vip6')).toMatch(/^must be a global or unique-local unicast IPv6 address/);
  });

  it('refuses the IPv4-only UDP hand-over variants', () => {
    expect(messageAt(problemsOf(yamlWith({ ...V6ONLY, handover: { udpPerFlow: true } })), 'handover.udpPerFlow')).toMatch(/IPv6-only service/);
    expect(messageAt(problemsOf(yamlWith({ ...V6ONLY, handover: { udpFlowTimeoutMs: 2000 } })), 'handover.udpFlowTimeoutMs')).toMatch(/IPv6-only service/);
  });

  it('refuses a heartbeat address equal to the VIP6', () => {
    const text = yamlWith({ ...V6ONLY, node: { id: 1, name: 'n1', address: 'fd00:200::1' }, peers: [{ id: 2, name: 'n2', address: 'fd00:200::2' }] });
    expect(problemsOf(text).some((p) => p.path.startsWith('node.address'))).toBe(true);
  });

  it('differs in its fingerprint from the dual-stack service with the same VIP6 (they never serve together)', () => {
    const only = parseConfig(yamlWith({ ...V6ONLY, vmac: '02:aa:00:00:00:01' }), 'web.yaml');
    const dual = parseConfig(yamlWith({ vip6: 'fd00:200::1', vmac: '02:aa:00:00:00:01' }), 'web.yaml');
    expect(fingerprintOf(only, 'k').digest).not.toBe(fingerprintOf(dual, 'k').digest);
  });
});

describe('an IPv6-only service and the per-flow UDP hand-over', () => {
  it('runs without it by default (on by default for services with an IPv4 VIP)', () => {
    const v6only = parseConfig(yamlWith({ vip: undefined, vip6: 'fd00:200::1' }), 'web.yaml');
    expect(v6only.handover?.udpPerFlow).toBe(false);
    expect(parseConfig(yamlWith({}), 'web.yaml').handover?.udpPerFlow).toBe(true);
  });
});
