/**
 * Where a takeover's time went, read from the survivors' own logs: the first `buckets-moved`
 * (takeover) event each survivor logged after the fault, with how long the victim had been silent
 * when that survivor decided (its dead time plus the wait for a quorum to agree) and how long the
 * ruleset transaction took (`applyMs`). Together with the prober's gap this splits a failover into
 * detection, agreement and the kernel update.
 */
export interface TakeoverLog {
  node: string;
  /** ms since the victim's last heartbeat this survivor heard, at its decision (null: never heard). */
  silentMs: number | null;
  /** ms the ruleset transaction took. */
  applyMs: number;
}

/** The first takeover each survivor logged in `logSince` (its log from the fault on). */
export function takeoverLogs(victimId: number, logs: readonly { node: string; logSince: string }[]): TakeoverLog[] {
  const out: TakeoverLog[] = [];
  for (const { node, logSince } of logs) {
    for (const line of logSince.split('\n')) {
      if (!line.includes('"event":"buckets-moved"') || !line.includes('"reason":"takeover"')) continue;
      let e: { absent?: number[]; silentMs?: (number | null)[]; applyMs?: number };
      try { e = JSON.parse(line) as typeof e; } catch { continue; }
      const at = e.absent?.indexOf(victimId) ?? -1;
      if (at < 0 || typeof e.applyMs !== 'number') continue;
      out.push({ node, silentMs: e.silentMs?.[at] ?? null, applyMs: e.applyMs });
      break;
    }
  }
  return out;
}
