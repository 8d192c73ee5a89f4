/**
 * Start/stop order between the primitives of a model: a group member starts after the member
 * before it; a singleton or a group's first member starts after everything its `after` names (all
 * members of a named group). Stops run in reverse: a primitive stops only after what starts after
 * it has stopped.
 */
import type { CrmModel } from './model.js';

export interface Ordering {
  /** Primitives (singletons and group members) in file order, members in group order. */
  readonly primitives: readonly string[];
  /** What must be started before each primitive starts. */
  readonly preds: Readonly<Record<string, readonly string[]>>;
  /** What must be stopped before each primitive stops (the reverse of preds). */
  readonly deps: Readonly<Record<string, readonly string[]>>;
  /** The group of a member, or the primitive itself: the unit placement and operator commands name. */
  readonly unitOf: Readonly<Record<string, string>>;
}

export function orderingOf(model: CrmModel): Ordering {
  const byName = new Map(model.resources.map((r) => [r.name, r]));
  const groupOf = new Map<string, string>();
  for (const r of model.resources) if (r.kind === 'group') for (const m of r.members) groupOf.set(m, r.name);
  const primitives: string[] = [];
  const preds: Record<string, string[]> = {};
  const unitOf: Record<string, string> = {};
  const expand = (name: string): string[] => {
    const r = byName.get(name);
    return r?.kind === 'group' ? [...r.members] : [name];
  };
  for (const r of model.resources) {
    if (r.kind === 'clone' || groupOf.has(r.name)) continue;
    const members = r.kind === 'group' ? r.members : [r.name];
    members.forEach((m, i) => {
      primitives.push(m);
      unitOf[m] = r.name;
      const prev = members[i - 1];
      preds[m] = prev !== undefined ? [prev] : r.after.flatMap(expand);
    });
  }
  const deps: Record<string, string[]> = Object.fromEntries(primitives.map((p) => [p, []]));
  for (const p of primitives) for (const q of preds[p] ?? []) deps[q]?.push(p);
  return { primitives, preds, deps, unitOf };
}
