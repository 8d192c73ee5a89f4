import { describe, expect, it } from 'vitest';
import { REPLAY_WINDOW, checkReplay, hasSeen, type SenderReplayState } from '../../../../src/cluster/replay-window.js';
import { int, mulberry32 } from './random.js';

type Verdict = 'accept' | 'duplicate' | 'replay' | 'stale-incarnation';
/** One arriving message: incarnation, seq, link id, and the verdict it must get. */
type Step = readonly [incarnation: bigint, seq: number, link: number, expected: Verdict];

/** Feeds the steps in order, keeping the state each accept/duplicate returns; gives the verdicts and final state. */
function run(steps: readonly Step[], start?: SenderReplayState): { verdicts: Verdict[]; state: SenderReplayState | undefined } {
  let state = start;
  const verdicts: Verdict[] = [];
  for (const [inc, seq, link] of steps) {
    const v = checkReplay(state, inc, seq, link);
    verdicts.push(v.verdict);
    if ('next' in v) state = v.next;
  }
  return { verdicts, state };
}

const T = 1000n; // an incarnation
const tables: [string, Step[]][] = [
  ['first message from a sender is accepted whatever its seq', [[T, 4000, 0, 'accept']]],
  ['in-order stream', [[T, 1, 0, 'accept'], [T, 2, 0, 'accept'], [T, 3, 0, 'accept']]],
  ['same seq over two links: second copy is a duplicate, not a replay', [
    [T, 1, 0, 'accept'], [T, 1, 1, 'duplicate'], [T, 2, 1, 'accept'], [T, 2, 0, 'duplicate'],
  ]],
  ['three links, then each link again', [
    [T, 7, 0, 'accept'], [T, 7, 1, 'duplicate'], [T, 7, 2, 'duplicate'],
    [T, 7, 0, 'replay'], [T, 7, 1, 'replay'], [T, 7, 2, 'replay'],
  ]],
  ['same seq on the same link twice is a replay', [[T, 5, 0, 'accept'], [T, 5, 0, 'replay']]],
  ['reorder within the window is accepted once', [
    [T, 10, 0, 'accept'], [T, 8, 0, 'accept'], [T, 9, 0, 'accept'], [T, 8, 0, 'replay'], [T, 8, 1, 'duplicate'],
  ]],
  ['late copy on the slow link after the fast link moved on', [
    [T, 1, 0, 'accept'], [T, 2, 0, 'accept'], [T, 3, 0, 'accept'], [T, 1, 1, 'duplicate'], [T, 2, 1, 'duplicate'],
  ]],
  ['a seq lost on one link arrives first on the other', [[T, 1, 0, 'accept'], [T, 3, 0, 'accept'], [T, 2, 1, 'accept'], [T, 2, 0, 'duplicate']]],
  ['63 behind is still judged, 64 behind is too old', [
    [T, 100, 0, 'accept'], [T, 100 - 63, 0, 'accept'], [T, 100 - 64, 0, 'replay'], [T, 100 - 64, 1, 'replay'], [T, 0, 0, 'replay'],
  ]],
  ['a jump of exactly 64 forgets the whole window', [
    [T, 10, 0, 'accept'], [T, 74, 0, 'accept'], [T, 10, 1, 'replay'], [T, 11, 0, 'accept'],
  ]],
  ['a huge jump (lost messages) is accepted', [[T, 1, 0, 'accept'], [T, 1_000_000, 0, 'accept'], [T, 999_999, 0, 'accept']]],
  ['restart: a larger incarnation resets the window, even with a lower seq', [
    [T, 500, 0, 'accept'], [T + 1n, 0, 0, 'accept'], [T + 1n, 1, 1, 'accept'], [T + 1n, 0, 0, 'replay'],
  ]],
  ['messages of the previous incarnation after a restart are stale', [
    [T, 500, 0, 'accept'], [T + 1n, 0, 0, 'accept'], [T, 501, 0, 'stale-incarnation'], [T, 500, 1, 'stale-incarnation'],
  ]],
  ['a stale message does not disturb the window', [[T, 5, 0, 'accept'], [T - 1n, 9, 0, 'stale-incarnation'], [T, 6, 0, 'accept'], [T, 5, 0, 'replay']]],
  ['seq 0 and the largest u32', [[T, 0, 0, 'accept'], [T, 0xffffffff, 0, 'accept'], [T, 0xfffffffe, 0, 'accept'], [T, 0, 0, 'replay']]],
];

describe('checkReplay', () => {
  it.each(tables)('%s', (_name, steps) => {
    expect(run(steps).verdicts).toEqual(steps.map((s) => s[3]));
  });

  it('keeps the 64-bit window: bit i is seq highest − i', () => {
    const { state } = run([[T, 10, 0, 'accept'], [T, 8, 0, 'accept'], [T, 12, 1, 'accept']]);
    expect(state?.highestSeq).toBe(12);
    expect(state?.window).toBe(0b10101n);
    expect(state?.links).toEqual(new Map([[0, 0b10100n], [1, 0b1n]]));
    expect([hasSeen(state!, 12), hasSeen(state!, 11), hasSeen(state!, 13), hasSeen(state!, 12 - REPLAY_WINDOW)]).toEqual(['seen', 'not-seen', 'not-seen', 'outside-window']);
  });

  it('drops the bitmap of a link once its last seq slides out of the window', () => {
    const { state } = run([[T, 1, 5, 'accept'], [T, 2, 0, 'accept'], [T, 1 + REPLAY_WINDOW, 0, 'accept']]);
    expect([...state!.links.keys()]).toEqual([0]);
  });

  it('never changes the state it is given', () => {
    const { state } = run([[T, 10, 0, 'accept'], [T, 9, 1, 'accept']]);
    const before = structuredClone(state);
    checkReplay(state, T, 11, 2);
    checkReplay(state, T, 9, 0);
    checkReplay(state, T + 1n, 0, 0);
    expect(state).toEqual(before);
  });

  it('keeps window = OR of the per-link bitmaps, and accepts each (seq, link) at most once, over a random stream', () => {
    const rng = mulberry32(64);
    let state: SenderReplayState | undefined;
    const acceptedSeqs = new Set<number>();
    const seenPairs = new Set<string>();
    const tally: Record<string, number> = {};
    const violations: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const seq = Math.max(0, int(rng, 0, 40) + Math.floor(i / 2) - 30);
      const link = int(rng, 0, 2);
      const v = checkReplay(state, T, seq, link);
      const pair = `${seq}/${link}`;
      tally[v.verdict] = (tally[v.verdict] ?? 0) + 1;
      if (v.verdict === 'accept' && acceptedSeqs.has(seq)) violations.push(`seq ${seq} accepted twice`);
      if (v.verdict === 'duplicate' && !acceptedSeqs.has(seq)) violations.push(`seq ${seq} duplicate before accepted`);
      if (!('next' in v)) continue;
      if (seenPairs.has(pair)) violations.push(`${pair} passed twice`);
      acceptedSeqs.add(seq);
      seenPairs.add(pair);
      state = v.next;
      const union = [...state.links.values()].reduce((a, b) => a | b, 0n);
      if (state.window !== union || state.window >> 64n !== 0n) violations.push(`bad window after ${pair}`);
    }
    expect(violations).toEqual([]);
    // The stream must exercise every verdict but stale-incarnation, or it proves little.
    expect(Object.keys(tally).sort()).toEqual(['accept', 'duplicate', 'replay']);
  });
});
