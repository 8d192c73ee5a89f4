/**
 * The cluster resource simulator: N nodes, each running the real transition reducer
 * (src/crm/transition.ts) over a fake clock, a fake network for the resource reports, a
 * membership with detection delays, resource actions that take time and may fail, and a lab-like
 * fence agent; faults: kill -9 (daemon and its resources), partitions of one node, failing stops,
 * failing monitors, a broken fence agent, operator moves. Invariants, checked at every event:
 *   single-active   a singleton is never active (starting … stop-failed) on two live nodes;
 *   ordering        a start is issued only while everything it starts after is started, and a
 *                   quorate node issues a stop only while everything that starts after it is
 *                   stopped on every live node (a node that lost quorum stops without looking:
 *                   that is the partition's doing, and it is why the other side restarts them);
 *   settles         (no stop or fence fault) after the faults heal, every placed resource runs
 *                   where the placement says.
 */
import { parseConfig } from '../../src/config/load.js';
import { mulberry32, type Rng } from '../../src/util/prng.js';
import { initialCrmState, reportOf, step, type CrmEffect, type CrmEvent, type CrmMutation, type CrmState, type EngineConfig, type NodeReport } from '../../src/crm/transition.js';
import { generateScenario, renderServiceFile } from './scenario.js';

export interface SimOptions { readonly mutation?: CrmMutation; readonly trace?: boolean }
export interface SimResult { readonly seed: number; readonly violation: string | null; readonly events: number; readonly starts: number; readonly log: readonly string[] }

const INTERVAL_MS = 100; // report re-send cadence (the heartbeat interval)
const DEAD_MS = 500; // membership detection delay (dead time)
const MAX_ACTION_MS = 300;

interface Node {
  readonly name: string;
  alive: boolean;
  side: number; // partition side; equal sides hear each other
  state: CrmState;
  viewKey: string;
  failNextStop: Set<string>;
}

interface Ev { at: number; seq: number; run: () => void }

