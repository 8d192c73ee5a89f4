/** Pure: the prober's timeline CSV to lanes, and lanes to an SVG picture (no namespaces needed). */
import { describe, expect, it } from 'vitest';
import { bridgeShortGaps, lanesOf, parseTimelineCsv, takeoverOf } from '../../lab/timeline.js';
import { escapeXml, niceStepMs, nodeColour, renderTimelineSvg } from '../../lab/svg.js';
import { failoverPicture } from '../../lab/failover-svg.js';

const CSV = [
  't_us,addr_index,event,node',
  '1000,0,first,n1',
  '1100,1,first,n2',
  // addr 0: silence from 300 ms to 450 ms, then n2 answers (a failover)
  '450000,0,gap_end,n2',
  '300000,0,gap_begin,n1',
  // addr 1: a period of duplicates
  '500000,1,dup_begin,n2',
  '520000,1,dup_end,n2',
  'garbage line',
  '',
].join('\n');

describe('timeline lanes', () => {
  it('parses the CSV, skipping malformed lines', () => {
    const { events, skipped } = parseTimelineCsv(CSV);
    expect(events).toHaveLength(6);
    expect(skipped).toBe(1);
    expect(events[0]).toEqual({ tUs: 1000, addr: 0, event: 'first', node: 'n1' });
  });

  it('builds one lane per address: segments by node, the gap between them, duplicate periods', () => {
    const lanes = lanesOf(parseTimelineCsv(CSV).events, ['a', 'b'], 1_000_000);
    expect(lanes[0]?.segments).toEqual([{ fromUs: 1000, toUs: 300_000, node: 'n1' }, { fromUs: 450_000, toUs: 1_000_000, node: 'n2' }]);
    expect(lanes[0]?.gaps).toEqual([{ fromUs: 300_000, toUs: 450_000 }]);
    expect(lanes[1]?.segments).toEqual([{ fromUs: 1100, toUs: 1_000_000, node: 'n2' }]);
    expect(lanes[1]?.dups).toEqual([{ fromUs: 500_000, toUs: 520_000 }]);
  });

  it('shifts every time by the prober offset, and a node change splits a segment', () => {
    const { events } = parseTimelineCsv('0,0,first,n1\n5000,0,node,n3\n');
    const [lane] = lanesOf(events, ['x'], 10_000, 2000);
    expect(lane?.segments).toEqual([{ fromUs: 2000, toUs: 7000, node: 'n1' }, { fromUs: 7000, toUs: 12_000, node: 'n3' }]);
  });

  it('leaves a gap open at the end of the probe (the node never came back)', () => {
    const [lane] = lanesOf(parseTimelineCsv('0,0,first,n1\n4000,0,gap_begin,n1\n').events, ['x'], 10_000);
    expect(lane?.segments).toEqual([{ fromUs: 0, toUs: 4000, node: 'n1' }]);
    expect(lane?.gaps).toEqual([{ fromUs: 4000, toUs: 10_000 }]);
  });

  it('bridges silences shorter than the jitter threshold only when the same node answered on both sides', () => {
    const lane = {
      label: 'x',
      segments: [{ fromUs: 0, toUs: 100, node: 'n1' }, { fromUs: 104, toUs: 200, node: 'n1' }, { fromUs: 203, toUs: 300, node: 'n2' }],
      gaps: [{ fromUs: 100, toUs: 104 }, { fromUs: 200, toUs: 203 }],
      dups: [],
    };
    const b = bridgeShortGaps(lane, 10);
    expect(b.segments).toEqual([{ fromUs: 0, toUs: 200, node: 'n1' }, { fromUs: 203, toUs: 300, node: 'n2' }]);
    expect(b.gaps).toEqual([]);
    expect(bridgeShortGaps(lane, 0)).toBe(lane);
  });
});

