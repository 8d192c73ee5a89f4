/**
 * The cluster-placement fields of `resources:` (issue 19): built into the shared model with their
 * defaults, clones still run locally, and every mistake refused naming its file and field.
 */
import { describe, expect, it } from 'vitest';
import schema from '../../../schema/vmac-config.schema.json' with { type: 'json' };
import { parseConfig } from '../../../src/config/load.js';
import { CRM_DEFAULTS } from '../../../src/config/crm-config.js';
import { fingerprintOf, differingFields, FINGERPRINT_FIELDS } from '../../../src/config/fingerprint.js';
import { INFINITY } from '../../../src/crm/score.js';
import { isVmacError } from '../../../src/util/errors.js';
import { messageAt, problemsOf, yamlWith } from './helpers.js';

const CMD = { start: 's', stop: 't', monitor: 'm' };
const MODEL = {
  resources: [
    { name: 'local', command: CMD },
    { name: 'ip', kind: 'singleton', vip: { address: '10.200.0.50/24' }, prefer: { n1: 100 }, avoid: { n2: 'INFINITY' }, stickiness: 50, migrationThreshold: 3, failureTimeoutMs: 60_000 },
    { name: 'db', kind: 'singleton', systemd: { unit: 'pg.service' }, colocate: [{ with: 'ip' }, { with: '@serving', score: 10 }], after: ['ip'] },
    { name: 'a', kind: 'singleton', command: CMD },
    { name: 'b', kind: 'singleton', command: CMD },
    { name: 'pair', kind: 'group', members: ['a', 'b'], colocate: [{ with: 'db', score: '-INFINITY' }] },
  ],
};

