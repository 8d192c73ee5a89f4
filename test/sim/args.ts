/** Command-line flags shared by the simulator's entry points (main, trace-digest, verdict-digest). */

/** `--flag N`: a whole number, or `dflt` when the flag is absent; anything else is refused, naming the flag. */
export function wholeNumberFlag(args: readonly string[], flag: string, dflt: number): number {
  const i = args.indexOf(flag);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  if (!Number.isInteger(v) || v < 0) throw new Error(`${flag} wants a whole number, got ${args[i + 1]}`);
  return v;
}
