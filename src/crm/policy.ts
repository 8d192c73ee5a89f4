/**
 * The policy engine, pure: from the agreed membership, node attributes, where each resource is
 * active now and its failure counts, compute where every singleton and group runs. The same
 * inputs give the same placement on every node (no clock, no randomness, no iteration over
 * unordered containers), as the bucket map does.
 *
 * The rules are Pacemaker's (its scheduler is the reference; test/crm/ compares the two on
 * random scenarios, docs/crm.md lists the rules and the deliberate deviations):
 *  - every node starts at score 0; location scores, stickiness (on the node a resource is active
 *    on) and failure bans (-INFINITY where failures reached migrationThreshold) are added;
 *  - placed units are assigned in file order; a unit first assigns what it is colocated with,
 *    then applies those colocations (+INFINITY: only the primary's node; -INFINITY: never there;
 *    a finite score: added on the primary's node, rolled back if it leaves no node);
 *  - then the scores of what is colocated with it are folded in, scaled by score/INFINITY
 *    (so a primary goes where its dependents can also run);
 *  - the best node wins: highest score, then fewest resources assigned so far, then the node it
 *    is active on, then the node name; a score < 0 or no available node means stopped;
 *  - a group is its members in order, each colocated (+INFINITY) with the previous one;
 *  - a mandatory order blocks a resource whose predecessor does not run.
 */
import { addScores, INFINITY } from './score.js';
import { SERVING, type CrmModel, type CrmResource } from './model.js';

export interface NodeInfo {
  readonly name: string;
  readonly online: boolean; // a member of the agreed view with quorum
  readonly standby: boolean; // operator standby (or health drain): runs no singleton
}

export interface PolicyInput {
  readonly nodes: readonly NodeInfo[];
  readonly model: CrmModel;
  /** Where each singleton (group members included) is active now; absent: stopped. */
  readonly active: Readonly<Record<string, string>>;
  /** Effective (not expired) failure counts: resource → node → count. */
  readonly failures: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Nodes that serve the shared VIP (for colocations with @serving). */
  readonly serving?: readonly string[];
  /** Location scores added at run time: operator move (+INFINITY) / ban (-INFINITY), stop or start failures (-INFINITY). Resource or group → node → score. */
  readonly extraScores?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** Why a placed resource does not run. */
export type StopReason = 'no-node' | 'blocked-by-order';

export interface Placement {
  /** Every singleton and group member: the node it should run on, or null. */
  readonly nodeOf: Readonly<Record<string, string | null>>;
  /** Why a resource with node null is stopped. */
  readonly reason: Readonly<Record<string, StopReason>>;
  /** The final scores each singleton was chosen with (for `vmac resources --scores`). */
  readonly scores: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

type Weights = Map<string, number>;

interface Coloc { readonly dependent: string; readonly primary: string; readonly score: number }

interface Unit {
  readonly r: CrmResource;
  weights: Weights; // primitives only
  assigned: string | null | undefined; // undefined: not yet assigned
  allocating: boolean;
  merging: boolean;
  thisWith: Coloc[]; // colocations where this unit is the dependent
  withThis: Coloc[]; // colocations where this unit is the primary
  parent: string | null; // the group of a member
  spliced: boolean; // a group whose assignment began: its colocations now live on its first/last member
}

class Engine {
  private readonly units = new Map<string, Unit>();
  private readonly available: ReadonlySet<string>;
  private readonly nodeNames: readonly string[];
  private readonly count = new Map<string, number>(); // resources assigned per node
  private readonly serving: ReadonlySet<string>;

