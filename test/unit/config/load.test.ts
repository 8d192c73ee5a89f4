import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { autoVmac } from '../../../src/config/build.js';
import { defaultProfile } from '../../../src/config/defaults.js';
import { loadConfig, parseConfig } from '../../../src/config/load.js';
import { configWarnings } from '../../../src/config/semantic-check.js';
import { isVmacError } from '../../../src/util/errors.js';
import { BASE, yamlWith } from './helpers.js';

const examples = join(import.meta.dirname, '../../../examples');

describe('loadConfig on the examples', () => {
  it('loads examples/web.yaml with every field resolved', () => {
    const c = loadConfig(join(examples, 'web.yaml'));
    expect(c.service).toBe('web');
    expect(c.vip).toBe('10.200.0.1');
    expect(c.vmac).toBe('02:bf:0a:c8:00:01');
    expect(c.hash).toEqual({ affinity: 'address', prefixLength: 24, prefixLength6: 64, seed: 0x5eed1234 });
    expect(c.nodes.map((n) => n.name)).toEqual(['web1', 'web2', 'web3']);
    expect(c.timing).toEqual({ profile: 'default', leaseMs: 100, renewMs: 20, intervalMs: 40, suspectAfter: 3, deadAfter: 6, marginMs: 10 });
    expect(c.heartbeat).toEqual({ port: 5789, keyFile: '/etc/vmac/web.key' });
    expect(c.node.addresses).toEqual(['10.200.0.11']);
    expect(configWarnings(c)).toEqual([]);
  });

  it('loads examples/lab-3node.yaml: fast profile, hex-string seed, explicit vmac', () => {
    const c = loadConfig(join(examples, 'lab-3node.yaml'));
    expect(c.timing).toEqual({ profile: 'fast', leaseMs: 16, renewMs: 4, intervalMs: 4, suspectAfter: 3, deadAfter: 8, marginMs: 2 });
    expect(c.hash.seed).toBe(0x1ab5eed);
    expect(c.vmac).toBe(autoVmac(c.vip ?? ''));
    expect(c.arp.refreshMs).toBe(0);
    expect(c.nodes.find((n) => n.id === 3)?.weight).toBe(200);
  });
});

