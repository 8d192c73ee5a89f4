/** One failover run's timelines (the probers' CSVs) drawn as an SVG: see lab/svg.ts. */
import { readFileSync } from 'node:fs';
import type { RunResult } from './failover.js';
import { lanesOf, parseTimelineCsv, type Lane } from './timeline.js';
import { renderTimelineSvg } from './svg.js';

/** Silences under 10 ms are the loaded prober's own jitter on this machine, not failovers: bridged. */
const MIN_GAP_US = 10_000;

export interface ProbeTimeline { readonly csv: string; readonly startMonoNs: number; readonly addrs: readonly string[] }

/** Pure: the picture of a run from its timelines' texts. Victim's clients first, then the rest. */
export function failoverPicture(o: { title: string; faultAtMs: number; durationMs: number; fault: string; nodes: readonly string[]; owner: (addr: string) => string; victim: string; timelines: readonly ProbeTimeline[] }): string {
  const origin = Math.min(...o.timelines.map((t) => t.startMonoNs));
  const lanes: Lane[] = o.timelines.flatMap((t) => {
    const offsetUs = (t.startMonoNs - origin) / 1000;
    const labels = t.addrs.map((a) => `${a} (${o.owner(a)})`);
    return lanesOf(parseTimelineCsv(t.csv).events, labels, o.durationMs * 1000, offsetUs, MIN_GAP_US);
  });
  const victimsFirst = [...lanes].sort((a, b) => Number(!a.label.endsWith(`(${o.victim})`)) - Number(!b.label.endsWith(`(${o.victim})`)));
  const faultAtUs = o.faultAtMs * 1000;
  return renderTimelineSvg({
    title: o.title,
    lanes: victimsFirst,
    fromUs: Math.max(0, faultAtUs - 300_000),
    toUs: Math.min(o.durationMs * 1000, faultAtUs + 700_000),
    faultAtUs,
    faultLabel: `${o.fault} ${o.victim}`,
    nodes: o.nodes,
  });
}

/** Reads a run's timeline files and renders them (the run must have been made with `timeline`). */
export function failoverRunSvg(run: RunResult, o: { title: string; durationMs: number; nodes: readonly string[]; owner: (addr: string) => string }): string {
  const timelines = (run.timelines ?? []).map((t) => ({ csv: readFileSync(t.file, 'utf8'), startMonoNs: t.startMonoNs, addrs: t.addrs }));
  return failoverPicture({ ...o, faultAtMs: run.faultAtMs, fault: run.fault, victim: run.victim, timelines });
}