describe('timeline SVG', () => {
  const lanes = lanesOf(parseTimelineCsv(CSV).events, ['10.0.0.1 (n1)', '10.0.0.2 (n2)'], 1_000_000);
  const svg = renderTimelineSvg({ title: 'kill <n1> & co', lanes, fromUs: 0, toUs: 1_000_000, faultAtUs: 290_000, faultLabel: 'kill n1', nodes: ['n1', 'n2', 'n3'] });

  it('is one well-formed svg element with escaped text', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('kill &lt;n1&gt; &amp; co');
    expect(svg).not.toContain('<n1>');
  });

  it('colours each segment by its node, marks the fault and the silence', () => {
    expect(svg.match(new RegExp(`fill="${nodeColour(0)}"><title>`, 'g'))).toHaveLength(1); // n1 once
    expect(svg.match(new RegExp(`fill="${nodeColour(1)}"><title>`, 'g'))).toHaveLength(2); // n2 after failover + lane 2
    expect(svg).toContain('no answer for 150.0 ms');
    expect(svg).toContain('stroke-dasharray'); // the fault line
    expect(svg).toContain('>kill n1</text>');
    expect(svg).toContain('fill="url(#dup)"><title>duplicates');
    // x of the fault: left margin 110 + 0.29 × plot width 770
    expect(svg).toContain(`x1="${(110 + 0.29 * 770).toFixed(1)}"`);
  });

  it('clamps segments to the window and draws nothing for an empty lane list', () => {
    const empty = renderTimelineSvg({ title: 't', lanes: [], fromUs: 0, toUs: 1, faultAtUs: null, nodes: [] });
    expect(empty).not.toContain('<title>');
    const clipped = renderTimelineSvg({ title: 't', lanes, fromUs: 400_000, toUs: 600_000, faultAtUs: null, nodes: ['n1', 'n2'] });
    expect(clipped).not.toMatch(/x="-/);
  });

  it('picks round tick steps and distinct colours for up to 32 nodes', () => {
    expect(niceStepMs(1000)).toBe(200);
    expect(niceStepMs(80)).toBe(10);
    expect(new Set(Array.from({ length: 32 }, (_, i) => nodeColour(i))).size).toBe(32);
    expect(escapeXml('"a"')).toBe('&quot;a&quot;');
  });

  it('draws a run: victim lanes first, probers aligned on one clock', () => {
    const pic = failoverPicture({
      title: 'run', faultAtMs: 300, durationMs: 1000, fault: 'kill', nodes: ['n1', 'n2'], victim: 'n1',
      owner: (a) => (a === '10.0.0.1' ? 'n1' : 'n2'),
      timelines: [
        { csv: '0,0,first,n2\n', startMonoNs: 2_000_000, addrs: ['10.0.0.2'] },
        { csv: '0,0,first,n1\n200000,0,gap_begin,n1\n450000,0,gap_end,n2\n', startMonoNs: 1_000_000, addrs: ['10.0.0.1'] },
      ],
    });
    expect(pic.indexOf('10.0.0.1 (n1)')).toBeLessThan(pic.indexOf('10.0.0.2 (n2)'));
    expect(pic).toContain('no answer for 250.0 ms');
  });
});

describe('takeover gap from a timeline', () => {
  const ev = (csv: string): ReturnType<typeof parseTimelineCsv>['events'] => parseTimelineCsv(csv).events;

  it('is the victim\'s last answer to the first answer by another node after the fault', () => {
    const t = takeoverOf(ev('0,0,first,n1\n200000,0,gap_begin,n1\n350000,0,gap_end,n2\n'), 'n1', 100_000, 1000);
    expect(t).toEqual({ takeoverUs: 350_000, lastVictimUs: 200_000, gapUs: 150_000 });
  });

  it('ignores jitter gaps before the fault even when they are longer than the failover', () => {
    const t = takeoverOf(ev('0,0,first,n1\n10000,0,gap_begin,n1\n90000,0,gap_end,n1\n300000,0,gap_begin,n1\n330000,0,gap_end,n2\n'), 'n1', 200_000, 1000);
    expect(t?.gapUs).toBe(30_000);
  });

  it('a switch without a silence counts as at most 3 intervals', () => {
    expect(takeoverOf(ev('0,0,first,n1\n300000,0,node,n2\n'), 'n1', 100_000, 1000)?.gapUs).toBe(3000);
  });

  it('null when no other node answered after the fault, or the address was never the victim\'s', () => {
    expect(takeoverOf(ev('0,0,first,n1\n200000,0,gap_begin,n1\n'), 'n1', 100_000, 1000)).toBeNull();
    expect(takeoverOf(ev('0,0,first,n2\n'), 'n1', 100_000, 1000)).toBeNull();
  });
});
