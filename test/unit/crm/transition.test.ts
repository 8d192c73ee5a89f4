/**
 * The transition engine (src/crm/transition.ts) driven by hand with a fake clock: each node's
 * reducer gets events, its report effects are carried to the peers, and actions complete when
 * the test says so.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { initialCrmState, step, type CrmEffect, type CrmEvent, type CrmState } from '../../../src/crm/transition.js';
import { yamlWith } from '../config/helpers.js';

const CMD = { start: 's', stop: 't', monitor: 'm' };
const PEERS = [{ id: 2, name: 'n2', address: '10.200.0.12' }, { id: 3, name: 'n3', address: '10.200.0.13' }];
const NAMES = ['n1', 'n2', 'n3'];

function model(resources: unknown[]): NonNullable<ReturnType<typeof parseConfig>['crm']> {
  const c = parseConfig(yamlWith({ peers: PEERS, resources }), 'web.yaml');
  if (!c.crm) throw new Error('no model');
  return c.crm;
}

class Cluster {
  now = 0;
  states = new Map<string, CrmState>();
  effects: { node: string; e: CrmEffect }[] = [];
  links = new Set(NAMES); // nodes that hear each other
  constructor(resources: unknown[], fencing: boolean) {
    const m = model(resources);
    for (const n of NAMES) this.states.set(n, initialCrmState({ self: n, nodes: NAMES, model: m, fencing, selfStopGraceMs: 5000, fenceRetryMs: 1000 }, 0));
  }
  send(node: string, ev: CrmEvent): void {
    const s = this.states.get(node);
    if (!s) throw new Error(node);
    const r = step(s, ev, this.now);
    this.states.set(node, r.state);
    for (const e of r.effects) {
      this.effects.push({ node, e });
      if (e.type === 'report' && this.links.has(node)) for (const peer of this.links) if (peer !== node) this.send(peer, { type: 'report', node, report: e.report });
    }
  }
  view(members: string[], to = members): void {
    for (const n of to) this.send(n, { type: 'view', members, quorate: members.length >= 2 });
  }
  phase(node: string, r: string): string { return this.states.get(node)?.local[r] ?? 'stopped'; }
  actions(type: CrmEffect['type']): string[] {
    return this.effects.filter((x) => x.e.type === type).map((x) => `${x.node}:${'resource' in x.e ? x.e.resource : 'node' in x.e ? x.e.node : ''}`);
  }
  done(node: string, r: string, action: 'start' | 'stop', outcome: 'ok' | 'failed' = 'ok'): void { this.send(node, { type: 'action-done', resource: r, action, outcome }); }
  /** Complete every pending action with success until nothing is pending. */
  settle(): void {
    for (let i = 0; i < 50; i += 1) {
      let any = false;
      for (const n of NAMES) for (const [r, p] of Object.entries(this.states.get(n)?.local ?? {})) {
        if (p === 'starting') { this.done(n, r, 'start'); any = true; }
        if (p === 'stopping') { this.done(n, r, 'stop'); any = true; }
      }
      if (!any) return;
    }
  }
}

const A = { name: 'a', kind: 'singleton', command: CMD, prefer: { n1: 100 } };
const B = { name: 'b', kind: 'singleton', command: CMD, colocate: [{ with: 'a' }], after: ['a'] };

