/**
 * Heartbeat loss per link, from counters the cluster loop keeps: over a sliding window, the
 * heartbeats received on a link against those the peers should have sent on it
 * (window / intervalMs per peer). Pure: samples in, ratios out. Only peers alive at both ends
 * of the window are expected to send, so a dead node is not counted as link loss.
 */
export interface LinkSample {
  readonly atMs: number;
  readonly perLinkReceived: readonly number[];
  readonly alivePeers: number;
}

export function linkLoss(samples: readonly LinkSample[], intervalMs: number): { link: number; ratio: number }[] {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last || last.atMs - first.atMs < intervalMs * 4) return [];
  const peers = Math.min(first.alivePeers, last.alivePeers);
  const expected = ((last.atMs - first.atMs) / intervalMs) * peers;
  return last.perLinkReceived.map((n, link) => {
    if (expected <= 0) return { link, ratio: 0 };
    const got = n - (first.perLinkReceived[link] ?? 0);
    return { link, ratio: Math.max(0, Math.min(1, 1 - got / expected)) };
  });
}

/** Keeps samples no older than `windowMs` (plus the one just before, as the window's start). */
export function pushSample(samples: readonly LinkSample[], s: LinkSample, windowMs: number): LinkSample[] {
  const kept = [...samples, s];
  while (kept.length > 2 && (kept[1]?.atMs ?? 0) <= s.atMs - windowMs) kept.shift();
  return kept;
}