  constructor(private readonly input: PolicyInput) {
    this.nodeNames = [...input.nodes.map((n) => n.name)].sort(cmpName);
    this.available = new Set(input.nodes.filter((n) => n.online && !n.standby).map((n) => n.name));
    this.serving = new Set(input.serving ?? []);
    const byName = new Map(input.model.resources.map((r) => [r.name, r]));
    const parentOf = new Map<string, string>();
    for (const r of input.model.resources) if (r.kind === 'group') for (const m of r.members) parentOf.set(m, r.name);
    for (const r of input.model.resources) {
      if (r.kind === 'clone') continue;
      this.units.set(r.name, { r, weights: new Map(this.nodeNames.map((n) => [n, 0])), assigned: undefined, allocating: false, merging: false, thisWith: [], withThis: [], parent: parentOf.get(r.name) ?? null, spliced: false });
    }
    for (const u of this.units.values()) {
      if (u.r.kind === 'group') continue;
      // Group members take location, stickiness and failure handling from their group.
      const owner = u.parent !== null ? byName.get(u.parent) ?? u.r : u.r;
      // A group's location scores go to its first member only: the others follow it (+INFINITY).
      const first = u.parent === null || owner.members[0] === u.r.name;
      if (first) for (const [node, s] of Object.entries(owner.location)) this.addAt(u, node, s);
      if (first) for (const [node, s] of Object.entries(input.extraScores?.[owner.name] ?? {})) this.addAt(u, node, s);
      if (u.parent !== null) for (const [node, s] of Object.entries(input.extraScores?.[u.r.name] ?? {})) this.addAt(u, node, s);
      const at = input.active[u.r.name];
      if (at !== undefined && owner.stickiness > 0) this.addAt(u, at, owner.stickiness);
      const fails = input.failures[u.r.name] ?? {};
      for (const [node, n] of Object.entries(fails)) if (owner.migrationThreshold > 0 && n >= owner.migrationThreshold) this.addAt(u, node, -INFINITY);
    }
    // Internal group colocations: each member with the previous one, +INFINITY.
    for (const g of this.units.values()) {
      if (g.r.kind !== 'group') continue;
      g.r.members.forEach((m, i) => { const prev = g.r.members[i - 1]; if (prev !== undefined) this.link({ dependent: m, primary: prev, score: INFINITY }); });
    }
    for (const u of this.units.values()) for (const c of u.r.colocations) if (c.with !== SERVING) this.link({ dependent: u.r.name, primary: c.with, score: c.score });
    // Pacemaker keeps each list sorted: groups before primitives, then by name.
    for (const u of this.units.values()) {
      u.thisWith.sort((a, b) => this.cmpUnits(a.primary, b.primary));
      u.withThis.sort((a, b) => this.cmpUnits(a.dependent, b.dependent));
    }
  }

  private cmpUnits(a: string, b: string): number {
    const ga = this.units.get(a)?.r.kind === 'group' ? 0 : 1;
    const gb = this.units.get(b)?.r.kind === 'group' ? 0 : 1;
    return ga !== gb ? ga - gb : cmpName(a, b);
  }

  private addAt(u: Unit, node: string, s: number): void {
    const w = u.weights.get(node);
    if (w !== undefined) u.weights.set(node, addScores(w, s));
  }

  private link(c: Coloc): void {
    this.units.get(c.dependent)?.thisWith.push(c);
    this.units.get(c.primary)?.withThis.push(c);
  }

  private unit(name: string): Unit {
    const u = this.units.get(name);
    if (u === undefined) throw new Error(`unknown resource ${name}`); // the config check guarantees references
    return u;
  }

  private canRunAny(w: Weights): boolean {
    for (const [n, s] of w) if (s >= 0 && this.available.has(n)) return true;
    return false;
  }

  run(): Placement {
    // @serving colocations are location scores over the serving nodes, applied before anything else.
    for (const u of this.units.values()) {
      for (const c of u.r.colocations) {
        if (c.with !== SERVING) continue;
        const targets = u.r.kind === 'group' ? u.r.members.map((m) => this.unit(m)) : [u];
        for (const t of targets) for (const n of this.nodeNames) {
          if (this.serving.has(n)) { if (c.score < INFINITY) this.addAt(t, n, c.score); } else if (c.score >= INFINITY) t.weights.set(n, -INFINITY);
        }
      }
    }
    const top = this.input.model.resources.filter((r) => r.kind !== 'clone' && this.unit(r.name).parent === null);
    for (const r of top) this.assign(this.unit(r.name));
    return this.result();
  }

