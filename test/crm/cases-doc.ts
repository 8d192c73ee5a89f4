/** The case table as the Markdown table docs/crm.md shows (a unit test keeps the two equal). */
import { CASES, type PlacementCase } from './cases.js';

function setup(c: PlacementCase): string {
  const s = c.scenario;
  const nodes = s.nodes.map((n) => (n.online ? (n.standby ? `${n.name}(standby)` : n.name) : `${n.name}(offline)`)).join(' ');
  const units = s.units.map((u) => {
    const bits: string[] = [];
    if (u.kind === 'group') bits.push(`group[${u.members.join(',')}]`);
    for (const [n, v] of Object.entries(u.location)) bits.push(`${n}:${String(v)}`);
    if (u.stickiness > 0) bits.push(`stick=${u.stickiness >= 1_000_000 ? 'INF' : u.stickiness}`);
    for (const col of u.colocate) bits.push(`with ${col.with}:${String(col.score)}`);
    for (const a of u.after) bits.push(`after ${a}`);
    if (u.migrationThreshold > 0) bits.push(`mt=${u.migrationThreshold}`);
    return `${u.name}${bits.length > 0 ? ` {${bits.join('; ')}}` : ''}`;
  }).join(', ');
  const active = Object.entries(s.active).map(([r, n]) => `${r}@${n}`).join(' ');
  const fails = Object.entries(s.failures).flatMap(([r, by]) => Object.entries(by).map(([n, k]) => `${r}@${n}×${k}`)).join(' ');
  const serving = c.serving ? `serving: ${c.serving.join(' ') || 'none'}` : '';
  return [`nodes ${nodes}`, units, active && `active ${active}`, fails && `failures ${fails}`, serving].filter((x) => x !== '').join('; ');
}

export function caseTableMarkdown(): string {
  const rows = CASES.map((c, i) => `| ${i + 1} | ${c.topic} | ${c.title} | ${setup(c).replace(/\|/g, '\\|')} | ${Object.entries(c.expect).map(([r, n]) => `${r}→${n ?? 'stopped'}`).join(' ')} |`);
  return ['| # | topic | case | setup | placement |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}