describe('transition engine', () => {
  it('starts a singleton once, where placed, after every member granted its claim', () => {
    const c = new Cluster([A], false);
    c.view(NAMES);
    expect(c.phase('n1', 'a')).toBe('starting');
    expect(c.actions('start')).toEqual(['n1:a']);
    c.settle();
    expect(NAMES.map((n) => c.phase(n, 'a'))).toEqual(['started', 'stopped', 'stopped']);
  });

  it('orders: b starts only after a is started, and on a move b stops before a stops', () => {
    const c = new Cluster([A, B], false);
    c.view(NAMES);
    expect(c.actions('start')).toEqual(['n1:a']); // b waits for a
    c.settle();
    expect(c.actions('start')).toEqual(['n1:a', 'n1:b']);
    c.effects = [];
    c.send('n1', { type: 'operator', operator: { version: 1, scores: { a: { n2: 1_000_000 } } } });
    expect(c.actions('stop')).toEqual(['n1:b']); // not a: b runs after it
    c.done('n1', 'b', 'stop');
    expect(c.actions('stop')).toEqual(['n1:b', 'n1:a']);
    expect(c.actions('start')).toEqual([]); // n2 waits until n1 reports a stopped
    c.done('n1', 'a', 'stop');
    expect(c.actions('start')).toEqual(['n2:a']);
    c.settle();
    expect(c.actions('start')).toEqual(['n2:a', 'n2:b']);
  });

  it('a node that left is fenced before the singleton starts elsewhere; a failed fence starts nothing', () => {
    const c = new Cluster([A], true);
    c.view(NAMES);
    c.settle();
    c.effects = [];
    c.links = new Set(['n2', 'n3']); // n1 is gone (kill -9)
    c.view(['n2', 'n3']);
    expect(c.actions('start')).toEqual([]);
    expect(c.actions('fence')).toContain('n2:n1');
    c.send('n2', { type: 'fence-done', node: 'n1', outcome: 'failed' });
    c.send('n3', { type: 'fence-done', node: 'n1', outcome: 'failed' });
    c.now = 500;
    c.send('n2', { type: 'tick' });
    expect(c.actions('start')).toEqual([]);
    c.now = 1500; // retried after fenceRetryMs, still nothing started
    c.send('n2', { type: 'tick' });
    expect(c.actions('fence').filter((x) => x === 'n2:n1').length).toBe(2);
    expect(c.actions('start')).toEqual([]);
    c.send('n2', { type: 'fence-done', node: 'n1', outcome: 'ok' });
    c.send('n3', { type: 'fence-done', node: 'n1', outcome: 'ok' });
    expect(c.actions('start')).toEqual(['n2:a']);
  });

  it('without fencing, waits the self-stop grace after a node left', () => {
    const c = new Cluster([A], false);
    c.view(NAMES);
    c.settle();
    c.effects = [];
    c.links = new Set(['n2', 'n3']);
    c.view(['n2', 'n3']);
    c.now = 4999;
    c.send('n2', { type: 'tick' });
    c.send('n3', { type: 'tick' });
    expect(c.actions('start')).toEqual([]);
    c.now = 5000;
    c.send('n3', { type: 'tick' });
    c.send('n2', { type: 'tick' });
    expect(c.actions('start')).toEqual(['n2:a']);
  });

  it('a failed stop leads to fencing before the singleton starts elsewhere', () => {
    const c = new Cluster([A], true);
    c.view(NAMES);
    c.settle();
    c.effects = [];
    c.send('n1', { type: 'operator', operator: { version: 1, scores: { a: { n3: 1_000_000 } } } });
    c.done('n1', 'a', 'stop', 'failed');
    expect(c.phase('n1', 'a')).toBe('stop-failed');
    expect(c.actions('fence')).toContain('n3:n1');
    expect(c.actions('start')).toEqual([]);
    c.send('n3', { type: 'fence-done', node: 'n1', outcome: 'ok' });
    expect(c.actions('start')).toEqual(['n3:a']);
  });

  it('the minority stops its singletons, dependents first, and starts nothing', () => {
    const c = new Cluster([A, B], false);
    c.view(NAMES);
    c.settle();
    c.effects = [];
    c.links = new Set(['n2', 'n3']);
    c.send('n1', { type: 'view', members: ['n1'], quorate: false });
    expect(c.actions('stop')).toEqual(['n1:b']);
    c.done('n1', 'b', 'stop');
    expect(c.actions('stop')).toEqual(['n1:b', 'n1:a']);
    c.done('n1', 'a', 'stop');
    expect(c.phase('n1', 'a')).toBe('stopped');
    expect(c.actions('start')).toEqual([]);
  });

  it('a stop that fails without quorum takes the node out (self-fence)', () => {
    const c = new Cluster([A], false);
    c.view(NAMES);
    c.settle();
    c.effects = [];
    c.send('n1', { type: 'view', members: ['n1'], quorate: false });
    c.done('n1', 'a', 'stop', 'failed');
    expect(c.actions('self-fence')).toEqual(['n1:']);
  });

  it('the broken variant starts before the old node is known stopped', () => {
    const m = model([A]);
    const s0 = initialCrmState({ self: 'n2', nodes: NAMES, model: m, fencing: true, selfStopGraceMs: 5000, fenceRetryMs: 1000, mutation: 'start-without-stop-proof' }, 0);
    const r = step(s0, { type: 'view', members: ['n2', 'n3'], quorate: true }, 0);
    expect(r.effects.map((e) => e.type)).toContain('start');
    const safe = step(initialCrmState({ self: 'n2', nodes: NAMES, model: m, fencing: true, selfStopGraceMs: 5000, fenceRetryMs: 1000 }, 0), { type: 'view', members: ['n2', 'n3'], quorate: true }, 0);
    expect(safe.effects.map((e) => e.type)).not.toContain('start');
  });
});
