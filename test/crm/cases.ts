/**
 * The placement case table (issue 19, docs/crm.md): each case in Pacemaker's style — nodes,
 * resources with scores and constraints, where things run now, failure counts — and the
 * expected placement. The unit test checks vmac's policy engine against `expect`; the
 * differential test (crm-diff.test.ts) checks Pacemaker's scheduler against the same `expect`
 * for every case it can express (all but the @serving ones, which are vmac's own).
 */
import type { Scenario, ScenarioNode, ScenarioUnit } from './scenario.js';

export interface PlacementCase {
  readonly title: string;
  readonly topic: 'scores' | 'stickiness' | 'colocation' | 'anti-colocation' | 'ordering' | 'groups' | 'migration-threshold' | 'standby' | 'membership' | 'serving';
  readonly scenario: Scenario;
  readonly serving?: readonly string[];
  readonly expect: Readonly<Record<string, string | null>>;
}

const up = (name: string): ScenarioNode => ({ name, online: true, standby: false });
const N3 = [up('n1'), up('n2'), up('n3')];
const N2 = [up('n1'), up('n2')];

type U = Partial<ScenarioUnit> & { name: string };
function unit(u: U): ScenarioUnit {
  return { kind: 'singleton', members: [], location: {}, stickiness: 0, colocate: [], after: [], migrationThreshold: 0, ...u };
}
function group(name: string, members: string[], u: Partial<ScenarioUnit> = {}): ScenarioUnit {
  return unit({ ...u, name, kind: 'group', members });
}

interface Spec {
  nodes?: ScenarioNode[];
  units: ScenarioUnit[];
  active?: Record<string, string>;
  failures?: Record<string, Record<string, number>>;
}
function sc(s: Spec): Scenario {
  return { seed: 0, nodes: s.nodes ?? N3, units: s.units, active: s.active ?? {}, failures: s.failures ?? {} };
}
const c = (title: string, topic: PlacementCase['topic'], s: Spec, expect: Record<string, string | null>, serving?: string[]): PlacementCase => ({ title, topic, scenario: sc(s), expect, ...(serving ? { serving } : {}) });

