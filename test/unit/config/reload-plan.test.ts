/** What a reload may change live (src/config/reload-plan.ts): the own weight only; every other field refused, named. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { describeReload, planReload } from '../../../src/config/reload-plan.js';

const yaml = (o: { weight?: number; seed?: number; refreshMs?: number; peerWeight?: number; socket?: string } = {}): string => [
  'service: web', 'interface: eth0', 'vip: 10.9.9.9', `hash: { seed: ${o.seed ?? 42} }`,
  `node: { id: 1, name: n1, address: 10.9.0.1${o.weight === undefined ? '' : `, weight: ${o.weight}`} }`,
  `peers: [{ id: 2, name: n2, address: 10.9.0.2${o.peerWeight === undefined ? '' : `, weight: ${o.peerWeight}`} }]`,
  'heartbeat: { keyFile: /k }', ...(o.refreshMs === undefined ? [] : [`arp: { refreshMs: ${o.refreshMs} }`]),
  ...(o.socket === undefined ? [] : [`control: { socket: ${o.socket} }`]), '',
].join('\n');
const cfg = (o: Parameters<typeof yaml>[0] = {}) => parseConfig(yaml(o), 'web.yaml');

describe('planReload', () => {
  it('an unchanged file: nothing to do', () => {
    expect(planReload(cfg(), cfg()).outcome).toBe('unchanged');
  });
  it('our own weight: applied live as the run-time weight', () => {
    const p = planReload(cfg(), cfg({ weight: 250 }));
    expect(p).toMatchObject({ outcome: 'apply', weight: 250 });
    expect(describeReload(p)).toContain('weight 250 applied');
  });
  it('a shared field (seed, a peer\'s weight): refused, nothing applied, the field named with both values', () => {
    const p = planReload(cfg(), cfg({ weight: 250, seed: 7 }));
    expect(p.outcome).toBe('refused');
    if (p.outcome !== 'refused') return;
    expect(p.shared.map((c) => c.field)).toContain('hash.seed');
    expect(describeReload(p)).toMatch(/rolling procedure.*hash\.seed \(42 -> 7\)/);
    const q = planReload(cfg(), cfg({ peerWeight: 300 }));
    expect(q.outcome === 'refused' && q.shared.map((c) => c.field)).toEqual(expect.arrayContaining(['nodes']));
  });
  it('a local field the daemon built from (ARP refresh, control socket): refused as needing a restart', () => {
    const p = planReload(cfg(), cfg({ refreshMs: 5000, socket: '/run/vmac/other.sock' }));
    expect(p.outcome).toBe('refused');
    if (p.outcome !== 'refused') return;
    expect(p.shared).toEqual([]);
    expect(p.restart.map((c) => c.field).sort()).toEqual(['arp.refreshMs', 'control.socket']);
    expect(describeReload(p)).toContain('need a restart of this node');
  });
});
