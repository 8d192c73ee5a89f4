/**
 * Placement scores with Pacemaker's arithmetic: INFINITY is 1,000,000; every sum is clamped to
 * ±INFINITY; -INFINITY wins over +INFINITY (a node that must not run a resource never does,
 * whatever else wants it there).
 */
export const INFINITY = 1_000_000;

/** Score as written in a service file: an integer, or the words INFINITY / +INFINITY / -INFINITY. */
export type RawScore = number | 'INFINITY' | '+INFINITY' | '-INFINITY';

export function parseScore(raw: RawScore): number {
  if (raw === 'INFINITY' || raw === '+INFINITY') return INFINITY;
  if (raw === '-INFINITY') return -INFINITY;
  return clampScore(raw);
}

export function clampScore(n: number): number {
  return n >= INFINITY ? INFINITY : n <= -INFINITY ? -INFINITY : n;
}

/** a + b in Pacemaker's rules: -INFINITY absorbs, then +INFINITY, then a clamped sum. */
export function addScores(a: number, b: number): number {
  if (a <= -INFINITY || b <= -INFINITY) return -INFINITY;
  if (a >= INFINITY || b >= INFINITY) return INFINITY;
  return clampScore(a + b);
}

/** A score as Pacemaker prints it. */
export function showScore(n: number): string {
  return n >= INFINITY ? 'INFINITY' : n <= -INFINITY ? '-INFINITY' : String(n);
}