describe('cluster resource model in the service file', () => {
  it('builds kinds, drivers, scores and defaults; the local set keeps only clones', () => {
    const c = parseConfig(yamlWith(MODEL), 'web.yaml');
    expect(c.resources?.map((r) => r.name)).toEqual(['local']);
    const m = c.crm?.resources ?? [];
    expect(m.map((r) => r.kind)).toEqual(['clone', 'singleton', 'singleton', 'singleton', 'singleton', 'group']);
    expect(m[1]).toMatchObject({ driver: { kind: 'vip', address: '10.200.0.50', prefixLength: 24, interface: 'eth0' }, location: { n1: 100, n2: -INFINITY }, stickiness: 50, migrationThreshold: 3, failureTimeoutMs: 60_000 });
    expect(m[2]).toMatchObject({ driver: { kind: 'systemd', unit: 'pg.service' }, colocations: [{ with: 'ip', score: INFINITY }, { with: '@serving', score: 10 }], after: ['ip'], stickiness: 0, migrationThreshold: 0, failureTimeoutMs: 0 });
    expect(m[5]).toMatchObject({ driver: null, members: ['a', 'b'], colocations: [{ with: 'db', score: -INFINITY }] });
  });

  it('the schema\'s defaults are the code\'s', () => {
    const res = schema.properties.resources.items.properties;
    expect(res.kind.default).toBe('clone');
    expect(CRM_DEFAULTS).toEqual({ stickiness: 0, migrationThreshold: 0, failureTimeoutMs: 0 });
  });

  it('refuses mistakes naming the file and the field', () => {
    const bad = (resources: unknown[]): ReturnType<typeof problemsOf> => problemsOf(yamlWith({ resources }));
    expect(messageAt(bad([{ name: 'x', kind: 'singleton', command: CMD, prefer: { n9: 5 } }]), 'resources[0].prefer.n9')).toMatch(/not a configured node/);
    expect(messageAt(bad([{ name: 'x', command: CMD, stickiness: 5 }]), 'resources[0].stickiness')).toMatch(/only for kind singleton or group/);
    expect(messageAt(bad([{ name: 'x', vip: { address: '10.0.0.9' } }]), 'resources[0].vip')).toMatch(/for kind singleton/);
    expect(messageAt(bad([{ name: 'x', kind: 'singleton', vip: { address: '10.0.0.300' } }]), 'resources[0].vip.address')).toMatch(/not an IPv4\/IPv6 address/);
    expect(messageAt(bad([{ name: 'x', kind: 'singleton', vip: { address: '10.0.0.3' }, command: CMD }]), 'resources[0]')).toMatch(/choose one/);
    expect(messageAt(bad([{ name: 'g', kind: 'group', members: ['nope'] }]), 'resources[0].members[0]')).toMatch(/not a configured resource/);
    expect(messageAt(bad([{ name: 'c', command: CMD }, { name: 'g', kind: 'group', members: ['c'] }]), 'resources[1].members[0]')).toMatch(/must be kind singleton/);
    expect(messageAt(bad([{ name: 'g', kind: 'group' }]), 'resources[0].members')).toMatch(/required for kind group/);
    expect(messageAt(bad([{ name: 'g', kind: 'group', members: ['a'], command: CMD }, { name: 'a', kind: 'singleton', command: CMD }]), 'resources[0].command')).toMatch(/no driver of its own/);
    expect(messageAt(bad([{ name: 'a', kind: 'singleton', command: CMD, stickiness: 3 }, { name: 'g', kind: 'group', members: ['a'] }]), 'resources[0].stickiness')).toMatch(/member of group "g"/);
    expect(messageAt(bad([{ name: 'a', kind: 'singleton', command: CMD, colocate: [{ with: 'a' }] }]), 'resources[0].colocate[0].with')).toMatch(/cannot colocate with itself/);
    expect(messageAt(bad([{ name: 'a', kind: 'singleton', command: CMD, after: ['c'] }, { name: 'c', command: CMD }]), 'resources[0].after[0]')).toMatch(/is a clone/);
    expect(messageAt(bad([{ name: 'a', kind: 'singleton', command: CMD, after: ['b'] }, { name: 'b', kind: 'singleton', command: CMD, after: ['a'] }]), 'resources')).toMatch(/orderings form a cycle/);
    expect(messageAt(bad([{ name: 'a', kind: 'singleton', command: CMD, colocate: [{ with: 'b' }] }, { name: 'b', kind: 'singleton', command: CMD, colocate: [{ with: 'a', score: -5 }] }]), 'resources')).toMatch(/colocations form a cycle/);
    expect(messageAt(bad([{ name: '@x', kind: 'singleton', command: CMD }]), 'resources[0].name')).toMatch(/reserved/);
    expect(messageAt(bad([{ name: 'a', kind: 'singleton', command: CMD, prefer: { n1: 'lots' } }]), 'resources[0].prefer.n1')).toBeTruthy();
    expect(messageAt(problemsOf(yamlWith({ resources: [{ name: 'a', kind: 'singleton', command: CMD }], healthChecks: [{ resource: 'a', tcp: { host: '127.0.0.1', port: 1 } }] })), 'healthChecks[0].resource')).toMatch(/not a clone/);
  });

  it('the error names the file', () => {
    try { parseConfig(yamlWith({ resources: [{ name: 'x', kind: 'singleton', command: CMD, prefer: { n9: 5 } }] }), '/etc/vmac/web.yaml'); } catch (err) {
      expect(isVmacError(err, 'VMAC_CONFIG_INVALID')).toBe(true);
      expect((err as Error).message).toContain('/etc/vmac/web.yaml');
      return;
    }
    throw new Error('accepted');
  });

  it('singletons and groups are in the fingerprint (their own slot, after the shared fields); clones are not', () => {
    const fp = (resources: unknown[]): ReturnType<typeof fingerprintOf> => fingerprintOf(parseConfig(yamlWith({ resources }), 'web.yaml'), 'k');
    const base = fp(MODEL.resources);
    // The resources slot: the last shared field (the per-node slots of a roll follow it).
    const last = FINGERPRINT_FIELDS.findIndex((f) => f.name === 'resources');
    expect(last).toBe(FINGERPRINT_FIELDS.length - 1);
    const moved = fp(MODEL.resources.map((r) => (r.name === 'ip' ? { ...r, prefer: { n1: 101 } } : r)));
    expect(differingFields(base, moved).map((d) => d.field)).toEqual(['resources']);
    expect(moved.slots[last]).not.toBe(base.slots[last]);
    const localDiffers = fp(MODEL.resources.map((r) => (r.name === 'local' ? { ...r, command: { ...CMD, start: 'other' } } : r)));
    expect(localDiffers.digest).toBe(base.digest);
    expect(base.layout).toBe(2);
  });
});