export function runCrmSeed(seed: number, opts: SimOptions = {}): SimResult {
  const rnd: Rng = mulberry32(seed ^ 0x5eed);
  // A model from the differential generator (all online; placement fields are what matter).
  const scenario = generateScenario(seed);
  const cfgFile = parseConfig(renderServiceFile(scenario), `sim-${seed}.yaml`);
  const model = cfgFile.crm ?? { resources: [] };
  const names = scenario.nodes.map((n) => n.name);
  const fencing = rnd() < 0.6;
  const fenceBroken = fencing && rnd() < 0.15;
  const chain = Math.max(1, model.resources.length);
  const engineCfg = (self: string): EngineConfig => ({ self, nodes: names, model, fencing, selfStopGraceMs: DEAD_MS * 2 + chain * MAX_ACTION_MS + 500, fenceRetryMs: 1000, ...(opts.mutation ? { mutation: opts.mutation } : {}) });
  const nodes = new Map<string, Node>(names.map((n) => [n, { name: n, alive: true, side: 0, state: initialCrmState(engineCfg(n), 0), viewKey: '', failNextStop: new Set<string>() }]));
  const queue: Ev[] = [];
  let seq = 0;
  let now = 0;
  let violation: string | null = null;
  let events = 0;
  let starts = 0;
  let stopFaults = false;
  const log: string[] = [];
  const at = (t: number, run: () => void): void => {
    const ev = { at: t, seq: seq++, run };
    let lo = 0;
    let hi = queue.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; const m = queue[mid]; if (m !== undefined && (m.at < t || (m.at === t && m.seq < ev.seq))) lo = mid + 1; else hi = mid; }
    queue.splice(lo, 0, ev);
  };
  const note = (s: string): void => { if (opts.trace) log.push(`${now} ${s}`); };
  const order = nodes.values().next().value?.state.order;
  if (order === undefined) throw new Error('no nodes');

  const activeOn = (r: string): string[] => [...nodes.values()].filter((n) => n.alive && ['starting', 'started', 'failed', 'stopping', 'stop-failed'].includes(n.state.local[r] ?? 'stopped')).map((n) => n.name);
  const startedSomewhere = (r: string): boolean => [...nodes.values()].some((n) => n.alive && n.state.local[r] === 'started');
  const check = (): void => {
    if (violation) return;
    for (const r of order.primitives) { const a = activeOn(r); if (a.length > 1) violation = `single-active: ${r} active on ${a.join(' and ')} at ${now} ms`; }
  };

  const deliver = (n: Node, ev: CrmEvent): void => {
    if (!n.alive || violation) return;
    events += 1;
    const { state, effects } = step(n.state, ev, now);
    n.state = state;
    for (const e of effects) perform(n, e);
    check();
  };

  const perform = (n: Node, e: CrmEffect): void => {
    switch (e.type) {
      case 'report': broadcast(n, e.report); break;
      case 'start': {
        starts += 1;
        note(`${n.name} start ${e.resource}`);
        for (const p of order.preds[e.resource] ?? []) if (!startedSomewhere(p) && !violation) violation = `ordering: ${n.name} starts ${e.resource} at ${now} ms while ${p} is not started`;
        at(now + 10 + Math.floor(rnd() * MAX_ACTION_MS), () => deliver(n, { type: 'action-done', resource: e.resource, action: 'start', outcome: 'ok' }));
        break;
      }
      case 'stop': {
        note(`${n.name} stop ${e.resource}`);
        if (n.state.quorate) {
          for (const d of order.deps[e.resource] ?? []) if (activeOn(d).length > 0 && !violation) violation = `ordering: ${n.name} stops ${e.resource} at ${now} ms while ${d} still runs on ${activeOn(d).join(',')}`;
        }
        const fails = n.failNextStop.delete(e.resource);
        at(now + 10 + Math.floor(rnd() * MAX_ACTION_MS), () => deliver(n, { type: 'action-done', resource: e.resource, action: 'stop', outcome: fails ? 'failed' : 'ok' }));
        break;
      }
      case 'fence': {
        note(`${n.name} fences ${e.node} (${e.reason})`);
        at(now + 50, () => {
          const target = nodes.get(e.node);
          const ok = !fenceBroken;
          if (ok && target) kill(target, 'fenced');
          deliver(n, { type: 'fence-done', node: e.node, outcome: ok ? 'ok' : 'failed' });
        });
        break;
      }
      case 'self-fence': note(`${n.name} self-fences: ${e.reason}`); kill(n, 'self-fenced'); break;
    }
  };

  const broadcast = (from: Node, report: NodeReport): void => {
    for (const to of nodes.values()) if (to !== from) at(now + 1 + Math.floor(rnd() * 20), () => { if (from.alive && to.side === from.side) deliver(to, { type: 'report', node: from.name, report }); });
  };

  const kill = (n: Node, why: string): void => {
    if (!n.alive) return;
    note(`${n.name} down (${why})`);
    n.alive = false; // the daemon and its resources are gone
    topologyChanged();
  };

  const restart = (n: Node): void => {
    if (n.alive) return;
    note(`${n.name} restarts`);
    n.alive = true;
    n.state = initialCrmState(engineCfg(n.name), now);
    n.viewKey = '';
    n.failNextStop.clear();
    topologyChanged();
  };

  /** Each live node learns its new view after a detection delay (joins faster than losses). */
  const topologyChanged = (): void => {
    for (const n of nodes.values()) {
      const delay = 100 + Math.floor(rnd() * DEAD_MS);
      at(now + delay, () => {
        if (!n.alive) return;
        const members = [...nodes.values()].filter((m) => m.alive && m.side === n.side).map((m) => m.name).sort();
        const key = members.join(',');
        if (key === n.viewKey) return;
        n.viewKey = key;
        deliver(n, { type: 'view', members, quorate: members.length * 2 > names.length });
        broadcast(n, reportOf(n.state, now));
      });
    }
  };

  // Periodic: a tick and a report re-send (heartbeat cadence).
  const horizon = 25_000;
  for (let t = 0; t < horizon + 12_000; t += INTERVAL_MS) {
    at(t, () => {
      for (const n of nodes.values()) {
        if (!n.alive) continue;
        deliver(n, { type: 'tick' });
        broadcast(n, reportOf(n.state, now));
      }
    });
  }
  topologyChanged();
  // Faults in the first 25 s; everything heals by then.
  const faults = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < faults; i += 1) {
    const t = 3000 + Math.floor(rnd() * 18_000);
    const victim = names[Math.floor(rnd() * names.length)] ?? 'n1';
    const kind = rnd();
    if (kind < 0.35) {
      at(t, () => { const v = nodes.get(victim); if (v) kill(v, 'kill -9'); });
      at(t + 1500 + Math.floor(rnd() * 3000), () => { const v = nodes.get(victim); if (v) restart(v); });
    } else if (kind < 0.65) {
      at(t, () => { const v = nodes.get(victim); if (v) { v.side = 1; note(`${victim} partitioned`); topologyChanged(); } });
      at(t + 1500 + Math.floor(rnd() * 3000), () => { const v = nodes.get(victim); if (v) { v.side = 0; note(`${victim} rejoins`); topologyChanged(); } });
    } else if (kind < 0.8) {
      const r = order.primitives[Math.floor(rnd() * order.primitives.length)];
      if (r !== undefined) at(t, () => { stopFaults = true; nodes.get(victim)?.failNextStop.add(r); note(`${victim}: next stop of ${r} fails`); });
      at(t + 1, () => { const v = nodes.get(victim); if (v && r !== undefined && v.state.local[r] === 'started') deliver(v, { type: 'monitor-failed', resource: r }); });
    } else if (kind < 0.92) {
      const r = order.primitives[Math.floor(rnd() * order.primitives.length)];
      if (r !== undefined) at(t, () => { const v = nodes.get(victim); if (v && v.state.local[r] === 'started') { note(`${victim}: monitor of ${r} fails`); deliver(v, { type: 'monitor-failed', resource: r }); } });
    } else {
      const unit = model.resources.find((x) => x.kind !== 'clone' && order.unitOf[x.name] === x.name);
      // The operator's command reaches one live node; reports carry it to the others.
      if (unit) at(t, () => { for (const n of [...nodes.values()].filter((x) => x.alive).slice(0, 1)) deliver(n, { type: 'operator', operator: { version: t, scores: { [unit.name]: { [victim]: 1_000_000 } } } }); });
    }
  }
  while (queue.length > 0 && !violation) {
    const ev = queue.shift();
    if (!ev) break;
    now = ev.at;
    if (now > horizon + 60_000) { violation = `settles: still busy ${now - horizon} ms after the faults (actions or reports keep changing)`; break; }
    ev.run();
  }
  // Settles: once healed (no stop faults, no broken fencing), everything placed runs where placed.
  if (!violation && !stopFaults && !fenceBroken) {
    const live = [...nodes.values()].filter((n) => n.alive);
    const ref = live[0]?.state.placement;
    if (ref) for (const r of order.primitives) {
      const want = ref.nodeOf[r] ?? null;
      const a = activeOn(r);
      if (want !== null && (a.length !== 1 || a[0] !== want || nodes.get(want)?.state.local[r] !== 'started')) { violation = `settles: ${r} should run on ${want}, runs on [${a.join(',')}] at the end`; break; }
    }
  }
  if (opts.trace && violation) for (const n of nodes.values()) log.push(`${n.name} alive=${n.alive} view=${n.viewKey} placement=${JSON.stringify(n.state.placement?.nodeOf)} local=${JSON.stringify(n.state.local)} unclean=${JSON.stringify(Object.keys(n.state.unclean))} fenced=${JSON.stringify(n.state.fenced)} op=${JSON.stringify(n.state.operator)} banned=${JSON.stringify(n.state.banned)} ft=${JSON.stringify(n.state.failureTimes)} reports=${JSON.stringify(n.state.reports)}`);
  return { seed, violation, events, starts, log };
}

