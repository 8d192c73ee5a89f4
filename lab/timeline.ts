/**
 * The prober's timeline CSV (`t_us,addr_index,event,node`, one line per transition) turned into
 * lanes: one per client address, a list of segments each answered by one node, the silences
 * between them, and the periods with duplicate answers. Pure: text in, lanes out.
 */
export const TIMELINE_EVENTS = ['first', 'node', 'gap_begin', 'gap_end', 'dup_begin', 'dup_end'] as const;
export type TimelineEventKind = (typeof TIMELINE_EVENTS)[number];

export interface TimelineEvent { readonly tUs: number; readonly addr: number; readonly event: TimelineEventKind; readonly node: string }
export interface Segment { readonly fromUs: number; readonly toUs: number; readonly node: string }
export interface Span { readonly fromUs: number; readonly toUs: number }
export interface Lane { readonly label: string; readonly segments: readonly Segment[]; readonly gaps: readonly Span[]; readonly dups: readonly Span[] }

/** Parses the CSV; malformed lines are skipped and counted (a truncated file still draws). */
export function parseTimelineCsv(text: string): { events: TimelineEvent[]; skipped: number } {
  const events: TimelineEvent[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('t_us')) continue;
    const [tUs, addr, event, node] = t.split(',');
    const kind = TIMELINE_EVENTS.find((e) => e === event);
    if (tUs === undefined || addr === undefined || kind === undefined || !/^\d+$/.test(tUs) || !/^\d+$/.test(addr)) { skipped++; continue; }
    events.push({ tUs: Number(tUs), addr: Number(addr), event: kind, node: node ?? '' });
  }
  return { events, skipped };
}

/**
 * Lanes for `labels` (addr_index i is labels[i]), times shifted by `offsetUs` (to align several
 * probers on one clock). A lane ends at `endUs` (the probe's last answer time, or its end).
 * Silences shorter than `minGapUs` (a loaded prober's own jitter) are bridged when the same node
 * answered on both sides, so the picture shows failovers, not scheduling noise.
 */
export function lanesOf(events: readonly TimelineEvent[], labels: readonly string[], endUs: number, offsetUs = 0, minGapUs = 0): Lane[] {
  return rawLanes(events, labels, endUs, offsetUs).map((l) => bridgeShortGaps(l, minGapUs));
}

export function bridgeShortGaps(lane: Lane, minGapUs: number): Lane {
  if (minGapUs <= 0) return lane;
  const segments: Segment[] = [];
  for (const s of lane.segments) {
    const prev = segments[segments.length - 1];
    if (prev && prev.node === s.node && s.fromUs - prev.toUs < minGapUs) segments[segments.length - 1] = { ...prev, toUs: s.toUs };
    else segments.push(s);
  }
  return { ...lane, segments, gaps: lane.gaps.filter((g) => g.toUs - g.fromUs >= minGapUs) };
}

function rawLanes(events: readonly TimelineEvent[], labels: readonly string[], endUs: number, offsetUs: number): Lane[] {
  const byAddr = new Map<number, TimelineEvent[]>();
  for (const e of events) byAddr.set(e.addr, [...(byAddr.get(e.addr) ?? []), e]);
  return labels.map((label, i) => {
    const evs = [...(byAddr.get(i) ?? [])].sort((a, b) => a.tUs - b.tUs || order(a.event) - order(b.event));
    const segments: Segment[] = [];
    const gaps: Span[] = [];
    const dups: Span[] = [];
    let open: { fromUs: number; node: string } | null = null;
    let gapFrom: number | null = null;
    let dupFrom: number | null = null;
    const close = (t: number): void => {
      if (open && t > open.fromUs) segments.push({ fromUs: open.fromUs + offsetUs, toUs: t + offsetUs, node: open.node });
      open = null;
    };
    for (const e of evs) {
      if (e.event === 'first') open = { fromUs: e.tUs, node: e.node };
      else if (e.event === 'node') { close(e.tUs); open = { fromUs: e.tUs, node: e.node }; }
      else if (e.event === 'gap_begin') { close(e.tUs); gapFrom = e.tUs; }
      else if (e.event === 'gap_end') {
        close(e.tUs);
        if (gapFrom !== null) gaps.push({ fromUs: gapFrom + offsetUs, toUs: e.tUs + offsetUs });
        gapFrom = null;
        open = { fromUs: e.tUs, node: e.node };
      } else if (e.event === 'dup_begin') dupFrom = e.tUs;
      else if (dupFrom !== null) { dups.push({ fromUs: dupFrom + offsetUs, toUs: Math.max(e.tUs, dupFrom + 1000) + offsetUs }); dupFrom = null; }
    }
    close(endUs);
    if (gapFrom !== null) gaps.push({ fromUs: gapFrom + offsetUs, toUs: endUs + offsetUs });
    if (dupFrom !== null) dups.push({ fromUs: dupFrom + offsetUs, toUs: endUs + offsetUs });
    return { label, segments, gaps, dups };
  });
}

function order(e: TimelineEventKind): number {
  return e === 'gap_begin' ? 0 : e === 'first' ? 1 : 2;
}

/** The prober counts a silence as a gap above 3 intervals: a node change without a gap is at most that. */
export const NODE_CHANGE_MAX_SILENCE_INTERVALS = 3;

export interface Takeover { readonly takeoverUs: number; readonly lastVictimUs: number; readonly gapUs: number }

/**
 * The failover of one client address, from its timeline events: the first answer after
 * `faultUs` by a node other than `victim`, and the victim's last answer before it. This is the
 * gap the fault caused, not the longest silence (on a loaded machine the prober's own jitter can
 * be longer than a fast failover). null: no other node answered after the fault.
 */
export function takeoverOf(events: readonly TimelineEvent[], victim: string, faultUs: number, intervalUs: number): Takeover | null {
  const evs = [...events].sort((a, b) => a.tUs - b.tUs || order(a.event) - order(b.event));
  let lastVictimUs: number | null = null;
  let current: string | null = null;
  for (const e of evs) {
    if (e.event === 'dup_begin' || e.event === 'dup_end') continue;
    if (e.event === 'gap_begin') { if (e.node === victim) lastVictimUs = e.tUs; current = null; continue; }
    if (e.tUs >= faultUs && e.node !== victim && (current === victim || current === null) && lastVictimUs !== null) {
      const from = e.event === 'gap_end' ? lastVictimUs : Math.max(lastVictimUs, e.tUs - NODE_CHANGE_MAX_SILENCE_INTERVALS * intervalUs);
      return { takeoverUs: e.tUs, lastVictimUs: from, gapUs: e.tUs - from };
    }
    current = e.node;
    if (e.node === victim && e.event !== 'gap_end') lastVictimUs = e.tUs;
    if (e.node === victim && e.event === 'gap_end') lastVictimUs = e.tUs;
  }
  return null;
}
