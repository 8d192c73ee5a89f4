/**
 * The published JSON Schema and the loader must agree: what the schema refuses, the loader
 * refuses; the examples pass both; the schema's `default`s are the profile's defaults. The
 * schema is read from disk and compiled afresh here, as an editor or CI job would use it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultProfile } from '../../../src/config/defaults.js';
import { parseConfig } from '../../../src/config/load.js';
import { messageAt, problemsOf, yamlWith } from './helpers.js';

const root = join(import.meta.dirname, '../../..');
const schema = JSON.parse(readFileSync(join(root, 'schema/vmac-config.schema.json'), 'utf8')) as Record<string, unknown>;
const ajv = new Ajv2020({ allowUnionTypes: true, strict: true });
const published = ajv.compile(schema);
const exampleFiles = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.yaml'));

/** The data the loader sees for `yamlWith(patch)` (keys patched to undefined are gone). */
const dataWith = (patch: Record<string, unknown>): unknown => parse(yamlWith(patch));

describe('the published schema', () => {
  it('is a valid draft 2020-12 schema', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(ajv.validateSchema(schema)).toBe(true);
  });

  it.each(exampleFiles)('accepts examples/%s, and so does the loader', (name) => {
    const text = readFileSync(join(root, 'examples', name), 'utf8');
    expect(published(parse(text))).toBe(true);
    expect(() => parseConfig(text, name)).not.toThrow();
  });

  const structurallyBroken: Record<string, Record<string, unknown>> = {
    'seed missing': { hash: {} },
    'unknown key': { hash: { seed: 1, sede: 2 } },
    'node id 0': { node: { id: 0, name: 'n1' } },
    'buckets 4097': { buckets: 4097 },
    'affinity typo': { hash: { seed: 1, affinity: 'adress' } },
    'unknown mode': { mode: 'broadcast' },
    'IPv6 VIP': { vip: '2001:db8::1' },
    'interface with slash': { interface: 'eth0/0' },
    'leaseMs 11': { timing: { leaseMs: 11, renewMs: 1 } },
    'heartbeat port 0': { heartbeat: { port: 0, keyFile: '/etc/vmac/web.key' } },
    'empty keyFile': { heartbeat: { keyFile: '' } },
    'four extra links': { node: { id: 1, name: 'n1', address: '10.200.0.11', extraAddresses: ['10.1.0.1', '10.2.0.1', '10.3.0.1', '10.4.0.1'] } },
    'deadAfter 1': { timing: { deadAfter: 1 } },
    'seed as decimal string': { hash: { seed: '12345' } },
    '32 peers': { peers: Array.from({ length: 32 }, (_, i) => ({ id: i + 1, name: `p${i}` })) },
  };

  it.each(Object.entries(structurallyBroken))('refuses %s, and so does the loader', (_name, patch) => {
    expect(published(dataWith(patch))).toBe(false);
    expect(problemsOf(yamlWith(patch)).length).toBeGreaterThan(0);
  });

  // These need more than one field or real address parsing: the loader adds them on top.
  const semanticOnly: Record<string, Record<string, unknown>> = {
    'duplicate id': { peers: [{ id: 1, name: 'n2' }] },
    'renewMs >= leaseMs/2': { timing: { leaseMs: 100, renewMs: 50 } },
    'multicast VMAC': { vmac: '03:00:00:00:00:01' },
    'peer address not an IP': { peers: [{ id: 2, name: 'n2', address: 'nope' }] },
    'renewMs within 8 ms of leaseMs/2': { timing: { leaseMs: 100, renewMs: 47 } },
    'keyFile missing with peers': { heartbeat: undefined },
    'peer without address': { peers: [{ id: 2, name: 'n2' }] },
    'link count mismatch': { peers: [{ id: 2, name: 'n2', address: '10.200.0.12', extraAddresses: ['10.201.0.12'] }] },
    'duplicate extra address': {
      node: { id: 1, name: 'n1', address: '10.200.0.11', extraAddresses: ['10.201.0.1'] },
      peers: [{ id: 2, name: 'n2', address: '10.200.0.12', extraAddresses: ['10.201.0.1'] }],
    },
    'extra address not an IP': { node: { id: 1, name: 'n1', address: '10.200.0.11', extraAddresses: ['n1-hb'] }, peers: [] },
    'dead time too short for the lease': { timing: { leaseMs: 200 } },
    'suspectAfter >= deadAfter': { timing: { suspectAfter: 6, deadAfter: 6 } },
  };

  it.each(Object.entries(semanticOnly))('leaves %s to the loader, which refuses it', (_name, patch) => {
    expect(published(dataWith(patch))).toBe(true);
    expect(problemsOf(yamlWith(patch)).length).toBeGreaterThan(0);
  });

  it('declares the same defaults as src/config/defaults.ts', () => {
    const d = defaultProfile();
    const props = schema.properties as Record<string, { default?: unknown; properties?: Record<string, { default?: unknown }> }>;
    const node = (schema.$defs as Record<string, { properties: Record<string, { default?: unknown }> }>).node;
    expect(props.vmac?.default).toBe(d.vmac);
    expect(props.mode?.default).toBe(d.mode);
    expect(props.buckets?.default).toBe(d.buckets);
    expect(props.metrics?.properties?.listen?.default).toBe(d.metricsListen);
    expect(props.hash?.properties?.affinity?.default).toBe(d.affinity);
    expect(props.hash?.properties?.prefixLength?.default).toBe(d.prefixLength);
    expect(props.hash?.properties?.prefixLength6?.default).toBe(d.prefixLength6);
    expect(node?.properties.weight?.default).toBe(d.weight);
    expect(props.timing?.properties?.profile?.default).toBe(d.timing.profile);
    for (const k of ['garpCount', 'garpIntervalMs', 'refreshMs'] as const) expect(props.arp?.properties?.[k]?.default).toBe(d.arp[k]);
    expect(props.heartbeat?.properties?.port?.default).toBe(d.heartbeat.port);
  });

  /** Every `pattern` in the schema, as the field it constrains. */
  function patternFields(node: unknown, at: string, out: string[]): string[] {
    if (typeof node !== 'object' || node === null) return out;
    const n = node as Record<string, unknown>;
    if (typeof n.pattern === 'string') out.push(at);
    for (const [k, v] of Object.entries((n.properties ?? {}) as Record<string, unknown>)) patternFields(v, at === '' ? k : `${at}.${k}`, out);
    for (const [k, v] of Object.entries((n.$defs ?? {}) as Record<string, unknown>)) patternFields(v, `$defs.${k}`, out);
    return out;
  }

  it('gives every pattern-checked field an operator message, never "must match pattern"', () => {
    expect(patternFields(schema, '', []).sort()).toEqual(['$defs.node.name', 'hash.seed', 'interface', 'metrics.listen', 'service', 'vip', 'vmac']);
    const cases: [string, Record<string, unknown>][] = [
      ['service', { service: '9web' }],
      ['interface', { interface: 'eth 0' }],
      ['vip', { vip: '10.0.0' }],
      ['vmac', { vmac: 'zz:zz:zz:zz:zz:zz' }],
      ['hash.seed', { hash: { seed: 'x' } }],
      ['node.name', { node: { id: 1, name: '-n1' } }],
      ['peers[0].name', { peers: [{ id: 2, name: 'has space' }] }],
      ['metrics.listen', { metrics: { listen: 'localhost:9789' } }],
    ];
    for (const [path, patch] of cases) {
      const message = messageAt(problemsOf(yamlWith(patch)), path);
      expect(message).toMatch(/^must be /);
      expect(message).not.toMatch(/pattern/);
    }
  });
});
