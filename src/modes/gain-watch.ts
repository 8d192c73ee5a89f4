/**
 * Which buckets a node has newly started to answer, seen at the data-path port (arp-steer,
 * issue 17). Wraps the node's `DataPathPort`: every call passes through unchanged, and after
 * each one the buckets this node now answers (owned or incoming, not draining, with a live
 * lease) that it did not answer before are reported to `onGained`. That covers start, takeover
 * and planned moves alike, with no hook in the cluster runtime. A lease that stops (release)
 * forgets what was reported, so a node that serves again re-announces every bucket it holds.
 */
import type { DataPathPort, PhaseChange } from '../vmac/datapath-port.js';
import { eachEffect, reducerLoop } from '../util/reducer-loop.js';

/** Pure bookkeeping: what the kernel answers now, and what was already reported. */
export interface GainState {
  readonly owned: ReadonlySet<number>;
  readonly draining: ReadonlySet<number>;
  readonly leaseLive: boolean;
  readonly reported: ReadonlySet<number>;
}

export const EMPTY_GAIN_STATE: GainState = { owned: new Set(), draining: new Set(), leaseLive: false, reported: new Set() };

export type GainEvent =
  | { readonly kind: 'install'; readonly owned: readonly number[]; readonly leaseMs: number | null }
  | { readonly kind: 'move'; readonly add: readonly number[]; readonly remove: readonly number[] }
  | { readonly kind: 'phases'; readonly changes: readonly PhaseChange[] }
  | { readonly kind: 'renew' }
  | { readonly kind: 'release' };

/** step(state, event) -> the next state and the buckets newly answered (sorted). */
export function stepGain(s: GainState, e: GainEvent): { state: GainState; gained: number[] } {
  const owned = new Set(s.owned);
  const draining = new Set(s.draining);
  let leaseLive = s.leaseLive;
  switch (e.kind) {
    case 'install':
      owned.clear(); draining.clear();
      for (const b of e.owned) owned.add(b);
      leaseLive = e.leaseMs !== null;
      break;
    case 'move':
      for (const b of e.remove) { owned.delete(b); draining.delete(b); }
      for (const b of e.add) owned.add(b);
      break;
    case 'phases':
      for (const c of e.changes) {
        if (c.to === 'none') { owned.delete(c.bucket); draining.delete(c.bucket); continue; }
        owned.add(c.bucket);
        if (c.to === 'draining') draining.add(c.bucket); else draining.delete(c.bucket);
      }
      break;
    case 'renew': leaseLive = true; break;
    case 'release': leaseLive = false; break;
  }
  const answering = leaseLive ? [...owned].filter((b) => !draining.has(b)) : [];
  const gained = answering.filter((b) => !s.reported.has(b) || !s.leaseLive).sort((a, b) => a - b);
  return { state: { owned, draining, leaseLive, reported: new Set(answering) }, gained };
}

/** The port, watched: `onGained` runs after the kernel call that made the buckets answer. */
export function watchGains(dp: DataPathPort, onGained: (buckets: readonly number[]) => void): DataPathPort {
  // stepGain as a step whose one effect is the list of buckets newly answered (none: no effect).
  const feed = reducerLoop<GainState, GainEvent, readonly number[]>({
    init: EMPTY_GAIN_STATE,
    step(s, e) {
      const r = stepGain(s, e);
      return { state: r.state, effects: r.gained.length > 0 ? [r.gained] : [] };
    },
    clock: { nowMs: () => 0 }, // the bookkeeping is timeless
    perform: eachEffect((gained) => onGained(gained)),
  }).dispatch;
  const flowStage = dp.udpFlowStage?.bind(dp);
  const flowSet = dp.udpFlowSet?.bind(dp);
  return {
    ...(flowStage ? { udpFlowStage: flowStage } : {}),
    ...(flowSet ? { udpFlowSet: flowSet } : {}),
    install(owned, leaseMs) { dp.install(owned, leaseMs); feed({ kind: 'install', owned, leaseMs }); },
    move(add, remove) { dp.move(add, remove); feed({ kind: 'move', add, remove }); },
    setPhases(changes) { dp.setPhases(changes); feed({ kind: 'phases', changes }); },
    renew(leaseMs) { dp.renew(leaseMs); feed({ kind: 'renew' }); },
    release() { dp.release(); feed({ kind: 'release' }); },
    udpActive: () => dp.udpActive(),
    teardown: () => dp.teardown(),
    inspect: () => dp.inspect(),
  };
}
