/** Operator constraints (src/crm/operator.ts) and the view projection (src/crm/crm-view.ts), pure. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { applyResourceOp, parseResourceOp, pendingCleanups, standbyOf } from '../../../src/crm/operator.js';
import { crmViewOf } from '../../../src/node/crm-view.js';
import type { OperatorScores } from '../../../src/crm/transition.js';
import { yamlWith } from '../config/helpers.js';

const CMD = { start: 's', stop: 't', monitor: 'm' };
const PEERS = [{ id: 2, name: 'n2', address: '10.200.0.12' }, { id: 3, name: 'n3', address: '10.200.0.13' }];
const MODEL = parseConfig(yamlWith({ peers: PEERS, resources: [
  { name: 'web', command: CMD },
  { name: 'ip', kind: 'singleton', command: CMD },
  { name: 'q', kind: 'singleton', command: CMD }, { name: 'm', kind: 'singleton', command: CMD },
  { name: 'mail', kind: 'group', members: ['q', 'm'] },
] }), 'web.yaml').crm;
const NODES = ['n1', 'n2', 'n3'];
const NONE: OperatorScores = { version: 0, scores: {} };

function apply(cur: OperatorScores, raw: Parameters<typeof parseResourceOp>[0], wallMs = 1000): OperatorScores {
  const op = parseResourceOp(raw);
  if (typeof op === 'string') throw new Error(op);
  if (!MODEL) throw new Error('no model');
  const r = applyResourceOp(cur, op, MODEL, NODES, wallMs);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

describe('operator constraints', () => {
  it('move replaces an earlier move and keeps bans; a member moves its group; clear forgets the unit', () => {
    let o = apply(NONE, { op: 'ban', resource: 'ip', node: 'n3' });
    o = apply(o, { op: 'move', resource: 'ip', node: 'n1' });
    o = apply(o, { op: 'move', resource: 'ip', node: 'n2' });
    expect(o.scores.ip).toEqual({ n3: -1_000_000, n2: 1_000_000 });
    o = apply(o, { op: 'move', resource: 'm', node: 'n2' });
    expect(o.scores.mail).toEqual({ n2: 1_000_000 });
    o = apply(o, { op: 'clear', resource: 'ip' });
    expect(o.scores.ip).toBeUndefined();
  });

  it('versions only grow, also when the wall clock is behind', () => {
    const a = apply(NONE, { op: 'ban', resource: 'ip', node: 'n3' }, 5000);
    const b = apply(a, { op: 'clear', resource: 'ip' }, 10);
    expect(b.version).toBe(5001);
  });

  it('standby and cleanup rows; each cleanup is applied once per node', () => {
    let o = apply(NONE, { op: 'standby', node: 'n2', on: true });
    expect(standbyOf(o)).toEqual(['n2']);
    o = apply(o, { op: 'cleanup', resource: 'mail' });
    const first = pendingCleanups(o, {});
    expect(first.resources).toEqual(['m', 'q']);
    expect(pendingCleanups(o, first.applied).resources).toEqual([]);
    o = apply(o, { op: 'cleanup', resource: 'q' });
    expect(pendingCleanups(o, first.applied).resources).toEqual(['q']);
    o = apply(o, { op: 'standby', node: 'n2', on: false });
    expect(standbyOf(o)).toEqual([]);
  });

  it('refuses a clone, an unknown resource or node, a bad request', () => {
    if (!MODEL) throw new Error('no model');
    expect(applyResourceOp(NONE, { op: 'move', resource: 'web', node: 'n1' }, MODEL, NODES, 1)).toMatch(/no singleton or group/);
    expect(applyResourceOp(NONE, { op: 'ban', resource: 'ip', node: 'n9' }, MODEL, NODES, 1)).toMatch(/unknown node "n9"/);
    expect(parseResourceOp({ op: 'move', resource: 'ip' })).toMatch(/needs resource and node/);
    expect(parseResourceOp({ op: 'explode' })).toMatch(/unknown operation/);
  });
});

describe('view of the cluster for the resources', () => {
  const node = (id: number, name: string, status: 'alive' | 'suspect' | 'dead' | 'unknown', state: string | null) => ({ id, name, status, state, lastHeardMsAgo: 0, digest: null, links: [] });
  it('members: self and peers heard, not leaving, of our config; serving: active ones', () => {
    const v = crmViewOf({
      self: { id: 1, name: 'n1', state: 'active', incarnation: '1', servingSinceMs: 0 },
      quorum: { has: true, lease: 'ok', size: 3 },
      nodes: [node(1, 'n1', 'alive', 'active'), node(2, 'n2', 'suspect', 'standby'), node(3, 'n3', 'alive', 'leaving'), node(4, 'n4', 'alive', 'active'), node(5, 'n5', 'dead', 'active')],
      config: { fingerprint: 'x', standing: 'agreed' as never, differing: [{ id: 4, digest: 'y', sinceMsAgo: 0, serving: false, fields: [] }] },
    });
    expect(v).toEqual({ members: ['n1', 'n2'], quorate: true, serving: ['n1'], cleanLeave: ['n3'] });
  });
});