describe('parseConfig', () => {
  it('applies the default profile to everything left out', () => {
    const d = defaultProfile();
    const c = parseConfig(yamlWith({}), 'web.yaml');
    expect(c).toMatchObject({ file: 'web.yaml', mode: 'unicast', buckets: d.buckets, timing: d.timing, arp: d.arp });
    expect(c.hash).toEqual({ affinity: 'address', prefixLength: 24, prefixLength6: 64, seed: 0x5eed1234 });
    expect(c.node).toEqual({ id: 1, name: 'n1', weight: 100, address: '10.200.0.11', addresses: ['10.200.0.11'] });
    expect(c.peers[0]).toEqual({ id: 2, name: 'n2', weight: 100, address: '10.200.0.12', addresses: ['10.200.0.12'] });
    expect(c.heartbeat).toEqual({ port: d.heartbeat.port, keyFile: '/etc/vmac/web.key' });
  });

  it('takes leaseMs/renewMs from the profile unless overridden', () => {
    const fast = { profile: 'fast', leaseMs: 16, renewMs: 4, intervalMs: 4, suspectAfter: 3, deadAfter: 8, marginMs: 2 };
    expect(parseConfig(yamlWith({ timing: { profile: 'fast' } }), 'f').timing).toEqual(fast);
    // 18 ms is as long as the fast profile's 32 ms dead time allows (32 - 18 - 2 = 12 = three intervals).
    expect(parseConfig(yamlWith({ timing: { profile: 'fast', leaseMs: 18 } }), 'f').timing).toEqual({ ...fast, leaseMs: 18 });
    expect(parseConfig(yamlWith({ timing: { renewMs: 10 } }), 'f').timing).toEqual({ profile: 'default', leaseMs: 100, renewMs: 10, intervalMs: 40, suspectAfter: 3, deadAfter: 6, marginMs: 10 });
  });

  it('takes the heartbeat timing from the profile unless overridden', () => {
    const t = parseConfig(yamlWith({ timing: { intervalMs: 20, deadAfter: 12, suspectAfter: 5 } }), 'f').timing;
    expect(t).toEqual({ profile: 'default', leaseMs: 100, renewMs: 20, intervalMs: 20, suspectAfter: 5, deadAfter: 12, marginMs: 10 });
  });

  it('accepts the tightest timing the rules allow: leaseMs 12 renewed every 2 ms', () => {
    const t = parseConfig(yamlWith({ timing: { profile: 'fast', leaseMs: 12, renewMs: 2 } }), 'f').timing;
    expect(t).toMatchObject({ leaseMs: 12, renewMs: 2 });
    // Exactly three intervals of room is enough: 40 × 6 - 110 - 10 = 120.
    expect(() => parseConfig(yamlWith({ timing: { deadAfter: 6, marginMs: 10, leaseMs: 110 } }), 'f')).not.toThrow();
    // And 2 × renewMs + 8 = leaseMs is enough.
    expect(parseConfig(yamlWith({ timing: { leaseMs: 100, renewMs: 46 } }), 'f').timing.renewMs).toBe(46);
  });

  it('accepts two heartbeat links and resolves the addresses per link: link 0 first, canonical text', () => {
    const c = parseConfig(yamlWith({
      node: { id: 1, name: 'n1', address: '10.200.0.11', extraAddresses: ['fd00:50::11'] },
      peers: [
        { id: 2, name: 'n2', address: '10.200.0.12', extraAddresses: ['FD00:50:0::12'] },
        { id: 3, name: 'n3', address: '10.200.0.13', extraAddresses: ['fd00:50::13'] },
      ],
      heartbeat: { port: 6000, keyFile: '/etc/vmac/web.key' },
    }), 'f');
    expect(c.node.addresses).toEqual(['10.200.0.11', 'fd00:50::11']);
    expect(c.node.address).toBe('10.200.0.11');
    expect(c.nodes.map((n) => n.addresses)).toEqual([['10.200.0.11', 'fd00:50::11'], ['10.200.0.12', 'fd00:50::12'], ['10.200.0.13', 'fd00:50::13']]);
    expect(c.heartbeat).toEqual({ port: 6000, keyFile: '/etc/vmac/web.key' });
  });

  it('a single node needs neither a heartbeat address nor a key', () => {
    const c = parseConfig(yamlWith({ node: { id: 1, name: 'n1' }, peers: undefined, heartbeat: undefined }), 'f');
    expect(c.node).toEqual({ id: 1, name: 'n1', weight: 100, addresses: [] });
    expect(c.heartbeat).toEqual({ port: 5789, keyFile: null });
  });

  it('only records the key file path: it does not read the file (the daemon does, at start)', () => {
    const c = parseConfig(yamlWith({ heartbeat: { keyFile: '/nonexistent/vmac-test/web.key' } }), 'f');
    expect(c.heartbeat.keyFile).toBe('/nonexistent/vmac-test/web.key');
  });

  it('derives the auto VMAC from the VIP as Windows NLB does: 02:bf:<vip bytes>', () => {
    expect(parseConfig(yamlWith({ vip: '192.168.1.10', vmac: 'auto' }), 'f').vmac).toBe('02:bf:c0:a8:01:0a');
    expect(parseConfig(yamlWith({ vip: '10.0.0.1' }), 'f').vmac).toBe('02:bf:0a:00:00:01');
  });

  it('normalises an explicit VMAC to lowercase colon form', () => {
    expect(parseConfig(yamlWith({ vmac: '06-AA-BB-CC-DD-EE' }), 'f').vmac).toBe('06:aa:bb:cc:dd:ee');
  });

  it('accepts the seed as a YAML hex number, a hex string or a decimal number', () => {
    const text = (seed: string): string => yamlWith({}).replace(/seed: .*/, `seed: ${seed}`);
    expect(parseConfig(text('0xffffffff'), 'f').hash.seed).toBe(0xffffffff);
    expect(parseConfig(text('"0x5EED1234"'), 'f').hash.seed).toBe(0x5eed1234);
    expect(parseConfig(text('0'), 'f').hash.seed).toBe(0);
  });

  it('sorts nodes by id, this node included, and reuses the same objects', () => {
    const c = parseConfig(yamlWith({
      node: { id: 5, name: 'n5', address: '10.200.0.15' },
      peers: [{ id: 9, name: 'n9', address: '10.200.0.19' }, { id: 2, name: 'n2', address: '10.200.0.12' }, { id: 7, name: 'n7', address: '10.200.0.17' }],
    }), 'f');
    expect(c.nodes.map((n) => n.id)).toEqual([2, 5, 7, 9]);
    expect(c.nodes[1]).toBe(c.node);
  });

  it('accepts a single node: peers empty or absent', () => {
    expect(parseConfig(yamlWith({ peers: [] }), 'f').nodes).toHaveLength(1);
    expect(parseConfig(yamlWith({ peers: undefined }), 'f').peers).toEqual([]);
  });

  it('accepts 32 nodes with ids 1..32', () => {
    const peers = Array.from({ length: 31 }, (_, i) => ({ id: i + 2, name: `n${i + 2}`, address: `10.200.0.${i + 12}` }));
    expect(parseConfig(yamlWith({ peers }), 'f').nodes).toHaveLength(32);
  });

  it('returns a deeply frozen config', () => {
    const c = parseConfig(yamlWith({}), 'f');
    expect(Object.isFrozen(c)).toBe(true);
    for (const part of [c.hash, c.timing, c.arp, c.heartbeat, c.node, c.node.addresses, c.peers, c.nodes, c.peers[0]]) expect(Object.isFrozen(part)).toBe(true);
    expect(() => {
      (c.hash as { seed: number }).seed = 1;
    }).toThrow(TypeError);
  });

  it('does not mutate or share the defaults between loads', () => {
    const a = parseConfig(yamlWith({}), 'f');
    const b = parseConfig(yamlWith({ arp: { garpCount: 5 } }), 'f');
    expect(a.arp.garpCount).toBe(3);
    expect(b.arp.garpCount).toBe(5);
    expect(defaultProfile().arp.garpCount).toBe(3);
  });

  it('warns (does not refuse) about a universally administered VMAC', () => {
    const c = parseConfig(yamlWith({ vmac: '00:00:5e:00:01:01' }), 'f');
    const warnings = configWarnings(c);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.path).toBe('vmac');
    expect(warnings[0]?.message).toMatch(/universally administered.*locally administered/);
  });

  it('keeps BASE itself valid (the broken-config tests change one thing each)', () => {
    expect(() => parseConfig(yamlWith({}), 'f')).not.toThrow();
    expect(BASE.node.id).toBe(1);
  });
});