  /** Assign a unit (and, first, what it is colocated with). */
  private assign(u: Unit): void {
    if (u.parent !== null && !this.unit(u.parent).allocating) this.assign(this.unit(u.parent));
    if (u.assigned !== undefined || u.allocating) return;
    u.allocating = true;
    if (u.r.kind === 'group') {
      this.assignGroup(u);
      u.allocating = false;
      return;
    }
    for (const c of this.colocationsAsDependent(u)) {
      const primary = this.unit(c.primary);
      this.assign(primary);
      const archive = c.score < 0 && c.score > -INFINITY ? new Map(u.weights) : null;
      this.applyColocation(u, primary, c);
      if (archive && !this.canRunAny(u.weights)) u.weights = archive;
    }
    for (const c of this.colocationsAsPrimary(u)) {
      u.weights = this.merge(this.unit(c.dependent), u.weights, c.score / INFINITY);
    }
    this.choose(u);
    u.allocating = false;
  }

  /** A group's own colocations belong to its first member (as dependent) and its last (as primary). */
  private colocationsAsDependent(u: Unit): Coloc[] {
    const g = u.parent !== null ? this.unit(u.parent) : null;
    return g !== null && g.r.members[0] === u.r.name ? this.sortedMerge(u.thisWith, g.thisWith, 'primary') : u.thisWith;
  }

  private colocationsAsPrimary(u: Unit): Coloc[] {
    const g = u.parent !== null ? this.unit(u.parent) : null;
    // Pacemaker moves a group's colocations onto its members when the group's assignment begins;
    // before that, what is colocated with the group is not folded in through it at all.
    return g !== null && g.spliced && g.r.members[g.r.members.length - 1] === u.r.name ? this.sortedMerge(u.withThis, g.withThis, 'dependent') : u.withThis;
  }

  private sortedMerge(a: readonly Coloc[], b: readonly Coloc[], key: 'primary' | 'dependent'): Coloc[] {
    return [...a, ...b].sort((x, y) => this.cmpUnits(x[key], y[key]));
  }

  private assignGroup(g: Unit): void {
    g.spliced = true;
    let first: string | null | undefined;
    for (const m of g.r.members) {
      const mu = this.unit(m);
      this.assign(mu);
      if (first === undefined) first = mu.assigned ?? null;
    }
    g.assigned = first ?? null;
  }

  /** The node a dependent is placed against: a group's last member for +INFINITY, its first otherwise. */
  private primaryNode(p: Unit, score: number): string | null {
    if (p.r.kind !== 'group') return p.assigned ?? null;
    const m = score >= INFINITY ? p.r.members[p.r.members.length - 1] : p.r.members[0];
    return m === undefined ? null : this.unit(m).assigned ?? null;
  }

  private applyColocation(dep: Unit, primary: Unit, c: Coloc): void {
    if (primary.assigned === undefined) return; // a loop: nothing to apply (the config check forbids loops)
    const at = this.primaryNode(primary, c.score);
    if (at === null && c.score < 0) return; // apart from something that does not run: nothing to do
    const work = new Map(dep.weights);
    for (const [n, w] of work) {
      if (at === null) work.set(n, addScores(-c.score, w));
      else if (n === at) { if (c.score < INFINITY) work.set(n, addScores(c.score, w)); } else if (c.score >= INFINITY) work.set(n, -INFINITY);
    }
    if (this.canRunAny(work) || c.score <= -INFINITY || c.score >= INFINITY) dep.weights = work;
  }

  /**
   * Fold a dependent's scores into `nodes` at `factor` (Pacemaker's merge_weights): for a group,
   * its last member's; then, recursively, what is colocated with the dependent. Rolled back when
   * the result leaves no node able to run it.
   */
  private merge(dep: Unit, nodes: Weights, factor: number): Weights {
    if (dep.merging) return nodes;
    dep.merging = true;
    let work: Weights;
    let withThis: readonly Coloc[];
    if (dep.r.kind === 'group') {
      // A group: its first member (and, through the internal colocations, the others), then its
      // last member's list (once the group's assignment began, that holds what is colocated with
      // the group, which is then counted twice, as in Pacemaker).
      const first = dep.r.members[0];
      const last = dep.r.members[dep.r.members.length - 1];
      work = first === undefined ? new Map(nodes) : this.merge(this.unit(first), nodes, factor);
      withThis = last === undefined ? [] : this.colocationsAsPrimary(this.unit(last));
    } else {
      work = this.addMatching(dep, nodes, factor);
      withThis = this.colocationsAsPrimary(dep);
    }
    if (this.canRunAny(work)) {
      const sign = factor < 0 ? -1 : 1;
      for (const c of withThis) work = this.merge(this.unit(c.dependent), work, (sign * c.score) / INFINITY);
    } else {
      dep.merging = false;
      return nodes;
    }
    dep.merging = false;
    return work;
  }