export const CASES: readonly PlacementCase[] = [
  c('no constraints: the first node by name', 'scores', { units: [unit({ name: 'a' })] }, { a: 'n1' }),
  c('a positive score wins', 'scores', { units: [unit({ name: 'a', location: { n2: 100 } })] }, { a: 'n2' }),
  c('the highest score wins', 'scores', { units: [unit({ name: 'a', location: { n2: 100, n3: 200 } })] }, { a: 'n3' }),
  c('-INFINITY forbids a node', 'scores', { units: [unit({ name: 'a', location: { n1: '-INFINITY' } })] }, { a: 'n2' }),
  c('negative scores everywhere: stopped (a node needs a score of at least 0)', 'scores', { nodes: N2, units: [unit({ name: 'a', location: { n1: -10, n2: -20 } })] }, { a: null }),
  c('forbidden everywhere: stopped', 'scores', { units: [unit({ name: 'a', location: { n1: '-INFINITY', n2: '-INFINITY', n3: '-INFINITY' } })] }, { a: null }),
  c('resources spread: fewest assigned first on equal scores', 'scores', { units: [unit({ name: 'a' }), unit({ name: 'b' }), unit({ name: 'c' })] }, { a: 'n1', b: 'n2', c: 'n3' }),
  c('spreading yields to scores', 'scores', { nodes: N2, units: [unit({ name: 'a', location: { n1: 10 } }), unit({ name: 'b', location: { n1: 10 } })] }, { a: 'n1', b: 'n1' }),
  c('+INFINITY on an offline node: next best', 'membership', { nodes: [up('n1'), { name: 'n2', online: false, standby: false }, up('n3')], units: [unit({ name: 'a', location: { n2: 'INFINITY', n3: 5 } })] }, { a: 'n3' }),
  c('every node offline: stopped', 'membership', { nodes: [{ name: 'n1', online: false, standby: false }, { name: 'n2', online: false, standby: false }], units: [unit({ name: 'a' })] }, { a: null }),
  c('standby node is not used', 'standby', { nodes: [up('n1'), { name: 'n2', online: true, standby: true }], units: [unit({ name: 'a', location: { n2: 100 } })] }, { a: 'n1' }),
  c('standby moves a running resource away despite stickiness', 'standby', { nodes: [{ name: 'n1', online: true, standby: true }, up('n2')], units: [unit({ name: 'a', stickiness: 1_000_000 })], active: { a: 'n1' } }, { a: 'n2' }),
  c('stickiness above the preference: stays', 'stickiness', { units: [unit({ name: 'a', location: { n2: 100 }, stickiness: 200 })], active: { a: 'n1' } }, { a: 'n1' }),
  c('stickiness below the preference: moves', 'stickiness', { units: [unit({ name: 'a', location: { n2: 100 }, stickiness: 50 })], active: { a: 'n1' } }, { a: 'n2' }),
  c('stickiness equal to the preference: stays (current node wins a tie)', 'stickiness', { units: [unit({ name: 'a', location: { n2: 100 }, stickiness: 100 })], active: { a: 'n1' } }, { a: 'n1' }),
  c('no stickiness: back to the preferred node', 'stickiness', { units: [unit({ name: 'a', location: { n2: 1 } })], active: { a: 'n3' } }, { a: 'n2' }),
  c('INFINITY stickiness against INFINITY preference: stays', 'stickiness', { units: [unit({ name: 'a', location: { n2: 'INFINITY' }, stickiness: 1_000_000 })], active: { a: 'n1' } }, { a: 'n1' }),
  c('no stickiness, equal scores: the current node wins the tie', 'stickiness', { units: [unit({ name: 'a' })], active: { a: 'n3' } }, { a: 'n3' }),
  c('+INFINITY colocation: with the primary', 'colocation', { units: [unit({ name: 'a', location: { n3: 10 } }), unit({ name: 'b', colocate: [{ with: 'a', score: 'INFINITY' }] })] }, { a: 'n3', b: 'n3' }),
  c('the dependent pulls the primary to its preferred node', 'colocation', { units: [unit({ name: 'a' }), unit({ name: 'b', location: { n3: 100 }, colocate: [{ with: 'a', score: 'INFINITY' }] })] }, { a: 'n3', b: 'n3' }),
  c('a dependent\'s -INFINITY keeps the primary off that node', 'colocation', { units: [unit({ name: 'a', location: { n1: 50 } }), unit({ name: 'b', location: { n1: '-INFINITY' }, colocate: [{ with: 'a', score: 'INFINITY' }] })] }, { a: 'n2', b: 'n2' }),
  c('+INFINITY colocation with a stopped primary: stopped', 'colocation', { units: [unit({ name: 'a', location: { n1: '-INFINITY', n2: '-INFINITY', n3: '-INFINITY' } }), unit({ name: 'b', colocate: [{ with: 'a', score: 'INFINITY' }] })] }, { a: null, b: null }),
  c('a finite colocation outweighs a smaller preference', 'colocation', { units: [unit({ name: 'a', location: { n1: 100 } }), unit({ name: 'b', location: { n2: 20 }, colocate: [{ with: 'a', score: 50 }] })] }, { a: 'n1', b: 'n1' }),
  c('a larger preference outweighs a finite colocation', 'colocation', { units: [unit({ name: 'a', location: { n1: 100 } }), unit({ name: 'b', location: { n2: 60 }, colocate: [{ with: 'a', score: 50 }] })] }, { a: 'n1', b: 'n2' }),
  c('-INFINITY colocation: apart', 'anti-colocation', { units: [unit({ name: 'a', location: { n1: 10 } }), unit({ name: 'b', location: { n1: 10 }, colocate: [{ with: 'a', score: '-INFINITY' }] })] }, { a: 'n1', b: 'n2' }),
  c('-INFINITY colocation on two nodes with a third resource', 'anti-colocation', { nodes: N2, units: [unit({ name: 'a' }), unit({ name: 'b', colocate: [{ with: 'a', score: '-INFINITY' }] }), unit({ name: 'c', colocate: [{ with: 'a', score: '-INFINITY' }, { with: 'b', score: '-INFINITY' }] })] }, { a: 'n1', b: 'n2', c: null }),
  c('-INFINITY colocation with a stopped primary: no effect', 'anti-colocation', { units: [unit({ name: 'a', location: { n1: '-INFINITY', n2: '-INFINITY', n3: '-INFINITY' } }), unit({ name: 'b', location: { n2: 5 }, colocate: [{ with: 'a', score: '-INFINITY' }] })] }, { a: null, b: 'n2' }),
  c('a finite anti-colocation is a preference', 'anti-colocation', { units: [unit({ name: 'a', location: { n1: 100 } }), unit({ name: 'b', location: { n1: 30 }, colocate: [{ with: 'a', score: -50 }] })] }, { a: 'n1', b: 'n2' }),
  c('a finite anti-colocation loses to a larger preference', 'anti-colocation', { units: [unit({ name: 'a', location: { n1: 100 } }), unit({ name: 'b', location: { n1: 80 }, colocate: [{ with: 'a', score: -50 }] })] }, { a: 'n1', b: 'n1' }),
  c('ordering alone does not place', 'ordering', { units: [unit({ name: 'a' }), unit({ name: 'b', after: ['a'] })] }, { a: 'n1', b: 'n2' }),
  c('ordering: a resource whose predecessor cannot run does not start', 'ordering', { units: [unit({ name: 'a', location: { n1: '-INFINITY', n2: '-INFINITY', n3: '-INFINITY' } }), unit({ name: 'b', after: ['a'] })] }, { a: null, b: null }),
  c('ordering chains block transitively', 'ordering', { units: [unit({ name: 'a', location: { n1: '-INFINITY', n2: '-INFINITY', n3: '-INFINITY' } }), unit({ name: 'b', after: ['a'] }), unit({ name: 'c', after: ['b'] })] }, { a: null, b: null, c: null }),
  c('ordering after a group', 'ordering', { units: [group('g', ['g1', 'g2'], { location: { n2: 10 } }), unit({ name: 'b', after: ['g'], colocate: [{ with: 'g', score: 'INFINITY' }] })] }, { g1: 'n2', g2: 'n2', b: 'n2' }),
  c('a group runs together on one node', 'groups', { units: [group('g', ['g1', 'g2', 'g3'])] }, { g1: 'n1', g2: 'n1', g3: 'n1' }),
  c('a group follows its location score', 'groups', { units: [group('g', ['g1', 'g2'], { location: { n3: 50 } })] }, { g1: 'n3', g2: 'n3' }),
  c('group stickiness counts once per active member', 'groups', { units: [group('g', ['g1', 'g2'], { location: { n1: 15 }, stickiness: 10 })], active: { g1: 'n2', g2: 'n2' } }, { g1: 'n2', g2: 'n2' }),
  c('colocation with a group (+INFINITY)', 'groups', { units: [group('g', ['g1', 'g2'], { location: { n2: 5 } }), unit({ name: 'b', colocate: [{ with: 'g', score: 'INFINITY' }] })] }, { g1: 'n2', g2: 'n2', b: 'n2' }),
  c('a group apart from a singleton', 'groups', { units: [unit({ name: 'a', location: { n1: 5 } }), group('g', ['g1', 'g2'], { location: { n1: 3 }, colocate: [{ with: 'a', score: '-INFINITY' }] })] }, { a: 'n1', g1: 'n2', g2: 'n2' }),
  c('a member that can run nowhere stops only the members after it', 'groups', { nodes: N2, units: [group('g', ['g1', 'g2', 'g3'], { migrationThreshold: 1 })], failures: { g2: { n1: 1, n2: 1 } } }, { g1: 'n1', g2: null, g3: null }),
  c('failures reaching the threshold ban the node', 'migration-threshold', { units: [unit({ name: 'a', location: { n1: 100 }, migrationThreshold: 3 })], active: { a: 'n1' }, failures: { a: { n1: 3 } } }, { a: 'n2' }),
  c('failures below the threshold: stays', 'migration-threshold', { units: [unit({ name: 'a', location: { n1: 100 }, migrationThreshold: 3 })], active: { a: 'n1' }, failures: { a: { n1: 2 } } }, { a: 'n1' }),
  c('threshold 0: failures never ban', 'migration-threshold', { units: [unit({ name: 'a', location: { n1: 100 } })], active: { a: 'n1' }, failures: { a: { n1: 10 } } }, { a: 'n1' }),
  c('a failed group member moves the whole group', 'migration-threshold', { units: [group('g', ['g1', 'g2'], { location: { n1: 50 }, migrationThreshold: 1 })], active: { g1: 'n1', g2: 'n1' }, failures: { g2: { n1: 1 } } }, { g1: 'n2', g2: 'n2' }),
  c('banned on every node: stopped', 'migration-threshold', { nodes: N2, units: [unit({ name: 'a', migrationThreshold: 1 })], failures: { a: { n1: 1, n2: 2 } } }, { a: null }),
  c('+INFINITY with the serving nodes', 'serving', { units: [unit({ name: 'a', colocate: [{ with: '@serving', score: 'INFINITY' }] })] }, { a: 'n2' }, ['n2', 'n3']),
  c('a finite preference for the serving nodes', 'serving', { units: [unit({ name: 'a', location: { n1: 20 }, colocate: [{ with: '@serving', score: 50 }] })] }, { a: 'n3' }, ['n3']),
  c('no serving node: +INFINITY with @serving stops it', 'serving', { units: [unit({ name: 'a', colocate: [{ with: '@serving', score: 'INFINITY' }] })] }, { a: null }, []),
];