describe('loadConfig on unreadable files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmac-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function unreadable(path: string): { message: string; details: Record<string, unknown> } {
    try {
      loadConfig(path);
    } catch (err) {
      if (isVmacError(err, 'VMAC_CONFIG_UNREADABLE')) return { message: err.message, details: err.details };
      throw err;
    }
    throw new Error('expected VMAC_CONFIG_UNREADABLE');
  }

  it('reports a missing file with VMAC_CONFIG_UNREADABLE, naming the file', () => {
    const path = join(dir, 'missing.yaml');
    const e = unreadable(path);
    expect(e.message).toBe(`${path}: cannot read the file: no such file (ENOENT)`);
    expect(e.details).toEqual({ file: path, problems: [{ path: '', message: 'cannot read the file: no such file (ENOENT)' }] });
  });

  it('reports a directory with VMAC_CONFIG_UNREADABLE', () => {
    expect(unreadable(dir).message).toContain('it is a directory');
  });

  it.skipIf(process.getuid?.() === 0)('reports a file without read permission', () => {
    const path = join(dir, 'secret.yaml');
    writeFileSync(path, yamlWith({}));
    chmodSync(path, 0o000);
    expect(unreadable(path).message).toContain('permission denied');
  });

  it('reads a file that exists and reports invalid content as VMAC_CONFIG_INVALID', () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'service: web\n');
    expect(() => loadConfig(path)).toThrow(expect.objectContaining({ code: 'VMAC_CONFIG_INVALID' }) as Error);
  });
});