  /** Pacemaker's add_node_scores_matching_attr: `nodes` plus `factor` × the dependent's score, rounded, never rounded to 0. */
  private addMatching(src: Unit, nodes: Weights, factor: number): Weights {
    const work = new Map(nodes);
    for (const [n, w] of work) {
      const score = this.available.has(n) ? (src.weights.get(n) ?? -INFINITY) : -INFINITY;
      if (factor < 0 && score < 0) continue; // a double negative is not a preference
      const f = factor * score;
      let add = Math.trunc(f < 0 ? f - 0.5 : f + 0.5);
      if (add === 0 && score !== 0) add = factor > 0 ? 1 : factor < 0 ? -1 : 0;
      work.set(n, addScores(add, w));
    }
    return work;
  }

  private choose(u: Unit): void {
    const current = this.input.active[u.r.name];
    const eff = (n: string): number => (this.available.has(n) ? (u.weights.get(n) ?? -INFINITY) : -INFINITY);
    const sorted = [...this.nodeNames].sort((a, b) => {
      const d = eff(b) - eff(a);
      if (d !== 0) return d;
      const load = (this.count.get(a) ?? 0) - (this.count.get(b) ?? 0);
      if (load !== 0) return load;
      if (current === a) return -1;
      if (current === b) return 1;
      return cmpName(a, b);
    });
    let chosen = sorted[0];
    if (chosen !== undefined && eff(chosen) > 0 && current !== undefined && this.available.has(current)) {
      for (const n of sorted.slice(1)) { if (eff(n) !== eff(chosen)) break; if (n === current) { chosen = n; break; } }
    }
    if (chosen === undefined || eff(chosen) < 0) { u.assigned = null; return; }
    u.assigned = chosen;
    this.count.set(chosen, (this.count.get(chosen) ?? 0) + 1);
  }

  private result(): Placement {
    const nodeOf: Record<string, string | null> = {};
    const reason: Record<string, StopReason> = {};
    const scores: Record<string, Record<string, number>> = {};
    const prims = [...this.units.values()].filter((u) => u.r.kind !== 'group');
    for (const u of prims) {
      nodeOf[u.r.name] = u.assigned ?? null;
      if ((u.assigned ?? null) === null) reason[u.r.name] = 'no-node';
      scores[u.r.name] = Object.fromEntries(this.nodeNames.map((n) => [n, this.available.has(n) ? (u.weights.get(n) ?? -INFINITY) : -INFINITY]));
    }
    // Mandatory orders: a resource whose predecessor does not run does not start (iterated to a fixed point).
    const runs = (name: string): boolean => {
      const u = this.unit(name);
      return u.r.kind === 'group' ? u.r.members.length > 0 && u.r.members.every((m) => nodeOf[m] !== null) : nodeOf[name] !== null;
    };
    for (let changed = true; changed;) {
      changed = false;
      for (const u of this.units.values()) {
        // A mandatory order, or a +INFINITY colocation, with something that does not run blocks it (Pacemaker blocks colocated dependents of an unrunnable start).
        const blocked = u.r.after.some((a) => !runs(a)) || u.r.colocations.some((c) => c.score >= INFINITY && c.with !== SERVING && !runs(c.with));
        if (u.parent !== null || !blocked) continue;
        const targets = u.r.kind === 'group' ? u.r.members : [u.r.name];
        for (const t of targets) if (nodeOf[t] !== null) { nodeOf[t] = null; reason[t] = 'blocked-by-order'; changed = true; }
      }
    }
    return { nodeOf, reason, scores };
  }
}

function cmpName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The placement of every singleton and group member for these inputs. */
export function place(input: PolicyInput): Placement {
  return new Engine(input).run();
}
