/**
 * The failover timeline as an SVG picture: one lane per client address, each stretch coloured by
 * the node that answered, silences left blank with a red tick, duplicate periods hatched, the
 * fault instant a vertical line. Pure: lanes in, SVG text out (no DOM, no fonts to load).
 */
import type { Lane } from './timeline.js';

export interface TimelinePicture {
  readonly title: string;
  readonly lanes: readonly Lane[];
  readonly fromUs: number; // left edge
  readonly toUs: number; // right edge
  readonly faultAtUs: number | null;
  readonly faultLabel?: string;
  readonly nodes: readonly string[]; // legend order; colours follow it
}

/** Colour-blind-friendly palette (Okabe–Ito) then a hue wheel for larger clusters. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
export function nodeColour(index: number): string {
  return PALETTE[index] ?? `hsl(${Math.round((index * 137.5) % 360)}, 60%, 45%)`;
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const LANE_H = 10;
const LANE_GAP = 2;
const LEFT = 110;
const RIGHT = 20;
const TOP = 40;
const WIDTH = 900;

export function renderTimelineSvg(p: TimelinePicture): string {
  const plotW = WIDTH - LEFT - RIGHT;
  const span = Math.max(1, p.toUs - p.fromUs);
  const x = (us: number): number => LEFT + (Math.min(Math.max(us, p.fromUs), p.toUs) - p.fromUs) / span * plotW;
  const f1 = (n: number): string => n.toFixed(1);
  const colour = new Map(p.nodes.map((n, i) => [n, nodeColour(i)]));
  const plotH = p.lanes.length * (LANE_H + LANE_GAP);
  const height = TOP + plotH + 60;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="10">`,
    '<defs><pattern id="dup" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="2" height="4" fill="#d00"/></pattern></defs>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="${LEFT}" y="16" font-size="13" font-weight="bold">${escapeXml(p.title)}</text>`,
  ];
  p.lanes.forEach((lane, i) => {
    const y = TOP + i * (LANE_H + LANE_GAP);
    out.push(`<text x="${LEFT - 4}" y="${y + LANE_H - 1}" text-anchor="end" font-size="8">${escapeXml(lane.label)}</text>`);
    out.push(`<rect x="${LEFT}" y="${y}" width="${plotW}" height="${LANE_H}" fill="#f2f2f2"/>`);
    for (const s of lane.segments) {
      const w = x(s.toUs) - x(s.fromUs);
      if (w <= 0) continue;
      out.push(`<rect x="${f1(x(s.fromUs))}" y="${y}" width="${f1(Math.max(w, 0.5))}" height="${LANE_H}" fill="${colour.get(s.node) ?? '#888'}"><title>${escapeXml(`${lane.label}: ${s.node}`)}</title></rect>`);
    }
    for (const g of lane.gaps) {
      out.push(`<rect x="${f1(x(g.fromUs))}" y="${y + LANE_H - 2}" width="${f1(Math.max(x(g.toUs) - x(g.fromUs), 0.5))}" height="2" fill="#d00"><title>${escapeXml(`${lane.label}: no answer for ${((g.toUs - g.fromUs) / 1000).toFixed(1)} ms`)}</title></rect>`);
    }
    for (const d of lane.dups) {
      out.push(`<rect x="${f1(x(d.fromUs))}" y="${y}" width="${f1(Math.max(x(d.toUs) - x(d.fromUs), 1))}" height="${LANE_H}" fill="url(#dup)"><title>duplicates</title></rect>`);
    }
  });
  const axisY = TOP + plotH + 4;
  out.push(`<line x1="${LEFT}" y1="${axisY}" x2="${LEFT + plotW}" y2="${axisY}" stroke="#000"/>`);
  const stepMs = niceStepMs(span / 1000);
  for (let ms = Math.ceil(p.fromUs / 1000 / stepMs) * stepMs; ms * 1000 <= p.toUs; ms += stepMs) {
    const xx = f1(x(ms * 1000));
    out.push(`<line x1="${xx}" y1="${axisY}" x2="${xx}" y2="${axisY + 4}" stroke="#000"/><text x="${xx}" y="${axisY + 14}" text-anchor="middle">${ms} ms</text>`);
  }
  if (p.faultAtUs !== null) {
    const xf = f1(x(p.faultAtUs));
    out.push(`<line x1="${xf}" y1="${TOP - 6}" x2="${xf}" y2="${axisY}" stroke="#d00" stroke-width="1.5" stroke-dasharray="4 2"/>`);
    out.push(`<text x="${xf}" y="${TOP - 8}" fill="#d00" text-anchor="middle">${escapeXml(p.faultLabel ?? 'fault')}</text>`);
  }
  const legendY = axisY + 32;
  let lx = LEFT;
  for (const [i, n] of p.nodes.entries()) {
    out.push(`<rect x="${lx}" y="${legendY - 9}" width="10" height="10" fill="${nodeColour(i)}"/><text x="${lx + 14}" y="${legendY}">${escapeXml(n)}</text>`);
    lx += 24 + 7 * n.length;
  }
  out.push(`<rect x="${lx}" y="${legendY - 3}" width="16" height="2" fill="#d00"/><text x="${lx + 20}" y="${legendY}">no answer</text>`);
  lx += 90;
  out.push(`<rect x="${lx}" y="${legendY - 9}" width="10" height="10" fill="url(#dup)"/><text x="${lx + 14}" y="${legendY}">answered twice</text>`);
  out.push('</svg>', '');
  return out.join('\n');
}

/** A round tick step (1, 2 or 5 × 10^k ms) giving about 8 ticks over `spanMs`. */
export function niceStepMs(spanMs: number): number {
  const raw = Math.max(spanMs / 8, 1e-3);
  const pow = 10 ** Math.floor(Math.log10(raw));
  const m = raw / pow;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * pow;
}
