/** `vmac check` across files: cluster files disagreeing in a shared field, host services colliding. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { crossCheck } from '../../../src/config/cross-check.js';

function file(name: string, lines: string[], id = 1, n = 3): { cfg: ReturnType<typeof parseConfig>; keyId: string } {
  const others = Array.from({ length: n }, (_, i) => i + 1).filter((x) => x !== id);
  const yaml = [
    ...lines,
    `node: { id: ${id}, name: n${id}, address: 10.0.1.${id} }`,
    `peers: [${others.map((o) => `{ id: ${o}, name: n${o}, address: 10.0.1.${o} }`).join(', ')}]`,
    'heartbeat: { keyFile: /k }', '',
  ].join('\n');
  return { cfg: parseConfig(yaml, name), keyId: 'k1' };
}
const web = (seed = 42): string[] => ['service: web', 'interface: eth0', 'vip: 10.0.0.100', `hash: { seed: ${seed} }`];

describe('vmac check across files', () => {
  it('three files of one cluster that agree: nothing to report', () => {
    expect(crossCheck([1, 2, 3].map((id) => file(`n${id}.yaml`, web(), id)))).toEqual([]);
  });

  it('one differing field is named, in the file that differs, with both values', () => {
    const p = crossCheck([file('a.yaml', web(), 1), file('b.yaml', web(), 2), file('c.yaml', web(43), 3)]);
    expect(p).toEqual([{ file: 'c.yaml', field: 'hash.seed', message: 'differs from the other files of service "web": "43" here, "42" in a.yaml, b.yaml (must be equal on every node)' }]);
  });

  it('the node list, buckets, timing and key identity are compared; the same node twice is named', () => {
    const c = file('c.yaml', [...web(), 'buckets: 128', 'timing: { profile: fast }'], 3, 4);
    const p = crossCheck([file('a.yaml', web(), 1), file('b.yaml', web(), 1), { ...c, keyId: 'k2' }]);
    expect(p.map((x) => `${x.file}:${x.field}`)).toEqual(expect.arrayContaining(['c.yaml:buckets', 'c.yaml:timing.profile', 'c.yaml:nodes', 'c.yaml:heartbeat.keyFile (key identity)', 'b.yaml:node.id']));
  });

  it('two services of one host colliding on VIP, VMAC, heartbeat and metrics port', () => {
    const api = file('api.yaml', ['service: api', 'interface: eth0', 'vip: 10.0.0.100', 'hash: { seed: 7 }']);
    const p = crossCheck([file('web.yaml', web()), api]);
    expect(p.map((x) => `${x.file}:${x.field}`)).toEqual(['api.yaml:vip', 'api.yaml:vmac', 'api.yaml:heartbeat.port', 'api.yaml:metrics.listen']);
    expect(p[0]?.message).toContain('collides with service "web" in web.yaml');
  });

  it('two services with their own VIP, port and metrics address do not collide', () => {
    const api = file('api.yaml', ['service: api', 'interface: eth0', 'vip: 10.0.0.101', 'hash: { seed: 7 }', 'metrics: { listen: 127.0.0.1:9790 }'].concat([]));
    const withPort = { ...api, cfg: { ...api.cfg, heartbeat: { ...api.cfg.heartbeat, port: 5790 } } };
    expect(crossCheck([file('web.yaml', web()), withPort])).toEqual([]);
  });
});
