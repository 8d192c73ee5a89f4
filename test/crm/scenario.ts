/**
 * Random placement scenarios inside the subset vmac supports (issue 19's differential test):
 * nodes online / offline / standby, location scores, stickiness with a current placement,
 * colocations (± scores and ±INFINITY), mandatory orders, groups, failure counts against
 * migrationThreshold. One scenario is rendered twice: as a vmac service file (cib.ts renders
 * the Pacemaker side), and both placements are compared.
 */
import { stringify } from 'yaml';
import { mulberry32, type Rng } from '../../src/util/prng.js';
import type { RawScore } from '../../src/crm/score.js';

export interface ScenarioNode { readonly name: string; readonly online: boolean; readonly standby: boolean }

export interface ScenarioUnit {
  readonly name: string;
  readonly kind: 'singleton' | 'group';
  readonly members: readonly string[]; // group only
  readonly location: Readonly<Record<string, number | 'INFINITY' | '-INFINITY'>>;
  readonly stickiness: number;
  readonly colocate: readonly { readonly with: string; readonly score: number | 'INFINITY' | '-INFINITY' }[];
  readonly after: readonly string[];
  readonly migrationThreshold: number;
}

export interface Scenario {
  readonly seed: number;
  readonly nodes: readonly ScenarioNode[];
  readonly units: readonly ScenarioUnit[]; // in file order
  readonly active: Readonly<Record<string, string>>; // primitive → node
  readonly failures: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

function int(rnd: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rnd() * (hi - lo + 1));
}

function pick<T>(rnd: Rng, xs: readonly T[]): T {
  const x = xs[Math.floor(rnd() * xs.length)];
  if (x === undefined) throw new Error('pick from an empty list');
  return x;
}

function score(rnd: Rng): number | 'INFINITY' | '-INFINITY' {
  const r = rnd();
  if (r < 0.15) return 'INFINITY';
  if (r < 0.3) return '-INFINITY';
  const v = pick(rnd, [1, 5, 10, 20, 50, 100, 200, 500, 1000, int(rnd, 1, 300)]);
  return rnd() < 0.5 ? v : -v;
}

export function generateScenario(seed: number): Scenario {
  const rnd = mulberry32(seed);
  const n = int(rnd, 2, 5);
  const nodes: ScenarioNode[] = [];
  for (let i = 1; i <= n; i += 1) {
    const online = rnd() < 0.8;
    nodes.push({ name: `n${i}`, online, standby: online && rnd() < 0.15 });
  }
  const count = int(rnd, 1, 5);
  const units: ScenarioUnit[] = [];
  // A random topological order: colocations and orders only point to units earlier in it (no cycles).
  const rank: number[] = [];
  for (let i = 0; i < count; i += 1) rank.push(rnd());
  let entries = 0; // service-file entries so far (the schema allows 16)
  for (let i = 0; i < count; i += 1) {
    const isGroup = rnd() < 0.25 && entries + 4 + (count - i - 1) <= 16;
    const name = isGroup ? `g${i}` : `r${i}`;
    const members = isGroup ? Array.from({ length: int(rnd, 2, 3) }, (_, j) => `g${i}m${j}`) : [];
    entries += 1 + members.length;
    const location: Record<string, number | 'INFINITY' | '-INFINITY'> = {};
    for (const nd of nodes) if (rnd() < 0.3) location[nd.name] = score(rnd);
    const stickiness = rnd() < 0.5 ? pick(rnd, [0, 1, 10, 50, 100, 200, 1000, 1_000_000]) : 0;
    const earlier = [...Array(count).keys()].filter((j) => j !== i && (rank[j] ?? 0) < (rank[i] ?? 0));
    const colocate: { with: string; score: number | 'INFINITY' | '-INFINITY' }[] = [];
    const after: string[] = [];
    units.push({ name, kind: isGroup ? 'group' : 'singleton', members, location, stickiness, colocate, after, migrationThreshold: rnd() < 0.4 ? int(rnd, 1, 3) : 0 });
    for (const j of earlier) {
      if (rnd() < 0.35) colocate.push({ with: String(j), score: score(rnd) });
      if (rnd() < 0.25) after.push(String(j));
    }
  }
  // Resolve indices to names now that every unit has one.
  const named = units.map((u) => ({ ...u, colocate: u.colocate.map((c) => ({ ...c, with: units[Number(c.with)]?.name ?? '' })), after: u.after.map((a) => units[Number(a)]?.name ?? '') }));
  const up = nodes.filter((x) => x.online).map((x) => x.name);
  const active: Record<string, string> = {};
  const failures: Record<string, Record<string, number>> = {};
  for (const u of named) {
    const prims = u.kind === 'group' ? u.members : [u.name];
    if (up.length > 0 && rnd() < 0.5) {
      const at = pick(rnd, up);
      const k = u.kind === 'group' && rnd() < 0.2 ? int(rnd, 1, prims.length) : prims.length;
      prims.slice(0, k).forEach((p) => { active[p] = at; });
    }
    for (const p of prims) if (rnd() < 0.25) failures[p] = { [pick(rnd, nodes).name]: int(rnd, 1, 3) };
  }
  return { seed, nodes, units: named, active, failures };
}

/** The scenario as a vmac service file (node n1 is "this" node; the rest are peers). */
export function renderServiceFile(s: Scenario): string {
  const [self, ...peers] = s.nodes;
  if (self === undefined) throw new Error('no nodes');
  const resources: Record<string, unknown>[] = [];
  for (const u of s.units) {
    const prefer: Record<string, RawScore> = {};
    const avoid: Record<string, RawScore> = {};
    for (const [node, sc] of Object.entries(u.location)) {
      if (sc === 'INFINITY' || (typeof sc === 'number' && sc > 0)) prefer[node] = sc;
      else if (sc === '-INFINITY') avoid[node] = 'INFINITY';
      else if (typeof sc === 'number' && sc < 0) avoid[node] = -sc;
      else prefer[node] = 0;
    }
    for (const m of u.members) resources.push({ name: m, kind: 'singleton', command: { start: 'true', stop: 'true', monitor: 'true' } });
    resources.push({
      name: u.name, kind: u.kind,
      ...(u.kind === 'group' ? { members: [...u.members] } : { command: { start: 'true', stop: 'true', monitor: 'true' } }),
      ...(Object.keys(prefer).length > 0 ? { prefer } : {}),
      ...(Object.keys(avoid).length > 0 ? { avoid } : {}),
      ...(u.stickiness > 0 ? { stickiness: u.stickiness } : {}),
      ...(u.colocate.length > 0 ? { colocate: u.colocate.map((c) => ({ with: c.with, score: c.score })) } : {}),
      ...(u.after.length > 0 ? { after: [...u.after] } : {}),
      ...(u.migrationThreshold > 0 ? { migrationThreshold: u.migrationThreshold } : {}),
    });
  }
  const node = (x: ScenarioNode, i: number): Record<string, unknown> => ({ id: i + 1, name: x.name, address: `10.9.0.${i + 1}` });
  return stringify({
    service: 'diff', interface: 'eth0', vip: '10.9.0.100', hash: { seed: 1 },
    node: node(self, 0), peers: peers.map((p, i) => node(p, i + 1)),
    heartbeat: { keyFile: '/etc/vmac/diff.key' },
    resources,
  });
}
