import { describe, expect, it } from 'vitest';
import { eachEffect, reducerLoop, type Stepped } from '../../../src/util/reducer-loop.js';
import { fakeClock } from '../../../src/util/clock.js';

// A counter reducer: `add` adds and, above 10, asks for a `report` effect; `echo` effects make
// the interpreter dispatch an outcome at once (the shape of the node's lease renewal).
type Ev = { kind: 'add'; n: number } | { kind: 'echo'; tag: string } | { kind: 'echoed'; tag: string };
type Fx = { kind: 'report'; total: number; atMs: number } | { kind: 'echo'; tag: string } | { kind: 'note'; tag: string };
interface St { total: number; log: string[] }

function step(s: St, e: Ev, nowMs: number): Stepped<St, Fx> {
  switch (e.kind) {
    case 'add': {
      const total = s.total + e.n;
      return { state: { ...s, total }, effects: total > 10 ? [{ kind: 'report', total, atMs: nowMs }] : [] };
    }
    case 'echo': return { state: { ...s, log: [...s.log, `echo ${e.tag}`] }, effects: [{ kind: 'echo', tag: e.tag }, { kind: 'note', tag: e.tag }] };
    case 'echoed': return { state: { ...s, log: [...s.log, `echoed ${e.tag}`] }, effects: [{ kind: 'note', tag: `${e.tag}'` }] };
  }
}

describe('reducerLoop: the loop every reducer/runner pair shares', () => {
  it('steps with the clock port\'s time and hands the effects over in order', () => {
    const clock = fakeClock(500);
    const seen: string[] = [];
    const loop = reducerLoop<St, Ev, Fx>({
      init: { total: 0, log: [] }, step, clock,
      perform: eachEffect((f) => { seen.push(f.kind === 'report' ? `report ${f.total}@${f.atMs}` : `${f.kind} ${f.tag}`); }),
    });
    loop.dispatch({ kind: 'add', n: 4 });
    clock.advance(25);
    loop.dispatch({ kind: 'add', n: 9 });
    expect(loop.state().total).toBe(13);
    expect(seen).toEqual(['report 13@525']);
  });

  it('an outcome dispatched by an effect is stepped before the remaining effects, on the new state', () => {
    const seen: string[] = [];
    const loop = reducerLoop<St, Ev, Fx>({
      init: { total: 0, log: [] }, step, clock: fakeClock(),
      perform: eachEffect((f, dispatch) => {
        if (f.kind === 'echo') { seen.push(`state before outcome: ${loop.state().log.join(',')}`); dispatch({ kind: 'echoed', tag: f.tag }); }
        if (f.kind === 'note') seen.push(`note ${f.tag}`);
      }),
    });
    loop.dispatch({ kind: 'echo', tag: 'a' });
    expect(seen).toEqual(['state before outcome: echo a', "note a'", 'note a']);
    expect(loop.state().log).toEqual(['echo a', 'echoed a']);
  });

  it('after() sees the state the event found and the one it left; identity tells a change', () => {
    const changes: [number, number][] = [];
    const loop = reducerLoop<St, Ev, Fx>({
      init: { total: 0, log: [] }, step, clock: fakeClock(), perform: () => undefined,
      after: (before, now) => { if (before !== now) changes.push([before.total, now.total]); },
    });
    loop.dispatch({ kind: 'add', n: 2 });
    loop.dispatch({ kind: 'add', n: 3 });
    expect(changes).toEqual([[0, 2], [2, 5]]);
  });

  it('drops events after close (a promise settling late changes nothing)', () => {
    let performed = 0;
    const loop = reducerLoop<St, Ev, Fx>({ init: { total: 0, log: [] }, step, clock: fakeClock(), perform: () => { performed++; } });
    loop.dispatch({ kind: 'add', n: 1 });
    loop.close();
    loop.dispatch({ kind: 'add', n: 100 });
    expect(loop.closed()).toBe(true);
    expect(loop.state().total).toBe(1);
    expect(performed).toBe(1);
  });
});
