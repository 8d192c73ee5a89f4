/**
 * The loop every reducer/runner pair shares: a pure `step(state, event, nowMs) → { state, effects }`
 * fed one event at a time, the time read through the clock port at each event, the new state kept,
 * and the step's effects handed to the runner's interpreter in order. The runners (the node's
 * cluster runtime, fencing, resources, the reachability check, the tie-breaker, sd_notify, the
 * per-flow UDP hand-over, the gain watch) keep only what is theirs: timers, ports, I/O tallies.
 *
 * Order, which the runners rely on:
 *   1. `step` with the clock read now;
 *   2. the state is replaced before any effect runs (an effect that reads the state sees the new one);
 *   3. `perform(effects, dispatch)`: an effect whose outcome is known at once (a lease renewal
 *      that reached the kernel) may `dispatch` its outcome; that nested step runs, effects and
 *      all, before the remaining effects of the outer step (exactly as a direct call would);
 *   4. `after(before, now)`: re-arm a deadline timer, tell listeners the state changed.
 * After `close()` events are dropped (a promise that settles late changes nothing).
 */
import type { Clock } from './clock.js';

export interface Stepped<S, F> {
  readonly state: S;
  readonly effects: readonly F[];
}

export interface ReducerLoopSpec<S, E, F> {
  readonly init: S;
  readonly step: (state: S, event: E, nowMs: number) => Stepped<S, F>;
  /** Only `nowMs` is read: timers stay the runner's (they are I/O). */
  readonly clock: Pick<Clock, 'nowMs'>;
  /** Carries out one step's effects, in order; `dispatch` feeds an outcome back (see the header). */
  readonly perform: (effects: readonly F[], dispatch: (event: E) => void) => void;
  /** After each step and its effects: `before` is the state the event found, `now` the current one. */
  readonly after?: (before: S, now: S) => void;
}

/** Function properties, not methods: runners pass `dispatch` and `state` around unbound. */
export interface ReducerLoop<S, E> {
  readonly dispatch: (event: E) => void;
  /** The current state (read-only for the runner: no field is written from outside). */
  readonly state: () => S;
  /** Drops every later event. */
  readonly close: () => void;
  readonly closed: () => boolean;
}

export function reducerLoop<S, E, F>(spec: ReducerLoopSpec<S, E, F>): ReducerLoop<S, E> {
  let s = spec.init;
  let closed = false;
  function dispatch(event: E): void {
    if (closed) return;
    const before = s;
    const r = spec.step(s, event, spec.clock.nowMs());
    s = r.state;
    spec.perform(r.effects, dispatch);
    spec.after?.(before, s);
  }
  return {
    dispatch,
    state: () => s,
    close: () => { closed = true; },
    closed: () => closed,
  };
}

/** `perform` for interpreters that handle one effect at a time. */
export function eachEffect<E, F>(fn: (effect: F, dispatch: (event: E) => void) => void): (effects: readonly F[], dispatch: (event: E) => void) => void {
  return (effects, dispatch) => { for (const f of effects) fn(f, dispatch); };
}
